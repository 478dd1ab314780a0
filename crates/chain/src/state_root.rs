//! The state root after a block, computed incrementally: only the storage tries of accounts the
//! block touched and the account trie paths of those accounts are re-hashed (spectrum-trie),
//! reading the other nodes from the head's state snapshot (`StateSnapshot::trie_node`).

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, keccak256};
use spectrum_storage_api::{
    Account, ProviderError, StateChanges, StateProviderFactory, StateSnapshot, TrieNodeWrite,
    TrieTable,
};
use spectrum_trie::{NodeStore, TrieError, account_leaf_value, storage_leaf_value, update_trie};

use crate::ChainError;

/// One trie's nodes in the database: the account trie, or one account's storage trie under its
/// hashed-address prefix.
struct DbNodeStore<'a> {
    db: &'a dyn StateSnapshot,
    table: TrieTable,
    prefix: Vec<u8>,
    /// A wiped storage trie reads as empty (its old nodes are deleted by the same update).
    wiped: bool,
}

impl NodeStore for DbNodeStore<'_> {
    fn get(&self, path: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        if self.wiped {
            return Ok(None);
        }
        let mut key = self.prefix.clone();
        key.extend_from_slice(path);
        self.db
            .trie_node(self.table, &key)
            .map(|node| node.map(|b| b.to_vec()))
            .map_err(|e| TrieError::store(path, e.to_string()))
    }
}

/// A trie update's node writes as database writes, each path under `prefix` (the hashed
/// address for a storage trie, nothing for the account trie).
pub(crate) fn node_writes(
    table: TrieTable,
    prefix: &[u8],
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
) -> impl Iterator<Item = TrieNodeWrite> + '_ {
    writes.into_iter().map(move |(path, node)| {
        let mut key = prefix.to_vec();
        key.extend_from_slice(&path);
        TrieNodeWrite {
            table,
            key: Bytes::from(key),
            value: node.map(Bytes::from),
        }
    })
}

/// One change to a trie leaf: hashed key, new value (`None` deletes).
type LeafChange = (B256, Option<Vec<u8>>);

/// What [`apply_state_roots`] produced: the new state root and the trie nodes to commit.
#[derive(Debug, Clone)]
pub struct StateRootUpdate {
    /// The state root after the block.
    pub state_root: B256,
    /// Node writes for the block's commit batch.
    pub trie: Vec<TrieNodeWrite>,
}

/// [`apply_state_roots_on`] the head's state, from a snapshot taken now.
pub fn apply_state_roots(
    provider: &(impl StateProviderFactory + ?Sized),
    changes: &mut StateChanges,
) -> Result<StateRootUpdate, ChainError> {
    let head = provider.latest()?;
    apply_state_roots_on(&*head, changes)
}

/// Fills in the storage root of every account in `changes` and computes the state root over
/// the head's state `db` (the parent of the block, or the chain being unwound) plus `changes`.
///
/// Accounts whose storage changed (or was wiped) get the new root of their storage trie; the
/// others keep the root they carry. An account whose storage changed but is not itself listed
/// is added, so the account trie sees its new storage root.
pub fn apply_state_roots_on(
    db: &dyn StateSnapshot,
    changes: &mut StateChanges,
) -> Result<StateRootUpdate, ChainError> {
    let mut trie = Vec::new();
    let storage_roots = update_storage_tries(db, changes, &mut trie)?;
    let mut accounts: BTreeMap<Address, Option<Account>> =
        changes.accounts.iter().copied().collect();
    for address in storage_roots.keys() {
        if !accounts.contains_key(address) {
            let account = db
                .account(address)
                .map_err(|e| ChainError::Storage(ProviderError::Backend(e.0)))?;
            accounts.insert(*address, account);
        }
    }
    // Accounts whose storage did not change keep the root they arrive with: execution copies it
    // from the parent state (empty when wiped), an unwind from the stored account.
    for (address, root) in &storage_roots {
        if let Some(Some(account)) = accounts.get_mut(address) {
            account.storage_root = *root;
        }
    }
    changes.accounts = accounts.into_iter().collect();

    let leaves = changes.accounts.iter().map(|(address, account)| {
        let value =
            account.map(|a| account_leaf_value(a.nonce, a.balance, a.storage_root, a.code_hash));
        (keccak256(address), value)
    });
    let store = DbNodeStore {
        db,
        table: TrieTable::Account,
        prefix: Vec::new(),
        wiped: false,
    };
    let update = update_trie(&store, leaves)?;
    trie.extend(node_writes(TrieTable::Account, &[], update.writes));
    Ok(StateRootUpdate {
        state_root: update.root,
        trie,
    })
}

/// Updates the storage trie of every account whose storage the block wrote or wiped; returns
/// their new roots.
fn update_storage_tries(
    db: &dyn StateSnapshot,
    changes: &StateChanges,
    trie: &mut Vec<TrieNodeWrite>,
) -> Result<BTreeMap<Address, B256>, ChainError> {
    // Per account: whether its trie starts from empty (wiped, or the account deleted), and the
    // leaf changes on top.
    let mut per_account: BTreeMap<Address, (bool, Vec<LeafChange>)> = BTreeMap::new();
    for address in &changes.wiped_storage {
        // A wiped trie is rebuilt from empty; its old nodes are deleted by key below.
        per_account.entry(*address).or_default().0 = true;
    }
    for (address, slot, value) in &changes.storage {
        per_account
            .entry(*address)
            .or_default()
            .1
            .push((keccak256(slot), storage_leaf_value(*value)));
    }
    // Accounts deleted outright lose their storage trie too.
    for (address, account) in &changes.accounts {
        if account.is_none() {
            per_account.entry(*address).or_default().0 = true;
        }
    }
    let mut roots = BTreeMap::new();
    for (address, (wiped, slots)) in per_account {
        let hashed = keccak256(address);
        if wiped {
            for key in db.storage_trie_keys(&hashed)? {
                trie.push(TrieNodeWrite {
                    table: TrieTable::Storage,
                    key: Bytes::from(key),
                    value: None,
                });
            }
        }
        let store = DbNodeStore {
            db,
            table: TrieTable::Storage,
            prefix: hashed.to_vec(),
            wiped,
        };
        let update = update_trie(&store, slots)?;
        trie.extend(node_writes(
            TrieTable::Storage,
            hashed.as_slice(),
            update.writes,
        ));
        roots.insert(address, update.root);
    }
    Ok(roots)
}
