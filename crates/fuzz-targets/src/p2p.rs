//! The p2p messages of `spectrum-network`, with its default limits. The length-prefixed
//! framing (`codec.rs`) is private to the crate; these targets start at the message bytes the
//! frame carries, as the service hands them to these decoders.

use spectrum_network::{
    ChainStatus, GossipLimits, RequestLimits,
    messages::{
        Request, decode_bodies, decode_headers, decode_receipts, decode_transactions,
        encode_headers, encode_list,
    },
};
use spectrum_primitives::{Block, decode::decode_exact};

use crate::rlp::encode;

/// A request from a peer (kind byte, then RLP): it encodes back to the input.
pub fn p2p_request(data: &[u8]) {
    let Ok(request) = Request::decode(data, &RequestLimits::default()) else {
        return;
    };
    assert_eq!(request.encode(), data, "request re-encodes differently");
}

/// A response from a peer. The first byte picks what was asked (status, headers, bodies,
/// receipts), as the requester knows; the rest is the response.
pub fn p2p_response(data: &[u8]) {
    let Some((&kind, bytes)) = data.split_first() else {
        return;
    };
    let limits = RequestLimits::default();
    match kind % 4 {
        0 => {
            if let Ok(status) =
                decode_exact::<ChainStatus>("status", bytes, limits.max_request_bytes)
            {
                assert_eq!(encode(&status), bytes, "status re-encodes differently");
            }
        }
        1 => {
            if let Ok(headers) = decode_headers(bytes, limits.max_headers, &limits.decode) {
                assert!(headers.len() <= limits.max_headers);
                let plain: Vec<_> = headers.iter().map(|h| h.header().clone()).collect();
                assert_eq!(
                    encode_headers(&plain),
                    bytes,
                    "headers re-encode differently"
                );
                for header in &headers {
                    assert_eq!(header.hash(), header.header().hash_slow(), "header hash");
                }
            }
        }
        2 => {
            if let Ok(bodies) = decode_bodies(bytes, limits.max_bodies, &limits.decode) {
                assert!(bodies.len() <= limits.max_bodies);
                assert_eq!(encode_list(&bodies), bytes, "bodies re-encode differently");
            }
        }
        _ => {
            if let Ok(receipts) = decode_receipts(bytes, limits.max_receipts, &limits.decode) {
                assert!(receipts.len() <= limits.max_receipts);
                assert_eq!(
                    encode_list(&receipts),
                    bytes,
                    "receipts re-encode differently"
                );
            }
        }
    }
}

/// A gossip message: an even first byte means the blocks topic, an odd one the transactions
/// topic; the rest is the message.
pub fn p2p_gossip(data: &[u8]) {
    let Some((&topic, bytes)) = data.split_first() else {
        return;
    };
    let limits = RequestLimits::default().decode;
    if topic % 2 == 0 {
        if let Ok(block) = Block::decode_bounded(bytes, &limits) {
            assert_eq!(
                encode(&block),
                bytes,
                "gossiped block re-encodes differently"
            );
            let _ = block.seal_slow().try_recover();
        }
    } else {
        let gossip = GossipLimits::default();
        if let Ok(txs) = decode_transactions(
            bytes,
            gossip.max_txs_per_message,
            gossip.max_txs_message_bytes,
            &limits,
        ) {
            assert!(txs.len() <= gossip.max_txs_per_message);
            assert_eq!(
                encode_list(&txs),
                bytes,
                "transactions re-encode differently"
            );
            for tx in &txs {
                let _ = tx.recover_sender();
            }
        }
    }
}
