//! The read seam over chain data (reth's provider traits, sized to what the node uses) and the
//! one write seam the chain crate commits through.
//!
//! Everything above storage holds an `Arc<dyn ChainReader>` (reads) or, for the chain crate
//! alone, an `Arc<dyn ChainStore>` (reads and block writes); `spectrum-storage`'s `Database`
//! implements both. **State after block X is read in one place:** [`StateProviderFactory`],
//! whose [`StateSnapshot`]s answer the state, the header, the total difficulty and the trie
//! nodes of one consistent database version.

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_primitives::{BlockBody, ReceiptWithBloom, SealedBlock, SealedHeader};

use crate::{
    Account, BlockCommit, GenesisCommit, GenesisStatus, StateChanges, StateProvider, TrieNodeWrite,
    TrieTable,
};

/// A read or write of chain data failed. "Not found" is never an error: readers return
/// `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The database holds no genesis block yet.
    #[error("database has no genesis block: initialise it first")]
    NotInitialised,
    /// A state was asked for a block above the head.
    #[error("block {requested} is above the head {head}")]
    AboveHead {
        /// The block asked for.
        requested: u64,
        /// The head's number.
        head: u64,
    },
    /// The block is unknown, or known but not canonical: its state is not kept.
    #[error("no state for block {0}: unknown or not canonical")]
    StateUnavailable(B256),
    /// Trie nodes are kept for the head's state only.
    #[error("trie nodes of block {0} are not kept (only the head's are)")]
    TrieUnavailable(u64),
    /// The database failed (I/O, corrupt record, a broken invariant, a refused write): the
    /// implementation's own error, its message unchanged.
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// A walk over the whole state went past its bound (`StateSnapshot::walk_accounts`).
    #[error(
        "the state holds more than {max_accounts} accounts or {max_bytes} bytes: too large to walk"
    )]
    WalkTooLarge {
        /// The account bound.
        max_accounts: usize,
        /// The size bound (addresses, code, slots).
        max_bytes: usize,
    },
}

/// One account of a state walk: its fields, code and every non-zero storage slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedAccount {
    /// Its address.
    pub address: Address,
    /// Balance, nonce, code hash, storage root.
    pub account: Account,
    /// Its code (empty for none).
    pub code: Bytes,
    /// Its storage, by slot order.
    pub storage: Vec<(B256, U256)>,
}

/// The result of a provider call.
pub type ProviderResult<T> = Result<T, ProviderError>;

/// Where a canonical transaction is: the `tx_lookup` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Number of the block holding the transaction.
    pub block_number: u64,
    /// Hash of that block.
    pub block_hash: B256,
    /// Position of the transaction in the block.
    pub index: u32,
}

/// Headers of known (canonical or side) blocks.
pub trait HeaderProvider: Send + Sync {
    /// The header of the known block `hash`.
    fn header(&self, hash: &B256) -> ProviderResult<Option<SealedHeader>>;
    /// The header of canonical block `number` (mapping and header read from one version).
    fn header_by_number(&self, number: u64) -> ProviderResult<Option<SealedHeader>>;
    /// The number of the known block `hash`.
    fn block_number(&self, hash: &B256) -> ProviderResult<Option<u64>>;
}

/// Bodies, whole blocks and transaction lookups.
pub trait BlockReader: HeaderProvider {
    /// The body of the known block `hash`.
    fn body(&self, hash: &B256) -> ProviderResult<Option<BlockBody>>;
    /// The known block `hash`, header and body.
    fn block(&self, hash: &B256) -> ProviderResult<Option<SealedBlock>>;
    /// Where the canonical transaction `tx_hash` is.
    fn tx_location(&self, tx_hash: &B256) -> ProviderResult<Option<TxLocation>>;
}

/// Receipts of known blocks.
pub trait ReceiptProvider: Send + Sync {
    /// The receipts of the known block `hash`, in transaction order.
    fn receipts(&self, hash: &B256) -> ProviderResult<Option<Vec<ReceiptWithBloom>>>;
}

/// The canonical chain: head, genesis, number → hash, and total difficulty.
pub trait ChainInfo: Send + Sync {
    /// The canonical head: number and hash of the block whose post-state is the latest state.
    fn head(&self) -> ProviderResult<Option<(u64, B256)>>;
    /// The genesis hash, once the database is initialised.
    fn genesis_hash(&self) -> ProviderResult<Option<B256>>;
    /// The hash of canonical block `number`.
    fn canonical_hash(&self, number: u64) -> ProviderResult<Option<B256>>;
    /// The total difficulty of the chain up to and including the known block `hash`.
    fn total_difficulty(&self, hash: &B256) -> ProviderResult<Option<U256>>;
    /// The head and its total difficulty, read from one version of the database: the one way
    /// the head's total difficulty is read.
    fn head_total_difficulty(&self) -> ProviderResult<Option<HeadTd>>;
}

