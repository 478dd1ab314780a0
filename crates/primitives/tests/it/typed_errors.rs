//! Bad input gets the precise typed error, not a generic RLP one.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_rlp::Encodable;
use spectrum_primitives::{
    B256, Block, BlockBody, DecodeError, Header, Limits, SealedHeader, decode_receipt_bounded,
};

fn header_with_base_fee() -> Header {
    Header {
        base_fee_per_gas: Some(7),
        ..Default::default()
    }
}

#[test]
fn sixteen_field_header_is_named_as_such() {
    let mut bytes = Vec::new();
    header_with_base_fee().encode(&mut bytes);
    assert_eq!(
        SealedHeader::decode_bounded(&bytes, &Limits::DEFAULT),
        Err(DecodeError::PostByzantiumHeader(16))
    );
    let block = Block {
        header: header_with_base_fee(),
        body: BlockBody::default(),
    };
    let mut bytes = Vec::new();
    block.encode(&mut bytes);
    assert_eq!(
        Block::decode_bounded(&bytes, &Limits::DEFAULT),
        Err(DecodeError::PostByzantiumHeader(16))
    );
}

#[test]
fn pre_byzantium_receipt_is_refused() {
    // [postStateRoot(32), cumulativeGasUsed, bloom(256), logs]
    let mut payload = Vec::new();
    B256::repeat_byte(1).encode(&mut payload);
    21_000u64.encode(&mut payload);
    alloy_primitives::Bloom::ZERO.encode(&mut payload);
    Vec::<alloy_primitives::Log>::new().encode(&mut payload);
    let mut bytes = Vec::new();
    alloy_rlp::Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut bytes);
    bytes.extend(payload);
    assert_eq!(
        decode_receipt_bounded(&bytes, &Limits::DEFAULT),
        Err(DecodeError::PreByzantiumReceipt)
    );
}
