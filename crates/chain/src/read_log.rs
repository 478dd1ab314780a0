//! The values of the parent state one block's import read, kept for its commit (issue 16,
//! item 3): the history entries need the value each changed account and slot had before the
//! block, and execution has already read every one of them (revm loads an account before
//! changing it and a slot before `SSTORE`; the state root reads the accounts whose storage
//! alone changed). Handed to storage as the commit's [`PriorState`], they spare it a second
//! RocksDB read of each.
//!
//! [`ReadLog`] sits directly on the head's snapshot (the parent state), *under* the block's
//! overlay (`spectrum-execution`'s `BlockState`), which answers every read of a value the
//! block already wrote. So it only ever sees parent values, never one a transaction of the
//! block wrote, whatever order the block reads and writes in. It lives for one block and holds
//! at most one entry per account and slot the block read.

use std::cell::RefCell;

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::{
    Account, PriorState, ProviderResult, StateChanges, StateError, StateProvider, StateSnapshot,
    TrieTable, WalkedAccount,
};

/// A state snapshot that remembers the first value each account and slot read returned.
pub struct ReadLog<'a> {
    inner: &'a dyn StateSnapshot,
    log: RefCell<PriorState>,
}

impl<'a> ReadLog<'a> {
    /// Records the reads of `inner`, which must be the parent state of the block.
    pub fn new(inner: &'a dyn StateSnapshot) -> Self {
        Self {
            inner,
            log: RefCell::new(PriorState::default()),
        }
    }

    /// What was read, the commit's priors, completed for `changes` (the block's): a slot
    /// written in an account the parent state did not have was zero there, which execution
    /// knows without reading it (`BlockState::into_changes` takes it so), as for a contract
    /// the block deployed.
    pub fn into_priors(self, changes: &StateChanges) -> PriorState {
        let mut priors = self.log.into_inner();
        for (address, slot, _) in &changes.storage {
            if let Some(None) = priors.accounts.get(address) {
                priors
                    .storage
                    .entry((*address, *slot))
                    .or_insert(U256::ZERO);
            }
        }
        priors
    }
}

impl StateProvider for ReadLog<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        let account = self.inner.account(address)?;
        // A frozen snapshot answers every read alike; the first is kept all the same.
        self.log
            .borrow_mut()
            .accounts
            .entry(*address)
            .or_insert(account);
        Ok(account)
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        let value = self.inner.storage(address, slot)?;
        self.log
            .borrow_mut()
            .storage
            .entry((*address, *slot))
            .or_insert(value);
        Ok(value)
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        self.inner.code(code_hash)
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        self.inner.block_hash(number)
    }
}