/// The canonical head with its total difficulty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadTd {
    /// The head's number.
    pub number: u64,
    /// The head's hash.
    pub hash: B256,
    /// The total difficulty up to and including the head.
    pub total_difficulty: U256,
}

/// The state after one canonical block, frozen: every read (state, header, total difficulty,
/// trie nodes) sees one version of the database, whatever is committed meanwhile. Hold it for
/// one task (executing a block, answering a call): it keeps the database from discarding the
/// versions it sees.
pub trait StateSnapshot: StateProvider {
    /// The number of the block whose post-state this is.
    fn number(&self) -> u64;
    /// The hash of that block.
    fn hash(&self) -> B256;
    /// Its header, from this snapshot.
    fn header(&self) -> ProviderResult<SealedHeader>;
    /// Its total difficulty, from this snapshot.
    fn total_difficulty(&self) -> ProviderResult<U256>;
    /// The raw trie node at `key` of `table`. Trie nodes are kept for the head only: a
    /// snapshot of an older block answers [`ProviderError::TrieUnavailable`].
    fn trie_node(&self, table: TrieTable, key: &[u8]) -> ProviderResult<Option<Bytes>>;
    /// The keys (hashed address ‖ path) of every stored node of the storage trie of the
    /// account whose hashed address is `hashed_address`, in key order (head only, as above).
    fn storage_trie_keys(&self, hashed_address: &B256) -> ProviderResult<Vec<Vec<u8>>>;
    /// Every account of the state with its code and storage, in address order (head only, as
    /// above; `--dev`'s `anvil_dumpState`). Bounded: more than `max_accounts` accounts or
    /// about `max_bytes` bytes answers [`ProviderError::WalkTooLarge`].
    fn walk_accounts(
        &self,
        max_accounts: usize,
        max_bytes: usize,
    ) -> ProviderResult<Vec<WalkedAccount>>;
}

/// A boxed snapshot borrowing its provider.
pub type BoxedSnapshot<'a> = Box<dyn StateSnapshot + 'a>;

/// Opens state snapshots: the one place "the state after block X" is chosen.
pub trait StateProviderFactory: Send + Sync {
    /// The state after the head.
    fn latest(&self) -> ProviderResult<BoxedSnapshot<'_>>;
    /// The state after the canonical block `hash` ([`ProviderError::StateUnavailable`] for an
    /// unknown or side-chain block).
    fn by_hash(&self, hash: &B256) -> ProviderResult<BoxedSnapshot<'_>>;
    /// The state after canonical block `number` (at most the head:
    /// [`ProviderError::AboveHead`]).
    fn by_number(&self, number: u64) -> ProviderResult<BoxedSnapshot<'_>>;
}

/// Every read of chain data: what RPC, sync, the producer and the network views hold.
pub trait ChainReader:
    BlockReader + ReceiptProvider + ChainInfo + StateProviderFactory + std::fmt::Debug
{
}

impl<T> ChainReader for T where
    T: BlockReader + ReceiptProvider + ChainInfo + StateProviderFactory + std::fmt::Debug
{
}

/// The writes of the import path. Only the chain crate holds this.
pub trait BlockWriter: Send + Sync {
    /// Writes the genesis block and state in one batch (see the implementation for when it
    /// writes nothing).
    fn init_genesis(&self, genesis: GenesisCommit) -> ProviderResult<GenesisStatus>;
    /// Writes `commit` in one atomic batch.
    fn commit_block(&self, commit: &BlockCommit) -> ProviderResult<()>;
    /// The state changes that take the latest state back to the state after canonical block
    /// `number`.
    fn unwind_changes(&self, number: u64) -> ProviderResult<StateChanges>;
    /// Makes canonical block `number` the head again in one batch, applying `trie`.
    fn unwind_to_with_trie(&self, number: u64, trie: &[TrieNodeWrite]) -> ProviderResult<()>;
    /// Makes every commit so far survive power loss (the write-ahead log, fsync'd).
    fn sync_wal(&self) -> ProviderResult<()>;
}

/// Reads and block writes: what the chain crate holds.
pub trait ChainStore: ChainReader + BlockWriter {}

impl<T> ChainStore for T where T: ChainReader + BlockWriter {}

/// A shared factory opens the same snapshots.
impl<T: StateProviderFactory + ?Sized> StateProviderFactory for std::sync::Arc<T> {
    fn latest(&self) -> ProviderResult<BoxedSnapshot<'_>> {
        (**self).latest()
    }

    fn by_hash(&self, hash: &B256) -> ProviderResult<BoxedSnapshot<'_>> {
        (**self).by_hash(hash)
    }

    fn by_number(&self, number: u64) -> ProviderResult<BoxedSnapshot<'_>> {
        (**self).by_number(number)
    }
}
