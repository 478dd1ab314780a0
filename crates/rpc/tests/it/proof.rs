//! `eth_getProof` on the reference devnet chain, every proof checked by alloy-trie's verifier
//! against the head's state root: present and absent accounts, present and absent slots.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_trie::{Nibbles, TrieAccount, proof::verify_proof};
use serde_json::{Value, json};

use crate::harness::{expected, shared};

const FEATURES: &str = "0x3B101062D16826f368b315D8ba2bAd086E64FCE1";
const USER1: &str = "0xbF1736a65F8bEAdD71B321BE585FD883503fDEaA";

fn proof_nodes(value: &Value) -> Vec<Bytes> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().parse().unwrap())
        .collect()
}

fn head_state_root() -> B256 {
    expected()["blocks"][220]["stateRoot"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Checks the account part of `proof` for `address` against `root`; the account's storage
/// root.
fn verify_account(root: B256, address: Address, proof: &Value) -> B256 {
    let nodes = proof_nodes(&proof["accountProof"]);
    let quantity = |k: &str| U256::from_str_radix(&proof[k].as_str().unwrap()[2..], 16).unwrap();
    let storage_root: B256 = proof["storageHash"].as_str().unwrap().parse().unwrap();
    let code_hash: B256 = proof["codeHash"].as_str().unwrap().parse().unwrap();
    let exists = !(quantity("nonce").is_zero()
        && quantity("balance").is_zero()
        && code_hash == spectrum_primitives::KECCAK_EMPTY);
    let leaf = exists.then(|| {
        alloy_rlp::encode(TrieAccount {
            nonce: u64::try_from(quantity("nonce")).unwrap(),
            balance: quantity("balance"),
            storage_root,
            code_hash,
        })
    });
    verify_proof(root, Nibbles::unpack(keccak256(address)), leaf, &nodes)
        .unwrap_or_else(|e| panic!("account proof of {address}: {e}: {proof}"));
    storage_root
}

fn verify_slot(storage_root: B256, entry: &Value) {
    let key: B256 = entry["key"].as_str().unwrap().parse().unwrap();
    let value = U256::from_str_radix(&entry["value"].as_str().unwrap()[2..], 16).unwrap();
    let leaf = (!value.is_zero()).then(|| alloy_rlp::encode(value));
    verify_proof(
        storage_root,
        Nibbles::unpack(keccak256(key)),
        leaf,
        &proof_nodes(&entry["proof"]),
    )
    .unwrap_or_else(|e| panic!("storage proof of {key}: {e}: {entry}"));
}

#[test]
fn proofs_verify_against_the_head_state_root() {
    let root = head_state_root();
    let state = &expected()["state"];
    let features = &state[FEATURES]["storage"];
    let mut slots: Vec<String> = features
        .as_object()
        .unwrap()
        .keys()
        .map(|k| format!("0x{k}"))
        .collect();
    slots.truncate(6);
    let absent_slot = format!("{:#066x}", 0xdead_beef_u64);
    slots.push(absent_slot.clone());
    let proof = shared().result("eth_getProof", json!([FEATURES, slots, "latest"]));
    let storage_root = verify_account(root, FEATURES.parse().unwrap(), &proof);
    assert_ne!(storage_root, spectrum_primitives::EMPTY_ROOT_HASH);
    assert_eq!(
        proof["balance"],
        format!(
            "{:#x}",
            U256::from_str_radix(state[FEATURES]["balance"].as_str().unwrap(), 10).unwrap()
        )
    );
    let entries = proof["storageProof"].as_array().unwrap();
    assert_eq!(entries.len(), slots.len());
    for entry in entries {
        verify_slot(storage_root, entry);
        let key = entry["key"].as_str().unwrap();
        // The reference's dump holds each slot's RLP-encoded value.
        let value = U256::from_str_radix(&entry["value"].as_str().unwrap()[2..], 16).unwrap();
        match features.get(&key[2..]) {
            Some(rlp) => assert_eq!(hex(&alloy_rlp::encode(value)), *rlp, "{key}"),
            None => assert_eq!(key, absent_slot),
        }
    }
    assert_eq!(entries.last().unwrap()["value"], "0x0");

    // An account without storage, and one that does not exist.
    let user = shared().result("eth_getProof", json!([USER1, [absent_slot], "0xdc"]));
    let root_of_user = verify_account(root, USER1.parse().unwrap(), &user);
    assert_eq!(root_of_user, spectrum_primitives::EMPTY_ROOT_HASH);
    verify_slot(root_of_user, &user["storageProof"][0]);
    let nobody: Address = "0x00000000000000000000000000000000000c0ffe"
        .parse()
        .unwrap();
    let absent = shared().result("eth_getProof", json!([nobody, [], "latest"]));
    assert_eq!(absent["nonce"], "0x0");
    verify_account(root, nobody, &absent);
    assert!(!absent["accountProof"].as_array().unwrap().is_empty());

    // A proof for the wrong root does not verify: the check can fail.
    let other_root = head_of(100);
    let nodes = proof_nodes(&user["accountProof"]);
    assert!(
        verify_proof(
            other_root,
            Nibbles::unpack(keccak256(USER1.parse::<Address>().unwrap())),
            None,
            &nodes
        )
        .is_err()
    );
}

#[test]
fn proofs_of_older_blocks_are_refused_with_the_reason() {
    let (code, message, _) = shared().error("eth_getProof", json!([USER1, [], "0x64"]));
    assert_eq!(code, -32000);
    assert_eq!(
        message,
        "proofs are served for the head block only: the trie of block 100 is not kept"
    );
}

fn head_of(number: usize) -> B256 {
    expected()["blocks"][number]["stateRoot"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    alloy_primitives::hex::encode(bytes)
}
