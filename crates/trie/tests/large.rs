//! A state-sized trie: 100,000 accounts built by `update_trie` and then 10,000 mixed changes
//! (value changes, inserts, deletes), each root equal to alloy-trie's full rebuild and the
//! stored trie checked node by node. The timing of the same work is the `incremental`
//! benchmark (`cargo bench -p spectrum-trie`).

mod common;

use alloy_primitives::{B256, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY};
use common::{Model, apply_and_check};
use spectrum_trie::{MemoryNodeStore, account_leaf_value};

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

#[test]
fn hundred_thousand_keys_and_ten_thousand_changes_match_alloy() {
    let mut store = MemoryNodeStore::new();
    let mut model = Model::new();
    let build: Vec<_> = (0..KEYS)
        .map(|i| (keccak256(i.to_be_bytes()), Some(account(i))))
        .collect();
    let initial = apply_and_check(&mut store, &mut model, build);
    assert_eq!(model.len(), 100_000);
    assert_ne!(initial.root, EMPTY_ROOT_HASH);

    let update = apply_and_check(&mut store, &mut model, changes(10_000));
    assert_ne!(update.root, initial.root);
    // 1,000 inserts of new keys and up to 1,000 deletes of existing ones.
    assert!(
        model.len() > 100_000 && model.len() <= 101_000,
        "{}",
        model.len()
    );
}
