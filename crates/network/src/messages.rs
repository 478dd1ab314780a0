//! The wire messages and their bounded RLP encodings.
//!
//! A request is one kind byte followed by the RLP of its payload; the response to it is the
//! RLP of the answer (the requester knows which kind it asked for). Gossiped blocks are the
//! block's RLP (`[header, transactions, uncles]`), gossiped transactions an RLP list of
//! transactions. Every decoder here takes bytes from a peer: it checks the byte length first,
//! counts list items before decoding them, and decodes each item with the bounded decoders of
//! `spectrum_primitives`; nothing here panics on bad input.

use alloy_primitives::{B256, U256};
use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};
use spectrum_primitives::{
    Block, BlockBody, DecodeError, Header, Limits, ReceiptWithBloom, SealedHeader,
    TransactionSigned, decode::decode_exact, decode_receipt_bounded,
};

use crate::config::RequestLimits;

/// What a peer says about its chain in the status handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct ChainStatus {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Hash of block 0: peers of another genesis are disconnected.
    pub genesis_hash: B256,
    /// Hash of the peer's head block.
    pub head_hash: B256,
    /// Number of the peer's head block.
    pub head_number: u64,
    /// Total difficulty of the peer's head (a claim: never trusted before the blocks are checked).
    pub total_difficulty: U256,
}

// The header request (and its origin) is the one both wires speak, defined in primitives.
pub use spectrum_primitives::{HashOrNumber, HeadersRequest};

/// The kinds of request, the first byte of a request message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RequestKind {
    /// Status handshake: the request carries the sender's status, the response the receiver's.
    Status = 0,
    /// Headers by number or hash range.
    Headers = 1,
    /// Bodies by block hash.
    Bodies = 2,
    /// Receipts by block hash.
    Receipts = 3,
}

impl RequestKind {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Status),
            1 => Some(Self::Headers),
            2 => Some(Self::Bodies),
            3 => Some(Self::Receipts),
            _ => None,
        }
    }
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The sender's status.
    Status(ChainStatus),
    /// Headers.
    Headers(HeadersRequest),
    /// Bodies of these blocks.
    Bodies(Vec<B256>),
    /// Receipts of these blocks.
    Receipts(Vec<B256>),
}

impl Request {
    /// Its kind.
    pub fn kind(&self) -> RequestKind {
        match self {
            Self::Status(_) => RequestKind::Status,
            Self::Headers(_) => RequestKind::Headers,
            Self::Bodies(_) => RequestKind::Bodies,
            Self::Receipts(_) => RequestKind::Receipts,
        }
    }

    /// Kind byte then RLP payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.kind() as u8];
        match self {
            Self::Status(status) => status.encode(&mut out),
            Self::Headers(request) => request.encode(&mut out),
            Self::Bodies(hashes) | Self::Receipts(hashes) => hashes.encode(&mut out),
        }
        out
    }

    /// Decodes a request from a peer. The byte length is already bounded by the codec; this
    /// also refuses more hashes than `limits` allow before decoding them.
    pub fn decode(bytes: &[u8], limits: &RequestLimits) -> Result<Self, MessageError> {
        let (&kind_byte, payload) = bytes.split_first().ok_or(MessageError::Empty)?;
        let kind = RequestKind::from_byte(kind_byte).ok_or(MessageError::UnknownKind(kind_byte))?;
        let max = limits.max_request_bytes;
        Ok(match kind {
            RequestKind::Status => Self::Status(decode_exact("status", payload, max)?),
            RequestKind::Headers => Self::Headers(decode_exact("headers request", payload, max)?),
            RequestKind::Bodies => {
                Self::Bodies(decode_hashes(payload, limits.max_bodies, "bodies request")?)
            }
            RequestKind::Receipts => Self::Receipts(decode_hashes(
                payload,
                limits.max_receipts,
                "receipts request",
            )?),
        })
    }
}

