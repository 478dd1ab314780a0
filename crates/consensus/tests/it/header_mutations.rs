//! Random mutations of valid reference headers (one random field, random value) never panic
//! and never pass unless the mutation changed nothing.
//!
//! Only blocks N ≥ 4 are mutated: the seal covers every header field, and blocks 1–3 are not
//! seal-checked at all (tribe.md §1, as the reference), so a changed state root of block 2 is
//! valid there.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::recorded::{Fixture, devnet_a, devnet_multi};
use proptest::prelude::*;
use spectrum_primitives::{Address, B64, B256, Bloom, Bytes, Header, SealedHeader, U256};

#[derive(Debug, Clone)]
enum Mutation {
    ParentHash(B256),
    OmmersHash(B256),
    Beneficiary(Address),
    StateRoot(B256),
    TransactionsRoot(B256),
    ReceiptsRoot(B256),
    BloomByte(usize, u8),
    Difficulty(U256),
    DifficultySmall(u64),
    Number(u64),
    NumberDelta(i64),
    GasLimit(u64),
    GasLimitDelta(i64),
    GasUsed(u64),
    Timestamp(u64),
    TimestampDelta(i64),
    ExtraData(Vec<u8>),
    ExtraByte(usize, u8),
    ExtraTruncate(usize),
    ExtraAppend(Vec<u8>),
    MixHash(B256),
    Nonce([u8; 8]),
}

fn b256() -> impl Strategy<Value = B256> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(B256::from),
        Just(B256::ZERO),
        any::<u8>().prop_map(B256::with_last_byte),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        b256().prop_map(Mutation::ParentHash),
        b256().prop_map(Mutation::OmmersHash),
        any::<[u8; 20]>().prop_map(|a| Mutation::Beneficiary(Address::from(a))),
        b256().prop_map(Mutation::StateRoot),
        b256().prop_map(Mutation::TransactionsRoot),
        b256().prop_map(Mutation::ReceiptsRoot),
        (0usize..256, any::<u8>()).prop_map(|(i, b)| Mutation::BloomByte(i, b)),
        any::<[u8; 32]>().prop_map(|d| Mutation::Difficulty(U256::from_be_bytes(d))),
        (0u64..8).prop_map(Mutation::DifficultySmall),
        any::<u64>().prop_map(Mutation::Number),
        (-3i64..=3).prop_map(Mutation::NumberDelta),
        any::<u64>().prop_map(Mutation::GasLimit),
        (-100_000i64..=100_000).prop_map(Mutation::GasLimitDelta),
        any::<u64>().prop_map(Mutation::GasUsed),
        any::<u64>().prop_map(Mutation::Timestamp),
        (-30i64..=30).prop_map(Mutation::TimestampDelta),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Mutation::ExtraData),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::ExtraByte(i, b)),
        any::<usize>().prop_map(Mutation::ExtraTruncate),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(Mutation::ExtraAppend),
        b256().prop_map(Mutation::MixHash),
        prop_oneof![Just([0u8; 8]), Just([0xff; 8]), any::<[u8; 8]>()].prop_map(Mutation::Nonce),
    ]
}

