//! Tampered copies of reference blocks are refused by the rule that was broken, each test named
//! for its rule. Re-sealing uses the node keys of devnet-multi (README "Nodes"); node A's key is
//! not known, so A's blocks are only tampered where the rule fires before the seal is read.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;

use common::recorded::{Fixture, devnet_a, devnet_multi, senders_of};
use common::*;
use secp256k1::SecretKey;
use spectrum_chainspec::{ChainSpec, ChiefEntry};
use spectrum_consensus::{
    FixedClock, MAX_GAS_LIMIT, ProviderError, SealError, SignerSet, SignerSetProvider, TribeError,
    TribeValidator, VrfError, check_difficulty, check_difficulty_range, check_gas_limit,
    expected_difficulty, recover_block_signer, sign_header, validate_chief_tx,
    validate_chief_tx_receipt, validate_chief_volunteer, validate_no_uncles,
    validate_transactions_eip155, vrf_message, vrf_prove,
};
use spectrum_primitives::{
    Address, B64, B256, Bytes, Header, SealedBlock, SealedHeader, TxKind, TxLegacy, U256,
    sign_transaction,
};

/// The node key of B, C, D or E.
fn key(letter: &str) -> SecretKey {
    let (_, _, seed) = MULTI_NODES
        .iter()
        .find(|(l, ..)| *l == letter)
        .unwrap_or_else(|| panic!("no key for node {letter}"));
    node_key(seed)
}

/// Block `number`'s header changed by `change`, not re-sealed.
fn changed(fixture: &Fixture, number: u64, change: impl FnOnce(&mut Header)) -> SealedHeader {
    let mut header = fixture.header(number).header().clone();
    change(&mut header);
    SealedHeader::seal(header)
}

/// Block `number`'s header changed by `change`, then sealed by node `letter`.
fn resealed(
    fixture: &Fixture,
    number: u64,
    letter: &str,
    change: impl FnOnce(&mut Header),
) -> SealedHeader {
    let mut header = fixture.header(number).header().clone();
    change(&mut header);
    SealedHeader::seal(sign_header(header, &key(letter)).unwrap())
}

/// `validate_header` of `header` against its real parent.
fn check(fixture: &Fixture, header: &SealedHeader) -> Result<(), TribeError> {
    fixture
        .validator()
        .validate_header(header, fixture.header(header.number - 1))
}

fn signer_of(fixture: &Fixture, number: u64) -> Address {
    recover_block_signer(fixture.header(number)).unwrap()
}

// --- membership (tribe.md §7.3) ---------------------------------------------------------

#[test]
fn unauthorised_signer_outside_the_set_is_rejected() {
    let multi = devnet_multi();
    // 146: D sealed as slot-0 leader; E is neither listed nor a leader then (leaders A, D).
    assert_eq!(signer_of(multi, 146), multi_address("D"));
    let header = resealed(multi, 146, "E", |_| {});
    assert_eq!(
        check(multi, &header),
        Err(TribeError::UnauthorisedSigner {
            signer: multi_address("E"),
            slot: Some(1)
        })
    );
    // Before SIP100 (chief 0.0.7, signers [A], sl = 1): B is not listed.
    let single = devnet_a();
    let header = resealed(single, 30, "B", |_| {});
    assert_eq!(
        check(single, &header),
        Err(TribeError::UnauthorisedSigner {
            signer: multi_address("B"),
            slot: Some(0)
        })
    );
}

#[test]
fn unauthorised_staker_outside_its_slot_is_rejected() {
    let multi = devnet_multi();
    // 112: C's slot (round 110 = [A, B, C, 0, 0]); B is listed at slot 1 only.
    assert_eq!(signer_of(multi, 112), multi_address("C"));
    let header = resealed(multi, 112, "B", |_| {});
    assert_eq!(
        check(multi, &header),
        Err(TribeError::UnauthorisedSigner {
            signer: multi_address("B"),
            slot: Some(2)
        })
    );
    // The rightful staker re-sealing its own block changes nothing.
    let header = resealed(multi, 112, "C", |_| {});
    assert_eq!(header.hash(), multi.header(112).hash());
    assert_eq!(check(multi, &header), Ok(()));
}

