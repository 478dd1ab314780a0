//! The seam between the database and everything above it: the state a block executes on
//! ([`StateProvider`]), the state changes it produces ([`StateChanges`]), the provider traits
//! every reader of chain data holds ([`ChainReader`]: headers, blocks, receipts, chain info and
//! the [`StateProviderFactory`] of state snapshots), and the writes of the import path
//! ([`BlockWriter`], [`BlockCommit`] with the [`PriorState`] its history entries take).
//!
//! **Owns:** these traits and plain types, and [`MemoryState`], the in-memory state used by
//! the Ethereum test vectors, benchmarks and tests.
//!
//! **Must not touch:** RocksDB (that is `spectrum-storage`, whose `Database` implements these
//! traits), the EVM or consensus. Split from `spectrum-storage` so that crates that only read
//! chain data do not build RocksDB and do not name the database.

mod engine;
mod memory;
mod provider;
mod write;

pub use engine::{EngineStats, EngineStatsSource, TableEngineStats};
pub use memory::MemoryState;
pub use provider::{
    BlockReader, BlockWriter, BoxedSnapshot, ChainInfo, ChainReader, ChainStore, HeadTd,
    HeaderProvider, ProviderError, ProviderResult, ReceiptProvider, StateProviderFactory,
    StateSnapshot, TxLocation, WalkedAccount,
};
pub use write::{BlockCommit, GenesisCommit, GenesisStatus, PriorState, TrieNodeWrite, TrieTable};

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};
use spectrum_primitives::{EMPTY_ROOT_HASH, KECCAK_EMPTY};

/// An account as the state holds it. The storage root is that of the account's storage trie
/// after the last block that changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Account {
    /// Transactions sent (or contracts created, for a contract).
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Root of the account's storage trie.
    pub storage_root: B256,
    /// keccak256 of the account's code.
    pub code_hash: B256,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            nonce: 0,
            balance: U256::ZERO,
            storage_root: EMPTY_ROOT_HASH,
            code_hash: KECCAK_EMPTY,
        }
    }
}

impl Account {
    /// Empty in the sense of EIP-161: no nonce, no balance, no code.
    pub fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code_hash == KECCAK_EMPTY
    }
}

/// A failure to read state (a database error or corrupt record), never "not found".
#[derive(Debug, thiserror::Error)]
#[error("state read failed: {0}")]
pub struct StateError(pub Box<dyn std::error::Error + Send + Sync>);

/// Read access to one version of the state: the state after some block.
///
/// Readers return `Ok(None)` / zero for what does not exist and `Err` only for real failures.
pub trait StateProvider {
    /// The account at `address`, if it exists.
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError>;
    /// The value of storage `slot` of `address` (zero if unset).
    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError>;
    /// The code with hash `code_hash`.
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError>;
    /// The canonical hash of block `number` (for BLOCKHASH), if known.
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError>;
}

/// What executing one block changed. Applied atomically with the block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// Accounts written (`Some`) or deleted (`None`), at most once each, sorted by address.
    pub accounts: Vec<(Address, Option<Account>)>,
    /// Accounts whose whole storage was cleared before the slot writes below (self-destruct,
    /// or a contract created where storage existed).
    pub wiped_storage: Vec<Address>,
    /// Storage slots written, zero meaning deleted, sorted by (address, slot).
    pub storage: Vec<(Address, B256, U256)>,
    /// New contract code by hash.
    pub codes: Vec<(B256, Bytes)>,
}
