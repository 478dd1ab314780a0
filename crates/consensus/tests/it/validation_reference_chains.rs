//! Every block of both reference chains passes every Tribe rule, with the signer sets the
//! reference node recorded (tribe.md §2–§8, chain.md §7, errata.md).

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::BTreeMap;

use common::recorded::{Fixture, devnet_a, devnet_multi};
use common::*;
use spectrum_consensus::{
    CHIEF_NUMBER, SignerSetProvider, TribeError, expected_difficulty, recover_block_signer,
    role_delay, take_miner, validate_chief_tx, validate_chief_tx_receipt, validate_chief_volunteer,
    validate_transactions_eip155,
};
use spectrum_primitives::{Address, B256};

/// Runs every pre-execution rule on blocks 1..=head and the receipt rule with the recorded
/// receipts; returns how many blocks got the signer rules (N > 3).
fn validate_every_block(fixture: &Fixture) -> usize {
    let validator = fixture.validator();
    let mut signer_checked = 0;
    for pair in fixture.blocks.windows(2) {
        let (parent, block) = (&pair[0], &pair[1]);
        let number = block.number();
        let senders = fixture.senders(number);
        validator
            .validate_header(&block.header, &parent.header)
            .unwrap_or_else(|e| panic!("{}: block {number}: header: {e}", fixture.name));
        validate_chief_tx(block, &senders, &fixture.spec)
            .unwrap_or_else(|e| panic!("{}: block {number}: chief tx: {e}", fixture.name));
        validate_transactions_eip155(block, &fixture.spec)
            .unwrap_or_else(|e| panic!("{}: block {number}: EIP-155: {e}", fixture.name));
        let author = validator
            .validate_block_pre_execution(block, &parent.header, &senders)
            .unwrap_or_else(|e| panic!("{}: block {number}: block: {e}", fixture.name));
        let sealed_by = (number > 3).then(|| recover_block_signer(&block.header).unwrap());
        assert_eq!(
            author, sealed_by,
            "{}: block {number}: author",
            fixture.name
        );
        let first_ok = if block.body.transactions.is_empty() {
            None
        } else {
            fixture.receipt_succeeded(number, 0)
        };
        validate_chief_tx_receipt(&fixture.spec, number, first_ok)
            .unwrap_or_else(|e| panic!("{}: block {number}: receipt: {e}", fixture.name));
        if number > CHIEF_NUMBER {
            signer_checked += 1;
        }
    }
    signer_checked
}

#[test]
fn devnet_a_every_block_passes_header_and_chief_tx_rules() {
    let fixture = devnet_a();
    assert_eq!(fixture.blocks.len(), 221);
    assert_eq!(validate_every_block(fixture), 217, "blocks 4..=220");
}

#[test]
fn devnet_multi_every_block_passes_header_and_chief_tx_rules() {
    let fixture = devnet_multi();
    assert_eq!(fixture.blocks.len(), 413);
    assert_eq!(validate_every_block(fixture), 409, "blocks 4..=412");
}

/// The difficulty/delay ladder of devnet-multi's README ("Difficulty and delay per role"):
/// every block 64..=412 sits exactly at the minimum delay of its role, and the pairs
/// (difficulty, delay) that occur are those of the table.
#[test]
fn devnet_multi_blocks_sit_at_their_role_delay() {
    let fixture = devnet_multi();
    let chief = fixture.spec.chief_at(64).unwrap();
    let mut ladder = BTreeMap::<(u64, u64), usize>::new();
    for number in 64..=412u64 {
        let header = fixture.header(number);
        let parent = fixture.header(number - 1);
        let set = fixture.provider.signer_set(parent, chief).unwrap();
        let signer = recover_block_signer(header).unwrap();
        let difficulty = expected_difficulty(&fixture.spec, chief, number, signer, &set);
        let delay = role_delay(&fixture.spec, chief, number, signer, &set);
        let gap = header.timestamp - parent.timestamp;
        if number == 358 {
            // README: the master was restarted between 357 and 358 (124 s).
            assert_eq!(gap, 124);
        } else {
            assert_eq!(gap, delay, "block {number}: gap = role delay");
        }
        *ladder.entry((difficulty, delay)).or_default() += 1;
    }
    let pairs: Vec<(u64, u64)> = ladder.keys().copied().collect();
    assert_eq!(pairs, [(3, 14), (4, 10), (5, 6), (6, 2)], "{ladder:?}");
}

/// The chief 1.0.0 constructor list the provider builds for block 63 is what the reference
/// reported after block 63 (whose update at slot 3 leaves slot 0 alone).
#[test]
fn first_chief_100_block_uses_the_constructor_list() {
    for fixture in [devnet_a(), devnet_multi()] {
        let chief = fixture.spec.chief_at(63).unwrap();
        assert_eq!(chief.version, "1.0.0");
        let set = fixture
            .provider
            .signer_set(fixture.header(62), chief)
            .unwrap();
        assert_eq!(set, fixture.provider.record(63).unwrap().set);
        assert_eq!(set.signers.len(), 5);
        assert_eq!(set.signers[0], NODE_A);
        // Block 63 is the slot-0 leader out of turn: difficulty 5, delay period + 3 (errata E3,
        // E6: the same value the skipped difficulty check would have asked).
        assert_eq!(
            expected_difficulty(&fixture.spec, chief, 63, NODE_A, &set),
            5
        );
        assert_eq!(
            fixture.header(63).difficulty,
            spectrum_primitives::U256::from(5)
        );
    }
}

/// `takeMiner` (tribe.md §8.1) over the lists the reference recorded at each parent gives the
/// volunteer of every chief update from block 64 (349 blocks, 113 of them non-zero per the
/// README), and the volunteer rule accepts each block.
#[test]
fn devnet_multi_volunteer_is_take_miner_of_the_parent_lists() {
    let fixture = devnet_multi();
    let mut non_zero = 0;
    for number in 63..=412u64 {
        let block = fixture.block(number);
        let parent = fixture.provider.record(number - 1).unwrap();
        let vrfn = B256::from_slice(&block.header.extra_data[..32]);
        let mut excluded = parent.volunteers.clone();
        excluded.extend(&parent.set.signers);
        let expected = take_miner(
            vrfn,
            parent.normal_list.as_deref().unwrap_or_default(),
            &excluded,
        );
        if number == 63 {
            // The first SIP100 block: the parent is under chief 0.0.7, any volunteer is accepted.
            validate_chief_volunteer(block, &fixture.spec, Address::repeat_byte(0x42)).unwrap();
            continue;
        }
        validate_chief_volunteer(block, &fixture.spec, expected)
            .unwrap_or_else(|e| panic!("block {number}: {e}"));
        if expected != Address::ZERO {
            non_zero += 1;
        }
    }
    assert_eq!(
        non_zero, 113,
        "README: non-zero volunteer in 113 of blocks 64–412"
    );
}

#[test]
fn devnet_a_volunteer_before_sip100_is_not_checked() {
    let fixture = devnet_a();
    for number in 4..=62u64 {
        validate_chief_volunteer(
            fixture.block(number),
            &fixture.spec,
            Address::repeat_byte(1),
        )
        .unwrap();
    }
    // From 64 a wrong expectation is caught.
    assert!(matches!(
        validate_chief_volunteer(fixture.block(64), &fixture.spec, Address::repeat_byte(1)),
        Err(TribeError::WrongVolunteer { .. })
    ));
}
