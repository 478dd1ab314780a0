//! VRF proving and verification (tribe.md §4, errata "Confirmed by the data"): real proofs
//! from the multi chain, every kind of corruption, and round trips.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::*;
use proptest::prelude::*;
use secp256k1::{PublicKey, SecretKey, constants};
use spectrum_consensus::{
    EXTRA_VRF, PointDefect, SealError, VRF_PROOF_LEN, VrfError, recover_block_signer, sign_header,
    verify_block_vrf, vrf_message, vrf_prove, vrf_verify,
};
use spectrum_primitives::{B256, Bytes, Header};

/// A VRF block sealed by a node whose key we have, with everything needed to check it.
struct Fixture {
    parent: Header,
    header: Header,
    key: SecretKey,
    public: PublicKey,
    message: Vec<u8>,
    proof: Vec<u8>,
    output: [u8; 32],
}

/// Block 111, B's first block (in turn, SIP100 era), and its parent 110.
fn fixture() -> Fixture {
    let headers = load_headers(DEVNET_MULTI);
    let (parent, header) = (headers[110].clone(), headers[111].clone());
    let (_, address, seed) = MULTI_NODES[0];
    assert_eq!(recover_block_signer(&header).unwrap(), address);
    let key = node_key(seed);
    let message = vrf_message(parent.number, &parent.extra_data).unwrap();
    let proof = header.extra_data[32..EXTRA_VRF].to_vec();
    let output = header.extra_data[..32].try_into().unwrap();
    Fixture {
        parent,
        header,
        public: PublicKey::from_secret_key_global(&key),
        key,
        message,
        proof,
        output,
    }
}

fn with_extra(header: &Header, extra: Vec<u8>) -> Header {
    Header {
        extra_data: extra.into(),
        ..header.clone()
    }
}

#[test]
fn reference_proof_verifies_to_the_header_output() {
    let f = fixture();
    assert_eq!(
        vrf_verify(&f.public, &f.message, &f.proof).unwrap(),
        f.output
    );
    verify_block_vrf(&f.header, &f.parent).unwrap();
}

#[test]
fn flipping_any_proof_bit_fails() {
    let f = fixture();
    for bit in 0..VRF_PROOF_LEN * 8 {
        let mut proof = f.proof.clone();
        proof[bit / 8] ^= 1 << (bit % 8);
        let err = vrf_verify(&f.public, &f.message, &proof).unwrap_err();
        match bit / 8 {
            0..32 => assert!(
                matches!(
                    err,
                    VrfError::ProofMismatch { .. } | VrfError::ScalarOutOfRange { name: "s", .. }
                ),
                "s bit {bit}: {err}"
            ),
            32..64 => assert!(
                matches!(
                    err,
                    VrfError::ProofMismatch { .. } | VrfError::ScalarOutOfRange { name: "t", .. }
                ),
                "t bit {bit}: {err}"
            ),
            _ => assert!(
                matches!(err, VrfError::BadPointEncoding { .. }),
                "Γ bit {bit}: {err}"
            ),
        }
        // In a block the same flip fails too (and changes the seal hash, hence the key).
        let mut extra = f.header.extra_data.to_vec();
        extra[32 + bit / 8] ^= 1 << (bit % 8);
        assert!(verify_block_vrf(&with_extra(&f.header, extra), &f.parent).is_err());
    }
}

#[test]
fn flipping_any_output_bit_fails() {
    let f = fixture();
    for bit in 0..256 {
        let mut extra = f.header.extra_data.to_vec();
        extra[bit / 8] ^= 1 << (bit % 8);
        let mut got = f.output;
        got[bit / 8] ^= 1 << (bit % 8);

        // As is: the seal no longer matches, so the recovered key is another and the proof fails.
        let tampered = with_extra(&f.header, extra);
        assert!(verify_block_vrf(&tampered, &f.parent).is_err(), "bit {bit}");

        // Re-sealed by the rightful key: the proof verifies, the output does not match.
        let resealed = sign_header(tampered, &f.key).unwrap();
        assert_eq!(
            verify_block_vrf(&resealed, &f.parent),
            Err(VrfError::OutputMismatch {
                expected: B256::from(f.output),
                got: B256::from(got),
            }),
            "bit {bit}"
        );
    }
}

#[test]
fn wrong_public_key_fails() {
    let f = fixture();
    let other = PublicKey::from_secret_key_global(&node_key(MULTI_NODES[1].2));
    assert!(matches!(
        vrf_verify(&other, &f.message, &f.proof),
        Err(VrfError::ProofMismatch { .. })
    ));
    // B's VRF bytes sealed by C: the key comes from the seal, so the proof fails.
    let stolen = sign_header(f.header.clone(), &node_key(MULTI_NODES[1].2)).unwrap();
    assert!(matches!(
        verify_block_vrf(&stolen, &f.parent),
        Err(VrfError::ProofMismatch { .. })
    ));
}

