//! Arbitrary bytes from a peer never panic a decoder: each returns a value or a typed error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use spectrum_devp2p::{
    DisconnectReason, EthMessage,
    discv4::packet,
    eth::{ETH62, ETH63},
    p2p::{self, Hello},
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn eth_decoders_never_panic(code in 0u64..0x12, bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = EthMessage::decode(ETH63, code, &bytes);
        let _ = EthMessage::decode(ETH62, code, &bytes);
    }

    #[test]
    fn eth_decoders_never_panic_on_list_shaped_input(
        code in 0u64..0x11,
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        // Wrap the bytes in a list header so decoding gets past the first byte.
        let mut bytes = Vec::new();
        alloy_rlp::Header { list: true, payload_length: body.len() }.encode(&mut bytes);
        bytes.extend(body);
        let _ = EthMessage::decode(ETH63, code, &bytes);
    }

    #[test]
    fn base_protocol_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = <Hello as alloy_rlp::Decodable>::decode(&mut &bytes[..]);
        let _ = DisconnectReason::decode_payload(&bytes);
        let _ = p2p::decompress(&bytes);
    }

    #[test]
    fn discovery_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1400)) {
        let _ = packet::decode(&bytes, 0);
    }

    #[test]
    fn discovery_bodies_under_a_valid_hash_never_panic(
        sig in proptest::collection::vec(any::<u8>(), 65),
        kind in 0x0au8..=0x0d,
        body in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        // Random r/s usually recover to some key, so these reach the RLP decoders.
        let mut packet = vec![0u8; 32];
        packet.extend(sig);
        packet.push(kind);
        let mut list = Vec::new();
        alloy_rlp::Header { list: true, payload_length: body.len() }.encode(&mut list);
        packet.extend(list);
        packet.extend(body);
        let hash = alloy_primitives::keccak256(&packet[32..]);
        packet[..32].copy_from_slice(hash.as_slice());
        let _ = packet::decode(&packet, 0);
    }
}
