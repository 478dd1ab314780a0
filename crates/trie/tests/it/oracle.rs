//! Random batches of inserts, updates and deletes checked against alloy-trie's full
//! computation after every batch, plus known roots.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use alloy_primitives::{Address, B256, U256, b256, keccak256};
use alloy_trie::{
    KECCAK_EMPTY, TrieAccount,
    root::{state_root_unhashed, storage_root_unhashed},
};
use common::{Model, apply_and_check, rebuild};
use proptest::{collection::vec, option, prelude::*, sample::Index};
use spectrum_trie::{MemoryNodeStore, account_leaf_value, storage_leaf_value, update_trie};

/// Keys that share long prefixes with one base key often enough to build deep branches, long
/// extensions and (with tiny values) inline nodes, mixed with fully random keys.
fn key_strategy() -> impl Strategy<Value = B256> {
    let base = keccak256(b"base");
    let shared = (
        prop_oneof![0usize..64, 40usize..64, 56usize..=64],
        vec(0u8..3, 64),
    )
        .prop_map(move |(keep, tail)| {
            let mut nibbles = alloy_trie::Nibbles::unpack(base).to_vec();
            for (i, nibble) in nibbles.iter_mut().enumerate().skip(keep) {
                *nibble = tail[i];
            }
            B256::from_slice(&alloy_trie::Nibbles::from_nibbles(nibbles).pack())
        });
    prop_oneof![any::<[u8; 32]>().prop_map(B256::from), shared]
}

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 1..=2),
        vec(any::<u8>(), 1..=40),
        vec(any::<u8>(), 60..=90)
    ]
}

/// One batch: (index into the key pool, new value or delete).
fn batch_strategy() -> impl Strategy<Value = Vec<(Index, Option<Vec<u8>>)>> {
    vec(
        (any::<Index>(), option::weighted(0.6, value_strategy())),
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn incremental_root_matches_alloy_after_every_batch(
        pool in vec(key_strategy(), 1..48),
        batches in vec(batch_strategy(), 1..7),
        split in any::<Index>(),
    ) {
        let (mut store, mut model) = (MemoryNodeStore::new(), Model::new());
        for batch in batches {
            let changes: Vec<_> =
                batch.into_iter().map(|(i, value)| (*i.get(&pool), value)).collect();
            apply_and_check(&mut store, &mut model, changes);
            // Same nodes as building the current map from scratch: history leaves no trace.
            prop_assert_eq!(&store, &rebuild(&model));
        }
        // Finally delete everything, in two batches.
        let keys: Vec<B256> = model.keys().copied().collect();
        let (first, second) = keys.split_at(split.index(keys.len() + 1));
        for part in [first, second] {
            apply_and_check(&mut store, &mut model, part.iter().map(|k| (*k, None)).collect());
        }
        prop_assert!(store.is_empty());
    }

    #[test]
    fn storage_trie_matches_alloy_storage_root(
        slots in vec((any::<[u8; 32]>(), prop_oneof![Just(0u64), any::<u64>()]), 1..60),
        updates in vec((any::<Index>(), prop_oneof![Just(0u64), any::<u64>()]), 0..30),
    ) {
        let mut store = MemoryNodeStore::new();
        let mut storage: std::collections::BTreeMap<B256, U256> = Default::default();
        for round in [slots.iter().map(|(s, v)| (B256::from(*s), *v)).collect::<Vec<_>>(),
                      updates.iter().map(|(i, v)| (B256::from(i.get(&slots).0), *v)).collect()] {
            let changes = round.iter().map(|(slot, v)| {
                (keccak256(slot), storage_leaf_value(U256::from(*v)))
            });
            let update = update_trie(&store, changes).unwrap();
            store.apply(&update);
            for (slot, v) in round {
                storage.insert(slot, U256::from(v));
            }
            let nonzero = storage.iter().filter(|(_, v)| !v.is_zero()).map(|(s, v)| (*s, *v));
            prop_assert_eq!(update.root, storage_root_unhashed(nonzero));
        }
    }
}

#[test]
fn known_storage_root() {
    // Slots 0..=2 holding 1, 2, 3: root computed with alloy-trie 0.9.9, pinned here.
    let slots = (0u8..3).map(|i| (B256::with_last_byte(i), U256::from(i + 1)));
    let alloy = storage_root_unhashed(slots.clone());
    let ours = update_trie(
        &MemoryNodeStore::new(),
        slots.map(|(s, v)| (keccak256(s), storage_leaf_value(v))),
    )
    .unwrap()
    .root;
    assert_eq!(ours, alloy);
    assert_eq!(ours, KNOWN_STORAGE_ROOT);
}

#[test]
fn known_state_root() {
    // Accounts 0x..01..=0x..05 with nonce i, balance i ether: root from alloy-trie 0.9.9.
    let accounts: Vec<(Address, TrieAccount)> = (1u8..=5)
        .map(|i| {
            let account = TrieAccount {
                nonce: u64::from(i),
                balance: U256::from(i) * U256::from(10u64.pow(18)),
                storage_root: alloy_trie::EMPTY_ROOT_HASH,
                code_hash: KECCAK_EMPTY,
            };
            (Address::with_last_byte(i), account)
        })
        .collect();
    let alloy = state_root_unhashed(accounts.clone());
    let ours = update_trie(
        &MemoryNodeStore::new(),
        accounts.iter().map(|(address, a)| {
            let value = account_leaf_value(a.nonce, a.balance, a.storage_root, a.code_hash);
            (keccak256(address), Some(value))
        }),
    )
    .unwrap()
    .root;
    assert_eq!(ours, alloy);
    assert_eq!(ours, KNOWN_STATE_ROOT);
}

const KNOWN_STORAGE_ROOT: B256 =
    b256!("0xfaae2da8329570115f342bcce225dd7a3b3ca7a01b311a83bb98e0a0e833370d");
const KNOWN_STATE_ROOT: B256 =
    b256!("0xbe00318c98691d852087bf9bb9dde6757aae9d48addf5cbd7ba9bcce1235de0a");