#[test]
fn wrong_message_fails() {
    // errata: 8-byte numbers, N instead of P.number and the reverse order all fail.
    let f = fixture();
    let vanity = &f.parent.extra_data[..32];
    let eight_bytes = [&f.parent.number.to_be_bytes()[..], vanity].concat();
    let own_number = vrf_message(f.header.number, &f.parent.extra_data).unwrap();
    let reversed = [vanity, &[f.parent.number as u8][..]].concat();
    assert_eq!(f.message, [&[110u8][..], vanity].concat());
    for message in [eight_bytes, own_number, reversed, Vec::new()] {
        assert!(matches!(
            vrf_verify(&f.public, &message, &f.proof),
            Err(VrfError::ProofMismatch { .. })
        ));
    }
}

fn with_gamma(proof: &[u8], gamma: &[u8; 65]) -> Vec<u8> {
    [&proof[..64], &gamma[..]].concat()
}

fn gamma_of(f: &Fixture) -> [u8; 65] {
    f.proof[64..].try_into().unwrap()
}

fn defect(result: Result<[u8; 32], VrfError>) -> PointDefect {
    match result {
        Err(VrfError::BadPointEncoding { defect, .. }) => defect,
        other => panic!("expected BadPointEncoding, got {other:?}"),
    }
}

#[test]
fn gamma_with_a_bad_prefix_fails() {
    let f = fixture();
    let gamma = gamma_of(&f);
    // 0x06/0x07 are the hybrid forms; one of them has the right parity and libsecp256k1 alone
    // would accept it. The reference (Go's elliptic.Unmarshal) takes 0x04 only.
    for prefix in [0x00, 0x02, 0x03, 0x05, 0x06, 0x07, 0xff] {
        let mut bad = gamma;
        bad[0] = prefix;
        let result = vrf_verify(&f.public, &f.message, &with_gamma(&f.proof, &bad));
        assert_eq!(
            result,
            Err(VrfError::BadPointEncoding {
                defect: PointDefect::Prefix(prefix),
                encoding: Bytes::copy_from_slice(&bad),
            })
        );
    }
}

#[test]
fn gamma_off_the_curve_fails() {
    let f = fixture();
    let mut off = gamma_of(&f);
    off[64] ^= 1; // y ± 1
    assert_eq!(
        defect(vrf_verify(
            &f.public,
            &f.message,
            &with_gamma(&f.proof, &off)
        )),
        PointDefect::NotOnCurve
    );
    // The reference's encoding of infinity is no valid Γ either.
    let mut infinity = [0u8; 65];
    infinity[0] = 4;
    assert_eq!(
        defect(vrf_verify(
            &f.public,
            &f.message,
            &with_gamma(&f.proof, &infinity)
        )),
        PointDefect::NotOnCurve
    );
}

#[test]
fn gamma_coordinates_not_below_p_fail() {
    let f = fixture();
    let gamma = gamma_of(&f);
    for x in [constants::FIELD_SIZE, [0xff; 32]] {
        let mut bad = gamma;
        bad[1..33].copy_from_slice(&x);
        assert_eq!(
            defect(vrf_verify(
                &f.public,
                &f.message,
                &with_gamma(&f.proof, &bad)
            )),
            PointDefect::XNotBelowP
        );
    }
    for y in [constants::FIELD_SIZE, [0xff; 32]] {
        let mut bad = gamma;
        bad[33..].copy_from_slice(&y);
        assert_eq!(
            defect(vrf_verify(
                &f.public,
                &f.message,
                &with_gamma(&f.proof, &bad)
            )),
            PointDefect::YNotBelowP
        );
    }
}

#[test]
fn scalars_outside_one_to_n_minus_one_fail() {
    let f = fixture();
    let n = constants::CURVE_ORDER;
    let mut n_plus_one = n;
    n_plus_one[31] += 1;
    for (name, offset) in [("s", 0), ("t", 32)] {
        for value in [n, n_plus_one, [0xff; 32], [0; 32]] {
            let mut proof = f.proof.clone();
            proof[offset..offset + 32].copy_from_slice(&value);
            assert_eq!(
                vrf_verify(&f.public, &f.message, &proof),
                Err(VrfError::ScalarOutOfRange {
                    name,
                    value: B256::from(value),
                })
            );
        }
    }
}

