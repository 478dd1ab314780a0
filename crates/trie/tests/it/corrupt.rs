//! Bad stored bytes and failing stores surface as errors, never panics.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::cell::RefCell;

use alloy_primitives::{B256, keccak256};
use common::{Model, apply_and_check, key_from_nibbles};
use proptest::{collection::vec, prelude::*, sample::Index};
use spectrum_trie::{MemoryNodeStore, NodeStore, TrieError, update_trie};

fn store_with(keys: &[B256]) -> MemoryNodeStore {
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    apply_and_check(
        &mut store,
        &mut model,
        keys.iter().map(|k| (*k, Some(b"v".to_vec()))).collect(),
    );
    store
}

#[test]
fn garbage_root_is_corrupt() {
    for bytes in [
        vec![],
        vec![0x00],
        vec![0xc0],
        vec![0xff; 40],
        vec![0xc2, 0x80],
    ] {
        let mut store = MemoryNodeStore::new();
        store.nodes.insert(vec![], bytes.clone());
        let err = update_trie(&store, [(B256::ZERO, Some(vec![1]))]).unwrap_err();
        assert!(
            matches!(err, TrieError::Corrupt { ref path, .. } if path == "[]"),
            "{bytes:?}: {err}"
        );
    }
}

#[test]
fn missing_child_is_reported_with_its_path() {
    let keys: Vec<B256> = (0..40u8).map(|i| keccak256([i])).collect();
    let mut store = store_with(&keys);
    // Remove the node under the first key's first nibble (a leaf or branch at depth 1).
    let first = alloy_trie::Nibbles::unpack(keys[0]).get(0).unwrap();
    store.nodes.remove(&vec![first]);
    let err = update_trie(&store, [(keys[0], None)]).unwrap_err();
    assert!(matches!(err, TrieError::MissingNode { .. }), "{err}");
    assert!(err.to_string().contains(&format!("[{first:x}]")), "{err}");
}

#[test]
fn extension_pointing_at_a_leaf_is_corrupt() {
    let mut a = [0u8; 64];
    let mut b = [0u8; 64];
    a[..4].copy_from_slice(&[1, 2, 3, 0]);
    b[..4].copy_from_slice(&[1, 2, 3, 1]);
    let (a, b) = (key_from_nibbles(&a), key_from_nibbles(&b));
    let mut store = store_with(&[a, b]);
    // A well-formed leaf for depth 3 where the extension expects its branch.
    let mut leaf_only = MemoryNodeStore::new();
    leaf_only.apply(&update_trie(&leaf_only, [(a, Some(b"v".to_vec()))]).unwrap());
    let leaf_at_root = leaf_only.nodes[&vec![]].clone();
    assert!(store.nodes.contains_key(&vec![1, 2, 3]));
    // Re-encode the same leaf three nibbles deeper: its key shrinks to 61 nibbles.
    let deep_leaf = alloy_rlp::encode(alloy_trie::nodes::TrieNode::Leaf(
        alloy_trie::nodes::LeafNode::new(alloy_trie::Nibbles::unpack(a).slice(3..), b"v".to_vec()),
    ));
    assert_ne!(deep_leaf, leaf_at_root);
    store.nodes.insert(vec![1, 2, 3], deep_leaf);
    let err = update_trie(&store, [(a, Some(b"w".to_vec()))]).unwrap_err();
    assert!(err.to_string().contains("not a branch"), "{err}");
    // A leaf whose key length does not fit its depth is caught by decoding.
    store.nodes.insert(vec![1, 2, 3], leaf_at_root);
    let err = update_trie(&store, [(a, Some(b"w".to_vec()))]).unwrap_err();
    assert!(matches!(err, TrieError::Corrupt { .. }), "{err}");
}

/// A store whose backend fails on one path.
struct FailingStore {
    inner: MemoryNodeStore,
    fail_at: Vec<u8>,
    reads: RefCell<usize>,
}

impl NodeStore for FailingStore {
    fn get(&self, path: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        *self.reads.borrow_mut() += 1;
        if path == self.fail_at {
            return Err(TrieError::store(
                path,
                std::io::Error::other("disk on fire"),
            ));
        }
        self.inner.get(path)
    }
}

#[test]
fn store_errors_propagate_with_path_and_source() {
    let keys: Vec<B256> = (0..40u8).map(|i| keccak256([i])).collect();
    let first = alloy_trie::Nibbles::unpack(keys[0]).get(0).unwrap();
    let store = FailingStore {
        inner: store_with(&keys),
        fail_at: vec![first],
        reads: 0.into(),
    };
    let err = update_trie(&store, [(keys[0], Some(b"x".to_vec()))]).unwrap_err();
    assert!(matches!(err, TrieError::Store { .. }), "{err}");
    assert!(err.to_string().contains(&format!("[{first:x}]")));
    let source = std::error::Error::source(&err).expect("backend error kept as source");
    assert_eq!(source.to_string(), "disk on fire");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Damage one stored node (flip a byte, truncate, or replace it with random bytes), then
    /// update: any result is fine except a panic.
    #[test]
    fn damaged_nodes_never_panic(
        keys in vec(any::<[u8; 32]>().prop_map(B256::from), 1..64),
        victim in any::<Index>(),
        damage in 0u8..3,
        position in any::<Index>(),
        byte in any::<u8>(),
        junk in vec(any::<u8>(), 0..80),
        changes in vec((any::<Index>(), proptest::option::of(vec(any::<u8>(), 1..8))), 1..20),
    ) {
        let mut store = store_with(&keys);
        let paths: Vec<Vec<u8>> = store.nodes.keys().cloned().collect();
        let path = victim.get(&paths).clone();
        let node = store.nodes.get_mut(&path).unwrap();
        match damage {
            0 => { let i = position.index(node.len()); node[i] ^= byte | 1; }
            1 => node.truncate(position.index(node.len())),
            _ => *node = junk,
        }
        let changes = changes.into_iter().map(|(i, v)| (*i.get(&keys), v));
        let _ = update_trie(&store, changes);
    }
}