fn apply(header: &Header, mutation: &Mutation) -> Header {
    let mut h = header.clone();
    match mutation {
        Mutation::ParentHash(v) => h.parent_hash = *v,
        Mutation::OmmersHash(v) => h.ommers_hash = *v,
        Mutation::Beneficiary(v) => h.beneficiary = *v,
        Mutation::StateRoot(v) => h.state_root = *v,
        Mutation::TransactionsRoot(v) => h.transactions_root = *v,
        Mutation::ReceiptsRoot(v) => h.receipts_root = *v,
        Mutation::BloomByte(i, b) => {
            let mut bloom = h.logs_bloom.0;
            bloom[*i] = *b;
            h.logs_bloom = Bloom::from(bloom);
        }
        Mutation::Difficulty(v) => h.difficulty = *v,
        Mutation::DifficultySmall(v) => h.difficulty = U256::from(*v),
        Mutation::Number(v) => h.number = *v,
        Mutation::NumberDelta(d) => h.number = h.number.wrapping_add_signed(*d),
        Mutation::GasLimit(v) => h.gas_limit = *v,
        Mutation::GasLimitDelta(d) => h.gas_limit = h.gas_limit.wrapping_add_signed(*d),
        Mutation::GasUsed(v) => h.gas_used = *v,
        Mutation::Timestamp(v) => h.timestamp = *v,
        Mutation::TimestampDelta(d) => h.timestamp = h.timestamp.wrapping_add_signed(*d),
        Mutation::ExtraData(v) => h.extra_data = Bytes::from(v.clone()),
        Mutation::ExtraByte(i, b) => {
            let mut extra = h.extra_data.to_vec();
            if !extra.is_empty() {
                let i = i % extra.len();
                extra[i] = *b;
            }
            h.extra_data = extra.into();
        }
        Mutation::ExtraTruncate(n) => {
            let len = h.extra_data.len();
            h.extra_data = h.extra_data.slice(..n % (len + 1));
        }
        Mutation::ExtraAppend(v) => {
            let mut extra = h.extra_data.to_vec();
            extra.extend(v);
            h.extra_data = extra.into();
        }
        Mutation::MixHash(v) => h.mix_hash = *v,
        Mutation::Nonce(v) => h.nonce = B64::from(*v),
    }
    h
}

fn fixture(multi: bool) -> &'static Fixture {
    if multi { devnet_multi() } else { devnet_a() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn mutated_headers_never_pass_unless_unchanged(
        multi in any::<bool>(),
        pick in any::<prop::sample::Index>(),
        mutation in mutation(),
    ) {
        let fixture = fixture(multi);
        // Blocks 4..=head.
        let number = 4 + pick.index(fixture.blocks.len() - 4) as u64;
        let original = fixture.header(number);
        let parent = fixture.header(number - 1);
        let mutated = apply(original.header(), &mutation);
        let result = fixture
            .validator()
            .validate_header(&SealedHeader::seal(mutated.clone()), parent);
        if mutated == *original.header() {
            prop_assert_eq!(result, Ok(()), "no-op {:?} on block {}", mutation, number);
        } else {
            prop_assert!(
                result.is_err(),
                "{:?} on block {} of {} passed",
                mutation,
                number,
                fixture.name
            );
        }
    }
}

proptest! {
    /// The role rules (tribe.md §6, §7) over any signer set, number and signer: no panic, no
    /// division by zero on an empty list, and the difficulty stays within 0..=6.
    #[test]
    fn role_rules_never_panic_on_any_signer_set(
        signers in proptest::collection::vec(0u8..6, 0..20),
        leaders in proptest::collection::vec(0u8..6, 0..8),
        signer in 0u8..6,
        number in any::<u64>(),
        chief_100 in any::<bool>(),
    ) {
        use spectrum_consensus::{
            SignerSet, check_signer_authorised, expected_difficulty, role_delay,
        };
        let spec = spectrum_chainspec::ChainSpec::mainnet();
        let chief = spec
            .tribe
            .chiefs
            .iter()
            .find(|c| (c.version == "1.0.0") == chief_100)
            .unwrap();
        let set = SignerSet {
            signers: signers.into_iter().map(Address::with_last_byte).collect(),
            leaders: leaders.into_iter().map(Address::with_last_byte).collect(),
        };
        let signer = Address::with_last_byte(signer);
        let difficulty = expected_difficulty(&spec, chief, number, signer, &set);
        prop_assert!(difficulty <= 6);
        let delay = role_delay(&spec, chief, number, signer, &set);
        prop_assert!((14..=15 + 23 + 4 * 8).contains(&delay), "delay {}", delay);
        let _ = check_signer_authorised(&spec, number, signer, &set);
    }
}
