//! `Database` behind the provider traits of `spectrum-storage-api`: what every crate above
//! storage reads and writes through. State snapshots ([`DbSnapshot`]) answer state, header,
//! total difficulty and trie nodes from one RocksDB snapshot.

use std::{path::Path, sync::Arc};

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_primitives::{BlockBody, ReceiptWithBloom, SealedBlock, SealedHeader};
use spectrum_storage_api::{
    Account, BlockCommit, BlockReader, BlockWriter, BoxedSnapshot, ChainInfo, ChainStore,
    GenesisCommit, GenesisStatus, HeadTd, HeaderProvider, ProviderError, ProviderResult,
    ReceiptProvider, StateChanges, StateError, StateProvider, StateProviderFactory, StateSnapshot,
    TrieNodeWrite, TrieTable, TxLocation, WalkedAccount,
};

use crate::{Database, StorageError, Table, commit::trie_cf, keys::number_key, reader::Reader};

impl From<StorageError> for ProviderError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::NotInitialised => Self::NotInitialised,
            StorageError::AboveHead { requested, head } => Self::AboveHead { requested, head },
            other => Self::Backend(Box::new(other)),
        }
    }
}

/// Opens (or creates) the database at `path` as the chain store the chain crate holds: for
/// callers that need no more of the database than the provider traits (test fixtures, tools).
pub fn open_chain_store(path: &Path) -> Result<Arc<dyn ChainStore>, StorageError> {
    Ok(Arc::new(Database::open(path)?))
}

impl HeaderProvider for Database {
    fn header(&self, hash: &B256) -> ProviderResult<Option<SealedHeader>> {
        Ok(Database::header(self, hash)?)
    }

    fn header_by_number(&self, number: u64) -> ProviderResult<Option<SealedHeader>> {
        Ok(Database::header_by_number(self, number)?)
    }

    fn block_number(&self, hash: &B256) -> ProviderResult<Option<u64>> {
        Ok(Database::block_number(self, hash)?)
    }
}

impl BlockReader for Database {
    fn body(&self, hash: &B256) -> ProviderResult<Option<BlockBody>> {
        Ok(Database::body(self, hash)?)
    }

    fn block(&self, hash: &B256) -> ProviderResult<Option<SealedBlock>> {
        Ok(Database::block(self, hash)?)
    }

    fn tx_location(&self, tx_hash: &B256) -> ProviderResult<Option<TxLocation>> {
        Ok(Database::tx_location(self, tx_hash)?)
    }
}

impl ReceiptProvider for Database {
    fn receipts(&self, hash: &B256) -> ProviderResult<Option<Vec<ReceiptWithBloom>>> {
        Ok(Database::receipts(self, hash)?)
    }
}

impl ChainInfo for Database {
    fn head(&self) -> ProviderResult<Option<(u64, B256)>> {
        Ok(Database::head(self)?)
    }

    fn genesis_hash(&self) -> ProviderResult<Option<B256>> {
        Ok(Database::genesis_hash(self)?)
    }

    fn canonical_hash(&self, number: u64) -> ProviderResult<Option<B256>> {
        Ok(Database::canonical_hash(self, number)?)
    }

    fn total_difficulty(&self, hash: &B256) -> ProviderResult<Option<U256>> {
        Ok(Database::total_difficulty(self, hash)?)
    }

    fn head_total_difficulty(&self) -> ProviderResult<Option<HeadTd>> {
        let reader = Reader::snapshot(self);
        let Some((number, hash)) = reader.head()? else {
            return Ok(None);
        };
        let total_difficulty = reader
            .total_difficulty_at(number, &hash)?
            .ok_or_else(|| missing_td(number, &hash))?;
        Ok(Some(HeadTd {
            number,
            hash,
            total_difficulty,
        }))
    }
}

impl StateProviderFactory for Database {
    fn latest(&self) -> ProviderResult<BoxedSnapshot<'_>> {
        let reader = Reader::snapshot(self);
        let (number, hash) = reader.head()?.ok_or(ProviderError::NotInitialised)?;
        Ok(Box::new(DbSnapshot::new(reader, number, hash, true)))
    }

    fn by_hash(&self, hash: &B256) -> ProviderResult<BoxedSnapshot<'_>> {
        let reader = Reader::snapshot(self);
        let unavailable = || ProviderError::StateUnavailable(*hash);
        let number = reader.block_number(hash)?.ok_or_else(unavailable)?;
        if reader.canonical_hash(number)? != Some(*hash) {
            return Err(unavailable());
        }
        let (head, _) = reader.head()?.ok_or(ProviderError::NotInitialised)?;
        Ok(Box::new(DbSnapshot::new(
            reader,
            number,
            *hash,
            number == head,
        )))
    }

    fn by_number(&self, number: u64) -> ProviderResult<BoxedSnapshot<'_>> {
        let reader = Reader::snapshot(self);
        let (head, head_hash) = reader.head()?.ok_or(ProviderError::NotInitialised)?;
        if number > head {
            return Err(ProviderError::AboveHead {
                requested: number,
                head,
            });
        }
        if number == head {
            return Ok(Box::new(DbSnapshot::new(reader, number, head_hash, true)));
        }
        let hash = reader.canonical_hash(number)?.ok_or_else(|| {
            StorageError::missing(
                Table::Canonical,
                &number_key(number),
                "every block up to the head is canonical",
            )
        })?;
        Ok(Box::new(DbSnapshot::new(reader, number, hash, false)))
    }
}

