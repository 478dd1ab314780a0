//! The state-sized workload shared by the `large` test and the `incremental` benchmark:
//! 100,000 accounts, then mixed changes.

use alloy_primitives::{B256, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY};
use spectrum_trie::account_leaf_value;

/// Accounts in the initial trie.
pub const KEYS: u64 = 100_000;

/// The leaf of account `i`.
pub fn account(i: u64) -> Vec<u8> {
    account_leaf_value(
        i,
        U256::from(i) * U256::from(1_000_000_007u64),
        EMPTY_ROOT_HASH,
        KECCAK_EMPTY,
    )
}

/// The `KEYS` initial accounts, by hashed key.
pub fn initial() -> Vec<(B256, Option<Vec<u8>>)> {
    (0..KEYS)
        .map(|i| (keccak256(i.to_be_bytes()), Some(account(i))))
        .collect()
}

/// `count` changes: 80% value changes of existing keys, 10% new keys, 10% deletes.
pub fn changes(count: u64) -> Vec<(B256, Option<Vec<u8>>)> {
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
