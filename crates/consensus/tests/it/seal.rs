//! Sealing and signer recovery (tribe.md §2).

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::*;
use proptest::prelude::*;
use secp256k1::{PublicKey, SecretKey};
use spectrum_consensus::{SealError, recover_block_signer, seal_hash, sign_header};
use spectrum_primitives::{Bytes, Header, U256, public_key_to_address};

fn unsealed_header(extra_len: usize) -> Header {
    Header {
        number: 64,
        difficulty: U256::from(5),
        gas_limit: 40_000_000,
        timestamp: 1_600_000_000,
        beneficiary: NODE_A,
        extra_data: Bytes::from(vec![0u8; extra_len]),
        ..Header::default()
    }
}

fn address_of(key: &SecretKey) -> spectrum_primitives::Address {
    public_key_to_address(&PublicKey::from_secret_key_global(key))
}

#[test]
fn sign_then_recover_gives_the_key_address() {
    for (_, address, seed) in MULTI_NODES {
        let key = node_key(seed);
        for extra_len in [65, 97, 226] {
            let sealed = sign_header(unsealed_header(extra_len), &key).unwrap();
            assert_eq!(sealed.extra_data.len(), extra_len);
            assert_eq!(recover_block_signer(&sealed).unwrap(), address);
            // Only the seal changed, so the seal hash did not.
            assert_eq!(
                seal_hash(&sealed).unwrap(),
                seal_hash(&unsealed_header(extra_len)).unwrap()
            );
        }
    }
}

#[test]
fn sign_header_reproduces_the_reference_seal_byte_for_byte() {
    // The reference signs with libsecp256k1's RFC 6979 nonce too, so re-sealing a block of
    // node B..E with its node key gives back the exact header.
    let headers = load_headers(DEVNET_MULTI);
    for (letter, address, seed) in MULTI_NODES {
        let key = node_key(seed);
        let mine: Vec<&Header> = headers
            .iter()
            .skip(1)
            .filter(|h| recover_block_signer(h).unwrap() == address)
            .collect();
        assert!(!mine.is_empty(), "node {letter} sealed blocks");
        for header in mine {
            let resealed = sign_header(header.clone(), &key).unwrap();
            assert_eq!(&resealed, header, "node {letter}, block {}", header.number);
            assert_eq!(resealed.hash_slow(), header.hash_slow());
        }
    }
}

#[test]
fn flipping_any_seal_bit_changes_or_breaks_the_signer() {
    let key = node_key(MULTI_NODES[0].2);
    let signer = address_of(&key);
    let sealed = sign_header(unsealed_header(97), &key).unwrap();
    let (mut other, mut broken) = (0, 0);
    for bit in 0..65 * 8 {
        let mut extra = sealed.extra_data.to_vec();
        extra[32 + bit / 8] ^= 1 << (bit % 8);
        let header = Header {
            extra_data: extra.into(),
            ..sealed.clone()
        };
        match recover_block_signer(&header) {
            Ok(address) => {
                assert_ne!(address, signer, "bit {bit}");
                other += 1;
            }
            Err(SealError::InvalidRecoveryId(_) | SealError::Unrecoverable { .. }) => broken += 1,
            Err(e) => panic!("bit {bit}: {e}"),
        }
    }
    assert_eq!(other + broken, 520);
    assert!(other > 0 && broken > 0, "other {other}, broken {broken}");
}

#[test]
fn changing_a_sealed_field_changes_the_signer() {
    let key = node_key(MULTI_NODES[1].2);
    let sealed = sign_header(unsealed_header(97), &key).unwrap();
    let mut vanity = sealed.extra_data.to_vec();
    vanity[0] ^= 1;
    for header in [
        Header {
            number: sealed.number + 1,
            ..sealed.clone()
        },
        Header {
            beneficiary: USER2,
            ..sealed.clone()
        },
        Header {
            extra_data: vanity.into(),
            ..sealed.clone()
        },
    ] {
        assert_ne!(recover_block_signer(&header).ok(), Some(address_of(&key)));
    }
}

#[test]
fn no_room_for_the_seal() {
    let key = node_key(MULTI_NODES[0].2);
    for len in [0, 1, 64] {
        assert_eq!(
            sign_header(unsealed_header(len), &key),
            Err(SealError::ExtraDataTooShort { len, min: 65 })
        );
        assert_eq!(
            recover_block_signer(&unsealed_header(len)),
            Err(SealError::ExtraDataTooShort { len, min: 65 })
        );
    }
}

proptest! {
    #[test]
    fn sign_recover_round_trip(secret in any::<[u8; 32]>(), extra_len in 65usize..300, number: u64) {
        let Ok(key) = SecretKey::from_byte_array(secret) else { return Ok(()) };
        let header = Header { number, ..unsealed_header(extra_len) };
        let sealed = sign_header(header, &key).unwrap();
        prop_assert_eq!(recover_block_signer(&sealed).unwrap(), address_of(&key));
    }
}
