//! The one ABI module of the Tribe contracts: the calls users and the node make, encoded by
//! hand (all arguments are static words except one address array), the selectors of the views
//! the node reads, and bounded decoders of their answers (`spectrum-tribe-state` reads chief,
//! ChiefBase, POC and Anmap through them).

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

/// Anmap `bind(address nodePub, uint8 v, bytes32 r, bytes32 s)` or `unbindBySig` (the same
/// arguments): `(r, s, v)` is the node key's signature of keccak256(sender), as
/// [`deposit_signature`] makes it for the wallet that sends the call.
pub fn anmap_call(function: AnmapCall, node: Address, (r, s, v): (B256, B256, u8)) -> Bytes {
    let signature = match function {
        AnmapCall::Bind => "bind(address,uint8,bytes32,bytes32)",
        AnmapCall::UnbindBySig => "unbindBySig(address,uint8,bytes32,bytes32)",
    };
    call(
        signature,
        &[word_address(node), word_u256(U256::from(v)), r.0, s.0],
    )
}

/// The calls on Anmap that change a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnmapCall {
    /// Bind the node to the sender.
    Bind,
    /// Remove the node's binding.
    UnbindBySig,
}

/// Anmap `bindInfo(address)` calldata.
pub fn anmap_bind_info(addr: Address) -> Bytes {
    let mut data = ANMAP_BIND_INFO.to_vec();
    data.extend_from_slice(&word_address(addr));
    data.into()
}

/// Decodes a `bindInfo` answer: (from, nodeids), bounded.
pub fn decode_bind_info(answer: &[u8]) -> Result<(Address, Vec<Address>), &'static str> {
    let from = answer
        .get(12..32)
        .map(Address::from_slice)
        .ok_or("answer too short")?;
    Ok((from, decode_address_array(answer, 1)?))
}

// ---- Views the node reads (tribe.md §5, §8.1, §11) ----

/// `getStatus()` of every chief version.
pub const GET_STATUS: [u8; 4] = [0x4e, 0x69, 0xd5, 0x60];
/// ChiefBase `takeLeaderList()`.
pub const TAKE_LEADER_LIST: [u8; 4] = [0xf0, 0xd5, 0x58, 0x17];
/// Chief 1.0.0 `getVolunteers()`: (address[] volunteerList, uint[] weightList, uint length).
pub const GET_VOLUNTEERS: [u8; 4] = [0xd7, 0xca, 0x4a, 0x1c];
/// POC `getNormalList()`.
pub const GET_NORMAL_LIST: [u8; 4] = [0x51, 0x39, 0x3c, 0xe3];
/// Chief `getEpoch()`.
pub const GET_EPOCH: [u8; 4] = [0x75, 0x79, 0x91, 0xa8];
/// Chief `getSignerLimit()`.
pub const GET_SIGNER_LIMIT: [u8; 4] = [0xeb, 0x5c, 0x00, 0x11];
/// ChiefBase `takeLeaderLimit()`.
pub const TAKE_LEADER_LIMIT: [u8; 4] = [0x40, 0xe2, 0xf9, 0x91];
/// POC `getAll()`: (address[] miners, uint[] amounts, uint[] blocks, address[] owners, uint[]
/// blackStatus).
pub const POC_GET_ALL: [u8; 4] = [0x53, 0xed, 0x51, 0x43];
/// Anmap `bindInfo(address)`: (address from, address[] nodeids).
pub const ANMAP_BIND_INFO: [u8; 4] = [0x8d, 0x04, 0xcd, 0x30];

// ---- Bounded decoders of view answers ----

/// Reads head word `word` of `data` as a uint256.
pub fn read_uint_word(data: &[u8], word: usize) -> Result<U256, &'static str> {
    let at = word.checked_mul(32).ok_or("offset overflow")?;
    let bytes = data
        .get(at..at.checked_add(32).ok_or("offset overflow")?)
        .ok_or("answer too short")?;
    Ok(U256::from_be_slice(bytes))
}

