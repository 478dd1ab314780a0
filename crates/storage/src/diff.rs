//! Turning a block's [`StateChanges`] into plain-state writes plus the history entries that
//! remember what they overwrote. The overwritten values come from the commit's [`PriorState`]
//! (what execution read of the parent state) where it has them, else from the plain state.

use std::collections::{BTreeMap, BTreeSet, btree_map::Entry};

use alloy_primitives::{Address, B256, U256};
use rocksdb::WriteBatch;
use spectrum_storage_api::{Account, PriorState, StateChanges};

use crate::{
    Database, StorageError, Table,
    codec::{BlockChangeSet, SlotKey, decode_rlp, encode_prior_account, encode_rlp},
    keys::{account_history_key, number_key, storage_history_key, storage_key},
    reader::Reader,
};

/// Slots with their value before the block and after it.
type SlotChanges = BTreeMap<(Address, B256), (U256, U256)>;

/// Each changed account and slot with its value before the block and after it. Entries whose
/// value did not change are dropped: they need no history and nothing to undo.
#[derive(Debug, Default)]
pub(crate) struct StateDiff {
    accounts: BTreeMap<Address, (Option<Account>, Option<Account>)>,
    storage: SlotChanges,
    /// Prior values read from the database (those `priors` did not carry).
    pub(crate) reads: u64,
}

impl StateDiff {
    /// The prior values of everything `changes` touches: taken from `priors` (the parent
    /// state as execution read it) where present, else read from the plain state.
    ///
    /// Semantics match `MemoryState::apply`: wiped accounts and deleted accounts lose all their
    /// slots first, then the slot writes apply (so a slot written after a wipe keeps its write).
    pub(crate) fn compute(
        reader: &Reader<'_>,
        changes: &StateChanges,
        priors: &PriorState,
    ) -> Result<Self, StorageError> {
        let mut reads = 0u64;
        let deleted = changes
            .accounts
            .iter()
            .filter(|(_, a)| a.is_none())
            .map(|(address, _)| address);
        let wiped: BTreeSet<&Address> = changes.wiped_storage.iter().chain(deleted).collect();
        let mut storage = wiped_slots(reader, &wiped)?;
        for (address, slot, value) in &changes.storage {
            match storage.entry((*address, *slot)) {
                Entry::Occupied(mut e) => e.get_mut().1 = *value,
                Entry::Vacant(e) => {
                    let prior = if wiped.contains(address) {
                        // The scan found every slot the account held: this one was unset.
                        U256::ZERO
                    } else if let Some(prior) = priors.storage.get(&(*address, *slot)) {
                        *prior
                    } else {
                        reads = reads.saturating_add(1);
                        reader.storage(address, slot)?
                    };
                    e.insert((prior, *value));
                }
            }
        }

        let mut accounts: BTreeMap<Address, (Option<Account>, Option<Account>)> = BTreeMap::new();
        for (address, account) in &changes.accounts {
            match accounts.entry(*address) {
                Entry::Occupied(mut e) => e.get_mut().1 = *account,
                Entry::Vacant(e) => {
                    let prior = match priors.accounts.get(address) {
                        Some(prior) => *prior,
                        None => {
                            reads = reads.saturating_add(1);
                            reader.account(address)?
                        }
                    };
                    e.insert((prior, *account));
                }
            }
        }

        accounts.retain(|_, (prior, new)| prior != new);
        storage.retain(|_, (prior, new)| prior != new);
        Ok(Self {
            accounts,
            storage,
            reads,
        })
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

/// Every slot the plain state holds for the `wiped` accounts, each going to zero (a scan:
/// wipes and deletions are rare, and their slots are not all known to execution).
fn wiped_slots(
    reader: &Reader<'_>,
    wiped: &BTreeSet<&Address>,
) -> Result<SlotChanges, StorageError> {
    let mut storage = BTreeMap::new();
    for address in wiped {
        reader.for_each_in_prefix(Table::Storage, address.as_slice(), |key, value| {
            let slot = key
                .get(Address::len_bytes()..)
                .and_then(|s| B256::try_from(s).ok())
                .ok_or_else(|| {
                    StorageError::corrupt(Table::Storage, key, "key is not address ‖ slot")
                })?;
            let prior = decode_rlp::<U256>(Table::Storage, key, value)?;
            storage.insert((**address, slot), (prior, U256::ZERO));
            Ok(())
        })?;
    }
    Ok(storage)
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