/// Why a message from a peer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A request without even a kind byte.
    #[error("empty message")]
    Empty,
    /// A request kind we do not know.
    #[error("unknown request kind {0}")]
    UnknownKind(u8),
    /// More items than allowed.
    #[error("{what}: {count} items, at most {max} allowed")]
    TooManyItems {
        /// What was being decoded.
        what: &'static str,
        /// Items found (or counted so far).
        count: usize,
        /// The bound.
        max: usize,
    },
    /// Bad bytes.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// The raw items of the RLP list `bytes` (exactly one list, nothing trailing), refusing more
/// than `max_items` before any of them is decoded.
pub fn list_items<'a>(
    bytes: &'a [u8],
    max_items: usize,
    what: &'static str,
) -> Result<Vec<&'a [u8]>, MessageError> {
    let rlp_err = |source| MessageError::Decode(DecodeError::Rlp { what, source });
    let mut buf = bytes;
    let header = alloy_rlp::Header::decode(&mut buf).map_err(rlp_err)?;
    if !header.list {
        return Err(rlp_err(alloy_rlp::Error::UnexpectedString));
    }
    if header.payload_length != buf.len() {
        return Err(if header.payload_length > buf.len() {
            rlp_err(alloy_rlp::Error::InputTooShort)
        } else {
            MessageError::Decode(DecodeError::TrailingBytes {
                what,
                extra: buf.len().saturating_sub(header.payload_length),
            })
        });
    }
    let mut items = Vec::new();
    while !buf.is_empty() {
        if items.len() >= max_items {
            return Err(MessageError::TooManyItems {
                what,
                count: items.len().saturating_add(1),
                max: max_items,
            });
        }
        let start = buf;
        let item = alloy_rlp::Header::decode(&mut buf).map_err(rlp_err)?;
        let rest = buf
            .get(item.payload_length..)
            .ok_or_else(|| rlp_err(alloy_rlp::Error::InputTooShort))?;
        let consumed = start.len().saturating_sub(rest.len());
        items.push(start.get(..consumed).unwrap_or_default());
        buf = rest;
    }
    Ok(items)
}

fn decode_hashes(bytes: &[u8], max: usize, what: &'static str) -> Result<Vec<B256>, MessageError> {
    list_items(bytes, max, what)?
        .into_iter()
        .map(|item| decode_exact::<B256>(what, item, 33).map_err(MessageError::from))
        .collect()
}

/// Encodes an RLP list of already-encodable items.
pub fn encode_list<T: Encodable>(items: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    alloy_rlp::encode_list(items, &mut out);
    out
}

/// Decodes a headers response: at most `max` headers, each bounded and hashed as received.
pub fn decode_headers(
    bytes: &[u8],
    max: usize,
    limits: &Limits,
) -> Result<Vec<SealedHeader>, MessageError> {
    list_items(bytes, max, "headers")?
        .into_iter()
        .map(|item| SealedHeader::decode_bounded(item, limits).map_err(MessageError::from))
        .collect()
}

/// Decodes a bodies response: at most `max` bodies, each at most a block's size.
pub fn decode_bodies(
    bytes: &[u8],
    max: usize,
    limits: &Limits,
) -> Result<Vec<BlockBody>, MessageError> {
    list_items(bytes, max, "bodies")?
        .into_iter()
        .map(|item| {
            decode_exact::<BlockBody>("body", item, limits.max_block_bytes)
                .map_err(MessageError::from)
        })
        .collect()
}

/// Decodes a receipts response: at most `max` blocks' receipt lists.
pub fn decode_receipts(
    bytes: &[u8],
    max: usize,
    limits: &Limits,
) -> Result<Vec<Vec<ReceiptWithBloom>>, MessageError> {
    // A block of 40M gas holds at most 40M / 21000 transactions, so at most that many receipts.
    const MAX_RECEIPTS_PER_BLOCK: usize = 2048;
    list_items(bytes, max, "receipts")?
        .into_iter()
        .map(|block| {
            list_items(block, MAX_RECEIPTS_PER_BLOCK, "block receipts")?
                .into_iter()
                .map(|item| decode_receipt_bounded(item, limits).map_err(MessageError::from))
                .collect()
        })
        .collect()
}

/// Encodes a header list for a response.
pub fn encode_headers(headers: &[Header]) -> Vec<u8> {
    encode_list(headers)
}

