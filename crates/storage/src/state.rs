//! Reading state: the plain (latest) state, and the state after any past canonical block through
//! the history tables, with one seek per read.
//!
//! A history entry `(key, N)` holds the value *before* block N changed it. So the value after
//! block N is the value before the first block after N that changed it: the first history entry
//! at or after `(key, N + 1)`; if there is none, nothing changed it since and the plain state
//! holds it.

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_storage_api::{Account, StateError, StateProvider};

use crate::{
    Database, StorageError, Table,
    codec::{decode_prior_account, decode_rlp},
    keys::{account_history_key, storage_history_key, storage_key},
    reader::Reader,
};

impl Reader<'_> {
    pub(crate) fn account(&self, address: &Address) -> Result<Option<Account>, StorageError> {
        self.get(Table::Accounts, address.as_slice(), |v| {
            decode_rlp(Table::Accounts, address.as_slice(), v)
        })
    }

    pub(crate) fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StorageError> {
        let key = storage_key(address, slot);
        self.get(Table::Storage, &key, |v| {
            decode_rlp(Table::Storage, &key, v)
        })
        .map(Option::unwrap_or_default)
    }

    pub(crate) fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StorageError> {
        self.get(Table::Code, code_hash.as_slice(), |v| {
            Ok(Bytes::copy_from_slice(v))
        })
    }

    pub(crate) fn account_at(
        &self,
        address: &Address,
        number: u64,
    ) -> Result<Option<Account>, StorageError> {
        // No block follows u64::MAX, so nothing after it changed the account.
        let Some(next) = number.checked_add(1) else {
            return self.account(address);
        };
        let start = account_history_key(address, next);
        let prior = self.first_in_prefix_from(
            Table::AccountHistory,
            address.as_slice(),
            &start,
            decode_prior_account,
        )?;
        match prior {
            Some(account) => Ok(account),
            None => self.account(address),
        }
    }

    pub(crate) fn storage_at(
        &self,
        address: &Address,
        slot: &B256,
        number: u64,
    ) -> Result<U256, StorageError> {
        let Some(next) = number.checked_add(1) else {
            return self.storage(address, slot);
        };
        let prefix = storage_key(address, slot);
        let start = storage_history_key(address, slot, next);
        let prior = self.first_in_prefix_from(Table::StorageHistory, &prefix, &start, |k, v| {
            decode_rlp::<U256>(Table::StorageHistory, k, v)
        })?;
        match prior {
            Some(value) => Ok(value),
            None => self.storage(address, slot),
        }
    }
}

impl Database {
    /// The account at `address` in the plain state (after the head block).
    pub fn account(&self, address: &Address) -> Result<Option<Account>, StorageError> {
        Reader::latest(self).account(address)
    }

    /// Storage `slot` of `address` in the plain state; zero if unset.
    pub fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StorageError> {
        Reader::latest(self).storage(address, slot)
    }

    /// The code with hash `code_hash`.
    pub fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StorageError> {
        Reader::latest(self).code(code_hash)
    }

    /// The account at `address` after canonical block `number`. Blocks above the head read as
    /// the head.
    pub fn account_at(
        &self,
        address: &Address,
        number: u64,
    ) -> Result<Option<Account>, StorageError> {
        // Snapshot: the history seek and the plain-state fallback must see the same version.
        Reader::snapshot(self).account_at(address, number)
    }

    /// Storage `slot` of `address` after canonical block `number`; zero if unset. Blocks above
    /// the head read as the head.
    pub fn storage_at(
        &self,
        address: &Address,
        slot: &B256,
        number: u64,
    ) -> Result<U256, StorageError> {
        Reader::snapshot(self).storage_at(address, slot, number)
    }

    /// The plain state as of now, frozen: commits made while it lives are not seen. Hold it for
    /// the duration of one task (executing a block, answering a call): a snapshot keeps RocksDB
    /// from discarding the versions it sees.
    pub fn latest_state(&self) -> LatestState<'_> {
        LatestState {
            reader: Reader::snapshot(self),
        }
    }

    /// The state after canonical block `number` (at most the head), frozen like
    /// [`Database::latest_state`].
    pub fn state_at(&self, number: u64) -> Result<HistoricalState<'_>, StorageError> {
        let reader = Reader::snapshot(self);
        let (head, _) = reader.head()?.ok_or(StorageError::NotInitialised)?;
        if number > head {
            return Err(StorageError::AboveHead {
                requested: number,
                head,
            });
        }
        Ok(HistoricalState { reader, number })
    }
}

/// The plain state of a [`Database`] snapshot: the state after the head block.
pub struct LatestState<'a> {
    reader: Reader<'a>,
}

/// The state after a past canonical block of a [`Database`] snapshot.
pub struct HistoricalState<'a> {
    reader: Reader<'a>,
    number: u64,
}

impl HistoricalState<'_> {
    /// The block whose post-state this is.
    pub fn block_number(&self) -> u64 {
        self.number
    }
}

fn state_err(err: StorageError) -> StateError {
    StateError(Box::new(err))
}

impl StateProvider for LatestState<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.reader.account(address).map_err(state_err)
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        self.reader.storage(address, slot).map_err(state_err)
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        self.reader.code(code_hash).map_err(state_err)
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        self.reader.canonical_hash(number).map_err(state_err)
    }
}

impl StateProvider for HistoricalState<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.reader
            .account_at(address, self.number)
            .map_err(state_err)
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        self.reader
            .storage_at(address, slot, self.number)
            .map_err(state_err)
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        // Code is content-addressed and never deleted: the latest table serves every block.
        self.reader.code(code_hash).map_err(state_err)
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        // Blocks after this state's block did not exist yet from its point of view.
        if number > self.number {
            return Ok(None);
        }
        self.reader.canonical_hash(number).map_err(state_err)
    }
}
