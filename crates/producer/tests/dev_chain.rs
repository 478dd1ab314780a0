//! On the `dev` chain (our own chief contracts, one validator, signer limit 1, period 1) the
//! dev validator seals block after block with no delay, each passing our verifier, and the
//! chief contract keeps it the round's signer.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, TxKind, U256, hex};
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, CarriedField, ChainError, InsertOutcome, test_utils::TestChain};
use spectrum_chainspec::{ChainSpec, dev};
use spectrum_execution::{ExecutionError, block_executions_on_this_thread};
use spectrum_primitives::sign_transaction;
use spectrum_producer::{BlockProducer, BuildRequest, BuiltBlock, Candidate, ProducerError};

fn secret(hex_key: &str) -> SecretKey {
    let bytes: [u8; 32] = hex::decode(hex_key).unwrap().try_into().unwrap();
    SecretKey::from_byte_array(bytes).unwrap()
}

#[test]
fn the_dev_validator_seals_blocks_back_to_back() {
    let test = TestChain::new(ChainSpec::dev());
    let spec = test.spec.clone();
    let chain = test
        .chain
        .with_clock(std::sync::Arc::new(|| u64::from(u32::MAX)));
    let db = chain.provider().clone();
    let producer = BlockProducer::new(db.clone(), spec.clone());

    let key = secret(dev::DEV_VALIDATOR_KEY);
    let (user_address, user_key) = dev::DEV_ACCOUNTS[0];
    let user = secret(user_key);
    let recipient: Address = dev::DEV_ACCOUNTS[1].0.parse().unwrap();
    for n in 1..=6u64 {
        let (_, parent) = db.head().unwrap().unwrap();
        let transfer = TxLegacy {
            chain_id: Some(1337),
            nonce: n - 1,
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(recipient),
            value: U256::from(n),
            input: Default::default(),
        };
        let built = producer
            .build(BuildRequest {
                parent,
                key: &key,
                coinbase: None,
                timestamp: None,
                transactions: vec![Candidate::recover(sign_transaction(transfer, &user)).unwrap()],
            })
            .unwrap_or_else(|e| panic!("block {n}: {e}"));
        assert_eq!(built.plan.difficulty, 6, "always in turn");
        assert_eq!(built.plan.delay, 0, "period 1: in-turn delay 0 s");
        assert_eq!(
            built.block.body.transactions.len(),
            2,
            "chief update + transfer"
        );
        let outcome = chain.insert_block(built.block).unwrap();
        assert_eq!(
            outcome,
            InsertOutcome::Canonical {
                number: n,
                gas_used: 21_000
            }
        );
    }
    let state = db.latest().unwrap();
    let user_address: Address = user_address.parse().unwrap();
    assert_eq!(state.account(&user_address).unwrap().unwrap().nonce, 6);
    // The validator's nonce counts its six chief updates; its balance holds the rewards.
    let validator: Address = dev::DEV_VALIDATOR_ADDRESS.parse().unwrap();
    let account = state.account(&validator).unwrap().unwrap();
    assert_eq!(account.nonce, 6);
    assert!(account.balance >= U256::from(6u64) * spec.block_reward(1));

    // Another key is neither signer nor leader.
    let (_, parent) = db.head().unwrap().unwrap();
    let refused = producer.build(BuildRequest {
        parent,
        key: &user,
        coinbase: None,
        timestamp: None,
        transactions: Vec::new(),
    });
    assert!(
        matches!(refused, Err(ProducerError::NotAuthorised { .. })),
        "{refused:?}"
    );
}

/// A transfer from dev account 0 with `nonce`.
fn dev_transfer(nonce: u64) -> Candidate {
    let user = secret(dev::DEV_ACCOUNTS[0].1);
    let transfer = TxLegacy {
        chain_id: Some(1337),
        nonce,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(dev::DEV_ACCOUNTS[1].0.parse().unwrap()),
        value: U256::from(1u64),
        input: Default::default(),
    };
    Candidate::recover(sign_transaction(transfer, &user)).unwrap()
}

fn build_next(producer: &BlockProducer, chain: &Blockchain, nonce: u64) -> BuiltBlock {
    let (_, parent) = chain.provider().head().unwrap().unwrap();
    producer
        .build(BuildRequest {
            parent,
            key: &secret(dev::DEV_VALIDATOR_KEY),
            coinbase: None,
            timestamp: None,
            transactions: vec![dev_transfer(nonce)],
        })
        .unwrap()
}

fn dev_chain() -> (tempfile::TempDir, Blockchain, BlockProducer) {
    let TestChain {
        chain, spec, dir, ..
    } = TestChain::new(ChainSpec::dev());
    let chain = chain.with_clock(std::sync::Arc::new(|| u64::from(u32::MAX)));
    let producer = BlockProducer::new(chain.provider().clone(), spec);
    (dir, chain, producer)
}