impl BlockWriter for Database {
    fn init_genesis(&self, genesis: GenesisCommit) -> ProviderResult<GenesisStatus> {
        Ok(Database::init_genesis(self, genesis)?)
    }

    fn commit_block(&self, commit: &BlockCommit) -> ProviderResult<()> {
        Ok(Database::commit_block(self, commit)?)
    }

    fn unwind_changes(&self, number: u64) -> ProviderResult<StateChanges> {
        Ok(Database::unwind_changes(self, number)?)
    }

    fn unwind_to_with_trie(&self, number: u64, trie: &[TrieNodeWrite]) -> ProviderResult<()> {
        Ok(Database::unwind_to_with_trie(self, number, trie)?)
    }

    fn sync_wal(&self) -> ProviderResult<()> {
        Ok(Database::sync_wal(self)?)
    }
}

fn missing_td(number: u64, hash: &B256) -> StorageError {
    StorageError::missing(
        Table::TotalDifficulty,
        &crate::keys::block_key(number, hash),
        "every stored block has a total difficulty",
    )
}

/// The state after one canonical block, read from one RocksDB snapshot: the plain state when
/// the block is the head (`latest`), else the history tables.
pub struct DbSnapshot<'a> {
    reader: Reader<'a>,
    number: u64,
    hash: B256,
    latest: bool,
}

impl<'a> DbSnapshot<'a> {
    fn new(reader: Reader<'a>, number: u64, hash: B256, latest: bool) -> Self {
        Self {
            reader,
            number,
            hash,
            latest,
        }
    }

    fn head_only(&self) -> ProviderResult<()> {
        if self.latest {
            Ok(())
        } else {
            Err(ProviderError::TrieUnavailable(self.number))
        }
    }
}

fn state_err(err: StorageError) -> StateError {
    StateError(Box::new(err))
}

impl StateProvider for DbSnapshot<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        if self.latest {
            self.reader.account(address)
        } else {
            self.reader.account_at(address, self.number)
        }
        .map_err(state_err)
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        if self.latest {
            self.reader.storage(address, slot)
        } else {
            self.reader.storage_at(address, slot, self.number)
        }
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

impl StateSnapshot for DbSnapshot<'_> {
    fn number(&self) -> u64 {
        self.number
    }

    fn hash(&self) -> B256 {
        self.hash
    }

    fn header(&self) -> ProviderResult<SealedHeader> {
        let header = self.reader.header_at(self.number, &self.hash)?;
        Ok(header.ok_or_else(|| {
            StorageError::missing(
                Table::Headers,
                &crate::keys::block_key(self.number, &self.hash),
                "a canonical block has a header",
            )
        })?)
    }

    fn total_difficulty(&self) -> ProviderResult<U256> {
        let td = self.reader.total_difficulty_at(self.number, &self.hash)?;
        Ok(td.ok_or_else(|| missing_td(self.number, &self.hash))?)
    }

    fn trie_node(&self, table: TrieTable, key: &[u8]) -> ProviderResult<Option<Bytes>> {
        self.head_only()?;
        let node = self
            .reader
            .get(trie_cf(table), key, |v| Ok(Bytes::copy_from_slice(v)))?;
        Ok(node)
    }

    fn storage_trie_keys(&self, hashed_address: &B256) -> ProviderResult<Vec<Vec<u8>>> {
        self.head_only()?;
        let mut keys = Vec::new();
        self.reader.for_each_in_prefix(
            Table::StorageTrie,
            hashed_address.as_slice(),
            |key, _| {
                keys.push(key.to_vec());
                Ok(())
            },
        )?;
        Ok(keys)
    }

    fn walk_accounts(
        &self,
        max_accounts: usize,
        max_bytes: usize,
    ) -> ProviderResult<Vec<WalkedAccount>> {
        self.head_only()?;
        crate::walk::walk_accounts(&self.reader, max_accounts, max_bytes)
    }
}
