//! On the `dev` chain (our own chief contracts, one validator, signer limit 1, period 1) the
//! dev validator seals block after block with no delay, each passing our verifier, and the
//! chief contract keeps it the round's signer.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, TxKind, U256, hex};
use secp256k1::SecretKey;
use spectrum_chain::{InsertOutcome, test_utils::TestChain};
use spectrum_chainspec::{ChainSpec, dev};
use spectrum_primitives::sign_transaction;
use spectrum_producer::{BlockProducer, BuildRequest, Candidate, ProducerError};

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
