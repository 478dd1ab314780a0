//! Shared test helpers: the alloy-trie oracle and an independent check of a stored trie.

#![allow(dead_code)] // each test file uses a subset

pub mod workload;

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{B256, keccak256};
use alloy_rlp::Decodable;
use alloy_trie::{
    EMPTY_ROOT_HASH, HashBuilder, Nibbles,
    nodes::{RlpNode, TrieNode},
};
use spectrum_trie::{MemoryNodeStore, TrieUpdate, encode_path, update_trie};

/// The full map a trie should hold: hashed key → leaf value.
pub type Model = BTreeMap<B256, Vec<u8>>;

/// alloy-trie's root over the whole map, computed from scratch.
pub fn oracle_root(model: &Model) -> B256 {
    let mut hb = HashBuilder::default();
    for (key, value) in model {
        hb.add_leaf(Nibbles::unpack(key), value);
    }
    hb.root()
}

/// Applies `changes` to `store` and `model`, checks the result against the oracle and the
/// stored trie against the model, and returns the update.
pub fn apply_and_check(
    store: &mut MemoryNodeStore,
    model: &mut Model,
    changes: Vec<(B256, Option<Vec<u8>>)>,
) -> TrieUpdate {
    let update = update_trie(&*store, changes.clone()).expect("update");
    check_writes_are_real_changes(store, &update);
    store.apply(&update);
    for (key, value) in changes {
        match value {
            Some(value) => model.insert(key, value),
            None => model.remove(&key),
        };
    }
    assert_eq!(
        update.root,
        oracle_root(model),
        "root differs from alloy-trie's"
    );
    check_store(store, model, update.root);
    update
}

/// Every write changes something: a put differs from what is stored, a delete removes a node.
pub fn check_writes_are_real_changes(store: &MemoryNodeStore, update: &TrieUpdate) {
    let paths: BTreeSet<_> = update.writes.iter().map(|(p, _)| p).collect();
    assert_eq!(paths.len(), update.writes.len(), "a path is written twice");
    for (path, node) in &update.writes {
        match node {
            Some(node) => assert_ne!(store.nodes.get(path), Some(node), "no-op put at {path:?}"),
            None => assert!(store.nodes.contains_key(path), "delete of absent {path:?}"),
        }
    }
}

/// Walks the stored trie from the root with alloy-trie's own node decoder and checks that:
/// every reference matches the referenced node's bytes, branches have 2+ children, extensions
/// lead to branches, the leaves are exactly `model`, the root hashes to `root`, and no stored
/// node is left outside the walk.
pub fn check_store(store: &MemoryNodeStore, model: &Model, root: B256) {
    if model.is_empty() {
        assert!(
            store.is_empty(),
            "leftover nodes in an empty trie: {:?}",
            store.nodes.keys()
        );
        assert_eq!(root, EMPTY_ROOT_HASH);
        return;
    }
    let root_bytes = store.nodes.get(&Vec::new()).expect("root node stored");
    assert_eq!(
        keccak256(root_bytes),
        root,
        "root hash is not the root node's hash"
    );
    let mut visited = BTreeSet::new();
    let mut leaves = Model::new();
    walk(store, Nibbles::new(), None, &mut visited, &mut leaves);
    assert_eq!(&leaves, model, "stored leaves differ from the model");
    let stored: BTreeSet<_> = store.nodes.keys().cloned().collect();
    assert_eq!(stored, visited, "stored nodes that are not in the trie");
    assert_eq!(
        store.len(),
        count_nodes(model),
        "node count differs from the key set's"
    );
}

fn walk(
    store: &MemoryNodeStore,
    path: Nibbles,
    expected: Option<&RlpNode>,
    visited: &mut BTreeSet<Vec<u8>>,
    leaves: &mut Model,
) -> TrieNode {
    let key = encode_path(&path);
    let bytes = store
        .nodes
        .get(&key)
        .unwrap_or_else(|| panic!("missing node at {key:?}"));
    if let Some(expected) = expected {
        assert_eq!(
            &RlpNode::from_rlp(bytes),
            expected,
            "stale reference to {key:?}"
        );
    }
    assert!(visited.insert(key.clone()));
    let node = TrieNode::decode(&mut bytes.as_slice()).expect("decodes");
    assert_eq!(
        alloy_rlp::encode(&node),
        *bytes,
        "non-canonical node at {key:?}"
    );
    match &node {
        TrieNode::Branch(branch) => {
            assert!(
                branch.state_mask.count_ones() >= 2,
                "thin branch at {key:?}"
            );
            for (nibble, child) in branch.as_ref().children() {
                if let Some(child) = child {
                    walk(
                        store,
                        path.join(&Nibbles::from_nibbles([nibble])),
                        Some(child),
                        visited,
                        leaves,
                    );
                }
            }
        }
        TrieNode::Extension(ext) => {
            assert!(!ext.key.is_empty());
            let child = walk(
                store,
                path.join(&ext.key),
                Some(&ext.child),
                visited,
                leaves,
            );
            assert!(
                matches!(child, TrieNode::Branch(_)),
                "extension to a non-branch at {key:?}"
            );
        }
        TrieNode::Leaf(leaf) => {
            let full = path.join(&leaf.key);
            assert_eq!(full.len(), 64);
            leaves.insert(B256::from_slice(&full.pack()), leaf.value.clone());
        }
        TrieNode::EmptyRoot => panic!("empty node stored at {key:?}"),
    }
    node
}

/// How many nodes the canonical trie over `model`'s keys has, counted from the keys alone.
pub fn count_nodes(model: &Model) -> usize {
    let keys: Vec<Nibbles> = model.keys().map(Nibbles::unpack).collect();
    count(&keys, 0)
}

fn count(keys: &[Nibbles], depth: usize) -> usize {
    match keys {
        [] => 0,
        [_] => 1,
        [first, .., last] => {
            let split = first.common_prefix_length(last);
            let mut nodes = 1 + usize::from(split > depth);
            let mut rest = keys;
            while let Some(head) = rest.first() {
                let nibble = head.get(split);
                let end = rest.partition_point(|k| k.get(split) == nibble);
                nodes += count(&rest[..end], split + 1);
                rest = &rest[end..];
            }
            nodes
        }
    }
}

/// Builds a fresh store holding `model` in one update.
pub fn rebuild(model: &Model) -> MemoryNodeStore {
    let mut store = MemoryNodeStore::new();
    let update =
        update_trie(&store, model.iter().map(|(k, v)| (*k, Some(v.clone())))).expect("rebuild");
    store.apply(&update);
    store
}

/// A key from nibbles (padded with zeros to 64).
pub fn key_from_nibbles(nibbles: &[u8]) -> B256 {
    let mut all = [0u8; 64];
    all[..nibbles.len()].copy_from_slice(nibbles);
    B256::from_slice(&Nibbles::from_nibbles(all).pack())
}
