//! A state-sized trie: 100,000 accounts built by `update_trie` and then 10,000 mixed changes
//! (value changes, inserts, deletes), each root equal to alloy-trie's full rebuild and the
//! stored trie checked node by node. The timing of the same work is the `incremental`
//! benchmark (`cargo bench -p spectrum-trie`).

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use alloy_trie::EMPTY_ROOT_HASH;
use common::{
    Model, apply_and_check,
    workload::{KEYS, changes, initial},
};
use spectrum_trie::MemoryNodeStore;

#[test]
fn hundred_thousand_keys_and_ten_thousand_changes_match_alloy() {
    let mut store = MemoryNodeStore::new();
    let mut model = Model::new();
    let built = apply_and_check(&mut store, &mut model, initial());
    assert_eq!(model.len(), usize::try_from(KEYS).unwrap());
    assert_ne!(built.root, EMPTY_ROOT_HASH);

    let update = apply_and_check(&mut store, &mut model, changes(10_000));
    assert_ne!(update.root, built.root);
    // 1,000 inserts of new keys and up to 1,000 deletes of existing ones.
    assert!(
        model.len() > 100_000 && model.len() <= 101_000,
        "{}",
        model.len()
    );
}
