//! The `eth` sub-protocol, versions 63 and 62, over spectrum-primitives' types.
//!
//! Codes here are eth's own (0x00 Status ...); on the wire they are offset by the base protocol's
//! 16. Every decoder takes a payload already bounded by [`crate::frame::MAX_MESSAGE_SIZE`] and
//! decodes blocks, headers, transactions and receipts with the primitives' bounded decoders
//! (15-field headers, legacy transactions, status receipts).

use alloy_primitives::{B256, Bytes, U256};
use alloy_rlp::{Decodable, Encodable, Header as RlpHeader, RlpDecodable, RlpEncodable};
use spectrum_primitives::{
    Block, BlockBody, Limits, ReceiptWithBloom, SealedHeader, TransactionSigned,
    decode_receipt_bounded,
};

use crate::{error::EthError, error::StatusError, frame::MAX_MESSAGE_SIZE};

/// eth/63: adds node data and receipts.
pub const ETH63: u8 = 63;
/// eth/62.
pub const ETH62: u8 = 62;
/// Message codes eth/63 uses (0x00-0x10).
pub const ETH63_LENGTH: u64 = 17;
/// Message codes eth/62 uses (0x00-0x07).
pub const ETH62_LENGTH: u64 = 8;

/// Most headers the reference serves per request (`MaxHeaderFetch`); serve no more.
pub const MAX_HEADERS_SERVE: u64 = 192;
/// Most bodies the reference serves per request (`MaxBlockFetch`).
pub const MAX_BODIES_SERVE: usize = 128;
/// Most trie nodes the reference serves per request (`MaxStateFetch`).
pub const MAX_NODE_DATA_SERVE: usize = 384;
/// Most blocks' receipts the reference serves per request (`MaxReceiptFetch`).
pub const MAX_RECEIPTS_SERVE: usize = 256;

/// The Status handshake message.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Status {
    /// eth version (63 or 62).
    pub protocol_version: u32,
    /// Network id (Spectrum mainnet: 1, like Ethereum's; the genesis tells them apart).
    pub network_id: u64,
    /// Total difficulty of the head.
    pub total_difficulty: U256,
    /// Head block hash.
    pub head: B256,
    /// Genesis block hash.
    pub genesis: B256,
}

impl Status {
    /// Checks a peer's Status against ours, in the reference's order (genesis, network, version).
    pub fn validate(&self, ours: &Status) -> Result<(), StatusError> {
        if self.genesis != ours.genesis {
            return Err(StatusError::GenesisMismatch {
                expected: ours.genesis,
                got: self.genesis,
            });
        }
        if self.network_id != ours.network_id {
            return Err(StatusError::NetworkIdMismatch {
                expected: ours.network_id,
                got: self.network_id,
            });
        }
        if self.protocol_version != ours.protocol_version {
            return Err(StatusError::ProtocolVersionMismatch {
                expected: ours.protocol_version,
                got: self.protocol_version,
            });
        }
        Ok(())
    }
}

/// One NewBlockHashes entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct BlockHashNumber {
    /// Block hash.
    pub hash: B256,
    /// Block number.
    pub number: u64,
}

/// Where a header request starts (shared with libp2p's requests).
pub use spectrum_primitives::HashOrNumber;

/// GetBlockHeaders: `[origin, amount, skip, reverse]`, the header request both wires speak.
/// A server answers [`GetBlockHeaders::numbers_from`] with the limit [`MAX_HEADERS_SERVE`].
pub type GetBlockHeaders = spectrum_primitives::HeadersRequest;

/// NewBlock: `[block, td]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlock {
    /// The block.
    pub block: Block,
    /// Total difficulty including it.
    pub total_difficulty: U256,
}

