//! The calls users and the node make to the contracts, ABI-encoded by hand (all arguments are
//! static words except one address array).

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use secp256k1::{Message, SECP256K1, SecretKey};

/// The first four bytes of keccak256 of a function signature.
pub fn selector(signature: &str) -> [u8; 4] {
    let hash = keccak256(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// An address as an ABI word.
pub fn word_address(address: Address) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(address.as_slice());
    word
}

/// A number as an ABI word.
pub fn word_u256(value: U256) -> [u8; 32] {
    value.to_be_bytes()
}

/// `signature(words...)` with static arguments only.
pub fn call(signature: &str, words: &[[u8; 32]]) -> Bytes {
    let mut data = selector(signature).to_vec();
    for word in words {
        data.extend_from_slice(word);
    }
    data.into()
}

/// Appends `address[]` as the last (dynamic) argument after `head` static words.
pub(crate) fn encode_with_address_array(head: &[[u8; 32]], list: &[Address]) -> Vec<u8> {
    let mut out = Vec::new();
    for word in head {
        out.extend_from_slice(word);
    }
    let offset = (head.len() + 1) * 32;
    out.extend_from_slice(&word_u256(U256::from(offset)));
    out.extend_from_slice(&word_u256(U256::from(list.len())));
    for address in list {
        out.extend_from_slice(&word_address(*address));
    }
    out
}

/// POC `deposit(bytes32 r, bytes32 s, uint8 v)` calldata for staking node `node_key` from the
/// wallet `owner` (tribe.md §11): the node key signs keccak256(owner's 20 bytes).
pub fn poc_deposit(node_key: &SecretKey, owner: Address) -> Bytes {
    let (r, s, v) = deposit_signature(node_key, owner);
    call(
        "deposit(bytes32,bytes32,uint8)",
        &[r.0, s.0, word_u256(U256::from(v))],
    )
}

/// The node key's signature of keccak256(owner) as POC `deposit` takes it: (r, s, v = 27/28).
pub fn deposit_signature(node_key: &SecretKey, owner: Address) -> (B256, B256, u8) {
    let digest = keccak256(owner.as_slice());
    let (recovery_id, compact) = SECP256K1
        .sign_ecdsa_recoverable(Message::from_digest(digest.0), node_key)
        .serialize_compact();
    let v = if matches!(recovery_id, secp256k1::ecdsa::RecoveryId::One) {
        28
    } else {
        27
    };
    (
        B256::from_slice(&compact[..32]),
        B256::from_slice(&compact[32..]),
        v,
    )
}

/// POC `stop(address)`, `start(address)`, `withdraw(address)` for a node.
pub fn poc_node_call(function: PocNodeCall, node: Address) -> Bytes {
    let signature = match function {
        PocNodeCall::Stop => "stop(address)",
        PocNodeCall::Start => "start(address)",
        PocNodeCall::Withdraw => "withdraw(address)",
        PocNodeCall::WithdrawSurplus => "withdrawSurplus(address)",
    };
    call(signature, &[word_address(node)])
}

/// The owner-of-stake calls on POC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PocNodeCall {
    /// Leave the normal list.
    Stop,
    /// Rejoin it.
    Start,
    /// Take the stake back (after the wait).
    Withdraw,
    /// Take what is above the current minimum.
    WithdrawSurplus,
}

/// ChiefBase `appendLeader(address)` (owner only).
pub fn append_leader(leader: Address) -> Bytes {
    call("appendLeader(address)", &[word_address(leader)])
}

/// ChiefBase `removeLeader(address)` (owner only).
pub fn remove_leader(leader: Address) -> Bytes {
    call("removeLeader(address)", &[word_address(leader)])
}
