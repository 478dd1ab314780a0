//! The node's database: RocksDB column families holding the chain (headers, bodies, receipts,
//! total difficulty, canonical index, transaction lookup), the plain state after the head, the
//! history that makes every past canonical state readable, and the trie nodes.
//!
//! **Owns:** the on-disk layout ([`tables`] lists every column family with its key and value
//! encoding), the schema version ([`CURRENT_SCHEMA_VERSION`], checked at every open: a database
//! of another version is refused untouched), atomic commits, and the implementation of
//! `spectrum-storage-api`'s provider traits ([`Database`] is the `ChainStore` every crate above
//! holds as a trait object; [`DbSnapshot`] answers state, header, total difficulty and trie
//! nodes from one RocksDB snapshot).
//!
//! **Must not touch:** the EVM, consensus rules or networking. It stores what it is given:
//! blocks are validated and executed by `spectrum-chain`, their trie nodes (paths and
//! encodings) made by `spectrum-trie`.
//!
//! # Atomicity and durability
//!
//! One block = one write batch; after a crash the database holds every commit that returned
//! `Ok` and nothing of one that did not. The same holds for [`Database::init_genesis`] and
//! [`Database::unwind_to`]. Writes go through RocksDB's write-ahead log without fsync: a killed
//! process loses nothing that was committed; an OS crash or power loss may lose the newest
//! commits, but recovery always yields a consistent prefix of them. [`Database::flush`] syncs
//! everything (call it at shutdown).
//!
//! # State history
//!
//! Each canonical commit writes, for every account and slot it changes, a history entry keyed
//! `(key, block)` holding the value *before* that block (from the commit's `priors`, the
//! parent values execution read, where it carries them; else read here). The state after
//! block N is then read with one seek: the first history entry at or after `(key, N + 1)`,
//! else the plain state. The per-block change set (`block_changes`) lists those entries so
//! that [`Database::unwind_to`] restores the plain state and deletes them without scanning.
//!
//! Writers (commit, genesis, unwind) are serialised internally; readers never block.
//! [`LatestState`], [`HistoricalState`] and [`DbSnapshot`] implement `StateProvider` on a
//! snapshot; the crates above open [`DbSnapshot`]s through `StateProviderFactory`.

mod checkpoint;
mod codec;
mod commit;
mod db;
mod diff;
mod error;
mod genesis;
mod keys;
mod provider;
mod read;
mod reader;
mod state;
pub mod tables;
mod trie_scan;
mod unwind;
// ---- dev controls (issue 19) ----
mod walk;

pub use db::{Database, TableStats};
pub use error::StorageError;
pub use provider::{DbSnapshot, open_chain_store};
// The write types live in the storage API (the chain crate builds them without naming the
// database); re-exported here for the tools that drive `Database` directly.
pub use spectrum_storage_api::{
    BlockCommit, GenesisCommit, GenesisStatus, TrieNodeWrite, TrieTable, TxLocation,
};
pub use state::{HistoricalState, LatestState};
pub use tables::Table;

/// The on-disk layout version this build reads and writes. Bump it with any change to
/// [`tables`]: names, key or value encodings.
pub const CURRENT_SCHEMA_VERSION: u32 = 1;