/// Issue 16 item 4: a block we build is executed once, by the build; the chain commits the
/// build's outcome after its checks. The same chain imported by another node executes each
/// block once too, and both end on the same head and state.
#[test]
fn own_blocks_are_executed_once() {
    let (_test, chain, producer) = dev_chain();
    let (_other_test, other, _) = dev_chain();
    let before = block_executions_on_this_thread();
    let mut blocks = Vec::new();
    for n in 1..=4u64 {
        let built = build_next(&producer, &chain, n - 1);
        let outcome = chain
            .insert_built_block(built.block.clone(), built.executed)
            .unwrap();
        assert_eq!(
            outcome,
            InsertOutcome::Canonical {
                number: n,
                gas_used: 21_000
            }
        );
        blocks.push(built.block);
    }
    assert_eq!(
        block_executions_on_this_thread() - before,
        4,
        "one per block"
    );

    let before = block_executions_on_this_thread();
    for block in blocks {
        other.insert_block(block).unwrap();
    }
    assert_eq!(block_executions_on_this_thread() - before, 4);
    assert_eq!(
        other.provider().head().unwrap(),
        chain.provider().head().unwrap()
    );
}

/// Issue 16 item 3: our own blocks carry the parent values their build read, covering every
/// account and slot they change, and the history written from them is the one an import by
/// execution writes: every earlier state reads the same on both chains.
#[test]
fn own_blocks_carry_their_priors_and_write_the_same_history() {
    let (_test, chain, producer) = dev_chain();
    let (_other_test, other, _) = dev_chain();
    let mut blocks = Vec::new();
    let mut touched = std::collections::BTreeSet::new();
    for n in 1..=4u64 {
        let built = build_next(&producer, &chain, n - 1);
        let executed = &built.executed;
        for (address, _) in &executed.output.changes.accounts {
            assert!(
                executed.priors.accounts.contains_key(address),
                "block {n}: no prior for {address}"
            );
            touched.insert(*address);
        }
        for (address, slot, _) in &executed.output.changes.storage {
            assert!(executed.priors.storage.contains_key(&(*address, *slot)));
        }
        chain
            .insert_built_block(built.block.clone(), built.executed)
            .unwrap();
        blocks.push(built.block);
    }
    for block in &blocks {
        other.insert_block(block.clone()).unwrap();
    }
    assert!(touched.len() >= 3, "sender, receiver and signer at least");
    for number in 0..=4u64 {
        let ours = chain.provider().by_number(number).unwrap();
        let theirs = other.provider().by_number(number).unwrap();
        for address in &touched {
            assert_eq!(
                ours.account(address).unwrap(),
                theirs.account(address).unwrap(),
                "{address} after block {number}"
            );
        }
    }
}

/// An outcome that is not the block's, or disagrees with its header, is refused before
/// anything is written, without marking the (valid) block bad: the same block imported with
/// execution afterwards is accepted.
#[test]
fn a_tampered_outcome_is_refused() {
    let (_test, chain, producer) = dev_chain();
    let built = build_next(&producer, &chain, 0);
    let head = chain.provider().head().unwrap();

    let mut wrong_root = built.executed.clone();
    wrong_root.roots.state_root = B256::repeat_byte(7);
    let refused = chain.insert_built_block(built.block.clone(), wrong_root);
    assert!(
        matches!(
            refused,
            Err(ChainError::CarriedOutcome {
                field: CarriedField::StateRoot,
                ..
            })
        ),
        "{refused:?}"
    );

    let mut wrong_gas = built.executed.clone();
    wrong_gas.output.gas_used += 1;
    let refused = chain.insert_built_block(built.block.clone(), wrong_gas);
    assert!(
        matches!(
            refused,
            Err(ChainError::Execution {
                source: ExecutionError::GasUsedMismatch(_),
                ..
            })
        ),
        "{refused:?}"
    );

    // Another block's outcome: a second block built on the same parent at another time.
    let mut other = producer
        .build(BuildRequest {
            parent: built.block.header.parent_hash,
            key: &secret(dev::DEV_VALIDATOR_KEY),
            coinbase: None,
            timestamp: Some(built.block.header.timestamp + 1),
            transactions: Vec::new(),
        })
        .unwrap();
    other.executed.parent_hash = built.block.header.parent_hash;
    let refused = chain.insert_built_block(built.block.clone(), other.executed);
    assert!(
        matches!(
            refused,
            Err(ChainError::CarriedOutcome {
                field: CarriedField::BlockHash,
                ..
            })
        ),
        "{refused:?}"
    );

    assert_eq!(chain.provider().head().unwrap(), head, "nothing written");
    let outcome = chain.insert_block(built.block).unwrap();
    assert!(
        matches!(outcome, InsertOutcome::Canonical { number: 1, .. }),
        "{outcome:?}"
    );
}
