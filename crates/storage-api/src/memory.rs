//! State held in memory.

use std::collections::{BTreeMap, HashMap};

use alloy_primitives::{Address, B256, Bytes, U256};

use crate::{Account, StateChanges, StateError, StateProvider};

/// A whole state in memory, with block hashes for BLOCKHASH.
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    /// Accounts by address.
    pub accounts: BTreeMap<Address, Account>,
    /// Storage by account, then slot; zero values are absent.
    pub storage: BTreeMap<Address, BTreeMap<B256, U256>>,
    /// Code by hash.
    pub codes: HashMap<B256, Bytes>,
    /// Canonical block hashes by number.
    pub block_hashes: HashMap<u64, B256>,
}

impl MemoryState {
    /// Applies one block's changes.
    pub fn apply(&mut self, changes: &StateChanges) {
        for address in &changes.wiped_storage {
            self.storage.remove(address);
        }
        for (address, account) in &changes.accounts {
            match account {
                Some(account) => {
                    self.accounts.insert(*address, *account);
                }
                None => {
                    self.accounts.remove(address);
                    self.storage.remove(address);
                }
            }
        }
        for (address, slot, value) in &changes.storage {
            let slots = self.storage.entry(*address).or_default();
            if value.is_zero() {
                slots.remove(slot);
            } else {
                slots.insert(*slot, *value);
            }
        }
        for (hash, code) in &changes.codes {
            self.codes.insert(*hash, code.clone());
        }
    }
}

impl StateProvider for MemoryState {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        Ok(self.accounts.get(address).copied())
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        Ok(self
            .storage
            .get(address)
            .and_then(|s| s.get(slot))
            .copied()
            .unwrap_or_default())
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        Ok(self.codes.get(code_hash).cloned())
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        Ok(self.block_hashes.get(&number).copied())
    }
}