#[test]
fn blocks_up_to_three_are_not_signer_checked() {
    // As in the reference (tribe.md §1): blocks 1–3 get the header checks only.
    let single = devnet_a();
    let header = resealed(single, 2, "B", |_| {});
    assert_eq!(check(single, &header), Ok(()));
    // But the header checks do apply.
    let header = changed(single, 2, |h| h.mix_hash = B256::repeat_byte(1));
    assert!(matches!(
        check(single, &header),
        Err(TribeError::NonZeroMixDigest { .. })
    ));
}

// --- timing (tribe.md §2, §7.1, errata E3) ---------------------------------------------------

#[test]
fn signer_before_its_delay_is_rejected() {
    let multi = devnet_multi();
    // 166: B in turn (2 s after 165). D, slot-0 leader of round 165 = [D, B, 0, 0, 0], may
    // stand in for B but only period + 3 = 6 s after the parent.
    assert_eq!(signer_of(multi, 166), multi_address("B"));
    let parent_time = multi.header(165).timestamp;
    let header = resealed(multi, 166, "D", |h| h.difficulty = U256::from(5));
    assert_eq!(
        check(multi, &header),
        Err(TribeError::TooEarly {
            earliest: parent_time + 6,
            got: parent_time + 2
        })
    );
    // At the leader's delay, with its difficulty and its own VRF, D's stand-in block passes.
    let message = vrf_message(165, &multi.header(165).extra_data).unwrap();
    let (output, proof) = vrf_prove(&key("D"), &message).unwrap();
    let header = resealed(multi, 166, "D", |h| {
        h.difficulty = U256::from(5);
        h.timestamp = parent_time + 6;
        let mut extra = output.to_vec();
        extra.extend(proof);
        extra.extend([0u8; 65]);
        h.extra_data = extra.into();
    });
    assert_eq!(check(multi, &header), Ok(()));
}

#[test]
fn timestamp_earlier_than_role_delay_is_rejected() {
    let multi = devnet_multi();
    // 146: D as slot-0 leader out of turn, 6 s after its parent. One second less is too early
    // for its role, though above the header check's period − 1.
    assert_eq!(signer_of(multi, 146), multi_address("D"));
    let parent_time = multi.header(145).timestamp;
    assert_eq!(multi.header(146).timestamp, parent_time + 6);
    let header = resealed(multi, 146, "D", |h| h.timestamp = parent_time + 5);
    assert_eq!(
        check(multi, &header),
        Err(TribeError::TooEarly {
            earliest: parent_time + 6,
            got: parent_time + 5
        })
    );
    // 111: B in turn, 2 s (period − 1). One second is below the header check's minimum gap.
    let parent_time = multi.header(110).timestamp;
    let header = resealed(multi, 111, "B", |h| h.timestamp = parent_time + 1);
    assert_eq!(
        check(multi, &header),
        Err(TribeError::TooEarly {
            earliest: parent_time + 2,
            got: parent_time + 1
        })
    );
}

#[test]
fn future_block_is_rejected() {
    let multi = devnet_multi();
    let header = multi.header(200);
    let now = header.timestamp - 1;
    assert_eq!(
        multi
            .validator_at(now)
            .validate_header(header, multi.header(199)),
        Err(TribeError::FutureBlock {
            time: header.timestamp,
            now
        })
    );
    // Exactly now is not the future.
    assert_eq!(
        multi
            .validator_at(header.timestamp)
            .validate_header(header, multi.header(199)),
        Ok(())
    );
}

// --- difficulty (tribe.md §2, §6; errata E4, E6) ---------------------------------------------