/// Every eth/62-63 message, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EthMessage {
    /// 0x00.
    Status(Status),
    /// 0x01.
    NewBlockHashes(Vec<BlockHashNumber>),
    /// 0x02.
    Transactions(Vec<TransactionSigned>),
    /// 0x03.
    GetBlockHeaders(GetBlockHeaders),
    /// 0x04: headers with their hashes (taken from the received bytes).
    BlockHeaders(Vec<SealedHeader>),
    /// 0x05.
    GetBlockBodies(Vec<B256>),
    /// 0x06.
    BlockBodies(Vec<BlockBody>),
    /// 0x07.
    NewBlock(Box<NewBlock>),
    /// 0x0d (eth/63).
    GetNodeData(Vec<B256>),
    /// 0x0e (eth/63).
    NodeData(Vec<Bytes>),
    /// 0x0f (eth/63).
    GetReceipts(Vec<B256>),
    /// 0x10 (eth/63): per block, its receipts.
    Receipts(Vec<Vec<ReceiptWithBloom>>),
}

/// The raw items of the RLP list that is the whole of `payload`.
fn list_items<'a>(payload: &'a [u8], what: &'static str) -> Result<Vec<&'a [u8]>, EthError> {
    let err = |source| EthError::Rlp { what, source };
    let mut buf = payload;
    let list = RlpHeader::decode(&mut buf).map_err(err)?;
    if !list.list {
        return Err(err(alloy_rlp::Error::UnexpectedString));
    }
    if list.payload_length != buf.len() {
        return Err(err(alloy_rlp::Error::ListLengthMismatch {
            expected: list.payload_length,
            got: buf.len(),
        }));
    }
    let mut items = Vec::new();
    while !buf.is_empty() {
        let start = buf;
        let item = RlpHeader::decode(&mut buf).map_err(err)?;
        let header_len = start.len() - buf.len();
        let total = header_len + item.payload_length;
        let raw = start
            .get(..total)
            .ok_or(err(alloy_rlp::Error::InputTooShort))?;
        buf = &start[total..];
        items.push(raw);
    }
    Ok(items)
}

/// Decodes the whole of `payload` as one `T`.
fn exact<T: Decodable>(payload: &[u8], what: &'static str) -> Result<T, EthError> {
    let mut buf = payload;
    let value = T::decode(&mut buf).map_err(|source| EthError::Rlp { what, source })?;
    if !buf.is_empty() {
        return Err(EthError::Rlp {
            what,
            source: alloy_rlp::Error::UnexpectedLength,
        });
    }
    Ok(value)
}

fn each<T>(
    payload: &[u8],
    what: &'static str,
    f: impl Fn(&[u8]) -> Result<T, EthError>,
) -> Result<Vec<T>, EthError> {
    list_items(payload, what)?.into_iter().map(f).collect()
}

fn item_err(what: &'static str) -> impl Fn(spectrum_primitives::DecodeError) -> EthError {
    move |source| EthError::Item { what, source }
}

impl EthMessage {
    /// eth's code for this message (add [`crate::p2p::BASE_PROTOCOL_LENGTH`] on the wire).
    pub fn code(&self) -> u64 {
        match self {
            Self::Status(_) => 0x00,
            Self::NewBlockHashes(_) => 0x01,
            Self::Transactions(_) => 0x02,
            Self::GetBlockHeaders(_) => 0x03,
            Self::BlockHeaders(_) => 0x04,
            Self::GetBlockBodies(_) => 0x05,
            Self::BlockBodies(_) => 0x06,
            Self::NewBlock(_) => 0x07,
            Self::GetNodeData(_) => 0x0d,
            Self::NodeData(_) => 0x0e,
            Self::GetReceipts(_) => 0x0f,
            Self::Receipts(_) => 0x10,
        }
    }

    /// The RLP payload.
    pub fn encode_payload(&self) -> Vec<u8> {
        match self {
            Self::Status(s) => alloy_rlp::encode(s),
            Self::NewBlockHashes(v) => alloy_rlp::encode(v),
            Self::Transactions(v) => alloy_rlp::encode(v),
            Self::GetBlockHeaders(r) => alloy_rlp::encode(r),
            Self::BlockHeaders(v) => {
                let headers: Vec<&spectrum_primitives::Header> =
                    v.iter().map(|h| h.header()).collect();
                alloy_rlp::encode(headers)
            }
            Self::GetBlockBodies(v) | Self::GetNodeData(v) | Self::GetReceipts(v) => {
                alloy_rlp::encode(v)
            }
            Self::BlockBodies(v) => alloy_rlp::encode(v),
            Self::NewBlock(nb) => {
                let payload = nb.block.length() + nb.total_difficulty.length();
                let mut out = Vec::with_capacity(payload + 8);
                RlpHeader {
                    list: true,
                    payload_length: payload,
                }
                .encode(&mut out);
                nb.block.encode(&mut out);
                nb.total_difficulty.encode(&mut out);
                out
            }
            Self::NodeData(v) => alloy_rlp::encode(v),
            Self::Receipts(v) => alloy_rlp::encode(v),
        }
    }

