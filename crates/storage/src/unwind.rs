//! Unwinding the canonical chain to an earlier block: restoring the plain state from history,
//! in one batch.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256};
use rocksdb::WriteBatch;
use spectrum_storage_api::{Account, StateChanges};

use crate::{
    Database, StorageError, Table, TrieNodeWrite,
    codec::{BlockChangeSet, decode_prior_account, decode_rlp, decode_tx_location, encode_head},
    diff::{put_account, put_slot},
    keys::{account_history_key, block_key, number_key, storage_history_key},
    reader::Reader,
    tables::meta,
};

/// A canonical block to unwind and what it changed.
struct UnwoundBlock {
    number: u64,
    changes: BlockChangeSet,
    /// Transactions whose lookup entry points at this block.
    lookups: Vec<B256>,
}

/// What unwinding to `target` reads: the blocks above it and the values to restore.
struct UnwindPlan {
    target: u64,
    target_hash: B256,
    blocks: Vec<UnwoundBlock>,
    /// Each account changed above `target`, as it was after `target`.
    accounts: BTreeMap<Address, Option<Account>>,
    /// Each slot changed above `target`, as it was after `target`.
    storage: BTreeMap<(Address, B256), U256>,
}

impl UnwindPlan {
    fn build(reader: &Reader<'_>, target: u64) -> Result<Self, StorageError> {
        let (head, _) = reader.head()?.ok_or(StorageError::NotInitialised)?;
        if target > head {
            return Err(StorageError::AboveHead {
                requested: target,
                head,
            });
        }
        let target_hash = reader
            .canonical_hash(target)?
            .ok_or_else(|| missing_canonical(target))?;
        let mut plan = Self {
            target,
            target_hash,
            blocks: Vec::new(),
            accounts: BTreeMap::new(),
            storage: BTreeMap::new(),
        };
        // Overflows only when target = head = u64::MAX: nothing to unwind.
        let Some(first) = target.checked_add(1) else {
            return Ok(plan);
        };
        // From the head down: a key changed by several blocks ends up with the value before the
        // lowest of them, i.e. its value after `target`.
        for number in (first..=head).rev() {
            let block = plan.read_block(reader, number)?;
            plan.blocks.push(block);
        }
        Ok(plan)
    }

    fn read_block(
        &mut self,
        reader: &Reader<'_>,
        number: u64,
    ) -> Result<UnwoundBlock, StorageError> {
        let hash = reader
            .canonical_hash(number)?
            .ok_or_else(|| missing_canonical(number))?;
        let changes_key = number_key(number);
        let changes: BlockChangeSet = reader
            .get(Table::BlockChanges, &changes_key, |v| {
                decode_rlp(Table::BlockChanges, &changes_key, v)
            })?
            .ok_or_else(|| {
                StorageError::missing(
                    Table::BlockChanges,
                    &changes_key,
                    "every canonical block above genesis has a change set",
                )
            })?;

        for address in &changes.accounts {
            let key = account_history_key(address, number);
            let prior = reader
                .get(Table::AccountHistory, &key, |v| {
                    decode_prior_account(&key, v)
                })?
                .ok_or_else(|| missing_history(Table::AccountHistory, &key))?;
            self.accounts.insert(*address, prior);
        }
        for slot in &changes.storage {
            let key = storage_history_key(&slot.address, &slot.slot, number);
            let prior = reader
                .get(Table::StorageHistory, &key, |v| {
                    decode_rlp(Table::StorageHistory, &key, v)
                })?
                .ok_or_else(|| missing_history(Table::StorageHistory, &key))?;
            self.storage.insert((slot.address, slot.slot), prior);
        }

        let body = reader.body_at(number, &hash)?.ok_or_else(|| {
            StorageError::missing(
                Table::Bodies,
                &block_key(number, &hash),
                "a canonical block has a body",
            )
        })?;
        let mut lookups = Vec::with_capacity(body.transactions.len());
        for tx in &body.transactions {
            let tx_hash = tx.hash();
            let location = reader.get(Table::TxLookup, tx_hash.as_slice(), |v| {
                decode_tx_location(tx_hash.as_slice(), v)
            })?;
            // Only this block's entry goes: the same hash elsewhere is not ours to remove.
            if location.is_some_and(|l| l.block_number == number && l.block_hash == hash) {
                lookups.push(tx_hash);
            }
        }
        Ok(UnwoundBlock {
            number,
            changes,
            lookups,
        })
    }