#[test]
fn wrong_difficulty_is_rejected() {
    let multi = devnet_multi();
    // 146: D slot-0 leader out of turn → 5.
    let header = resealed(multi, 146, "D", |h| h.difficulty = U256::from(6));
    assert_eq!(
        check(multi, &header),
        Err(TribeError::WrongDifficulty {
            expected: 5,
            got: U256::from(6)
        })
    );
    // 111: B in turn → 6.
    let header = resealed(multi, 111, "B", |h| h.difficulty = U256::from(5));
    assert_eq!(
        check(multi, &header),
        Err(TribeError::WrongDifficulty {
            expected: 6,
            got: U256::from(5)
        })
    );
}

#[test]
fn difficulty_out_of_range_is_rejected() {
    let multi = devnet_multi();
    for bad in [0u64, 7, 1 << 40] {
        let header = resealed(multi, 146, "D", |h| h.difficulty = U256::from(bad));
        assert_eq!(
            check(multi, &header),
            Err(TribeError::DifficultyOutOfRange {
                got: U256::from(bad),
                min: 1,
                max: 6
            })
        );
    }
    // Before chief 1.0.0 the range is 1..=3 (fires before the seal is read).
    let single = devnet_a();
    let header = changed(single, 30, |h| h.difficulty = U256::from(4));
    assert_eq!(
        check(single, &header),
        Err(TribeError::DifficultyOutOfRange {
            got: U256::from(4),
            min: 1,
            max: 3
        })
    );
}

#[test]
fn difficulty_role_is_not_checked_at_chief_start_blocks_but_the_range_is() {
    // errata E6: every chief start block (devnet 3 and 63) is a skip block for the role rule.
    // Its range is checked (stricter than the reference, which let a forged chief start block
    // of any difficulty outweigh the chain).
    let single = devnet_a();
    let spec = &single.spec;
    let chief = spec.chief_at(63).unwrap();
    let set = single
        .provider
        .signer_set(single.header(62), chief)
        .unwrap();
    for (number, max) in [(3u64, 3u64), (63, 6)] {
        let mut header = single.header(number).header().clone();
        header.difficulty = U256::from(99);
        assert_eq!(
            check_difficulty_range(spec, &header),
            Err(TribeError::DifficultyOutOfRange {
                got: U256::from(99),
                min: 1,
                max
            })
        );
        assert_eq!(check_difficulty(spec, chief, &header, NODE_A, &set), Ok(()));
        header.difficulty = U256::from(1);
        assert_eq!(check_difficulty_range(spec, &header), Ok(()));
        assert_eq!(check_difficulty(spec, chief, &header, NODE_A, &set), Ok(()));
    }
    // Block 64 is no skip block: A's role there gives 5 (the difficulty block 64 carries).
    assert_eq!(expected_difficulty(spec, chief, 64, NODE_A, &set), 5);
    let mut header = single.header(64).header().clone();
    header.difficulty = U256::from(4);
    assert_eq!(
        check_difficulty(spec, chief, &header, NODE_A, &set),
        Err(TribeError::WrongDifficulty {
            expected: 5,
            got: U256::from(4)
        })
    );
}

// --- VRF (tribe.md §4) -------------------------------------------------------------------

#[test]
fn vrf_output_bit_flip_is_rejected() {
    let multi = devnet_multi();
    let header = resealed(multi, 146, "D", |h| {
        let mut extra = h.extra_data.to_vec();
        extra[5] ^= 0x10;
        h.extra_data = extra.into();
    });
    assert!(matches!(
        check(multi, &header),
        Err(TribeError::Vrf(VrfError::OutputMismatch { .. }))
    ));
}

#[test]
fn vrf_proof_bit_flip_is_rejected() {
    let multi = devnet_multi();
    // A bit of s, of t and of Γ's X.
    for byte in [40usize, 80, 120] {
        let header = resealed(multi, 146, "D", |h| {
            let mut extra = h.extra_data.to_vec();
            extra[byte] ^= 0x01;
            h.extra_data = extra.into();
        });
        assert!(
            matches!(check(multi, &header), Err(TribeError::Vrf(_))),
            "byte {byte}"
        );
    }
}

