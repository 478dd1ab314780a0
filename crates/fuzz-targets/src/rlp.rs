//! The RLP types of `spectrum-primitives`, through their bounded decoders.

use alloy_primitives::keccak256;
use alloy_rlp::Encodable;
use spectrum_primitives::{Block, Limits, SealedHeader, TransactionSigned, decode_receipt_bounded};

/// Encodes `value` with RLP.
pub(crate) fn encode<T: Encodable + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode(&mut out);
    out
}

/// A block as gossiped or read from a chain file: it encodes back to the input, and its senders
/// recover or fail without panicking.
pub fn block(data: &[u8]) {
    let Ok(block) = Block::decode_bounded(data, &Limits::DEFAULT) else {
        return;
    };
    assert_eq!(encode(&block), data, "block re-encodes differently");
    assert_eq!(block.length(), data.len(), "block length");
    let sealed = block.seal_slow();
    assert_eq!(sealed.hash(), keccak256(encode(sealed.header.header())));
    let _ = sealed.try_recover();
}

/// A header as received in a headers response: the hash taken from the received bytes is the
/// hash of the decoded header.
pub fn header(data: &[u8]) {
    let Ok(header) = SealedHeader::decode_bounded(data, &Limits::DEFAULT) else {
        return;
    };
    assert_eq!(
        encode(header.header()),
        data,
        "header re-encodes differently"
    );
    assert_eq!(header.hash(), header.header().hash_slow(), "header hash");
}

/// A raw transaction (`eth_sendRawTransaction`, gossip): canonical, hash consistent, sender
/// recovery does not panic.
pub fn transaction(data: &[u8]) {
    let Ok(tx) = TransactionSigned::decode_raw(data, &Limits::DEFAULT) else {
        return;
    };
    let encoded = encode(&tx);
    assert_eq!(encoded, data, "transaction re-encodes differently");
    assert_eq!(tx.hash(), keccak256(&encoded), "transaction hash");
    let _ = tx.recover_sender();
}

/// A receipt (receipts responses, the database): Byzantium form, canonical.
pub fn receipt(data: &[u8]) {
    let Ok(receipt) = decode_receipt_bounded(data, &Limits::DEFAULT) else {
        return;
    };
    assert_eq!(encode(&receipt), data, "receipt re-encodes differently");
}
