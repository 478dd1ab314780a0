//! Where the updater reads nodes from: one trie's nodes by encoded path.

use std::collections::BTreeMap;

use crate::{TrieError, TrieUpdate};

/// Read access to the stored nodes of ONE trie, keyed by encoded nibble path (see
/// [`encode_path`](crate::encode_path)).
///
/// The account trie and each storage trie are separate tries: a database implementation puts
/// its own prefix (e.g. the hashed address for a storage trie) in front of `path`. Writes are
/// not part of the trait: [`update_trie`](crate::update_trie) returns them so the caller can
/// put a whole block's writes in one atomic batch.
pub trait NodeStore {
    /// The stored node bytes at `path`, or `None` when no node starts there.
    ///
    /// # Errors
    ///
    /// A backend failure, as [`TrieError::Store`] (see [`TrieError::store`]).
    fn get(&self, path: &[u8]) -> Result<Option<Vec<u8>>, TrieError>;
}

impl<S: NodeStore + ?Sized> NodeStore for &S {
    fn get(&self, path: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        (**self).get(path)
    }
}

/// A trie's nodes in memory, for tests and tools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryNodeStore {
    /// Node bytes by encoded path.
    pub nodes: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryNodeStore {
    /// An empty store: the empty trie.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies an update's writes (puts and deletes).
    pub fn apply(&mut self, update: &TrieUpdate) {
        for (path, node) in &update.writes {
            match node {
                Some(node) => {
                    self.nodes.insert(path.clone(), node.clone());
                }
                None => {
                    self.nodes.remove(path);
                }
            }
        }
    }

    /// How many nodes are stored.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node is stored (the empty trie).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

impl NodeStore for MemoryNodeStore {
    fn get(&self, path: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        Ok(self.nodes.get(path).cloned())
    }
}