// --- standalone header fields (tribe.md §2, §3; errata E1) -----------------------------------

#[test]
fn uncle_hash_set_is_rejected() {
    let multi = devnet_multi();
    let header = resealed(multi, 146, "D", |h| h.ommers_hash = B256::repeat_byte(7));
    assert_eq!(
        check(multi, &header),
        Err(TribeError::HasUncles {
            uncle_hash: B256::repeat_byte(7)
        })
    );
    let mut block = multi.block(146).clone();
    block.body.ommers.push(multi.header(145).header().clone());
    assert_eq!(
        validate_no_uncles(&block),
        Err(TribeError::UnclesInBody { count: 1 })
    );
}

#[test]
fn non_zero_mix_digest_is_rejected() {
    let multi = devnet_multi();
    let header = resealed(multi, 146, "D", |h| h.mix_hash = B256::with_last_byte(1));
    assert_eq!(
        check(multi, &header),
        Err(TribeError::NonZeroMixDigest {
            got: B256::with_last_byte(1)
        })
    );
}

#[test]
fn bad_nonce_is_rejected() {
    let multi = devnet_multi();
    let nonce = B64::new([0, 0, 0, 0, 0, 0, 0, 1]);
    let header = resealed(multi, 146, "D", |h| h.nonce = nonce);
    assert_eq!(
        check(multi, &header),
        Err(TribeError::InvalidNonce { nonce })
    );
    // All ones is the other allowed nonce.
    let header = resealed(multi, 146, "D", |h| h.nonce = B64::new([0xff; 8]));
    assert_eq!(check(multi, &header), Ok(()));
}

#[test]
fn short_extra_data_is_rejected() {
    let multi = devnet_multi();
    // From SIP100: 161 + 65 = 226 bytes at least.
    for len in [225usize, 97] {
        let header = resealed(multi, 146, "D", |h| {
            let extra = h.extra_data.to_vec();
            h.extra_data = Bytes::copy_from_slice(&extra[extra.len() - len..]);
        });
        assert_eq!(
            check(multi, &header),
            Err(TribeError::ExtraDataTooShort { len, min: 226 })
        );
    }
    // Before SIP100: 97 bytes at least, any longer length accepted (errata E1; blocks 7–14
    // carry 226 and pass the all-blocks test).
    let single = devnet_a();
    let header = changed(single, 30, |h| h.extra_data = h.extra_data.slice(1..));
    assert_eq!(
        check(single, &header),
        Err(TribeError::ExtraDataTooShort { len: 96, min: 97 })
    );
    assert_eq!(single.header(7).extra_data.len(), 226);
}

#[test]
fn zero_coinbase_from_sip100_is_rejected() {
    let multi = devnet_multi();
    let header = resealed(multi, 146, "D", |h| h.beneficiary = Address::ZERO);
    assert_eq!(check(multi, &header), Err(TribeError::ZeroCoinbase));
    // Any non-zero coinbase is fine (C's blocks carry user2's wallet, README).
    let header = resealed(multi, 146, "D", |h| h.beneficiary = USER2);
    assert_eq!(check(multi, &header), Ok(()));
}

#[test]
fn unreadable_seal_is_rejected() {
    let multi = devnet_multi();
    let header = changed(multi, 146, |h| {
        let mut extra = h.extra_data.to_vec();
        *extra.last_mut().unwrap() = 9;
        h.extra_data = extra.into();
    });
    assert_eq!(
        check(multi, &header),
        Err(TribeError::Seal(SealError::InvalidRecoveryId(9)))
    );
}

#[test]
fn bad_block_hash_is_rejected() {
    let multi = devnet_multi();
    let header = multi.header(146);
    let mut spec = (*multi.spec).clone();
    spec.tribe.bad_blocks.push(header.hash());
    let validator = TribeValidator::new(
        Arc::new(spec),
        multi.provider.clone(),
        Arc::new(FixedClock(multi.head_time())),
    );
    assert_eq!(
        validator.validate_header(header, multi.header(145)),
        Err(TribeError::BadBlock {
            hash: header.hash()
        })
    );
}

