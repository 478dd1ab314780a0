//! The one error type of the crate.

use alloy_primitives::B256;

/// Boxed error of a [`NodeStore`](crate::NodeStore) backend (RocksDB, ...), kept as the source
/// so that the caller sees the backend's own message.
pub type StoreSource = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a trie update or a node read failed.
///
/// Paths are shown as their nibbles in hex (`[3a07]`; `[]` is the root).
#[derive(Debug, thiserror::Error)]
pub enum TrieError {
    /// Stored bytes at `path` are not a node this crate wrote: bad RLP, a node shape the secure
    /// trie cannot have, or a node whose depth does not fit its path. Never a panic: a torn or
    /// bit-flipped database must surface as an error the node can report.
    #[error("corrupt trie node at path {path}: {reason}")]
    Corrupt {
        /// The node's nibble path.
        path: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A branch or extension references a child at `path` but the store holds nothing there:
    /// the store lost a write, or it is another trie's store.
    #[error("trie node missing at path {path}: its parent references it")]
    MissingNode {
        /// The missing node's nibble path.
        path: String,
    },
    /// An update gave `Some(empty)` as a leaf value. A secure trie never stores an empty value
    /// (geth treats it as a delete); pass `None` to delete so that intent is explicit.
    #[error("empty leaf value for key {key}: pass None to delete")]
    EmptyValue {
        /// The hashed key.
        key: B256,
    },
    /// Bytes given as an encoded nibble path (see [`decode_path`](crate::decode_path)) are not
    /// one.
    #[error("invalid encoded node path {path}: {reason}")]
    InvalidPath {
        /// The bytes, in hex.
        path: String,
        /// What was wrong with them.
        reason: &'static str,
    },
    /// The node store's backend failed to read `path`.
    #[error("node store read failed at path {path}")]
    Store {
        /// The nibble path being read.
        path: String,
        /// The backend's error.
        #[source]
        source: StoreSource,
    },
}

impl TrieError {
    /// A backend read error at the encoded path `path` (as passed to
    /// [`NodeStore::get`](crate::NodeStore::get)), for store implementations.
    pub fn store(path: &[u8], source: impl Into<StoreSource>) -> Self {
        Self::Store {
            path: crate::path::fmt_encoded_path(path),
            source: source.into(),
        }
    }
}
