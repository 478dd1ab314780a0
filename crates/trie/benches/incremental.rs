//! Incremental updates of a 100,000-account trie against alloy-trie's full rebuild of the same
//! map: `cargo bench -p spectrum-trie --bench incremental`. Correctness of the same work is
//! the `large` test.

use std::collections::BTreeMap;

use alloy_primitives::{B256, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, KECCAK_EMPTY, Nibbles};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use spectrum_trie::{MemoryNodeStore, account_leaf_value, update_trie};

const KEYS: u64 = 100_000;

fn account(i: u64) -> Vec<u8> {
    account_leaf_value(
        i,
        U256::from(i) * U256::from(1_000_000_007u64),
        EMPTY_ROOT_HASH,
        KECCAK_EMPTY,
    )
}

/// `count` changes: 80% value changes of existing keys, 10% new keys, 10% deletes.
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

fn bench(c: &mut Criterion) {
    let map: BTreeMap<B256, Vec<u8>> = (0..KEYS)
        .map(|i| (keccak256(i.to_be_bytes()), account(i)))
        .collect();
    let mut store = MemoryNodeStore::new();
    let initial = update_trie(&store, map.iter().map(|(k, v)| (*k, Some(v.clone())))).unwrap();
    store.apply(&initial);

    let mut group = c.benchmark_group("trie_100k_keys");
    group.sample_size(10);
    group.bench_function("alloy_full_root", |b| {
        b.iter(|| {
            let mut hb = HashBuilder::default();
            for (key, value) in &map {
                hb.add_leaf(Nibbles::unpack(key), value);
            }
            hb.root()
        })
    });
    for count in [1_000, 10_000] {
        let batch = changes(count);
        group.bench_function(format!("update_trie_{count}_changes"), |b| {
            b.iter_batched(
                || batch.clone(),
                |batch| update_trie(&store, batch).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