#[test]
fn parent_mismatch_is_rejected() {
    let multi = devnet_multi();
    let validator = multi.validator();
    let header = multi.header(146);
    assert_eq!(
        validator.validate_header(header, multi.header(144)),
        Err(TribeError::ParentHashMismatch {
            expected: multi.header(144).hash(),
            got: multi.header(145).hash()
        })
    );
    let header = resealed(multi, 146, "D", |h| h.number = 147);
    assert_eq!(
        validator.validate_header(&header, multi.header(145)),
        Err(TribeError::InvalidNumber {
            parent: 145,
            got: 147
        })
    );
}

// --- gas (chain.md §7, errata E5) ---------------------------------------------------------

#[test]
fn gas_limit_floor_on_both_sides_of_the_devnet_boundary() {
    let single = devnet_a();
    assert_eq!(single.validator().gas_limit_rules_from(), 58);
    // Below the boundary the snapshot's own history passes in full: 56 is under the 40M floor,
    // 57 breaks the parent/1024 bound.
    for number in [56u64, 57] {
        assert_eq!(
            check(single, single.header(number)),
            Ok(()),
            "block {number}"
        );
    }
    // Without the devnet exception both would be refused.
    let floor = check_gas_limit(&single.spec, single.header(56), single.header(55), 0);
    assert_eq!(
        floor,
        Err(TribeError::GasLimitBelowFloor {
            limit: 15_942_086,
            floor: 40_000_000
        })
    );
    let bound = check_gas_limit(&single.spec, single.header(57), single.header(56), 0);
    assert_eq!(
        bound,
        Err(TribeError::GasLimitBound {
            parent: 15_942_086,
            got: 40_000_000,
            max_delta: 15_568
        })
    );
    // From the boundary on the floor applies: 58 under 40M is refused (before the seal).
    let header = changed(single, 58, |h| h.gas_limit = 39_999_999);
    assert_eq!(
        check(single, &header),
        Err(TribeError::GasLimitBelowFloor {
            limit: 39_999_999,
            floor: 40_000_000
        })
    );
    // The same header one block earlier would not be floor-checked.
    assert_eq!(
        check_gas_limit(
            &single.spec,
            &Header {
                number: 57,
                ..header.header().clone()
            },
            single.header(56),
            58
        ),
        Ok(())
    );
}

#[test]
fn gas_limit_bound_from_the_devnet_boundary() {
    let multi = devnet_multi();
    // 40,000,000 / 1024 = 39,062: a change of 39,062 is refused, 39,061 is not.
    let header = resealed(multi, 146, "D", |h| h.gas_limit = 40_039_062);
    assert_eq!(
        check(multi, &header),
        Err(TribeError::GasLimitBound {
            parent: 40_000_000,
            got: 40_039_062,
            max_delta: 39_062
        })
    );
    let header = resealed(multi, 146, "D", |h| h.gas_limit = 40_039_061);
    assert_eq!(check(multi, &header), Ok(()));
}

#[test]
fn gas_used_above_limit_is_rejected() {
    let multi = devnet_multi();
    let header = resealed(multi, 146, "D", |h| h.gas_used = h.gas_limit + 1);
    assert_eq!(
        check(multi, &header),
        Err(TribeError::GasUsedAboveLimit {
            used: 40_000_001,
            limit: 40_000_000
        })
    );
}

#[test]
fn gas_limit_above_max_is_rejected() {
    let multi = devnet_multi();
    let header = resealed(multi, 146, "D", |h| h.gas_limit = MAX_GAS_LIMIT + 1);
    assert_eq!(
        check(multi, &header),
        Err(TribeError::GasLimitTooHigh {
            limit: MAX_GAS_LIMIT + 1,
            max: MAX_GAS_LIMIT
        })
    );
}

// --- signer set (tribe.md §5) --------------------------------------------------------------