#[test]
fn proofs_of_the_wrong_length_fail() {
    let f = fixture();
    for len in [0, 1, 32, 64, 65, 128] {
        assert_eq!(
            vrf_verify(&f.public, &f.message, &f.proof[..len]),
            Err(VrfError::ProofLength { len, expected: 129 })
        );
    }
    let longer = [&f.proof[..], &[0u8]].concat();
    assert_eq!(
        vrf_verify(&f.public, &f.message, &longer),
        Err(VrfError::ProofLength {
            len: 130,
            expected: 129
        })
    );
    // A block too short for output, proof and seal.
    let short = with_extra(&f.header, f.header.extra_data[..225].to_vec());
    assert_eq!(
        verify_block_vrf(&short, &f.parent),
        Err(VrfError::ExtraDataTooShort { len: 225, min: 226 })
    );
    // A parent without 32 bytes to chain.
    let bare_parent = with_extra(&f.parent, vec![0; 31]);
    assert_eq!(
        verify_block_vrf(&f.header, &bare_parent),
        Err(VrfError::ParentExtraTooShort { len: 31, min: 32 })
    );
}

#[test]
fn unreadable_seal_is_reported_as_such() {
    let f = fixture();
    let mut extra = f.header.extra_data.to_vec();
    *extra.last_mut().unwrap() = 9;
    assert_eq!(
        verify_block_vrf(&with_extra(&f.header, extra), &f.parent),
        Err(VrfError::Seal(SealError::InvalidRecoveryId(9)))
    );
}

#[test]
fn node_key_proofs_over_real_parents_verify_like_the_reference() {
    let headers = load_headers(DEVNET_MULTI);
    for (letter, address, seed) in MULTI_NODES {
        let key = node_key(seed);
        let mut checked = 0;
        for pair in headers[62..].windows(2) {
            let (parent, header) = (&pair[0], &pair[1]);
            if recover_block_signer(header).unwrap() != address {
                continue;
            }
            let message = vrf_message(parent.number, &parent.extra_data).unwrap();
            let (output, proof) = vrf_prove(&key, &message).unwrap();
            let reference = &header.extra_data[..EXTRA_VRF];
            // The output is unique: the reference's, whatever nonce either side drew.
            assert_eq!(
                &output[..],
                &reference[..32],
                "{letter}, block {}",
                header.number
            );
            // Γ = x·H1(m) is unique too; s and t depend on the nonce.
            assert_eq!(
                &proof[64..],
                &reference[32 + 64..],
                "{letter}, block {}",
                header.number
            );
            assert_ne!(&proof[..64], &reference[32..32 + 64]);
            assert_eq!(
                vrf_verify(&PublicKey::from_secret_key_global(&key), &message, &proof),
                Ok(output)
            );

            // A block carrying our VRF bytes, sealed by the node key, passes the block rule.
            let mut extra = header.extra_data.to_vec();
            extra[..32].copy_from_slice(&output);
            extra[32..EXTRA_VRF].copy_from_slice(&proof);
            let ours = sign_header(with_extra(header, extra), &key).unwrap();
            assert_eq!(recover_block_signer(&ours).unwrap(), address);
            verify_block_vrf(&ours, parent).unwrap();
            checked += 1;
        }
        assert!(checked > 0, "node {letter} sealed VRF blocks");
    }
}

fn key_from(bytes: [u8; 32]) -> Option<SecretKey> {
    SecretKey::from_byte_array(bytes).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn prove_then_verify_round_trips(
        secret in any::<[u8; 32]>(),
        other in any::<[u8; 32]>(),
        message in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let Some(key) = key_from(secret) else { return Ok(()) };
        let public = PublicKey::from_secret_key_global(&key);
        let (output, proof) = vrf_prove(&key, &message).unwrap();
        prop_assert_eq!(vrf_verify(&public, &message, &proof), Ok(output));
        // Deterministic nonce: the same inputs give the same proof.
        prop_assert_eq!(vrf_prove(&key, &message).unwrap(), (output, proof));
        // Another key does not verify it.
        if let Some(other_key) = key_from(other) && other_key != key {
            let other_public = PublicKey::from_secret_key_global(&other_key);
            let is_mismatch = matches!(
                vrf_verify(&other_public, &message, &proof),
                Err(VrfError::ProofMismatch { .. })
            );
            prop_assert!(is_mismatch);
        }
        // Another message does not verify it.
        let mut changed = message.clone();
        changed.push(0);
        let is_mismatch = matches!(
            vrf_verify(&public, &changed, &proof),
            Err(VrfError::ProofMismatch { .. })
        );
        prop_assert!(is_mismatch);
    }
}
