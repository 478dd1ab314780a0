//! The one error type of the crate. Every variant names what it was doing and where (table,
//! key, path), so a log line is enough to find the record.

use std::path::PathBuf;

use alloy_primitives::{B256, Bytes};

use crate::Table;

/// A database failure. "Not found" is never an error: readers return `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A checkpoint (backup) could not be written.
    #[error("cannot write a checkpoint to {}: {source}", path.display())]
    Checkpoint {
        /// The checkpoint directory.
        path: PathBuf,
        /// RocksDB's error.
        source: rocksdb::Error,
    },
    /// RocksDB could not open (or create) the database.
    #[error("cannot open database at {}: {source}", path.display())]
    Open {
        /// The database directory.
        path: PathBuf,
        /// RocksDB's error.
        source: rocksdb::Error,
    },
    /// The database was written by a build with another on-disk layout.
    #[error(
        "database schema version {found} is not supported by this build (supports {supported})"
    )]
    UnsupportedSchema {
        /// The version stored in the database.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The directory holds a RocksDB database with data but no schema version: not ours.
    #[error(
        "database at {} has data but no schema version: not a spectrum-rs database",
        path.display()
    )]
    MissingSchemaVersion {
        /// The database directory.
        path: PathBuf,
    },
    /// A column family of this schema version is absent from an existing database.
    #[error("database is missing column family {0}")]
    MissingTable(&'static str),
    /// A RocksDB read, iteration or property query failed.
    #[error("reading table {table} failed: {source}")]
    Read {
        /// The table read.
        table: Table,
        /// RocksDB's error.
        source: rocksdb::Error,
    },
    /// Writing a batch (or flushing) failed; nothing of the batch was applied.
    #[error("{what} failed: {source}")]
    Write {
        /// What was being written ("block 12 commit", "flush", …).
        what: String,
        /// RocksDB's error.
        source: rocksdb::Error,
    },
    /// A stored record cannot be decoded.
    #[error("corrupt record in table {table} at key {key}: {reason}")]
    Corrupt {
        /// The table holding the record.
        table: Table,
        /// The record's key.
        key: Bytes,
        /// What is wrong with it.
        reason: String,
    },
    /// A record that the database's own invariants say must exist is absent.
    #[error("missing record in table {table} at key {key}: {reason}")]
    MissingRecord {
        /// The table that should hold the record.
        table: Table,
        /// The record's key.
        key: Bytes,
        /// Why it must exist.
        reason: &'static str,
    },
    /// `init_genesis` was asked for another chain than the one the database holds.
    #[error(
        "genesis mismatch: the database holds chain {stored_chain:?} with genesis {stored}, \
         but chain {requested_chain:?} with genesis {requested} was requested"
    )]
    GenesisMismatch {
        /// The genesis hash in the database.
        stored: B256,
        /// The genesis hash asked for.
        requested: B256,
        /// The chain name in the database.
        stored_chain: String,
        /// The chain name asked for.
        requested_chain: String,
    },
    /// A commit or unwind needs a genesis block and the database has none.
    #[error("database has no genesis block: initialise it first")]
    NotInitialised,
    /// A canonical commit whose block does not extend the head: its state changes would be
    /// applied to the wrong state.
    #[error(
        "block {number} ({hash}) with parent {parent_hash} does not extend the head \
         {head_number} ({head_hash})"
    )]
    NotChildOfHead {
        /// The block's number.
        number: u64,
        /// The block's hash.
        hash: B256,
        /// The block's parent hash.
        parent_hash: B256,
        /// The head's number.
        head_number: u64,
        /// The head's hash.
        head_hash: B256,
    },
    /// A commit or genesis whose contents contradict each other.
    #[error("invalid commit of block {number}: {reason}")]
    InvalidCommit {
        /// The block's number.
        number: u64,
        /// What is wrong.
        reason: String,
    },
    /// `unwind_to` or `state_at` asked for a block above the head.
    #[error("block {requested} is above the head {head}")]
    AboveHead {
        /// The block asked for.
        requested: u64,
        /// The head's number.
        head: u64,
    },
}

impl StorageError {
    /// A [`StorageError::Corrupt`] for the record at `key` of `table`.
    pub(crate) fn corrupt(table: Table, key: &[u8], reason: impl Into<String>) -> Self {
        Self::Corrupt {
            table,
            key: Bytes::copy_from_slice(key),
            reason: reason.into(),
        }
    }

    /// A [`StorageError::MissingRecord`] for `key` of `table`.
    pub(crate) fn missing(table: Table, key: &[u8], reason: &'static str) -> Self {
        Self::MissingRecord {
            table,
            key: Bytes::copy_from_slice(key),
            reason,
        }
    }
}
