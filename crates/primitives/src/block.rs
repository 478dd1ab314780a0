//! Headers and blocks, plain, sealed (hash cached) and recovered (senders cached).

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, keccak256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

use crate::{
    decode::{DecodeError, Limits, decode_exact, list_item_count},
    transaction::{SignatureError, TransactionSigned},
};

/// The field count of the header inside an encoded block, if it is well-formed enough to tell.
fn header_field_count(block: &[u8]) -> Option<usize> {
    let mut buf = block;
    let outer = alloy_rlp::Header::decode(&mut buf).ok()?;
    if !outer.list {
        return None;
    }
    list_item_count(buf)
}

/// Decodes a header and refuses one with more than Spectrum's 15 fields.
fn decode_header_15(buf: &mut &[u8]) -> alloy_rlp::Result<Header> {
    let header = Header::decode(buf)?;
    if header.base_fee_per_gas.is_some() {
        return Err(alloy_rlp::Error::Custom("header has fields after the 15th"));
    }
    Ok(header)
}

/// A header with its hash, computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedHeader {
    header: Header,
    hash: B256,
}

impl SealedHeader {
    /// Hashes `header` and seals it.
    pub fn seal(header: Header) -> Self {
        let hash = header.hash_slow();
        Self { header, hash }
    }

    /// Seals `header` with a hash the caller vouches for (read back from our own database).
    pub fn new_unchecked(header: Header, hash: B256) -> Self {
        Self { header, hash }
    }

    /// Decodes one header from outside the node (15 fields, bounded, nothing trailing).
    pub fn decode_bounded(bytes: &[u8], limits: &Limits) -> Result<Self, DecodeError> {
        if bytes.len() <= limits.max_header_bytes
            && let Some(fields) = list_item_count(bytes)
            && fields > 15
        {
            return Err(DecodeError::PostByzantiumHeader(fields));
        }
        let SpectrumHeader(header) = decode_exact("header", bytes, limits.max_header_bytes)?;
        Ok(Self {
            hash: keccak256(bytes),
            header,
        })
    }

    /// The block hash.
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The block number.
    pub fn number(&self) -> u64 {
        self.header.number
    }

    /// Takes the header out.
    pub fn into_header(self) -> Header {
        self.header
    }
}

impl std::ops::Deref for SealedHeader {
    type Target = Header;
    fn deref(&self) -> &Header {
        &self.header
    }
}

/// Newtype so a 15-field-only header can implement `Decodable`.
struct SpectrumHeader(Header);

impl Decodable for SpectrumHeader {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        decode_header_15(buf).map(Self)
    }
}

/// The body of a block: its transactions and (always empty on Spectrum) uncles.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct BlockBody {
    /// Transactions in block order (on Spectrum, from block 4 the chief-update transaction first).
    pub transactions: Vec<TransactionSigned>,
    /// Uncle headers. Tribe refuses blocks with any; the field exists because the format has it.
    pub ommers: Vec<Header>,
}

/// A block as it travels and as geth's chain files hold it: `[header, transactions, uncles]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// Transactions and uncles.
    pub body: BlockBody,
}

impl Block {
    /// Decodes one block from outside the node (bounded, 15-field headers, legacy txs only).
    pub fn decode_bounded(bytes: &[u8], limits: &Limits) -> Result<Self, DecodeError> {
        decode_exact("block", bytes, limits.max_block_bytes).map_err(|e| {
            // Name a header with too many fields precisely rather than as an RLP error.
            match header_field_count(bytes) {
                Some(fields) if fields > 15 => DecodeError::PostByzantiumHeader(fields),
                _ => e,
            }
        })
    }

    /// Hashes the header and seals the block.
    pub fn seal_slow(self) -> SealedBlock {
        SealedBlock {
            header: SealedHeader::seal(self.header),
            body: self.body,
        }
    }
}

impl Encodable for Block {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        let payload =
            self.header.length() + self.body.transactions.length() + self.body.ommers.length();
        alloy_rlp::Header {
            list: true,
            payload_length: payload,
        }
        .encode(out);
        self.header.encode(out);
        self.body.transactions.encode(out);
        self.body.ommers.encode(out);
    }

    fn length(&self) -> usize {
        let payload =
            self.header.length() + self.body.transactions.length() + self.body.ommers.length();
        alloy_rlp::length_of_length(payload) + payload
    }
}

impl Decodable for Block {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let rlp = alloy_rlp::Header::decode(buf)?;
        if !rlp.list {
            return Err(alloy_rlp::Error::UnexpectedString);
        }
        if rlp.payload_length > buf.len() {
            return Err(alloy_rlp::Error::InputTooShort);
        }
        let (mut payload, rest) = buf.split_at(rlp.payload_length);
        let header = decode_header_15(&mut payload)?;
        let transactions = Vec::<TransactionSigned>::decode(&mut payload)?;
        let ommers = Vec::<Header>::decode(&mut payload)?;
        if !payload.is_empty() {
            return Err(alloy_rlp::Error::ListLengthMismatch {
                expected: rlp.payload_length,
                got: rlp.payload_length - payload.len(),
            });
        }
        *buf = rest;
        Ok(Self {
            header,
            body: BlockBody {
                transactions,
                ommers,
            },
        })
    }
}

/// A block whose header hash is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBlock {
    /// The sealed header.
    pub header: SealedHeader,
    /// Transactions and uncles.
    pub body: BlockBody,
}

impl SealedBlock {
    /// The block hash.
    pub fn hash(&self) -> B256 {
        self.header.hash()
    }

    /// The block number.
    pub fn number(&self) -> u64 {
        self.header.number
    }

    /// Recovers every transaction's sender (EIP-2 low-s enforced).
    pub fn try_recover(self) -> Result<RecoveredBlock, (usize, SignatureError)> {
        let senders = self
            .body
            .transactions
            .iter()
            .enumerate()
            .map(|(i, tx)| tx.recover_sender().map_err(|e| (i, e)))
            .collect::<Result<Vec<Address>, _>>()?;
        Ok(RecoveredBlock {
            block: self,
            senders,
        })
    }

    /// Back to an unsealed block, for encoding.
    pub fn unseal(self) -> Block {
        Block {
            header: self.header.into_header(),
            body: self.body,
        }
    }
}

/// A sealed block with every transaction's sender, in transaction order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredBlock {
    /// The block.
    pub block: SealedBlock,
    /// `senders[i]` signed `block.body.transactions[i]`.
    pub senders: Vec<Address>,
}

impl RecoveredBlock {
    /// The block hash.
    pub fn hash(&self) -> B256 {
        self.block.hash()
    }

    /// The block number.
    pub fn number(&self) -> u64 {
        self.block.number()
    }

    /// The header.
    pub fn header(&self) -> &SealedHeader {
        &self.block.header
    }
}
