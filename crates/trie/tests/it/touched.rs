//! The updater reads only nodes on the changed keys' paths.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::cell::RefCell;

use alloy_primitives::{B256, keccak256};
use alloy_trie::Nibbles;
use common::{Model, apply_and_check};
use spectrum_trie::{MemoryNodeStore, NodeStore, TrieError, update_trie};

struct RecordingStore<'a> {
    inner: &'a MemoryNodeStore,
    reads: RefCell<Vec<Vec<u8>>>,
}

impl NodeStore for RecordingStore<'_> {
    fn get(&self, path: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        self.reads.borrow_mut().push(path.to_vec());
        self.inner.get(path)
    }
}

fn big_trie() -> (MemoryNodeStore, Model, Vec<B256>) {
    let keys: Vec<B256> = (0..5000u32).map(|i| keccak256(i.to_be_bytes())).collect();
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    apply_and_check(
        &mut store,
        &mut model,
        keys.iter().map(|k| (*k, Some(vec![7; 70]))).collect(),
    );
    (store, model, keys)
}

fn reads_for(store: &MemoryNodeStore, changes: &[(B256, Option<Vec<u8>>)]) -> Vec<Vec<u8>> {
    let recording = RecordingStore {
        inner: store,
        reads: RefCell::default(),
    };
    update_trie(&recording, changes.to_vec()).unwrap();
    recording.reads.into_inner()
}

fn is_prefix_of_a_key(path: &[u8], keys: &[B256], extra: usize) -> bool {
    keys.iter().any(|k| {
        let nibbles = Nibbles::unpack(k).to_vec();
        path.len() <= nibbles.len()
            && path[..path.len().saturating_sub(extra)]
                == nibbles[..path.len().saturating_sub(extra)]
    })
}

#[test]
fn updates_read_only_prefixes_of_changed_keys() {
    let (store, _, keys) = big_trie();
    let changed: Vec<B256> = keys.iter().step_by(500).copied().collect();
    let changes: Vec<_> = changed.iter().map(|k| (*k, Some(vec![8; 70]))).collect();
    let reads = reads_for(&store, &changes);
    for path in &reads {
        assert!(
            is_prefix_of_a_key(path, &changed, 0),
            "read off the changed paths: {path:?}"
        );
    }
    // 10 keys in a 5000-key trie: root plus about 3-4 nodes per key.
    assert!(
        reads.len() <= 1 + changed.len() * 5,
        "{} reads",
        reads.len()
    );
}

#[test]
fn deletes_read_at_most_one_sibling_beyond_the_paths() {
    let (store, _, keys) = big_trie();
    let changed: Vec<B256> = keys.iter().step_by(250).copied().collect();
    let changes: Vec<_> = changed.iter().map(|k| (*k, None)).collect();
    let reads = reads_for(&store, &changes);
    for path in &reads {
        // A collapse reads the remaining child: the changed path plus one other nibble.
        assert!(
            is_prefix_of_a_key(path, &changed, 1),
            "read off the changed paths: {path:?}"
        );
    }
}

#[test]
fn no_changes_read_only_the_root() {
    let (store, model, _) = big_trie();
    let recording = RecordingStore {
        inner: &store,
        reads: RefCell::default(),
    };
    let update = update_trie(&recording, []).unwrap();
    assert_eq!(update.root, common::oracle_root(&model));
    assert!(update.writes.is_empty());
    assert_eq!(recording.reads.into_inner(), vec![Vec::<u8>::new()]);
}
