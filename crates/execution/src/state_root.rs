//! State roots by full recomputation over an in-memory state.
//!
//! This is the simple, obviously-correct form used by the test vectors and tests: after each
//! block it rebuilds the storage tries of the accounts whose storage changed and the whole
//! account trie. A database-backed node replaces it with an incremental trie that needs only
//! the [`StateChanges`]; nothing else in this crate depends on how roots are computed.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, U256};
use alloy_trie::{
    TrieAccount,
    root::{state_root_unhashed, storage_root_unhashed},
};
use spectrum_storage_api::{Account, MemoryState, StateChanges};

/// The root of one account's storage trie (zero slots are absent from the trie).
pub fn storage_root(slots: Option<&BTreeMap<B256, U256>>) -> B256 {
    storage_root_unhashed(
        slots
            .into_iter()
            .flatten()
            .filter(|(_, value)| !value.is_zero())
            .map(|(slot, value)| (*slot, *value)),
    )
}

fn trie_account(account: &Account) -> TrieAccount {
    TrieAccount {
        nonce: account.nonce,
        balance: account.balance,
        storage_root: account.storage_root,
        code_hash: account.code_hash,
    }
}

/// The state root of `state`, taking each account's `storage_root` as stored.
pub fn state_root(state: &MemoryState) -> B256 {
    state_root_unhashed(
        state
            .accounts
            .iter()
            .map(|(address, account)| (*address, trie_account(account))),
    )
}

/// Recomputes every account's `storage_root` from `state.storage` (for a state built from a
/// genesis allocation or a test's `pre`), then returns the state root.
pub fn recompute_state_root(state: &mut MemoryState) -> B256 {
    let MemoryState {
        accounts, storage, ..
    } = state;
    for (address, account) in accounts.iter_mut() {
        account.storage_root = storage_root(storage.get(address));
    }
    state_root(state)
}

/// Applies one block's `changes` to `state`, fills in the storage roots of the accounts whose
/// storage changed (in `changes` and in `state`), and returns the new state root.
pub fn apply_changes_and_compute_root(state: &mut MemoryState, changes: &mut StateChanges) -> B256 {
    state.apply(changes);
    let mut changed: BTreeSet<Address> = changes.storage.iter().map(|(a, _, _)| *a).collect();
    changed.extend(changes.wiped_storage.iter().copied());
    for address in changed {
        let root = storage_root(state.storage.get(&address));
        if let Some(account) = state.accounts.get_mut(&address) {
            account.storage_root = root;
        }
        if let Ok(i) = changes.accounts.binary_search_by_key(&address, |(a, _)| *a)
            && let Some((_, Some(account))) = changes.accounts.get_mut(i)
        {
            account.storage_root = root;
        }
    }
    state_root(state)
}
