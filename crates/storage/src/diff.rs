//! Turning a block's [`StateChanges`] into plain-state writes plus the history entries that
//! remember what they overwrote.

use std::collections::{BTreeMap, BTreeSet, btree_map::Entry};

use alloy_primitives::{Address, B256, U256};
use rocksdb::WriteBatch;
use spectrum_storage_api::{Account, StateChanges};

use crate::{
    Database, StorageError, Table,
    codec::{BlockChangeSet, SlotKey, decode_rlp, encode_prior_account, encode_rlp},
    keys::{account_history_key, number_key, storage_history_key, storage_key},
    reader::Reader,
};

/// Each changed account and slot with its value before the block and after it. Entries whose
/// value did not change are dropped: they need no history and nothing to undo.
#[derive(Debug, Default)]
pub(crate) struct StateDiff {
    accounts: BTreeMap<Address, (Option<Account>, Option<Account>)>,
    storage: BTreeMap<(Address, B256), (U256, U256)>,
}

impl StateDiff {
    /// Reads the prior values of everything `changes` touches from the plain state.
    ///
    /// Semantics match `MemoryState::apply`: wiped accounts and deleted accounts lose all their
    /// slots first, then the slot writes apply (so a slot written after a wipe keeps its write).
    pub(crate) fn compute(
        reader: &Reader<'_>,
        changes: &StateChanges,
    ) -> Result<Self, StorageError> {
        let mut storage = BTreeMap::new();
        let deleted = changes
            .accounts
            .iter()
            .filter(|(_, a)| a.is_none())
            .map(|(address, _)| address);
        let wiped: BTreeSet<&Address> = changes.wiped_storage.iter().chain(deleted).collect();
        for address in wiped {
            reader.for_each_in_prefix(Table::Storage, address.as_slice(), |key, value| {
                let slot = key
                    .get(Address::len_bytes()..)
                    .and_then(|s| B256::try_from(s).ok())
                    .ok_or_else(|| {
                        StorageError::corrupt(Table::Storage, key, "key is not address ‖ slot")
                    })?;
                let prior = decode_rlp::<U256>(Table::Storage, key, value)?;
                storage.insert((*address, slot), (prior, U256::ZERO));
                Ok(())
            })?;
        }
        for (address, slot, value) in &changes.storage {
            match storage.entry((*address, *slot)) {
                Entry::Occupied(mut e) => e.get_mut().1 = *value,
                Entry::Vacant(e) => {
                    e.insert((reader.storage(address, slot)?, *value));
                }
            }
        }

        let mut accounts: BTreeMap<Address, (Option<Account>, Option<Account>)> = BTreeMap::new();
        for (address, account) in &changes.accounts {
            match accounts.entry(*address) {
                Entry::Occupied(mut e) => e.get_mut().1 = *account,
                Entry::Vacant(e) => {
                    e.insert((reader.account(address)?, *account));
                }
            }
        }

        accounts.retain(|_, (prior, new)| prior != new);
        storage.retain(|_, (prior, new)| prior != new);
        Ok(Self { accounts, storage })
    }

    /// Adds to `batch` the plain-state writes, one history entry per change, and block
    /// `number`'s change set.
    pub(crate) fn write(
        &self,
        db: &Database,
        batch: &mut WriteBatch,
        number: u64,
    ) -> Result<(), StorageError> {
        let accounts_cf = db.cf(Table::Accounts)?;
        let account_history_cf = db.cf(Table::AccountHistory)?;
        for (address, (prior, new)) in &self.accounts {
            put_account(batch, accounts_cf, address, new.as_ref());
            batch.put_cf(
                account_history_cf,
                account_history_key(address, number),
                encode_prior_account(prior.as_ref()),
            );
        }

        let storage_cf = db.cf(Table::Storage)?;
        let storage_history_cf = db.cf(Table::StorageHistory)?;
        for ((address, slot), (prior, new)) in &self.storage {
            put_slot(batch, storage_cf, address, slot, new);
            batch.put_cf(
                storage_history_cf,
                storage_history_key(address, slot, number),
                encode_rlp(prior),
            );
        }

        let change_set = BlockChangeSet {
            accounts: self.accounts.keys().copied().collect(),
            storage: self
                .storage
                .keys()
                .map(|(address, slot)| SlotKey {
                    address: *address,
                    slot: *slot,
                })
                .collect(),
        };
        batch.put_cf(
            db.cf(Table::BlockChanges)?,
            number_key(number),
            encode_rlp(&change_set),
        );
        Ok(())
    }
}

/// Writes an account into the plain state, or deletes it.
pub(crate) fn put_account(
    batch: &mut WriteBatch,
    cf: &rocksdb::ColumnFamily,
    address: &Address,
    account: Option<&Account>,
) {
    match account {
        Some(account) => batch.put_cf(cf, address, encode_rlp(account)),
        None => batch.delete_cf(cf, address),
    }
}

/// Writes a slot into the plain storage; zero deletes it (the table never holds zeros, so a
/// prefix scan finds exactly the live slots).
pub(crate) fn put_slot(
    batch: &mut WriteBatch,
    cf: &rocksdb::ColumnFamily,
    address: &Address,
    slot: &B256,
    value: &U256,
) {
    let key = storage_key(address, slot);
    if value.is_zero() {
        batch.delete_cf(cf, key);
    } else {
        batch.put_cf(cf, key, encode_rlp(value));
    }
}
