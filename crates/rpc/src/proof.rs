//! `eth_getProof` (EIP-1186): the account's Merkle proof in the state trie and each storage
//! slot's proof in the account's storage trie, read node by node from the stored tries.
//!
//! How far back: the head only. The tries are stored path-based (`spectrum-trie`: a node lives
//! at its nibble path and is overwritten in place, like geth's PBSS), so the database holds the
//! nodes of the head's trie and no other; the archived state of an older block answers
//! balances and slots but has no trie to prove them against. Rebuilding an old trie would
//! mean re-hashing the whole state per request. geth in its default mode answers only recent
//! blocks too ("missing trie node" beyond them).

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rlp::Decodable;
use alloy_trie::{Nibbles, nodes::TrieNode};
use serde_json::{Value, json};
use spectrum_primitives::{EMPTY_ROOT_HASH, KECCAK_EMPTY};
use spectrum_storage_api::{ProviderError, StateSnapshot, TrieTable};

use crate::{
    api::{Api, Method, inline},
    error::{ApiResult, internal, server_error},
    params::{self, at_most, invalid, required},
    state::state_at,
};

pub(crate) const METHODS: &[Method<Value>] = &[inline("eth_getProof", get_proof)];

/// Most storage keys one request may prove.
const MAX_KEYS: usize = 1024;

/// One trie read: the node at `prefix ‖ path` of `table`.
fn node(
    state: &dyn StateSnapshot,
    table: TrieTable,
    prefix: &[u8],
    path: &[u8],
) -> ApiResult<Option<Bytes>> {
    let key = [prefix, path].concat();
    match state.trie_node(table, &key) {
        Ok(node) => Ok(node),
        Err(ProviderError::TrieUnavailable(number)) => Err(server_error(format!(
            "proofs are served for the head block only: the trie of block {number} is not kept"
        ))),
        Err(e) => Err(internal(e)),
    }
}

/// The proof of `key` in the trie stored under `prefix` of `table`: the nodes from the root
/// along the key's path, each as the bytes that are hashed (nodes under 32 bytes sit inside
/// their parent and are not listed, as in geth's proofs). Ends where the path ends: at the
/// key's leaf, or where the key is proven absent.
fn prove(
    state: &dyn StateSnapshot,
    table: TrieTable,
    prefix: &[u8],
    key: B256,
) -> ApiResult<Vec<Bytes>> {
    let nibbles = Nibbles::unpack(key).to_vec();
    let mut path: Vec<u8> = Vec::new();
    let mut proof = Vec::new();
    // A path has at most 64 nibbles: at most 65 nodes.
    for _ in 0..=nibbles.len() {
        let Some(bytes) = node(state, table, prefix, &path)? else {
            if path.is_empty() {
                break; // an empty trie
            }
            return Err(internal(format!("trie node at path {path:?} missing")));
        };
        if path.is_empty() || bytes.len() >= 32 {
            proof.push(bytes.clone());
        }
        let decoded = TrieNode::decode(&mut bytes.as_ref()).map_err(internal)?;
        let rest = nibbles.get(path.len()..).unwrap_or_default();
        match decoded {
            TrieNode::Branch(branch) => match rest.first() {
                Some(&nibble) if branch.state_mask.is_bit_set(nibble) => path.push(nibble),
                _ => break,
            },
            TrieNode::Extension(extension) => {
                let shared = extension.key.to_vec();
                if !rest.starts_with(&shared) {
                    break;
                }
                path.extend(shared);
            }
            TrieNode::Leaf(_) | TrieNode::EmptyRoot => break,
        }
    }
    Ok(proof)
}

fn hex_list(proof: Vec<Bytes>) -> Value {
    Value::Array(proof.into_iter().map(|b| json!(b)).collect())
}

fn get_proof(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 3)?;
    let address: Address = params::address(required(values, 0)?, 0)?;
    let keys = match required(values, 1)? {
        Value::Array(keys) if keys.len() <= MAX_KEYS => keys
            .iter()
            .map(|k| params::storage_slot(k, 1))
            .collect::<ApiResult<Vec<B256>>>()?,
        Value::Array(_) => return Err(invalid(1, format!("more than {MAX_KEYS} storage keys"))),
        _ => return Err(invalid(1, "expected an array of storage keys")),
    };
    let block = params::block_id(values.get(2), 2)?;
    let (_, state) = state_at(api, block)?;
    let state: &dyn StateSnapshot = &*state;
    let account = state.account(&address).map_err(internal)?;
    let account_proof = prove(state, TrieTable::Account, &[], keccak256(address))?;
    let storage_root = account.map_or(EMPTY_ROOT_HASH, |a| a.storage_root);
    let hashed_address = keccak256(address);
    let mut storage = Vec::with_capacity(keys.len());
    for key in keys {
        let value = match account {
            Some(_) => state.storage(&address, &key).map_err(internal)?,
            None => U256::ZERO,
        };
        let proof = if storage_root == EMPTY_ROOT_HASH {
            Vec::new()
        } else {
            prove(
                state,
                TrieTable::Storage,
                hashed_address.as_slice(),
                keccak256(key),
            )?
        };
        storage.push(json!({
            "key": key,
            "value": format!("{value:#x}"),
            "proof": hex_list(proof),
        }));
    }
    Ok(json!({
        "address": address,
        "accountProof": hex_list(account_proof),
        "balance": format!("{:#x}", account.map(|a| a.balance).unwrap_or_default()),
        "codeHash": account.map_or(KECCAK_EMPTY, |a| a.code_hash),
        "nonce": format!("{:#x}", account.map(|a| a.nonce).unwrap_or_default()),
        "storageHash": storage_root,
        "storageProof": storage,
    }))
}