    /// Decodes eth message `code` at eth `version` from its (decompressed) payload.
    pub fn decode(version: u8, code: u64, payload: &[u8]) -> Result<Self, EthError> {
        if payload.len() > MAX_MESSAGE_SIZE {
            return Err(EthError::TooLarge(payload.len()));
        }
        let limits = Limits::DEFAULT;
        let eth63_only = (0x0d..=0x10).contains(&code);
        if eth63_only && version < ETH63 {
            return Err(EthError::UnknownCode { code, version });
        }
        Ok(match code {
            0x00 => Self::Status(exact(payload, "Status")?),
            0x01 => Self::NewBlockHashes(exact(payload, "NewBlockHashes")?),
            0x02 => Self::Transactions(each(payload, "Transactions", |raw| {
                TransactionSigned::decode_raw(raw, &limits).map_err(item_err("Transactions"))
            })?),
            0x03 => Self::GetBlockHeaders(exact(payload, "GetBlockHeaders")?),
            0x04 => Self::BlockHeaders(each(payload, "BlockHeaders", |raw| {
                SealedHeader::decode_bounded(raw, &limits).map_err(item_err("BlockHeaders"))
            })?),
            0x05 => Self::GetBlockBodies(exact(payload, "GetBlockBodies")?),
            0x06 => Self::BlockBodies(each(payload, "BlockBodies", |raw| {
                spectrum_primitives::decode::decode_exact("block body", raw, limits.max_block_bytes)
                    .map_err(item_err("BlockBodies"))
            })?),
            0x07 => Self::NewBlock(Box::new(decode_new_block(payload, &limits)?)),
            0x0d => Self::GetNodeData(exact(payload, "GetNodeData")?),
            0x0e => Self::NodeData(exact(payload, "NodeData")?),
            0x0f => Self::GetReceipts(exact(payload, "GetReceipts")?),
            0x10 => Self::Receipts(each(payload, "Receipts", |block| {
                each(block, "Receipts", |raw| {
                    decode_receipt_bounded(raw, &limits).map_err(item_err("Receipts"))
                })
            })?),
            _ => return Err(EthError::UnknownCode { code, version }),
        })
    }
}

fn decode_new_block(payload: &[u8], limits: &Limits) -> Result<NewBlock, EthError> {
    let items = list_items(payload, "NewBlock")?;
    let [block, td] = items[..] else {
        return Err(EthError::Rlp {
            what: "NewBlock",
            source: alloy_rlp::Error::ListLengthMismatch {
                expected: 2,
                got: items.len(),
            },
        });
    };
    Ok(NewBlock {
        block: Block::decode_bounded(block, limits).map_err(item_err("NewBlock"))?,
        total_difficulty: exact(td, "NewBlock")?,
    })
}

