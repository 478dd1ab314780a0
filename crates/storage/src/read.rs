//! Reading chain data: head, canonical chain, headers, bodies, receipts, total difficulty,
//! transaction locations and trie nodes.

use alloy_primitives::{B256, Bytes, U256};
use spectrum_primitives::{BlockBody, Header, ReceiptWithBloom, SealedBlock, SealedHeader};

use crate::{
    Database, StorageError, Table, TrieTable, TxLocation,
    codec::{decode_b256, decode_head, decode_rlp, decode_tx_location, decode_u64, decode_u256_be},
    commit::trie_cf,
    keys::{block_key, number_key},
    reader::Reader,
    tables::meta,
};

impl Reader<'_> {
    pub(crate) fn head(&self) -> Result<Option<(u64, B256)>, StorageError> {
        self.get(Table::Meta, meta::HEAD, |v| decode_head(meta::HEAD, v))
    }

    pub(crate) fn genesis_hash(&self) -> Result<Option<B256>, StorageError> {
        self.get(Table::Meta, meta::GENESIS_HASH, |v| {
            decode_b256(Table::Meta, meta::GENESIS_HASH, v)
        })
    }

    pub(crate) fn chain_name(&self) -> Result<Option<String>, StorageError> {
        self.get(Table::Meta, meta::CHAIN_NAME, |v| {
            String::from_utf8(v.to_vec())
                .map_err(|e| StorageError::corrupt(Table::Meta, meta::CHAIN_NAME, e.to_string()))
        })
    }

    pub(crate) fn canonical_hash(&self, number: u64) -> Result<Option<B256>, StorageError> {
        let key = number_key(number);
        self.get(Table::Canonical, &key, |v| {
            decode_b256(Table::Canonical, &key, v)
        })
    }

    pub(crate) fn block_number(&self, hash: &B256) -> Result<Option<u64>, StorageError> {
        self.get(Table::HeaderNumbers, hash.as_slice(), |v| {
            decode_u64(Table::HeaderNumbers, hash.as_slice(), v)
        })
    }

    /// The header of block `number` with `hash`, trusting the pair (the hash is our own key).
    pub(crate) fn header_at(
        &self,
        number: u64,
        hash: &B256,
    ) -> Result<Option<SealedHeader>, StorageError> {
        let key = block_key(number, hash);
        self.get(Table::Headers, &key, |v| {
            decode_rlp::<Header>(Table::Headers, &key, v)
        })
        .map(|header| header.map(|h| SealedHeader::new_unchecked(h, *hash)))
    }

    pub(crate) fn body_at(
        &self,
        number: u64,
        hash: &B256,
    ) -> Result<Option<BlockBody>, StorageError> {
        let key = block_key(number, hash);
        self.get(Table::Bodies, &key, |v| decode_rlp(Table::Bodies, &key, v))
    }

    /// The total difficulty up to and including block `number` with `hash`.
    pub(crate) fn total_difficulty_at(
        &self,
        number: u64,
        hash: &B256,
    ) -> Result<Option<U256>, StorageError> {
        let key = block_key(number, hash);
        self.get(Table::TotalDifficulty, &key, |v| {
            decode_u256_be(Table::TotalDifficulty, &key, v)
        })
    }

    /// The total difficulty of the known block `hash`.
    pub(crate) fn total_difficulty(&self, hash: &B256) -> Result<Option<U256>, StorageError> {
        self.by_hash(hash, |number| self.total_difficulty_at(number, hash))
    }

    /// `f(number)` for the block `hash`, if the block is known.
    pub(crate) fn by_hash<T>(
        &self,
        hash: &B256,
        f: impl FnOnce(u64) -> Result<Option<T>, StorageError>,
    ) -> Result<Option<T>, StorageError> {
        match self.block_number(hash)? {
            Some(number) => f(number),
            None => Ok(None),
        }
    }
}

impl Database {
    /// The canonical head: number and hash of the block whose post-state is the plain state.
    pub fn head(&self) -> Result<Option<(u64, B256)>, StorageError> {
        Reader::latest(self).head()
    }

    /// The genesis hash, once [`Database::init_genesis`] has run.
    pub fn genesis_hash(&self) -> Result<Option<B256>, StorageError> {
        Reader::latest(self).genesis_hash()
    }

    /// The chain name given to [`Database::init_genesis`].
    pub fn chain_name(&self) -> Result<Option<String>, StorageError> {
        Reader::latest(self).chain_name()
    }

    /// The hash of canonical block `number`.
    pub fn canonical_hash(&self, number: u64) -> Result<Option<B256>, StorageError> {
        Reader::latest(self).canonical_hash(number)
    }

    /// The number of the known (canonical or side) block `hash`.
    pub fn block_number(&self, hash: &B256) -> Result<Option<u64>, StorageError> {
        Reader::latest(self).block_number(hash)
    }

    /// The header of the known block `hash`.
    pub fn header(&self, hash: &B256) -> Result<Option<SealedHeader>, StorageError> {
        let reader = Reader::latest(self);
        reader.by_hash(hash, |number| reader.header_at(number, hash))
    }

    /// The header of canonical block `number`.
    pub fn header_by_number(&self, number: u64) -> Result<Option<SealedHeader>, StorageError> {
        // A snapshot: the canonical mapping and the header must be of the same version.
        let reader = Reader::snapshot(self);
        match reader.canonical_hash(number)? {
            Some(hash) => reader.header_at(number, &hash),
            None => Ok(None),
        }
    }

    /// The body of the known block `hash`.
    pub fn body(&self, hash: &B256) -> Result<Option<BlockBody>, StorageError> {
        let reader = Reader::latest(self);
        reader.by_hash(hash, |number| reader.body_at(number, hash))
    }

    /// The known block `hash`, header and body.
    pub fn block(&self, hash: &B256) -> Result<Option<SealedBlock>, StorageError> {
        let reader = Reader::latest(self);
        reader.by_hash(hash, |number| {
            let Some(header) = reader.header_at(number, hash)? else {
                return Ok(None);
            };
            // Headers and bodies are written in the same batch, so a header without body is a
            // block this database never fully held: reported as unknown, not as damage.
            let Some(body) = reader.body_at(number, hash)? else {
                return Ok(None);
            };
            Ok(Some(SealedBlock { header, body }))
        })
    }

    /// The receipts of the known block `hash`, in transaction order.
    pub fn receipts(&self, hash: &B256) -> Result<Option<Vec<ReceiptWithBloom>>, StorageError> {
        let reader = Reader::latest(self);
        reader.by_hash(hash, |number| {
            let key = block_key(number, hash);
            reader.get(Table::Receipts, &key, |v| {
                decode_rlp(Table::Receipts, &key, v)
            })
        })
    }

    /// The total difficulty of the chain up to and including the known block `hash`.
    pub fn total_difficulty(&self, hash: &B256) -> Result<Option<U256>, StorageError> {
        Reader::latest(self).total_difficulty(hash)
    }

    /// Where the canonical transaction `tx_hash` is.
    pub fn tx_location(&self, tx_hash: &B256) -> Result<Option<TxLocation>, StorageError> {
        Reader::latest(self).get(Table::TxLookup, tx_hash.as_slice(), |v| {
            decode_tx_location(tx_hash.as_slice(), v)
        })
    }

    /// The raw trie node at `key` of `table`.
    pub fn trie_node(&self, table: TrieTable, key: &[u8]) -> Result<Option<Bytes>, StorageError> {
        Reader::latest(self).get(trie_cf(table), key, |v| Ok(Bytes::copy_from_slice(v)))
    }
}
