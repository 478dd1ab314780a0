//! Incremental updates of a 100,000-account trie against alloy-trie's full rebuild of the same
//! map: `cargo bench -p spectrum-trie --bench incremental`. Correctness of the same work is
//! the `large` test.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/it/common/workload.rs"]
mod workload;

use std::collections::BTreeMap;

use alloy_primitives::B256;
use alloy_trie::{HashBuilder, Nibbles};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use spectrum_trie::{MemoryNodeStore, update_trie};
use workload::{changes, initial};

fn bench(c: &mut Criterion) {
    let map: BTreeMap<B256, Vec<u8>> = initial()
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .collect();
    let mut store = MemoryNodeStore::new();
    let built = update_trie(&store, initial()).unwrap();
    store.apply(&built);

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