struct FixedSet(Result<SignerSet, ProviderError>);

impl SignerSetProvider for FixedSet {
    fn signer_set(&self, _: &SealedHeader, _: &ChiefEntry) -> Result<SignerSet, ProviderError> {
        self.0.clone()
    }
}

fn validator_with(fixture: &Fixture, provider: FixedSet) -> TribeValidator {
    TribeValidator::new(
        Arc::new(ChainSpec::devnet()),
        Arc::new(provider),
        Arc::new(FixedClock(fixture.head_time())),
    )
}

#[test]
fn provider_failure_rejects_the_block() {
    let multi = devnet_multi();
    let error = ProviderError::MissingState {
        number: 145,
        hash: multi.header(145).hash(),
    };
    let validator = validator_with(multi, FixedSet(Err(error.clone())));
    assert_eq!(
        validator.validate_header(multi.header(146), multi.header(145)),
        Err(TribeError::Provider(error))
    );
}

#[test]
fn empty_leader_list_from_sip100_rejects_the_block() {
    let multi = devnet_multi();
    let set = SignerSet {
        signers: vec![multi_address("D"), Address::ZERO],
        leaders: vec![],
    };
    let validator = validator_with(multi, FixedSet(Ok(set)));
    assert_eq!(
        validator.validate_header(multi.header(146), multi.header(145)),
        Err(TribeError::NoLeaders {
            parent: multi.header(145).hash()
        })
    );
}

// --- chief-update transaction (tribe.md §8) --------------------------------------------------

/// Block `number` with its transactions rearranged by `change`, and the senders.
fn with_txs(
    fixture: &Fixture,
    number: u64,
    change: impl FnOnce(&mut Vec<spectrum_primitives::TransactionSigned>),
) -> (SealedBlock, Vec<Address>) {
    let mut block = fixture.block(number).clone();
    change(&mut block.body.transactions);
    let senders = senders_of(&block);
    (block, senders)
}

#[test]
fn chief_tx_missing_is_rejected() {
    let multi = devnet_multi();
    // 216: D's block with the chief update and one user tx.
    assert_eq!(multi.block(216).body.transactions.len(), 2);
    let (block, senders) = with_txs(multi, 216, |txs| {
        txs.remove(0);
    });
    assert_eq!(
        validate_chief_tx(&block, &senders, &multi.spec),
        Err(TribeError::MissingChiefTx)
    );
    let (block, senders) = with_txs(multi, 146, |txs| txs.clear());
    assert_eq!(
        validate_chief_tx(&block, &senders, &multi.spec),
        Err(TribeError::NoTransactions)
    );
}

#[test]
fn chief_tx_duplicated_is_rejected() {
    let multi = devnet_multi();
    let (block, senders) = with_txs(multi, 216, |txs| {
        let chief = txs[0].clone();
        txs.push(chief);
    });
    assert_eq!(
        validate_chief_tx(&block, &senders, &multi.spec),
        Err(TribeError::DuplicateChiefTx { index: 2 })
    );
}

#[test]
fn chief_tx_moved_is_rejected() {
    let multi = devnet_multi();
    let (block, senders) = with_txs(multi, 216, |txs| txs.swap(0, 1));
    assert_eq!(
        validate_chief_tx(&block, &senders, &multi.spec),
        Err(TribeError::ChiefTxNotFirst { index: 1 })
    );
}

#[test]
fn chief_tx_sent_by_another_key_is_rejected() {
    let multi = devnet_multi();
    assert_eq!(signer_of(multi, 216), multi_address("D"));
    let (block, senders) = with_txs(multi, 216, |txs| {
        txs[0] = sign_transaction(txs[0].tx().clone(), &key("E"));
    });
    assert_eq!(
        validate_chief_tx(&block, &senders, &multi.spec),
        Err(TribeError::ChiefTxSender {
            sender: multi_address("E"),
            signer: multi_address("D")
        })
    );
}

