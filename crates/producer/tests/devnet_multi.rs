//! Blocks we produce on top of the reference node's five-signer chain pass our own verifier in
//! the import path, at the difficulty and delay of the signer's role; signers outside their
//! turn are refused before anything is built.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::PathBuf, sync::Arc};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, TxKind, U256, address, keccak256};
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, InsertOutcome, test_utils::TestChain};
use spectrum_import::ChainFileReader;
use spectrum_primitives::sign_transaction;
use spectrum_producer::{BlockProducer, BuildRequest, Candidate, ProducerError, Skipped};
use spectrum_storage_api::ChainReader;

const NODE_A: Address = address!("9944d0cc757cd9391ee320fc17d5b6f61693f2c5");
const NODE_D: Address = address!("11642c52bd942d404db61f6939019a3e95806bb3");

fn chain_file() -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/spectrum-devnet-multi/chain.rlp"
    ));
    assert!(
        path.is_file(),
        "{} not found: ../shared/testdata must sit beside the clone",
        path.display()
    );
    path
}

fn key(seed: &str) -> SecretKey {
    SecretKey::from_byte_array(keccak256(seed.as_bytes()).0).unwrap()
}

struct Node {
    _dir: tempfile::TempDir,
    db: Arc<dyn ChainReader>,
    chain: Blockchain,
    producer: BlockProducer,
}

/// devnet-multi imported to its head (412), with a clock far enough ahead that the blocks we
/// produce at their earliest time are not in the future.
fn node_at_head() -> Node {
    let TestChain {
        chain, spec, dir, ..
    } = TestChain::devnet();
    let chain = chain.with_clock(Arc::new(|| u64::from(u32::MAX)));
    let db = chain.provider().clone();
    for block in ChainFileReader::open(chain_file()).unwrap() {
        chain.insert_block(block.unwrap().seal_slow()).unwrap();
    }
    assert_eq!(db.head().unwrap().unwrap().0, 412);
    let producer = BlockProducer::new(db.clone(), spec);
    Node {
        _dir: dir,
        db,
        chain,
        producer,
    }
}

fn head(node: &Node) -> (u64, B256) {
    node.db.head().unwrap().unwrap()
}

fn transfer(from: &SecretKey, nonce: u64, gas_price: u128) -> Candidate {
    let tx = TxLegacy {
        chain_id: Some(4),
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(NODE_A),
        value: U256::from(1_000u64),
        input: Default::default(),
    };
    Candidate::recover(sign_transaction(tx, from)).unwrap()
}

#[test]
fn a_leader_out_of_turn_and_in_turn_produces_valid_blocks() {
    let node = node_at_head();
    let d = key("spectrum-devnet-multi-node-D");
    let user3 = key("spectrum-devnet-multi-user3");
    let user3_address =
        spectrum_primitives::public_key_to_address(&user3.public_key(secp256k1::SECP256K1));
    let nonce = node
        .db
        .latest()
        .unwrap()
        .account(&user3_address)
        .unwrap()
        .unwrap()
        .nonce;

    // Round 410 = [A, B, C, 0, 0], leaders [A, D, E]: slot 3 of block 413 is empty, and D is
    // L'[0] (the leaders rotated after A): difficulty 4, delay period + 7 = 10 s.
    let (number, parent) = head(&node);
    let parent_time = node.db.header(&parent).unwrap().unwrap().timestamp;
    let built = node
        .producer
        .build(BuildRequest {
            parent,
            key: &d,
            coinbase: None,
            timestamp: None,
            transactions: vec![
                transfer(&user3, nonce, 2_000_000_000),
                transfer(&user3, nonce + 1, 2_000_000_000),
                // Nonce gap: it cannot follow, so it is deferred, not included.
                transfer(&user3, nonce + 5, 2_000_000_000),
            ],
        })
        .unwrap();
    assert_eq!(built.plan.number, number + 1);
    assert_eq!(built.plan.difficulty, 4);
    assert_eq!(built.plan.delay, 10);
    let block = built.block;
    assert_eq!(block.header.timestamp, parent_time + 10);
    assert_eq!(block.header.beneficiary, NODE_D);
    assert_eq!(block.header.extra_data.len(), 226);
    assert_eq!(
        block.body.transactions.len(),
        3,
        "chief update + two transfers"
    );
    assert_eq!(
        built.skipped.len(),
        1,
        "the transfer after a nonce gap is left out: {:?}",
        built.skipped
    );
    assert!(matches!(built.skipped[0], Skipped::Invalid { .. }));
    let outcome = node.chain.insert_block(block.clone()).unwrap();
    assert_eq!(
        outcome,
        InsertOutcome::Canonical {
            number: 413,
            gas_used: 42_000
        }
    );
    assert_eq!(head(&node), (413, block.hash()));

    // 414: slot 4 is empty too; D again as L'[0].
    let built = node
        .producer
        .build(BuildRequest {
            parent: block.hash(),
            key: &d,
            coinbase: Some(address!("00000000000000000000000000000000000000aa")),
            timestamp: None,
            transactions: Vec::new(),
        })
        .unwrap();
    assert_eq!(built.plan.difficulty, 4);
    node.chain.insert_block(built.block.clone()).unwrap();

    // 415 starts round 415: the chief's update at 414 made the leader after A, D, its slot-0
    // signer, so D seals in turn: difficulty 6, delay period − 1 = 2 s.
    let built = node
        .producer
        .build(BuildRequest {
            parent: built.block.hash(),
            key: &d,
            coinbase: None,
            timestamp: None,
            transactions: Vec::new(),
        })
        .unwrap();
    assert_eq!((built.plan.difficulty, built.plan.delay), (6, 2));
    assert!(built.plan.in_turn(node.producer.spec()));
    let outcome = node.chain.insert_block(built.block).unwrap();
    assert!(matches!(
        outcome,
        InsertOutcome::Canonical { number: 415, .. }
    ));
}

#[test]
fn signers_outside_their_slot_and_early_timestamps_are_refused() {
    let node = node_at_head();
    let (_, parent) = head(&node);
    // B holds slot 1 of round 410; block 413 is slot 3.
    let b = key("spectrum-devnet-multi-node-B");
    let refused = node.producer.build(BuildRequest {
        parent,
        key: &b,
        coinbase: None,
        timestamp: None,
        transactions: Vec::new(),
    });
    assert!(
        matches!(
            refused,
            Err(ProducerError::NotAuthorised { number: 413, .. })
        ),
        "{refused:?}"
    );
    let d = key("spectrum-devnet-multi-node-D");
    let parent_time = node.db.header(&parent).unwrap().unwrap().timestamp;
    let early = node.producer.build(BuildRequest {
        parent,
        key: &d,
        coinbase: None,
        timestamp: Some(parent_time + 9),
        transactions: Vec::new(),
    });
    assert!(
        matches!(early, Err(ProducerError::TooEarly { earliest, .. }) if earliest == parent_time + 10),
        "{early:?}"
    );
    // Building on anything but the head is refused.
    let older = node.db.canonical_hash(400).unwrap().unwrap();
    assert!(matches!(
        node.producer.build(BuildRequest {
            parent: older,
            key: &d,
            coinbase: None,
            timestamp: None,
            transactions: Vec::new(),
        }),
        Err(ProducerError::ParentNotHead { .. })
    ));
    assert_eq!(head(&node).0, 412, "nothing was inserted");
}
