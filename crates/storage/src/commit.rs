//! Writing one block: everything it adds to the database goes into one `WriteBatch`.

use alloy_primitives::U256;
use rocksdb::WriteBatch;
use spectrum_primitives::{BlockBody, ReceiptWithBloom, SealedHeader};
use spectrum_storage_api::{BlockCommit, StateChanges, TrieNodeWrite, TrieTable};

use crate::{
    Database, StorageError, Table, TxLocation,
    codec::{encode_head, encode_rlp, encode_rlp_list, encode_tx_location},
    diff::StateDiff,
    keys::{block_key, number_key},
    reader::Reader,
    tables::meta,
};

/// The column family of a trie table. Node bytes and paths are `spectrum-trie`'s (computed by
/// `spectrum-chain`); this crate only stores them.
pub(crate) fn trie_cf(table: TrieTable) -> Table {
    match table {
        TrieTable::Account => Table::AccountTrie,
        TrieTable::Storage => Table::StorageTrie,
    }
}

impl Database {
    /// Writes `commit` in one atomic batch.
    ///
    /// A canonical commit must extend the head (number = head + 1, parent = head hash): it
    /// writes the block, its canonical mapping and transaction lookups, the state changes with
    /// their history, the trie nodes and the new head. To switch to another branch,
    /// [`Database::unwind_to`] the fork point first.
    pub fn commit_block(&self, commit: &BlockCommit) -> Result<(), StorageError> {
        let _writer = self.lock_writes();
        let block = &commit.block;
        let number = block.number();
        let mut batch = WriteBatch::default();
        self.put_block_data(
            &mut batch,
            &block.header,
            &block.body,
            &commit.receipts,
            commit.total_difficulty,
        )?;
        if commit.make_canonical_head {
            self.put_canonical(&mut batch, commit)?;
        } else if commit.state != StateChanges::default() || !commit.trie.is_empty() {
            return Err(StorageError::InvalidCommit {
                number,
                reason: "a side-chain block carries state changes or trie nodes; only the \
                         canonical head's state is stored"
                    .to_owned(),
            });
        }
        self.write(
            batch,
            &format!("commit of block {number} ({})", block.hash()),
        )?;
        tracing::trace!(number, hash = %block.hash(), canonical = commit.make_canonical_head, "committed block");
        Ok(())
    }

    /// The canonical part of a commit: mapping, lookups, state, history, trie, head.
    fn put_canonical(
        &self,
        batch: &mut WriteBatch,
        commit: &BlockCommit,
    ) -> Result<(), StorageError> {
        let block = &commit.block;
        let (number, hash) = (block.number(), block.hash());
        let reader = Reader::latest(self);
        let (head_number, head_hash) = reader.head()?.ok_or(StorageError::NotInitialised)?;
        if head_number.checked_add(1) != Some(number) || block.header.parent_hash != head_hash {
            return Err(StorageError::NotChildOfHead {
                number,
                hash,
                parent_hash: block.header.parent_hash,
                head_number,
                head_hash,
            });
        }
        let transactions = &block.body.transactions;
        if commit.receipts.len() != transactions.len() {
            return Err(StorageError::InvalidCommit {
                number,
                reason: format!(
                    "{} receipts for {} transactions",
                    commit.receipts.len(),
                    transactions.len()
                ),
            });
        }

        batch.put_cf(self.cf(Table::Canonical)?, number_key(number), hash);
        let lookup_cf = self.cf(Table::TxLookup)?;
        for (i, tx) in transactions.iter().enumerate() {
            let index = u32::try_from(i).map_err(|_| StorageError::InvalidCommit {
                number,
                reason: format!("transaction index {i} does not fit in u32"),
            })?;
            let location = TxLocation {
                block_number: number,
                block_hash: hash,
                index,
            };
            batch.put_cf(lookup_cf, tx.hash(), encode_tx_location(&location));
        }

        // Prior values are read now, before the batch lands: the writer lock guarantees no
        // other write comes between. The carried priors are the parent's values, and the
        // parent is the head (checked above), so they are what a read would return.
        let diff = StateDiff::compute(&reader, &commit.state, &commit.priors)?;
        self.prior_reads
            .fetch_add(diff.reads, std::sync::atomic::Ordering::Relaxed);
        diff.write(self, batch, number)?;
        let code_cf = self.cf(Table::Code)?;
        for (code_hash, code) in &commit.state.codes {
            batch.put_cf(code_cf, code_hash, code);
        }
        self.put_trie(batch, &commit.trie)?;
        batch.put_cf(
            self.cf(Table::Meta)?,
            meta::HEAD,
            encode_head(number, &hash),
        );
        Ok(())
    }

    /// Header, hash → number, body, receipts and total difficulty of a known block.
    pub(crate) fn put_block_data(
        &self,
        batch: &mut WriteBatch,
        header: &SealedHeader,
        body: &BlockBody,
        receipts: &[ReceiptWithBloom],
        total_difficulty: U256,
    ) -> Result<(), StorageError> {
        let key = block_key(header.number(), &header.hash());
        batch.put_cf(self.cf(Table::Headers)?, key, encode_rlp(header.header()));
        batch.put_cf(
            self.cf(Table::HeaderNumbers)?,
            header.hash(),
            header.number().to_be_bytes(),
        );
        batch.put_cf(self.cf(Table::Bodies)?, key, encode_rlp(body));
        batch.put_cf(self.cf(Table::Receipts)?, key, encode_rlp_list(receipts));
        batch.put_cf(
            self.cf(Table::TotalDifficulty)?,
            key,
            total_difficulty.to_be_bytes::<32>(),
        );
        Ok(())
    }

    /// Trie node writes and deletions.
    pub(crate) fn put_trie(
        &self,
        batch: &mut WriteBatch,
        trie: &[TrieNodeWrite],
    ) -> Result<(), StorageError> {
        for write in trie {
            let cf = self.cf(trie_cf(write.table))?;
            match &write.value {
                Some(node) => batch.put_cf(cf, &write.key, node),
                None => batch.delete_cf(cf, &write.key),
            }
        }
        Ok(())
    }
}