    /// The restoring writes as state changes, for recomputing the trie.
    fn state_changes(&self) -> StateChanges {
        StateChanges {
            accounts: self.accounts.iter().map(|(a, acc)| (*a, *acc)).collect(),
            wiped_storage: Vec::new(),
            storage: self
                .storage
                .iter()
                .map(|((a, s), v)| (*a, *s, *v))
                .collect(),
            codes: Vec::new(),
        }
    }
}

fn missing_canonical(number: u64) -> StorageError {
    StorageError::missing(
        Table::Canonical,
        &number_key(number),
        "every block up to the head is canonical",
    )
}

fn missing_history(table: Table, key: &[u8]) -> StorageError {
    StorageError::missing(table, key, "the block's change set lists this entry")
}

impl Database {
    /// The state changes that take the plain state from the head back to the state after
    /// canonical block `number`: every account and slot changed above it, with its value at
    /// `number` (`None` / zero where it did not exist). Sorted, no wipes, no code; an account
    /// restored to `None` implies no wipe: every slot to restore is listed. The
    /// execution crate applies these to its trie to compute the trie nodes it passes to
    /// [`Database::unwind_to_with_trie`].
    pub fn unwind_changes(&self, number: u64) -> Result<StateChanges, StorageError> {
        UnwindPlan::build(&Reader::snapshot(self), number).map(|plan| plan.state_changes())
    }

    /// Makes canonical block `number` the head again: see [`Database::unwind_to_with_trie`].
    /// Trie nodes are left as they are.
    pub fn unwind_to(&self, number: u64) -> Result<(), StorageError> {
        self.unwind_to_with_trie(number, &[])
    }

    /// Makes canonical block `number` the head again, in one batch: restores the plain state
    /// from the history of the blocks above it, deletes those history entries and change sets,
    /// their canonical mappings and transaction lookups, applies `trie`, and sets the head.
    /// Headers, bodies, receipts and total difficulties stay: those blocks are still known, now
    /// as a side chain.
    pub fn unwind_to_with_trie(
        &self,
        number: u64,
        trie: &[TrieNodeWrite],
    ) -> Result<(), StorageError> {
        let _writer = self.lock_writes();
        let plan = UnwindPlan::build(&Reader::latest(self), number)?;
        let mut batch = WriteBatch::default();

        let accounts_cf = self.cf(Table::Accounts)?;
        for (address, account) in &plan.accounts {
            put_account(&mut batch, accounts_cf, address, account.as_ref());
        }
        let storage_cf = self.cf(Table::Storage)?;
        for ((address, slot), value) in &plan.storage {
            put_slot(&mut batch, storage_cf, address, slot, value);
        }

        let account_history_cf = self.cf(Table::AccountHistory)?;
        let storage_history_cf = self.cf(Table::StorageHistory)?;
        let changes_cf = self.cf(Table::BlockChanges)?;
        let canonical_cf = self.cf(Table::Canonical)?;
        let lookup_cf = self.cf(Table::TxLookup)?;
        for block in &plan.blocks {
            for address in &block.changes.accounts {
                batch.delete_cf(
                    account_history_cf,
                    account_history_key(address, block.number),
                );
            }
            for slot in &block.changes.storage {
                batch.delete_cf(
                    storage_history_cf,
                    storage_history_key(&slot.address, &slot.slot, block.number),
                );
            }
            batch.delete_cf(changes_cf, number_key(block.number));
            batch.delete_cf(canonical_cf, number_key(block.number));
            for tx_hash in &block.lookups {
                batch.delete_cf(lookup_cf, tx_hash);
            }
        }
        self.put_trie(&mut batch, trie)?;
        batch.put_cf(
            self.cf(Table::Meta)?,
            meta::HEAD,
            encode_head(plan.target, &plan.target_hash),
        );

        let unwound = plan.blocks.len();
        self.write(batch, &format!("unwind to block {}", plan.target))?;
        tracing::info!(target = plan.target, unwound, "unwound canonical chain");
        Ok(())
    }
}