impl StateSnapshot for ReadLog<'_> {
    fn number(&self) -> u64 {
        self.inner.number()
    }

    fn hash(&self) -> B256 {
        self.inner.hash()
    }

    fn header(&self) -> ProviderResult<SealedHeader> {
        self.inner.header()
    }

    fn total_difficulty(&self) -> ProviderResult<U256> {
        self.inner.total_difficulty()
    }

    fn trie_node(&self, table: TrieTable, key: &[u8]) -> ProviderResult<Option<Bytes>> {
        self.inner.trie_node(table, key)
    }

    fn storage_trie_keys(&self, hashed_address: &B256) -> ProviderResult<Vec<Vec<u8>>> {
        self.inner.storage_trie_keys(hashed_address)
    }

    fn walk_accounts(
        &self,
        max_accounts: usize,
        max_bytes: usize,
    ) -> ProviderResult<Vec<WalkedAccount>> {
        self.inner.walk_accounts(max_accounts, max_bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use alloy_primitives::{Bytes, TxKind, keccak256};
    use secp256k1::{PublicKey, SECP256K1, SecretKey};
    use spectrum_execution::{BlockExecutor, EthereumFork};
    use spectrum_primitives::{
        BlockBody, Header, RecoveredBlock, SealedBlock, TxLegacy, public_key_to_address,
        sign_transaction,
    };
    use spectrum_storage_api::MemoryState;

    use super::*;

    /// `slot = calldata[0..32]; sstore(slot, sload(slot) + 1)`.
    const INCREMENT: [u8; 11] = [
        0x60, 0x00, 0x35, 0x80, 0x54, 0x60, 0x01, 0x01, 0x90, 0x55, 0x00,
    ];
    const CONTRACT: Address = Address::new([0xcc; 20]);

    /// A [`MemoryState`] as the head snapshot.
    struct Parent(MemoryState);

    impl StateProvider for Parent {
        fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
            self.0.account(address)
        }
        fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
            self.0.storage(address, slot)
        }
        fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
            self.0.code(code_hash)
        }
        fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
            self.0.block_hash(number)
        }
    }

    impl StateSnapshot for Parent {
        fn number(&self) -> u64 {
            0
        }
        fn hash(&self) -> B256 {
            B256::ZERO
        }
        fn header(&self) -> ProviderResult<SealedHeader> {
            Ok(SealedHeader::seal(Header::default()))
        }
        fn total_difficulty(&self) -> ProviderResult<U256> {
            Ok(U256::ZERO)
        }
        fn trie_node(&self, _: TrieTable, _: &[u8]) -> ProviderResult<Option<Bytes>> {
            Ok(None)
        }
        fn storage_trie_keys(&self, _: &B256) -> ProviderResult<Vec<Vec<u8>>> {
            Ok(Vec::new())
        }
        fn walk_accounts(&self, _: usize, _: usize) -> ProviderResult<Vec<WalkedAccount>> {
            Ok(Vec::new())
        }
    }

    fn slot(n: u8) -> B256 {
        B256::with_last_byte(n)
    }

    /// A sender, the increment contract with slot 0 = 5 and slot 1 = 9.
    fn parent(sender: Address) -> MemoryState {
        let mut state = MemoryState::default();
        let code = Bytes::from_static(&INCREMENT);
        let code_hash = keccak256(&code);
        state.codes.insert(code_hash, code);
        state.accounts.insert(
            sender,
            Account {
                balance: U256::from(10u128.pow(18)),
                ..Account::default()
            },
        );
        state.accounts.insert(
            CONTRACT,
            Account {
                nonce: 1,
                code_hash,
                ..Account::default()
            },
        );
        let slots = state.storage.entry(CONTRACT).or_default();
        slots.insert(slot(0), U256::from(5));
        slots.insert(slot(1), U256::from(9));
        state
    }

    /// One block of calls to the increment contract, one per slot in `slots`, in order.
    fn block(key: &SecretKey, sender: Address, slots: &[u8]) -> RecoveredBlock {
        let transactions: Vec<_> = slots
            .iter()
            .zip(0u64..)
            .map(|(n, nonce)| {
                let tx = TxLegacy {
                    chain_id: None,
                    nonce,
                    gas_price: 1,
                    gas_limit: 100_000,
                    to: TxKind::Call(CONTRACT),
                    value: U256::ZERO,
                    input: Bytes::copy_from_slice(slot(*n).as_slice()),
                };
                sign_transaction(tx, key)
            })
            .collect();
        let header = Header {
            number: 1,
            gas_limit: 8_000_000,
            timestamp: 1,
            difficulty: U256::from(1),
            ..Header::default()
        };
        RecoveredBlock {
            senders: vec![sender; transactions.len()],
            block: SealedBlock {
                header: SealedHeader::seal(header),
                body: BlockBody {
                    transactions,
                    ommers: Vec::new(),
                },
            },
        }
    }

    /// A slot written by one transaction, then read and written again by the next, is logged
    /// with its parent value, not the first write; so is a slot first touched after another
    /// was written, and the sender whose nonce and balance every transaction changed.
    #[test]
    fn only_parent_values_are_logged_whatever_the_block_writes_first() {
        let key = SecretKey::from_byte_array([7; 32]).unwrap();
        let sender = public_key_to_address(&PublicKey::from_secret_key(SECP256K1, &key));
        let parent = Parent(parent(sender));
        let log = ReadLog::new(&parent);
        let output = BlockExecutor::ethereum(EthereumFork::Petersburg)
            .execute(&block(&key, sender, &[0, 0, 1]), Address::ZERO, &log)
            .unwrap();
        let written: Vec<_> = output.changes.storage.clone();
        assert_eq!(
            written,
            vec![
                (CONTRACT, slot(0), U256::from(7)),
                (CONTRACT, slot(1), U256::from(10)),
            ],
            "the block wrote slot 0 twice and slot 1 once"
        );

        let priors = log.into_priors(&output.changes);
        assert_eq!(
            priors.storage.get(&(CONTRACT, slot(0))),
            Some(&U256::from(5))
        );
        assert_eq!(
            priors.storage.get(&(CONTRACT, slot(1))),
            Some(&U256::from(9))
        );
        assert_eq!(priors.storage.len(), 2);
        assert_eq!(
            priors.accounts.get(&sender),
            Some(&parent.0.accounts.get(&sender).copied()),
            "the sender before its first transaction"
        );
        assert_eq!(
            priors.accounts.get(&CONTRACT),
            Some(&parent.0.accounts.get(&CONTRACT).copied())
        );
        // Every change's prior is logged: storage reads none of them.
        for (address, _) in &output.changes.accounts {
            assert_eq!(
                priors.accounts.get(address),
                Some(&parent.0.accounts.get(address).copied()),
                "{address}"
            );
        }
    }
}