#[test]
fn chief_tx_to_a_non_chief_address_does_not_count() {
    let multi = devnet_multi();
    let (block, senders) = with_txs(multi, 216, |txs| {
        let mut tx = txs[0].tx().clone();
        tx.to = TxKind::Call(USER2);
        txs[0] = sign_transaction(tx, &key("D"));
    });
    assert_eq!(
        validate_chief_tx(&block, &senders, &multi.spec),
        Err(TribeError::MissingChiefTx)
    );
    // From SIP100 only chief 1.0.0 counts: an update sent to chief 0.0.7 is not one.
    let old_chief = multi.spec.chief_at(62).unwrap().address;
    let (block, senders) = with_txs(multi, 216, |txs| {
        let mut tx = txs[0].tx().clone();
        tx.to = TxKind::Call(old_chief);
        txs[0] = sign_transaction(tx, &key("D"));
    });
    assert_eq!(
        validate_chief_tx(&block, &senders, &multi.spec),
        Err(TribeError::MissingChiefTx)
    );
}

#[test]
fn chief_tx_senders_must_match_the_transactions() {
    let multi = devnet_multi();
    let block = multi.block(216);
    assert_eq!(
        validate_chief_tx(block, &[multi_address("D")], &multi.spec),
        Err(TribeError::SendersLength {
            senders: 1,
            transactions: 2
        })
    );
}

#[test]
fn chief_tx_receipt_must_succeed_from_sip100() {
    let spec = ChainSpec::devnet();
    assert_eq!(
        validate_chief_tx_receipt(&spec, 63, Some(false)),
        Err(TribeError::ChiefTxFailed)
    );
    assert_eq!(
        validate_chief_tx_receipt(&spec, 63, None),
        Err(TribeError::ChiefTxFailed)
    );
    assert_eq!(validate_chief_tx_receipt(&spec, 63, Some(true)), Ok(()));
    assert_eq!(validate_chief_tx_receipt(&spec, 62, Some(false)), Ok(()));
}

#[test]
fn wrong_volunteer_is_rejected() {
    let multi = devnet_multi();
    // 88: the chief update picks B as volunteer (README "Sequence").
    let block = multi.block(88);
    let got = spectrum_consensus::chief_tx_volunteer(&block.body.transactions[0].tx().input);
    assert_eq!(got, multi_address("B"));
    let expected = Address::repeat_byte(0x42);
    assert_eq!(
        validate_chief_volunteer(block, &multi.spec, expected),
        Err(TribeError::WrongVolunteer { expected, got })
    );
    assert_eq!(validate_chief_volunteer(block, &multi.spec, got), Ok(()));
}

// --- EIP-155 (tribe.md §14.2, chain.md §8) ---------------------------------------------------

fn unprotected_transfer() -> spectrum_primitives::TransactionSigned {
    sign_transaction(
        TxLegacy {
            chain_id: None,
            nonce: 0,
            gas_price: 18_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(USER2),
            value: U256::from(1),
            input: Bytes::new(),
        },
        &key("B"),
    )
}

#[test]
fn unprotected_tx_after_sip003_is_rejected() {
    let multi = devnet_multi();
    let tx = unprotected_transfer();
    assert!(!tx.is_protected());
    let hash = tx.hash();
    let (block, _) = with_txs(multi, 216, |txs| txs.push(tx.clone()));
    assert_eq!(
        validate_transactions_eip155(&block, &multi.spec),
        Err(TribeError::UnprotectedTransaction { index: 2, hash })
    );
    // Devnet SIP003 is block 3: block 3 is checked, block 2 is not.
    let single = devnet_a();
    let (block, _) = with_txs(single, 3, |txs| txs.push(tx.clone()));
    let index = block.body.transactions.len() - 1;
    assert_eq!(
        validate_transactions_eip155(&block, &single.spec),
        Err(TribeError::UnprotectedTransaction { index, hash })
    );
    let (block, _) = with_txs(single, 2, |txs| txs.push(tx.clone()));
    assert_eq!(validate_transactions_eip155(&block, &single.spec), Ok(()));
}
