//! Seal and VRF over every block of the two reference chains (tribe.md §2, §4; errata.md).

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::*;
use spectrum_consensus::{
    EXTRA_SEAL, EXTRA_VRF, VrfError, block_signer, genesis_signer, hash_to_curve,
    recover_block_signer, verify_block_vrf, vrf_message,
};
use spectrum_primitives::{Address, Header};

/// Verifies every block carrying the 161 VRF bytes against its parent; returns their numbers.
fn verify_all_vrf_blocks(chain: &str, headers: &[Header]) -> Vec<u64> {
    let mut verified = Vec::new();
    for pair in headers.windows(2) {
        let (parent, header) = (&pair[0], &pair[1]);
        let result = verify_block_vrf(header, parent);
        if header.extra_data.len() >= EXTRA_VRF + EXTRA_SEAL {
            result.unwrap_or_else(|e| panic!("{chain}: block {}: VRF: {e}", header.number));
            verified.push(header.number);
        } else {
            assert!(
                matches!(result, Err(VrfError::ExtraDataTooShort { min: 226, .. })),
                "{chain}: block {} with {} bytes of extraData: {result:?}",
                header.number,
                header.extra_data.len()
            );
        }
    }
    verified
}

#[test]
fn devnet_a_signer_of_every_block() {
    let headers = load_headers(DEVNET_A);
    assert_eq!(headers.len(), 221, "devnet-A has blocks 0..=220");

    assert_eq!(genesis_signer(&headers[0]).unwrap(), NODE_A);
    assert_eq!(block_signer(&headers[0]).unwrap(), NODE_A);

    let mut recovery_ids = [0usize; 2];
    for header in &headers[1..] {
        let signer =
            recover_block_signer(header).unwrap_or_else(|e| panic!("block {}: {e}", header.number));
        assert_eq!(
            signer, header.beneficiary,
            "block {}: signer = coinbase",
            header.number
        );
        assert_eq!(block_signer(header).unwrap(), signer);
        recovery_ids[usize::from(*header.extra_data.last().unwrap())] += 1;
    }
    // errata "Confirmed by the data": recid 0 and 1 both occur.
    assert!(
        recovery_ids[0] > 0 && recovery_ids[1] > 0,
        "{recovery_ids:?}"
    );
    assert_eq!(recovery_ids[0] + recovery_ids[1], 220);
}

#[test]
fn devnet_a_every_vrf_block_verifies() {
    let headers = load_headers(DEVNET_A);
    let verified = verify_all_vrf_blocks(DEVNET_A, &headers);
    // errata E1 / "Confirmed by the data": 7–14 (before SIP100) and 63–220, 8 + 158 = 166.
    let expected: Vec<u64> = (7..=14).chain(63..=220).collect();
    assert_eq!(verified, expected);
    assert_eq!(verified.len(), 166);
    println!("devnet-A: {} VRF blocks verified", verified.len());
}

/// analyze.txt's per-block lines `N signer=X coinbase=Y …` for blocks 57..=412.
fn analyze_txt_signers() -> Vec<(u64, Address, Address)> {
    let text = String::from_utf8(read_testdata(DEVNET_MULTI, "analyze.txt")).unwrap();
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let number = words.next()?.parse::<u64>().ok()?;
            let signer = words.next()?.strip_prefix("signer=")?;
            let coinbase = words.next()?.strip_prefix("coinbase=")?;
            Some((number, multi_address(signer), multi_address(coinbase)))
        })
        .collect()
}

#[test]
fn devnet_multi_node_keys_match_readme_addresses() {
    for (letter, address, seed) in MULTI_NODES {
        let key = node_key(seed);
        let derived = spectrum_primitives::public_key_to_address(
            &secp256k1::PublicKey::from_secret_key_global(&key),
        );
        assert_eq!(derived, address, "node {letter}");
    }
}

#[test]
fn devnet_multi_signer_of_every_block() {
    let headers = load_headers(DEVNET_MULTI);
    assert_eq!(headers.len(), 413, "devnet-multi has blocks 0..=412");
    assert_eq!(genesis_signer(&headers[0]).unwrap(), NODE_A);

    let signers: Vec<Address> = headers[1..]
        .iter()
        .map(|h| recover_block_signer(h).unwrap_or_else(|e| panic!("block {}: {e}", h.number)))
        .collect();

    // Blocks 1..=56 are the built-in snapshot, sealed by A with coinbase A.
    for (header, signer) in headers[1..57].iter().zip(&signers) {
        assert_eq!(*signer, NODE_A, "block {}", header.number);
        assert_eq!(header.beneficiary, NODE_A, "block {}", header.number);
    }

    // Blocks 57..=412: the signer and coinbase analyze.txt (README "Who sealed what") records.
    let recorded = analyze_txt_signers();
    assert_eq!(recorded.len(), 356, "analyze.txt lines for blocks 57..=412");
    let mut per_node = std::collections::BTreeMap::<Address, usize>::new();
    let mut coinbase_ne_signer = Vec::new();
    for (number, signer, coinbase) in recorded {
        let header = &headers[number as usize];
        let recovered = signers[number as usize - 1];
        assert_eq!(recovered, signer, "block {number}: recovered signer");
        assert_eq!(header.beneficiary, coinbase, "block {number}: coinbase");
        *per_node.entry(recovered).or_default() += 1;
        if header.beneficiary != recovered {
            // Node C bound to wallet user2 (Anmap): coinbase user2, signer C's node key.
            assert_eq!((recovered, header.beneficiary), (multi_address("C"), USER2));
            coinbase_ne_signer.push(number);
        }
    }
    assert_eq!(
        coinbase_ne_signer,
        [
            191, 202, 212, 236, 261, 271, 283, 291, 301, 313, 322, 333, 341, 352, 362, 371, 381,
            391, 402, 412
        ]
    );
    let counts: Vec<usize> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|n| per_node[&multi_address(n)])
        .collect();
    assert_eq!(
        counts,
        [188, 25, 28, 91, 24],
        "README: A 188, B 25, C 28, D 91, E 24"
    );
}

#[test]
fn devnet_multi_every_vrf_block_verifies() {
    let headers = load_headers(DEVNET_MULTI);
    let verified = verify_all_vrf_blocks(DEVNET_MULTI, &headers);
    // The snapshot's 7..=14 carry VRF bytes here too; errata's 350 counts the SIP100 blocks
    // 63..=412.
    let expected: Vec<u64> = (7..=14).chain(63..=412).collect();
    assert_eq!(verified, expected);
    let from_sip100 = verified.iter().filter(|n| **n >= 63).count();
    assert_eq!(from_sip100, 350);
    assert_eq!(verified.len(), 358);
    println!(
        "devnet-multi: {} VRF blocks verified ({from_sip100} from SIP100 block 63)",
        verified.len()
    );
}

#[test]
fn devnet_a_hash_to_curve_tries() {
    // errata "Confirmed by the data": 72 of the 158 SIP100 blocks need 2–10 tries of H1.
    let headers = load_headers(DEVNET_A);
    let tries: Vec<u32> = headers[62..]
        .windows(2)
        .map(|pair| {
            let message = vrf_message(pair[0].number, &pair[0].extra_data).unwrap();
            hash_to_curve(&message).unwrap().1 + 1
        })
        .collect();
    assert_eq!(tries.len(), 158);
    assert_eq!(tries.iter().filter(|t| **t >= 2).count(), 72);
    assert!(tries.iter().all(|t| *t <= 10), "{tries:?}");
}
