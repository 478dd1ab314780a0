//! The state's Merkle-Patricia tries, stored node by node under their nibble paths, and the
//! incremental root computation that re-hashes only the paths a block touched.
//!
//! **Owns:** the MPT node format (standard Ethereum: hex-prefix keys, 17-item branches,
//! extensions, leaves, children referenced by keccak256 or inline under 32 bytes), the byte
//! encoding of node paths as database keys, the [`NodeStore`] read trait with the in-memory
//! [`MemoryNodeStore`], [`update_trie`] which turns a batch of leaf changes into the new root
//! plus node writes, and the state's leaf values ([`account_leaf_value`],
//! [`storage_leaf_value`]).
//!
//! **Must not touch:** RocksDB directly (the storage crate implements [`NodeStore`], prefixes
//! paths per trie and applies [`TrieUpdate::writes`] in the block's write batch), the EVM, or
//! consensus. Keys arrive already hashed (secure trie): this crate never sees an address.
//!
//! # Storage model
//!
//! Path-based, like geth's PBSS: a node is stored at the path where it starts and is
//! overwritten or deleted there, so stale nodes never pile up and nothing needs garbage
//! collection; only the latest trie is kept. Every node is stored, inline ones included.
//!
//! - **Node bytes:** the node's own canonical RLP, the exact bytes that are hashed. A branch
//!   therefore carries its children's hashes, and is re-hashed from its stored bytes plus the
//!   new references of the children that changed, without loading the others.
//! - **Path keys:** one byte per nibble (`0x00..=0x0f`), the root being the empty key; see
//!   [`encode_path`]. Unique, and byte order is depth-first order, so a subtrie is a key prefix
//!   range.

mod error;
mod node;
mod path;
mod store;
mod update;
mod values;

pub use alloy_trie::{EMPTY_ROOT_HASH, Nibbles};
pub use error::{StoreSource, TrieError};
pub use path::{MAX_PATH_NIBBLES, decode_path, encode_path};
pub use store::{MemoryNodeStore, NodeStore};
pub use update::{TrieUpdate, update_trie};
pub use values::{account_leaf_value, storage_leaf_value};
