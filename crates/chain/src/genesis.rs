//! The genesis block and state as one database commit, trie nodes included.

use std::collections::BTreeMap;

use alloy_primitives::keccak256;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::GotExpected;
use spectrum_storage_api::{Account, GenesisCommit, TrieTable};
use spectrum_trie::{MemoryNodeStore, account_leaf_value, storage_leaf_value, update_trie};

use crate::{ChainError, state_root::node_writes};

/// Builds the commit that writes `spec`'s genesis: header, accounts, storage, code and the
/// nodes of every trie, checking that the tries' root is the header's state root.
pub fn genesis_commit(spec: &ChainSpec) -> Result<GenesisCommit, ChainError> {
    let header = spec.genesis_header();
    let empty = MemoryNodeStore::new();
    let mut trie = Vec::new();
    let mut accounts = Vec::new();
    let mut storage = Vec::new();
    let mut codes = BTreeMap::new();
    let mut leaves = Vec::new();
    for (address, genesis_account) in &spec.genesis.alloc {
        let hashed = keccak256(address);
        let slots: Vec<_> = genesis_account.storage_slots().collect();
        let update = update_trie(
            &empty,
            slots
                .iter()
                .map(|(slot, value)| (keccak256(slot), storage_leaf_value(*value))),
        )?;
        trie.extend(node_writes(
            TrieTable::Storage,
            hashed.as_slice(),
            update.writes,
        ));
        storage.extend(slots.iter().map(|(slot, value)| (*address, *slot, *value)));
        let code_hash = genesis_account.trie_account().code_hash;
        if !genesis_account.code.is_empty() {
            codes.insert(code_hash, genesis_account.code.clone());
        }
        let account = Account {
            nonce: genesis_account.nonce,
            balance: genesis_account.balance,
            storage_root: update.root,
            code_hash,
        };
        leaves.push((
            hashed,
            Some(account_leaf_value(
                account.nonce,
                account.balance,
                account.storage_root,
                code_hash,
            )),
        ));
        accounts.push((*address, account));
    }
    let update = update_trie(&empty, leaves)?;
    if update.root != header.state_root {
        return Err(ChainError::StateRoot {
            number: 0,
            mismatch: GotExpected::new(update.root, header.state_root),
        });
    }
    trie.extend(node_writes(TrieTable::Account, &[], update.writes));
    Ok(GenesisCommit {
        header,
        chain_name: spec.name.clone(),
        accounts,
        storage,
        codes: codes.into_iter().collect(),
        trie,
    })
}