/// The message-code space of eth at `version`.
pub fn message_count(version: u8) -> u64 {
    if version >= ETH63 {
        ETH63_LENGTH
    } else {
        ETH62_LENGTH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(msg: EthMessage) {
        let bytes = msg.encode_payload();
        assert_eq!(EthMessage::decode(ETH63, msg.code(), &bytes).unwrap(), msg);
    }

    #[test]
    fn messages_round_trip() {
        let header = spectrum_primitives::Header {
            number: 7,
            difficulty: U256::from(2),
            ..Default::default()
        };
        round_trip(EthMessage::Status(Status {
            protocol_version: 63,
            network_id: 1,
            total_difficulty: U256::from(113),
            head: B256::repeat_byte(1),
            genesis: B256::repeat_byte(2),
        }));
        round_trip(EthMessage::GetBlockHeaders(GetBlockHeaders {
            origin: HashOrNumber::Number(0),
            amount: 1,
            skip: 0,
            reverse: false,
        }));
        round_trip(EthMessage::GetBlockHeaders(GetBlockHeaders {
            origin: HashOrNumber::Hash(B256::repeat_byte(9)),
            amount: 192,
            skip: 3,
            reverse: true,
        }));
        round_trip(EthMessage::BlockHeaders(vec![SealedHeader::seal(
            header.clone(),
        )]));
        round_trip(EthMessage::BlockBodies(vec![BlockBody::default()]));
        round_trip(EthMessage::NewBlock(Box::new(NewBlock {
            block: Block {
                header,
                body: BlockBody::default(),
            },
            total_difficulty: U256::from(99),
        })));
        round_trip(EthMessage::NewBlockHashes(vec![BlockHashNumber {
            hash: B256::repeat_byte(4),
            number: 4,
        }]));
        round_trip(EthMessage::NodeData(vec![Bytes::from_static(b"node")]));
        round_trip(EthMessage::Receipts(vec![vec![], vec![]]));
        round_trip(EthMessage::Transactions(vec![]));
    }

    #[test]
    fn eth62_has_no_receipts_and_garbage_is_typed() {
        let msg = EthMessage::GetReceipts(vec![B256::ZERO]);
        assert!(matches!(
            EthMessage::decode(ETH62, 0x0f, &msg.encode_payload()),
            Err(EthError::UnknownCode {
                code: 0x0f,
                version: 62
            })
        ));
        assert!(matches!(
            EthMessage::decode(ETH63, 0x11, &[0xc0]),
            Err(EthError::UnknownCode { code: 0x11, .. })
        ));
        assert!(matches!(
            EthMessage::decode(ETH63, 0x00, &[0xc3, 0x01]),
            Err(EthError::Rlp { what: "Status", .. })
        ));
        assert!(matches!(
            EthMessage::decode(ETH63, 0x04, &[0xc2, 0xc1, 0x01]),
            Err(EthError::Item {
                what: "BlockHeaders",
                ..
            })
        ));
    }

    #[test]
    fn header_request_numbers_are_clamped_and_never_overflow() {
        let req = |amount, skip, reverse| GetBlockHeaders {
            origin: HashOrNumber::Number(0),
            amount,
            skip,
            reverse,
        };
        assert_eq!(
            req(3, 0, false).numbers_from(5, 100, MAX_HEADERS_SERVE),
            vec![5, 6, 7]
        );
        assert_eq!(
            req(3, 1, true).numbers_from(5, 100, MAX_HEADERS_SERVE),
            vec![5, 3, 1]
        );
        assert_eq!(
            req(10, 0, true).numbers_from(2, 100, MAX_HEADERS_SERVE),
            vec![2, 1, 0]
        );
        assert_eq!(
            req(10, 0, false).numbers_from(98, 100, MAX_HEADERS_SERVE),
            vec![98, 99, 100]
        );
        assert_eq!(
            req(u64::MAX, 0, false)
                .numbers_from(0, u64::MAX, MAX_HEADERS_SERVE)
                .len(),
            192
        );
        assert_eq!(
            req(u64::MAX, u64::MAX, false).numbers_from(1, u64::MAX, MAX_HEADERS_SERVE),
            vec![1]
        );
        assert_eq!(
            req(5, u64::MAX - 1, true).numbers_from(u64::MAX, u64::MAX, MAX_HEADERS_SERVE),
            vec![u64::MAX, 0]
        );
        assert!(
            req(1, 0, false)
                .numbers_from(101, 100, MAX_HEADERS_SERVE)
                .is_empty()
        );
    }

    #[test]
    fn status_validation_names_the_field() {
        let ours = Status {
            protocol_version: 63,
            network_id: 1,
            total_difficulty: U256::from(1),
            head: B256::ZERO,
            genesis: B256::repeat_byte(1),
        };
        let mut other = ours.clone();
        other.network_id = 2;
        assert_eq!(
            other.validate(&ours),
            Err(StatusError::NetworkIdMismatch {
                expected: 1,
                got: 2
            })
        );
        other.genesis = B256::repeat_byte(2);
        assert!(matches!(
            other.validate(&ours),
            Err(StatusError::GenesisMismatch { .. })
        ));
        assert_eq!(ours.validate(&ours), Ok(()));
    }
}