/// A list of `len` words after the length word at `offset` must lie inside the answer. This is
/// the only bound on its length: the answer's size is bounded by the gas of the call, as in the
/// reference, which has no list-length limit (a chain with 4,097 POC stakers is valid). So
/// nothing is allocated for a length the answer does not hold.
fn check_list_fits(data: &[u8], offset: usize, len: usize) -> Result<(), &'static str> {
    let end = len
        .checked_add(1)
        .and_then(|words| words.checked_mul(32))
        .and_then(|bytes| bytes.checked_add(offset))
        .ok_or("list length overflows")?;
    if end > data.len() {
        return Err("answer too short for its list length");
    }
    Ok(())
}

/// Decodes the ABI `uint256[]` whose offset is in head word `word` of `data`, bounded.
pub fn decode_uint_array(data: &[u8], word: usize) -> Result<Vec<U256>, &'static str> {
    // An address array and a uint array share the layout: decode as words, then widen.
    let small = |v: U256| usize::try_from(v).map_err(|_| "offset or length too large");
    let offset = small(read_uint_word(data, word)?)?;
    if offset % 32 != 0 {
        return Err("unaligned offset");
    }
    let base = offset / 32;
    let len = small(read_uint_word(data, base)?)?;
    check_list_fits(data, offset, len)?;
    (0..len)
        .map(|i| read_uint_word(data, base.saturating_add(1).saturating_add(i)))
        .collect()
}

/// Decodes the ABI `address[]` whose offset is in head word `word` of `data`, bounded.
pub fn decode_address_array(data: &[u8], word: usize) -> Result<Vec<Address>, &'static str> {
    let read_word = |at: usize| -> Result<usize, &'static str> {
        let end = at.checked_add(32).ok_or("offset overflow")?;
        let bytes = data.get(at..end).ok_or("answer too short")?;
        if bytes.iter().take(24).any(|b| *b != 0) {
            return Err("offset or length too large");
        }
        let mut value = [0u8; 8];
        value.copy_from_slice(bytes.get(24..32).ok_or("answer too short")?);
        usize::try_from(u64::from_be_bytes(value)).map_err(|_| "offset too large")
    };
    let offset = read_word(word.checked_mul(32).ok_or("offset overflow")?)?;
    let len = read_word(offset)?;
    check_list_fits(data, offset, len)?;
    (0..len)
        .map(|i| {
            let at = offset
                .checked_add(32)
                .and_then(|o| o.checked_add(i.checked_mul(32)?))
                .ok_or("offset overflow")?;
            let item = data
                .get(at..at.checked_add(32).ok_or("offset overflow")?)
                .ok_or("answer too short")?;
            Ok(Address::from_slice(
                item.get(12..32).ok_or("answer too short")?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod decoder_tests {
    use super::*;

    /// An ABI answer whose head word 0 points at an `address[]` of `len` distinct addresses.
    fn address_list_answer(len: usize) -> Vec<u8> {
        let word = |v: usize| U256::from(v).to_be_bytes::<32>();
        let mut answer = word(32).to_vec();
        answer.extend_from_slice(&word(len));
        for i in 0..len {
            answer.extend_from_slice(&word(i + 1));
        }
        answer
    }

    /// Item 4 of the safety issue: 4,097 POC stakers made every honest block "invalid" through
    /// a list-length limit the reference lacks (the old decoder refused any list over 4,096).
    #[test]
    fn lists_longer_than_4096_decode() {
        let answer = address_list_answer(4097);
        let list = decode_address_array(&answer, 0).unwrap();
        assert_eq!(list.len(), 4097);
        assert_eq!(
            list[4096],
            Address::left_padding_from(&4097u64.to_be_bytes())
        );
        assert_eq!(decode_uint_array(&answer, 0).unwrap().len(), 4097);
    }

    /// A length the answer does not hold is refused before anything is allocated for it.
    #[test]
    fn a_length_beyond_the_answer_is_refused() {
        let mut answer = address_list_answer(3);
        answer[32..64].copy_from_slice(&U256::from(1u64 << 40).to_be_bytes::<32>());
        assert_eq!(
            decode_address_array(&answer, 0),
            Err("answer too short for its list length")
        );
        assert_eq!(
            decode_uint_array(&answer, 0),
            Err("answer too short for its list length")
        );
        answer.truncate(64 + 2 * 32);
        answer[32..64].copy_from_slice(&U256::from(3u8).to_be_bytes::<32>());
        assert_eq!(
            decode_address_array(&answer, 0),
            Err("answer too short for its list length")
        );
    }
}
