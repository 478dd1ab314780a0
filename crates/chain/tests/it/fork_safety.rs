//! Forged heavy blocks and hostile branches against a node that imported the reference devnet
//! chains (real RocksDB, full Tribe validation): a forged block never moves the head, is never
//! stored, and is refused again without being validated; a side block counts for fork choice
//! only once its header passed the checks its parent's state allows; reorgs are bounded in
//! depth and by checkpoints, and a failing branch restores the old chain.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use alloy_primitives::{B256, U256, keccak256};
use serde_json::Value;
use spectrum_chain::{ChainError, InsertOutcome, test_utils::TestChain};
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::TribeError;
use spectrum_import::ChainFileReader;
use spectrum_primitives::{Block, SealedBlock};

const DEVNET_A: &str = "spectrum-devnet";
const DEVNET_MULTI: &str = "spectrum-devnet-multi";
/// Node D of the multi chain (its key is derived from its name, see the chain's README).
const NODE_D: &str = "0x11642c52bd942d404db61f6939019a3e95806bb3";

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ))
    .join(name)
}

fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(testdata(name).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

struct Node {
    test: TestChain,
}

impl Node {
    fn new(spec: ChainSpec, max_reorg_depth: Option<u64>) -> Self {
        let mut test = TestChain::new(spec);
        if let Some(depth) = max_reorg_depth {
            test.chain = test.chain.with_max_reorg_depth(depth);
        }
        Self { test }
    }

    fn chain(&self) -> &spectrum_chain::Blockchain {
        &self.test.chain
    }

    fn devnet() -> Self {
        Self::new(ChainSpec::devnet(), None)
    }

    /// Imports blocks `first..=last` of `name`'s chain file.
    fn import(&self, name: &str, first: u64, last: u64) -> Vec<InsertOutcome> {
        blocks(name)
            .skip_while(|b| b.header.number < first)
            .take_while(|b| b.header.number <= last)
            .map(|block| {
                let number = block.header.number;
                self.chain()
                    .insert_block(block.seal_slow())
                    .unwrap_or_else(|e| panic!("{name} block {number}: {e}"))
            })
            .collect()
    }

    fn head(&self) -> (u64, B256) {
        self.chain().provider().head().unwrap().unwrap()
    }

    fn is_stored(&self, hash: B256) -> bool {
        self.chain()
            .provider()
            .block_number(&hash)
            .unwrap()
            .is_some()
    }

    /// Inserts `block`, which must be refused; returns the error.
    fn refuse(&self, block: SealedBlock) -> ChainError {
        match self.chain().insert_block(block) {
            Err(error) => error,
            Ok(outcome) => panic!("forged block accepted: {outcome:?}"),
        }
    }
}

fn blocks(name: &str) -> impl Iterator<Item = Block> {
    ChainFileReader::open(testdata(name).join("chain.rlp"))
        .unwrap()
        .map(|b| b.unwrap())
}

fn block(name: &str, number: u64) -> Block {
    blocks(name).nth(number as usize).unwrap()
}

fn node_key(name: &str) -> secp256k1::SecretKey {
    secp256k1::SecretKey::from_byte_array(keccak256(format!("spectrum-devnet-multi-node-{name}")).0)
        .unwrap()
}

fn huge() -> U256 {
    U256::from(1u8) << 128
}

/// `block` with difficulty `difficulty` and its seal untouched (so it recovers some other
/// address), as an attacker without any key would send it.
fn with_difficulty(mut block: Block, difficulty: U256) -> SealedBlock {
    block.header.difficulty = difficulty;
    block.seal_slow()
}

/// `block` with `tamper` applied and re-sealed by multi-chain node `signer`.
fn resealed(mut block: Block, signer: &str, tamper: impl FnOnce(&mut Block)) -> SealedBlock {
    tamper(&mut block);
    block.header = spectrum_consensus::sign_header(block.header, &node_key(signer)).unwrap();
    block.seal_slow()
}

fn out_of_range(max: u64) -> TribeError {
    TribeError::DifficultyOutOfRange {
        got: huge(),
        min: 1,
        max,
    }
}

fn assert_rule(error: &ChainError, rule: &TribeError) {
    match error {
        ChainError::Invalid { source, .. } => assert_eq!(source.as_ref(), rule, "{error}"),
        other => panic!("expected {rule}, got {other}"),
    }
    assert!(error.is_invalid_block(), "{error}");
}

/// The numbers of the multi chain's blocks sealed by node D, in order.
fn blocks_of_d() -> Vec<u64> {
    expected(DEVNET_MULTI)["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["miner"] == NODE_D)
        .map(|b| b["number"].as_u64().unwrap())
        .collect()
}

/// The attack: after the 220-block reference chain, one copy of block 1 with
/// difficulty 2^128 (seal untouched). Block 1 has no chief, so the reference checks neither its
/// seal nor its difficulty; the old code unwound to genesis and made it the head. Now the devnet checkpoint refuses it, and without checkpoints the
/// difficulty bound does; the head stays, nothing is stored, and a resend is refused unseen.
#[test]
fn forged_heavy_block_1_leaves_the_head_unchanged() {
    let node = Node::devnet();
    node.import(DEVNET_A, 1, 220);
    let head = node.head();
    let forged = with_difficulty(block(DEVNET_A, 1), huge());
    let hash = forged.hash();

    let error = node.refuse(forged.clone());
    assert!(
        matches!(error, ChainError::CheckpointMismatch { number: 1, hash: h, .. } if h == hash),
        "{error}"
    );
    assert!(error.is_invalid_block());
    assert_eq!(node.head(), head);
    assert!(!node.is_stored(hash));
    let again = node.refuse(forged);
    assert!(
        matches!(again, ChainError::KnownBad { number: 1, .. }),
        "{again}"
    );

    // The same network without checkpoints: the difficulty bound of blocks before the first
    // chief refuses it.
    let mut spec = ChainSpec::devnet();
    spec.tribe.checkpoints.clear();
    let node = Node::new(spec, None);
    node.import(DEVNET_A, 1, 220);
    let error = node.refuse(with_difficulty(block(DEVNET_A, 1), huge()));
    assert_rule(&error, &out_of_range(3));
    assert_eq!(node.head(), head);
    assert!(!node.is_stored(hash));
}

/// Chief start blocks escape the difficulty range and role checks in the reference. A forged
/// copy of devnet block 63 (chief 1.0.0's start) with difficulty 2^128 is refused by the range
/// before it is stored (the old code stored it, reorganised to 62 and back); so is block 3
/// (chief 0.0.7's start) where no checkpoint pins it.
#[test]
fn forged_heavy_chief_start_block_leaves_the_head_unchanged() {
    let node = Node::devnet();
    node.import(DEVNET_A, 1, 220);
    let head = node.head();
    let forged = with_difficulty(block(DEVNET_A, 63), huge());
    let hash = forged.hash();
    assert_rule(&node.refuse(forged), &out_of_range(6));
    assert_eq!(node.head(), head);
    assert!(!node.is_stored(hash), "refused before it was stored");

    let mut spec = ChainSpec::devnet();
    spec.tribe.checkpoints.clear();
    let node = Node::new(spec, None);
    node.import(DEVNET_A, 1, 220);
    let forged = with_difficulty(block(DEVNET_A, 3), huge());
    let hash = forged.hash();
    assert_rule(&node.refuse(forged), &out_of_range(3));
    assert_eq!(node.head(), head);
    assert!(!node.is_stored(hash));
}

/// A VRF-era block re-sealed by its own (authorised) signer with difficulty 2^128: refused by
/// the range rule before it is stored or counted (the old code stored it, unwound the chain to
/// its parent, executed it, and only then refused it and re-executed the old chain). A child
/// built on it is refused at once, without being judged: not the fault of whoever relays it.
#[test]
fn forged_heavy_vrf_era_block_is_refused_before_it_counts() {
    let node = Node::devnet();
    node.import(DEVNET_MULTI, 1, 200);
    let head = node.head();
    let number = *blocks_of_d().first().unwrap();
    assert!(
        number > 63 && number < 200,
        "a VRF-era block of D: {number}"
    );
    let forged = resealed(block(DEVNET_MULTI, number), "D", |b| {
        b.header.difficulty = huge();
    });
    let hash = forged.hash();
    assert_rule(&node.refuse(forged.clone()), &out_of_range(6));
    assert_eq!(node.head(), head);
    assert!(!node.is_stored(hash));

    let mut child = block(DEVNET_MULTI, number + 1);
    child.header.parent_hash = hash;
    let child = child.seal_slow();
    let error = node.refuse(child);
    assert!(
        matches!(error, ChainError::BadAncestor { ancestor, .. } if ancestor == hash),
        "{error}"
    );
    assert!(!error.is_invalid_block());
    assert_eq!(node.chain().bad_block_count(), 2);
}

/// A side block off a canonical (non-head) parent is checked against the signer set at that
/// parent's historical state before it is stored: block 111 re-sealed by D, who was neither
/// signer nor leader at 110, breaks exactly the membership rule (the old code stored it as a
/// side block unchecked).
#[test]
fn side_block_by_an_outsider_is_refused_at_its_parents_historical_state() {
    let node = Node::devnet();
    node.import(DEVNET_MULTI, 1, 200);
    let head = node.head();
    let outsider = resealed(block(DEVNET_MULTI, 111), "D", |_| {});
    let hash = outsider.hash();
    let error = node.refuse(outsider);
    assert!(
        matches!(
            &error,
            ChainError::Invalid { source, .. }
                if matches!(**source, TribeError::UnauthorisedSigner { slot: Some(_), .. })
        ),
        "{error}"
    );
    assert!(error.is_invalid_block());
    assert_eq!(node.head(), head);
    assert!(!node.is_stored(hash));
}

/// A branch forking deeper below the head than the configured limit is not followed, and not
/// stored; it is nobody's fault. Devnet-A (head 220) and the multi chain fork after 56.
#[test]
fn a_fork_deeper_than_the_limit_is_refused() {
    let node = Node::new(ChainSpec::devnet(), Some(100));
    node.import(DEVNET_A, 1, 220);
    let head = node.head();
    let first = block(DEVNET_MULTI, 57).seal_slow();
    let hash = first.hash();
    let error = node.refuse(first);
    assert!(
        matches!(
            error,
            ChainError::ReorgTooDeep {
                number: 57,
                fork_point: 56,
                head: 220,
                max_depth: 100,
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.is_invalid_block());
    assert!(!node.is_stored(hash));
    assert_eq!(node.head(), head);
    assert_eq!(node.chain().bad_block_count(), 0, "not remembered as bad");
}

/// No branch may fork below a checkpoint the chain has reached (devnet pins block 56).
#[test]
fn a_fork_below_a_checkpoint_is_refused() {
    let node = Node::devnet();
    node.import(DEVNET_A, 1, 220);
    let forged = with_difficulty(block(DEVNET_A, 10), U256::from(1u8));
    let error = node.refuse(forged);
    assert!(
        matches!(
            error,
            ChainError::BelowCheckpoint {
                number: 10,
                fork_point: 9,
                checkpoint: 56,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_invalid_block());
}

/// The first multi block whose total difficulty passes devnet-A's head.
fn tipping_block() -> u64 {
    let td = |v: &Value| match &v["totalDifficulty"] {
        Value::Number(n) => U256::from(n.as_u64().unwrap()),
        Value::String(s) if s.starts_with("0x") => U256::from_str_radix(&s[2..], 16).unwrap(),
        Value::String(s) => U256::from_str_radix(s, 10).unwrap(),
        other => panic!("totalDifficulty {other}"),
    };
    let a = expected(DEVNET_A);
    let a_td = td(&a["blocks"][220]);
    expected(DEVNET_MULTI)["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| td(b) > a_td)
        .map(|b| b["number"].as_u64().unwrap())
        .unwrap()
}

/// A heavier branch whose last block fails execution: the old chain is restored (read back
/// block by block), the failing block is remembered and refused unexecuted when resent, and
/// the genuine branch still wins after. A branch failing at an earlier block is refused for
/// the tip without blaming its sender.
#[test]
fn a_failing_branch_restores_the_old_chain_and_is_never_executed_twice() {
    let tip = tipping_block();
    let d_blocks = blocks_of_d();
    assert!(
        d_blocks.contains(&tip) && d_blocks.contains(&(tip - 1)),
        "D sealed blocks {} and {tip}",
        tip - 1
    );
    let node = Node::devnet();
    node.import(DEVNET_A, 1, 220);
    let a_head = node.head();
    let outcomes = node.import(DEVNET_MULTI, 57, tip - 2);
    assert!(outcomes.iter().all(|o| *o == InsertOutcome::SideChain));

    // Block tip−1 with a wrong state root (only execution can tell), and the tip on top of it.
    let bad_parent = resealed(block(DEVNET_MULTI, tip - 1), "D", |b| {
        b.header.state_root.0[0] ^= 1
    });
    assert_eq!(
        node.chain().insert_block(bad_parent.clone()).unwrap(),
        InsertOutcome::SideChain
    );
    let child = resealed(block(DEVNET_MULTI, tip), "D", |b| {
        b.header.parent_hash = bad_parent.hash()
    });
    let error = node.refuse(child.clone());
    assert!(
        matches!(
            &error,
            ChainError::BranchFailed { failed_hash, source, .. }
                if *failed_hash == bad_parent.hash()
                    && matches!(**source, ChainError::StateRoot { .. })
        ),
        "{error}"
    );
    assert!(
        !error.is_invalid_block(),
        "the tip's sender is not to blame"
    );
    assert_eq!(node.head(), a_head, "the old chain is back");
    let db = node.chain().provider();
    assert_eq!(
        db.header_by_number(220).unwrap().unwrap().state_root,
        block(DEVNET_A, 220).header.state_root
    );
    assert!(matches!(
        node.refuse(bad_parent.clone()),
        ChainError::KnownBad { .. }
    ));
    assert!(matches!(
        node.refuse(child),
        ChainError::BadAncestor { ancestor, .. } if ancestor == bad_parent.hash()
    ));

    // The tip itself failing: its own error, the block's fault.
    node.import(DEVNET_MULTI, tip - 1, tip - 1);
    let bad_tip = resealed(block(DEVNET_MULTI, tip), "D", |b| {
        b.header.state_root.0[0] ^= 1
    });
    let error = node.refuse(bad_tip.clone());
    assert!(
        matches!(error, ChainError::StateRoot { number, .. } if number == tip),
        "{error}"
    );
    assert!(error.is_invalid_block());
    assert_eq!(node.head(), a_head);
    assert!(matches!(node.refuse(bad_tip), ChainError::KnownBad { .. }));

    // The genuine branch wins.
    let outcome = node.import(DEVNET_MULTI, tip, tip);
    assert_eq!(
        outcome,
        vec![InsertOutcome::Reorg {
            fork_point: 56,
            number: tip
        }]
    );
}