/// Encodes a gossiped block.
pub fn encode_block(block: &Block) -> Vec<u8> {
    let mut out = Vec::with_capacity(block.length());
    block.encode(&mut out);
    out
}

/// Decodes a gossiped transactions message: at most `max_bytes` and `max_txs`.
pub fn decode_transactions(
    bytes: &[u8],
    max_txs: usize,
    max_bytes: usize,
    limits: &Limits,
) -> Result<Vec<TransactionSigned>, MessageError> {
    if bytes.len() > max_bytes {
        return Err(MessageError::Decode(DecodeError::TooLarge {
            what: "transactions message",
            len: bytes.len(),
            max: max_bytes,
        }));
    }
    list_items(bytes, max_txs, "transactions")?
        .into_iter()
        .map(|item| TransactionSigned::decode_raw(item, limits).map_err(MessageError::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RequestLimits {
        RequestLimits::default()
    }

    #[test]
    fn requests_round_trip() {
        let status = ChainStatus {
            chain_id: 1337,
            genesis_hash: B256::repeat_byte(1),
            head_hash: B256::repeat_byte(2),
            head_number: 9,
            total_difficulty: U256::from(27u64),
        };
        for request in [
            Request::Status(status),
            Request::Headers(HeadersRequest::range(5, 10)),
            Request::Headers(HeadersRequest {
                origin: HashOrNumber::Hash(B256::repeat_byte(3)),
                amount: 3,
                skip: 2,
                reverse: true,
            }),
            Request::Bodies(vec![B256::repeat_byte(4), B256::repeat_byte(5)]),
            Request::Receipts(vec![B256::repeat_byte(6)]),
        ] {
            let bytes = request.encode();
            assert_eq!(Request::decode(&bytes, &limits()).unwrap(), request);
        }
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        assert_eq!(Request::decode(&[], &limits()), Err(MessageError::Empty));
        assert_eq!(
            Request::decode(&[9, 0xc0], &limits()),
            Err(MessageError::UnknownKind(9))
        );
        assert!(matches!(
            Request::decode(&[1, 0xc3, 0x01], &limits()),
            Err(MessageError::Decode(_))
        ));
        let too_many = Request::Bodies(vec![B256::ZERO; limits().max_bodies + 1]).encode();
        assert!(matches!(
            Request::decode(&too_many, &limits()),
            Err(MessageError::TooManyItems { .. })
        ));
        // Trailing bytes after a status are refused.
        let mut status = Request::Status(ChainStatus {
            chain_id: 1,
            genesis_hash: B256::ZERO,
            head_hash: B256::ZERO,
            head_number: 0,
            total_difficulty: U256::ZERO,
        })
        .encode();
        status.push(0x80);
        assert!(Request::decode(&status, &limits()).is_err());
    }

    #[test]
    fn list_items_refuses_lies_about_lengths() {
        // A list claiming 100 bytes of payload with 2 present.
        assert!(list_items(&[0xf8, 100, 0x01, 0x02], 10, "x").is_err());
        // An item claiming more bytes than its list holds.
        assert!(list_items(&[0xc2, 0x85, 0x01], 10, "x").is_err());
        // A string, not a list.
        assert!(list_items(&[0x82, 0x01, 0x02], 10, "x").is_err());
        assert_eq!(
            list_items(&[0xc4, 0x01, 0x82, 0x02, 0x03], 10, "x").unwrap(),
            vec![&[0x01][..], &[0x82, 0x02, 0x03][..]]
        );
    }

    #[test]
    fn transactions_message_bounds() {
        let limits = Limits::DEFAULT;
        let big = vec![0u8; 100];
        assert!(matches!(
            decode_transactions(&big, 10, 50, &limits),
            Err(MessageError::Decode(DecodeError::TooLarge { .. }))
        ));
        assert_eq!(
            decode_transactions(&[0xc0], 10, 50, &limits).unwrap(),
            vec![]
        );
        assert!(decode_transactions(&[0xc2, 0x01, 0x02], 10, 50, &limits).is_err());
    }
}
