//! Timing of incremental updates against alloy-trie's full rebuild. Ignored by default; run
//! `cargo test --release -p spectrum-trie --test timing -- --ignored --nocapture`.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, KECCAK_EMPTY, Nibbles};
use spectrum_trie::{MemoryNodeStore, account_leaf_value, update_trie};

const KEYS: u64 = 100_000;
const RUNS: usize = 5;

fn account(i: u64) -> Vec<u8> {
    account_leaf_value(
        i,
        U256::from(i) * U256::from(1_000_000_007u64),
        EMPTY_ROOT_HASH,
        KECCAK_EMPTY,
    )
}

fn full_root(map: &BTreeMap<B256, Vec<u8>>) -> B256 {
    let mut hb = HashBuilder::default();
    for (key, value) in map {
        hb.add_leaf(Nibbles::unpack(key), value);
    }
    hb.root()
}

/// `count` changes in hash order: 80% value changes of existing keys, 10% new keys, 10%
/// deletes.
fn changes(count: u64) -> Vec<(B256, Option<Vec<u8>>)> {
    (0..count)
        .map(|i| {
            let pick = u64::from_be_bytes(keccak256(i.to_le_bytes())[..8].try_into().unwrap());
            match i % 10 {
                0 => (keccak256((KEYS + i).to_be_bytes()), Some(account(i))),
                1 => (keccak256((pick % KEYS).to_be_bytes()), None),
                _ => (keccak256((pick % KEYS).to_be_bytes()), Some(account(i + 7))),
            }
        })
        .collect()
}

/// The fastest of `RUNS` runs: the machine is shared, the minimum is the least disturbed.
fn fastest<T>(mut run: impl FnMut() -> T) -> (Duration, T) {
    let mut best = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = run();
        let elapsed = start.elapsed();
        if best.as_ref().is_none_or(|(b, _)| elapsed < *b) {
            best = Some((elapsed, out));
        }
    }
    best.unwrap()
}

#[test]
#[ignore = "timing, run in release with --nocapture"]
fn time_10k_updates_on_100k_keys() {
    let mut map: BTreeMap<B256, Vec<u8>> = (0..KEYS)
        .map(|i| (keccak256(i.to_be_bytes()), account(i)))
        .collect();

    let mut store = MemoryNodeStore::new();
    let start = Instant::now();
    let initial = update_trie(&store, map.iter().map(|(k, v)| (*k, Some(v.clone())))).unwrap();
    println!(
        "initial build of {KEYS} keys by update_trie: {:?}",
        start.elapsed()
    );
    store.apply(&initial);
    println!("stored nodes: {}", store.len());

    let (full, root) = fastest(|| full_root(&map));
    assert_eq!(root, initial.root);
    println!("alloy-trie HashBuilder full root of {KEYS} keys: {full:?}");

    for count in [1_000, 10_000] {
        let batch = changes(count);
        let (elapsed, update) = fastest(|| update_trie(&store, batch.clone()).unwrap());
        println!(
            "update_trie, {count} changes on {KEYS} keys: {elapsed:?} ({} writes)",
            update.writes.len()
        );
        if count == 10_000 {
            store.apply(&update);
            for (key, value) in batch {
                match value {
                    Some(value) => map.insert(key, value),
                    None => map.remove(&key),
                };
            }
            assert_eq!(update.root, full_root(&map));
        }
    }
}
