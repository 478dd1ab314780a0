//! Hand-built shapes: empty trie, single key, long shared prefixes, collapses, inline nodes.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use alloy_primitives::{B256, b256, keccak256};
use common::{Model, apply_and_check, key_from_nibbles, oracle_root, rebuild};
use spectrum_trie::{EMPTY_ROOT_HASH, MemoryNodeStore, TrieError, update_trie};

fn put(key: B256, value: &[u8]) -> (B256, Option<Vec<u8>>) {
    (key, Some(value.to_vec()))
}

fn del(key: B256) -> (B256, Option<Vec<u8>>) {
    (key, None)
}

/// The nibbles `prefix` then `fill` repeated up to 64 nibbles.
fn key(prefix: &[u8], fill: u8) -> B256 {
    let mut nibbles = prefix.to_vec();
    nibbles.resize(64, fill);
    key_from_nibbles(&nibbles)
}

#[test]
fn empty_trie_has_the_known_empty_root() {
    let known = b256!("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
    assert_eq!(EMPTY_ROOT_HASH, known);
    let store = MemoryNodeStore::new();
    let update = update_trie(&store, []).unwrap();
    assert_eq!(update.root, known);
    assert!(update.writes.is_empty());
    // Deleting absent keys from an empty trie changes nothing.
    let update = update_trie(&store, [del(B256::ZERO), del(B256::repeat_byte(1))]).unwrap();
    assert_eq!(update.root, known);
    assert!(update.writes.is_empty());
}

#[test]
fn single_key_insert_update_delete() {
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let k = keccak256([1]);
    let update = apply_and_check(&mut store, &mut model, vec![put(k, b"value one")]);
    assert_eq!(update.writes.len(), 1, "one leaf at the root path");
    assert_eq!(update.writes[0].0, Vec::<u8>::new());

    let update = apply_and_check(&mut store, &mut model, vec![put(k, b"value two")]);
    assert_eq!(update.writes.len(), 1);

    // Same value again: nothing to write, same root.
    let before = update.root;
    let update = apply_and_check(&mut store, &mut model, vec![put(k, b"value two")]);
    assert!(update.writes.is_empty());
    assert_eq!(update.root, before);

    let update = apply_and_check(&mut store, &mut model, vec![del(k)]);
    assert_eq!(update.root, EMPTY_ROOT_HASH);
    assert_eq!(update.writes, vec![(vec![], None)]);
}

#[test]
fn two_keys_sharing_63_nibbles_make_inline_leaves() {
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let a = key(&[], 0x7);
    let mut b_nibbles = [0x7u8; 64];
    b_nibbles[63] = 0x8;
    let b = key_from_nibbles(&b_nibbles);
    apply_and_check(&mut store, &mut model, vec![put(a, &[1]), put(b, &[2])]);
    // Extension of 63 nibbles at the root, branch at depth 63, two leaves at depth 64.
    assert_eq!(store.len(), 4);
    let branch = &store.nodes[&vec![0x7; 63]];
    let leaf = &store.nodes[&vec![0x7; 64]];
    assert!(
        leaf.len() < 32,
        "a leaf with an empty rest and a 1-byte value is inline"
    );
    assert!(
        branch.windows(leaf.len()).any(|w| w == leaf.as_slice()),
        "the branch embeds the inline leaf instead of hashing it"
    );
    // The branch itself is under 32 bytes, so the extension embeds it too.
    assert!(branch.len() < 32);
    assert!(
        store.nodes[&vec![]]
            .windows(branch.len())
            .any(|w| w == branch.as_slice())
    );

    // Delete one: the other leaf moves up to the root path.
    apply_and_check(&mut store, &mut model, vec![del(b)]);
    assert_eq!(store.len(), 1);
}

#[test]
fn deep_inline_subtries_with_tiny_values() {
    // 16 keys sharing 62 nibbles, then every combination of two nibbles from {0,1,2,3}.
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let mut changes = Vec::new();
    for x in 0..4u8 {
        for y in 0..4u8 {
            let mut nibbles = [0xcu8; 64];
            nibbles[62] = x;
            nibbles[63] = y;
            changes.push(put(key_from_nibbles(&nibbles), &[x * 4 + y + 1]));
        }
    }
    apply_and_check(&mut store, &mut model, changes.clone());
    // Change and delete inside the inline region, one batch at a time.
    for (i, (k, _)) in changes.iter().enumerate() {
        let change = if i % 3 == 0 {
            del(*k)
        } else {
            put(*k, &[0x42, i as u8])
        };
        apply_and_check(&mut store, &mut model, vec![change]);
    }
    let all: Vec<_> = changes.iter().map(|(k, _)| del(*k)).collect();
    apply_and_check(&mut store, &mut model, all);
    assert!(store.is_empty());
}

#[test]
fn deleting_down_to_one_key_then_to_none() {
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let keys: Vec<B256> = (0..6u8).map(|i| keccak256([i])).collect();
    apply_and_check(
        &mut store,
        &mut model,
        keys.iter().map(|k| put(*k, b"v")).collect(),
    );
    for k in &keys[..5] {
        apply_and_check(&mut store, &mut model, vec![del(*k)]);
    }
    assert_eq!(store.len(), 1, "one leaf left, at the root path");
    assert!(store.nodes.contains_key(&vec![]));
    let update = apply_and_check(&mut store, &mut model, vec![del(keys[5])]);
    assert_eq!(update.root, EMPTY_ROOT_HASH);
    assert!(store.is_empty());
}

#[test]
fn deleting_everything_in_one_batch_deletes_every_node() {
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let keys: Vec<B256> = (0..300u32).map(|i| keccak256(i.to_be_bytes())).collect();
    apply_and_check(
        &mut store,
        &mut model,
        keys.iter().map(|k| put(*k, b"value")).collect(),
    );
    let nodes = store.len();
    let update = apply_and_check(
        &mut store,
        &mut model,
        keys.iter().map(|k| del(*k)).collect(),
    );
    assert_eq!(update.root, EMPTY_ROOT_HASH);
    assert_eq!(update.writes.len(), nodes);
    assert!(update.writes.iter().all(|(_, node)| node.is_none()));
}

#[test]
fn collapse_merges_with_an_extension_child() {
    // Root branch: child 0 is an extension [0,1,2] over a branch; child 1 is a leaf.
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let a = key(&[0, 1, 2, 3], 0);
    let b = key(&[0, 1, 2, 4], 0);
    let c = key(&[1], 0);
    apply_and_check(
        &mut store,
        &mut model,
        vec![put(a, b"a"), put(b, b"b"), put(c, b"c")],
    );
    assert!(store.nodes.contains_key(&vec![0]), "extension at [0]");
    let update = apply_and_check(&mut store, &mut model, vec![del(c)]);
    // The extension moves up to the root with key [0,0,1,2]; its branch stays at [0,0,1,2].
    assert!(!store.nodes.contains_key(&vec![0]));
    assert!(store.nodes.contains_key(&vec![0, 1, 2]));
    assert_eq!(store.len(), 4);
    let paths: Vec<_> = update
        .writes
        .iter()
        .map(|(p, n)| (p.clone(), n.is_some()))
        .collect();
    assert_eq!(
        paths,
        vec![(vec![], true), (vec![0], false), (vec![1], false)]
    );
}

#[test]
fn collapse_merges_with_a_leaf_child() {
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let a = key(&[5], 1);
    let b = key(&[9], 2);
    apply_and_check(&mut store, &mut model, vec![put(a, b"a"), put(b, b"b")]);
    assert_eq!(store.len(), 3);
    apply_and_check(&mut store, &mut model, vec![del(b)]);
    assert_eq!(
        store.nodes.keys().collect::<Vec<_>>(),
        vec![&Vec::<u8>::new()]
    );
}

#[test]
fn collapse_onto_a_branch_child_leaves_the_branch_untouched() {
    // Root branch: child 0 is a branch (children 0 and 1), child 1 a leaf.
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let a = key(&[0, 0], 3);
    let b = key(&[0, 1], 3);
    let c = key(&[1], 3);
    apply_and_check(
        &mut store,
        &mut model,
        vec![put(a, b"a"), put(b, b"b"), put(c, b"c")],
    );
    let branch_before = store.nodes[&vec![0]].clone();
    let update = apply_and_check(&mut store, &mut model, vec![del(c)]);
    // Root becomes a one-nibble extension; the branch at [0] is neither rewritten nor moved.
    let paths: Vec<_> = update
        .writes
        .iter()
        .map(|(p, n)| (p.clone(), n.is_some()))
        .collect();
    assert_eq!(paths, vec![(vec![], true), (vec![1], false)]);
    assert_eq!(store.nodes[&vec![0]], branch_before);
}

#[test]
fn branch_left_with_one_child_after_a_nested_collapse() {
    // Deleting `b` collapses the branch at [0,1] into a leaf, then the root's branch (children
    // 0 and 2) keeps two children; deleting `d` then collapses the root onto an extension.
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let a = key(&[0, 1, 0], 4);
    let b = key(&[0, 1, 1], 4);
    let c = key(&[0, 2], 4);
    let d = key(&[3], 4);
    apply_and_check(
        &mut store,
        &mut model,
        vec![put(a, b"a"), put(b, b"b"), put(c, b"c"), put(d, b"d")],
    );
    apply_and_check(&mut store, &mut model, vec![del(b)]);
    apply_and_check(&mut store, &mut model, vec![del(d)]);
    apply_and_check(&mut store, &mut model, vec![del(a), put(b, b"b2")]);
}

#[test]
fn extension_split_at_every_position() {
    // An extension of 6 nibbles at the root; insert a key diverging at each of its nibbles.
    let prefix = [1, 2, 3, 4, 5, 6];
    for split in 0..prefix.len() {
        let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
        let a = key(&[1, 2, 3, 4, 5, 6, 0], 0);
        let b = key(&[1, 2, 3, 4, 5, 6, 1], 0);
        apply_and_check(&mut store, &mut model, vec![put(a, b"a"), put(b, b"b")]);
        let mut diverging = prefix[..split].to_vec();
        diverging.push(0xf);
        let c = key(&diverging, 0xe);
        apply_and_check(&mut store, &mut model, vec![put(c, b"c")]);
        // And back: removing it restores the original shape exactly.
        apply_and_check(&mut store, &mut model, vec![del(c)]);
        assert_eq!(store, rebuild(&model), "split at {split}");
    }
}

#[test]
fn deletes_of_absent_keys_next_to_an_extension_change_nothing() {
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    let a = key(&[1, 2, 3, 0], 0);
    let b = key(&[1, 2, 3, 1], 0);
    apply_and_check(&mut store, &mut model, vec![put(a, b"a"), put(b, b"b")]);
    let update = update_trie(&store, [del(key(&[1, 2, 9], 0)), del(key(&[7], 0))]).unwrap();
    assert!(update.writes.is_empty());
    assert_eq!(update.root, oracle_root(&model));
    // Absent-key deletes mixed with a real update below the extension.
    apply_and_check(
        &mut store,
        &mut model,
        vec![del(key(&[1, 2, 9], 0)), put(a, b"a2")],
    );
}

#[test]
fn last_change_of_a_key_wins_and_order_does_not_matter() {
    let keys: Vec<B256> = (0..50u8).map(|i| keccak256([i])).collect();
    let mut changes: Vec<_> = keys.iter().map(|k| put(*k, b"first")).collect();
    changes.push(put(keys[3], b"second"));
    changes.push(del(keys[4]));
    let sorted_store = {
        let mut sorted = changes.clone();
        sorted.sort_by_key(|(k, _)| *k); // stable: keeps each key's order
        let update = update_trie(&MemoryNodeStore::new(), sorted).unwrap();
        let mut store = MemoryNodeStore::new();
        store.apply(&update);
        store
    };
    let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
    apply_and_check(&mut store, &mut model, changes);
    assert_eq!(model[&keys[3]], b"second");
    assert!(!model.contains_key(&keys[4]));
    assert_eq!(store, sorted_store);
}

#[test]
fn empty_value_is_an_error_not_a_delete() {
    let err = update_trie(&MemoryNodeStore::new(), [(B256::ZERO, Some(vec![]))]).unwrap_err();
    assert!(matches!(err, TrieError::EmptyValue { key } if key == B256::ZERO));
}
