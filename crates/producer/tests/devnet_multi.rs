//! Blocks we produce on top of the reference node's five-signer chain pass our own verifier in
//! the import path, at the difficulty and delay of the signer's role; signers outside their
//! turn are refused before anything is built.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::PathBuf, sync::Arc, time::Duration};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, TxKind, U256, address, b256, keccak256};
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, InsertOutcome, test_utils::TestChain};
use spectrum_import::ChainFileReader;
use spectrum_primitives::sign_transaction;
use spectrum_producer::{
    BlockProducer, BuildRequest, Candidate, ProducerConfig, ProducerError, ProducerService,
    ProductionMode, SealRecord, Skipped, TransactionSource,
};
use spectrum_storage_api::ChainReader;
use tokio::sync::broadcast;

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
    chain: Arc<Blockchain>,
    producer: BlockProducer,
}

/// devnet-multi imported to its head (412), with a clock far enough ahead that the blocks we
/// produce at their earliest time are not in the future.
fn node_at_head() -> Node {
    node_at(412)
}

/// devnet-multi imported up to block `last`.
fn node_at(last: u64) -> Node {
    let TestChain {
        chain, spec, dir, ..
    } = TestChain::devnet();
    let chain = chain.with_clock(Arc::new(|| u64::from(u32::MAX)));
    let db = chain.provider().clone();
    for block in ChainFileReader::open(chain_file()).unwrap() {
        let block = block.unwrap().seal_slow();
        if block.number() > last {
            break;
        }
        chain.insert_block(block).unwrap();
    }
    assert_eq!(db.head().unwrap().unwrap().0, last);
    let producer = BlockProducer::new(db.clone(), spec);
    Node {
        _dir: dir,
        db,
        chain: Arc::new(chain),
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

/// C's node key was bound to user2 in Anmap at block 181 (README of the test data): the
/// reference's C then sealed every block with coinbase user2, 412 among them. Our producer
/// picks the coinbase the same way (Anmap `bindInfo` at the parent's state), and the block it
/// builds for C at 412 pays user2 and passes our verifier.
#[test]
fn an_anmap_bound_node_pays_its_wallet_as_the_reference_did() {
    const NODE_C: Address = address!("fd32580876a31a8a6e71e6ffb712b91b8b93afaf");
    const USER2: Address = address!("d3b38478f7edb9bb55270ee5389706dc9ca6d98f");
    let node = node_at(411);
    let parent = node.db.header_by_number(411).unwrap().unwrap();
    assert_eq!(node.producer.coinbase(&parent, NODE_C), USER2);
    assert_eq!(
        node.producer.coinbase(&parent, NODE_A),
        NODE_A,
        "A is not bound"
    );
    let before_bind = node.db.header_by_number(180).unwrap().unwrap();
    assert_eq!(node.producer.coinbase(&before_bind, NODE_C), NODE_C);

    // Round 410 = [A, B, C, 0, 0]: block 412 is C's slot.
    let c = key("spectrum-devnet-multi-node-C");
    let built = node
        .producer
        .build(BuildRequest {
            parent: parent.hash(),
            key: &c,
            coinbase: None,
            timestamp: None,
            transactions: Vec::new(),
        })
        .unwrap();
    assert_eq!(built.block.header.beneficiary, USER2);
    let reference_412 = ChainFileReader::open(chain_file())
        .unwrap()
        .map(|b| b.unwrap())
        .find(|b| b.header.number == 412)
        .unwrap();
    assert_eq!(
        reference_412.header.beneficiary, USER2,
        "the reference's block"
    );
    let user2_before = balance(&node, USER2);
    let outcome = node.chain.insert_block(built.block).unwrap();
    assert!(
        matches!(outcome, InsertOutcome::Canonical { number: 412, .. }),
        "{outcome:?}"
    );
    let reward = node.producer.spec().block_reward(412);
    assert_eq!(
        balance(&node, USER2),
        user2_before + reward,
        "the reward went to user2"
    );
}

fn balance(node: &Node, who: Address) -> U256 {
    node.db
        .latest()
        .unwrap()
        .account(&who)
        .unwrap()
        .map_or(U256::ZERO, |a| a.balance)
}

/// The pool of the side-branch test: nothing to include.
struct NoTransactions;

impl TransactionSource for NoTransactions {
    fn best(&self) -> Vec<Candidate> {
        Vec::new()
    }
    fn has_pending(&self) -> bool {
        false
    }
    fn remove_invalid(&self, _: &[B256]) {}
}

/// Issue 17, the guard's gap: a block signed with our key on a branch that never becomes
/// canonical here (another node runs our key; its block lost to a heavier one at that height)
/// must stop us sealing, and its height must be recorded so that we never sign at or below it.
///
/// Our node is D (a leader, last sealed block 404 in its record). At 413 the slot is empty:
/// A (slot-0 leader) seals it at difficulty 5, and "the other D" at difficulty 4, which is
/// stored as a side block. Our D's service, which would otherwise seal 414 as L'[0], refuses.
/// Seen failing before the side blocks were watched: D sealed block 414.
#[test]
fn a_side_branch_block_signed_with_our_key_stops_sealing() {
    let node = node_at_head();
    let d = key("spectrum-devnet-multi-node-D");
    let a = SecretKey::from_byte_array(
        b256!("507fd083b5c5af7e645e77a3a3a82708f3af304164e02612ab4b1d5b36c627c6").0,
    )
    .unwrap();
    // D's record: its last block on this chain.
    let last_by_d = (1..=412u64)
        .rev()
        .map(|n| node.db.header_by_number(n).unwrap().unwrap())
        .find(|h| spectrum_consensus::recover_block_signer(h).unwrap() == NODE_D)
        .unwrap();
    assert_eq!(last_by_d.number, 404);
    let dir = tempfile::tempdir().unwrap();
    let record = Arc::new(SealRecord::open(&dir.path().join("last-sealed")).unwrap());
    assert!(record.record(404, last_by_d.hash()).unwrap());

    // Both 413s, built on the head before either is inserted.
    let (_, head_hash) = head(&node);
    let build = |signer: &SecretKey| {
        node.producer
            .build(BuildRequest {
                parent: head_hash,
                key: signer,
                coinbase: None,
                timestamp: None,
                transactions: Vec::new(),
            })
            .unwrap()
    };
    let other_d = build(&d);
    let by_a = build(&a);
    assert_eq!((by_a.plan.difficulty, other_d.plan.difficulty), (5, 4));

    // D's producer starts; it waits 5 s before its first block (Interval mode), long enough
    // to receive both blocks.
    let (service, mut produced) = ProducerService::new(
        node.chain.clone(),
        Arc::new(NoTransactions),
        ProducerConfig {
            key: d,
            coinbase: None,
            mode: ProductionMode::Interval(Duration::from_secs(5)),
            record: record.clone(),
        },
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (_new_transactions, pending) = broadcast::channel(1);
    runtime.spawn(service.run(pending));
    // (The service subscribed to the chain's blocks when it was made: nothing below is
    // missed, however late its task starts.)
    assert!(matches!(
        node.chain.insert_block(by_a.block.clone()).unwrap(),
        InsertOutcome::Canonical { number: 413, .. }
    ));
    assert_eq!(
        node.chain.insert_block(other_d.block.clone()).unwrap(),
        InsertOutcome::SideChain
    );

    // The guard sees it: the conflict names the side block, and the record now forbids 413.
    let conflict = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let Some(conflict) = record.conflict() {
                    return conflict;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the side block is seen")
    });
    assert_eq!(
        (conflict.number, conflict.hash),
        (413, other_d.block.hash())
    );
    let reopened = SealRecord::open(record.path()).unwrap();
    assert_eq!(reopened.forbids(413).unwrap().hash, other_d.block.hash());

    // Past its 5 s wait D would seal 414 (L'[0], difficulty 4); it refuses instead.
    let sealed = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), produced.recv()).await });
    assert!(
        sealed.is_err(),
        "D sealed block {:?} after its key signed a side block",
        sealed.ok().flatten().map(|b| b.number())
    );
    assert_eq!(head(&node), (413, by_a.block.hash()));
}
