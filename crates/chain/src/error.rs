use alloy_primitives::{B256, Bloom};
use spectrum_primitives::GotExpected;

/// Why a block was not imported. Nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The parent is not in the database.
    #[error("block {number} {hash}: unknown parent {parent}")]
    UnknownParent {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The missing parent.
        parent: B256,
    },
    /// Timestamp too far ahead of the local clock (more than 30 s, or too many held).
    #[error("block {number} {hash}: timestamp {time} is too far ahead of the local clock {now}")]
    FutureBlock {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// Its timestamp.
        time: u64,
        /// The local clock.
        now: u64,
    },
    /// On the network's bad-block list.
    #[error("block {number} {hash} is on the bad-block list")]
    BadBlock {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
    },
    /// Number is not parent + 1.
    #[error("wrong block number: {0}")]
    WrongNumber(GotExpected<u64>),
    /// The consensus rules refuse the header.
    #[error("block {number} {hash}: {reason}")]
    Invalid {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The rule and values.
        reason: String,
    },
    /// The body's transactions do not hash to the header's root.
    #[error("transactions root mismatch: {0}")]
    TransactionsRoot(GotExpected<B256>),
    /// The body's uncles do not hash to the header's.
    #[error("uncle hash mismatch: {0}")]
    OmmersHash(GotExpected<B256>),
    /// A transaction's signature yields no sender.
    #[error("block {number}: transaction {index} has an invalid signature: {source}")]
    Sender {
        /// The block's number.
        number: u64,
        /// The transaction's index.
        index: usize,
        /// Why.
        source: spectrum_primitives::SignatureError,
    },
    /// Execution failed or disagrees with the header (gas used, receipts root, bloom).
    #[error("block {number} {hash}: {source}")]
    Execution {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// What failed.
        source: spectrum_execution::ExecutionError,
    },
    /// The state root after execution differs from the header's.
    #[error("block {number}: state root mismatch: {mismatch}")]
    StateRoot {
        /// The block's number.
        number: u64,
        /// Computed vs header.
        mismatch: GotExpected<B256>,
    },
    /// The logs bloom differs from the header's.
    #[error("block {number}: logs bloom mismatch")]
    Bloom {
        /// The block's number.
        number: u64,
        /// Computed vs header.
        mismatch: Box<GotExpected<Bloom>>,
    },
    /// A number outgrew its type (total difficulty, block number).
    #[error("{0} overflows")]
    Overflow(&'static str),
    /// The database has no head (not initialised).
    #[error("the database has no head: initialise it with a genesis first")]
    NoHead,
    /// A stored block has no total difficulty.
    #[error("no total difficulty stored for block {0}")]
    MissingTotalDifficulty(B256),
    /// A canonical block the chain needs has no canonical mapping.
    #[error("no canonical block {0}")]
    MissingCanonical(u64),
    /// A block the chain needs is missing from the database.
    #[error("block {0} is missing from the database")]
    MissingBlock(B256),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] spectrum_storage::StorageError),
    /// Reading state failed.
    #[error(transparent)]
    State(#[from] spectrum_storage_api::StateError),
    /// The trie's stored nodes are broken or unreadable.
    #[error("state trie: {0}")]
    Trie(#[from] spectrum_trie::TrieError),
}
