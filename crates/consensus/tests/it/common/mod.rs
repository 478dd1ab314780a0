//! Shared helpers: the two reference chains and the multi chain's node keys.
#![allow(dead_code)]

pub mod recorded;

use alloy_rlp::Decodable;
use secp256k1::SecretKey;
use spectrum_primitives::{Address, Block, Header, address, keccak256};

/// The shared test data, relative to this crate.
pub const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata");

/// Devnet-A: one signer, blocks 0..=220.
pub const DEVNET_A: &str = "spectrum-devnet";
/// Devnet-multi: five signers, blocks 0..=412.
pub const DEVNET_MULTI: &str = "spectrum-devnet-multi";

/// Reads a file of a reference chain's folder, failing with a message that names what is missing.
pub fn read_testdata(chain: &str, file: &str) -> Vec<u8> {
    let path = format!("{TESTDATA}/{chain}/{file}");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "reference file {path} is missing or unreadable ({e}): these tests need the shared \
             test data /work/shared/testdata/{chain} (see its README)"
        )
    })
}

/// Every block of a reference chain's chain.rlp, in order, checked to be numbered 0, 1, ….
pub fn load_blocks(chain: &str) -> Vec<Block> {
    let bytes = read_testdata(chain, "chain.rlp");
    let mut rest = &bytes[..];
    let mut blocks = Vec::new();
    while !rest.is_empty() {
        let block = Block::decode(&mut rest).unwrap_or_else(|e| {
            panic!(
                "{chain}: block {} of chain.rlp does not decode: {e}",
                blocks.len()
            )
        });
        assert_eq!(
            block.header.number,
            blocks.len() as u64,
            "{chain}: block order"
        );
        blocks.push(block);
    }
    blocks
}

/// Every header of a reference chain's chain.rlp, in order, checked to be numbered 0, 1, ….
pub fn load_headers(chain: &str) -> Vec<Header> {
    let bytes = read_testdata(chain, "chain.rlp");
    let mut rest = &bytes[..];
    let mut headers = Vec::new();
    while !rest.is_empty() {
        let block = Block::decode(&mut rest).unwrap_or_else(|e| {
            panic!(
                "{chain}: block {} of chain.rlp does not decode: {e}",
                headers.len()
            )
        });
        assert_eq!(
            block.header.number,
            headers.len() as u64,
            "{chain}: block order"
        );
        headers.push(block.header);
    }
    headers
}

/// Node A: the built-in devnet signer (genesis signer, leader throughout).
pub const NODE_A: Address = address!("9944d0cc757cd9391ee320fc17d5b6f61693f2c5");
/// user2, the wallet node C is bound to (coinbase of C's blocks from 191).
pub const USER2: Address = address!("d3b38478f7edb9bb55270ee5389706dc9ca6d98f");

/// Nodes B..E of the multi chain: (letter, address from the README, node key seed).
pub const MULTI_NODES: [(&str, Address, &str); 4] = [
    (
        "B",
        address!("01a955a76b420ced3c4ad15a27d18b8ba6bb145f"),
        "spectrum-devnet-multi-node-B",
    ),
    (
        "C",
        address!("fd32580876a31a8a6e71e6ffb712b91b8b93afaf"),
        "spectrum-devnet-multi-node-C",
    ),
    (
        "D",
        address!("11642c52bd942d404db61f6939019a3e95806bb3"),
        "spectrum-devnet-multi-node-D",
    ),
    (
        "E",
        address!("b466bcaab2307dcbacf092ea4c973524e4b5bb93"),
        "spectrum-devnet-multi-node-E",
    ),
];

/// A multi-chain node key: keccak256 of its seed string (README "Nodes").
pub fn node_key(seed: &str) -> SecretKey {
    SecretKey::from_byte_array(keccak256(seed.as_bytes()).0).unwrap()
}

/// The address of a multi-chain node or wallet by the name analyze.txt uses.
pub fn multi_address(name: &str) -> Address {
    match name {
        "A" => NODE_A,
        "user2" => USER2,
        _ => {
            MULTI_NODES
                .iter()
                .find(|(letter, ..)| *letter == name)
                .unwrap_or_else(|| panic!("analyze.txt names unknown node {name}"))
                .1
        }
    }
}
