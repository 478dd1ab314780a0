//! Bounded decoding: every byte string from outside the node goes through here.
//!
//! RLP decoding of our types is driven by their fixed structure, so nesting depth is bounded by
//! the types themselves (a header is one list of scalars, a block three lists deep); what is left
//! to bound is size. [`Limits`] caps the input length in bytes; since every allocation a decoder
//! makes grows with the input it has read, capping the length bounds memory too. Every decoder
//! insists the input is consumed exactly.

use alloy_rlp::Decodable;

/// Size bounds for decoding data from outside the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded block accepted, in bytes.
    pub max_block_bytes: usize,
    /// Largest encoded transaction accepted, in bytes (the pool's 128 KiB rule is stricter).
    pub max_tx_bytes: usize,
    /// Largest encoded header accepted, in bytes.
    pub max_header_bytes: usize,
}

impl Limits {
    /// Bounds generous enough for any real Spectrum block (gas limits of 40M allow at most
    /// ~590 KB of calldata at 68 gas a byte) and small enough to refuse abuse.
    pub const DEFAULT: Self = Self {
        max_block_bytes: 16 * 1024 * 1024,
        max_tx_bytes: 4 * 1024 * 1024,
        max_header_bytes: 64 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a byte string is not a valid encoding of the type asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is longer than the bound for its kind.
    #[error("{what} of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The bytes are not valid RLP for this type.
    #[error("invalid RLP for {what}: {source}")]
    Rlp {
        /// What was being decoded.
        what: &'static str,
        /// The RLP error.
        source: alloy_rlp::Error,
    },
    /// Bytes remained after a complete item.
    #[error("{what}: {extra} trailing bytes after the item")]
    TrailingBytes {
        /// What was being decoded.
        what: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
    /// An EIP-2718 typed transaction: Spectrum knows only legacy transactions.
    #[error("transaction type {0:#04x} not supported: Spectrum accepts legacy transactions only")]
    TypedTransaction(u8),
    /// A header carrying fields from forks Spectrum never adopted (London and later).
    #[error("header has {0} fields; Spectrum headers have exactly 15")]
    PostByzantiumHeader(usize),
    /// A pre-Byzantium receipt (post-state root instead of a status byte).
    #[error("receipt carries a post-state root; Spectrum receipts have a status byte")]
    PreByzantiumReceipt,
}

/// Counts the items of the RLP list at the start of `bytes`, or `None` if it is not a
/// well-formed list. Used to name a header with the wrong number of fields precisely.
pub(crate) fn list_item_count(bytes: &[u8]) -> Option<usize> {
    let mut buf = bytes;
    let header = alloy_rlp::Header::decode(&mut buf).ok()?;
    if !header.list || header.payload_length > buf.len() {
        return None;
    }
    let mut payload = buf.get(..header.payload_length)?;
    let mut count = 0usize;
    while !payload.is_empty() {
        let item = alloy_rlp::Header::decode(&mut payload).ok()?;
        payload = payload.get(item.payload_length..)?;
        count = count.checked_add(1)?;
    }
    Some(count)
}

/// Decodes exactly one `T` from `bytes`, at most `max` bytes long, with nothing left over.
pub fn decode_exact<T: Decodable>(
    what: &'static str,
    bytes: &[u8],
    max: usize,
) -> Result<T, DecodeError> {
    if bytes.len() > max {
        return Err(DecodeError::TooLarge {
            what,
            len: bytes.len(),
            max,
        });
    }
    let mut buf = bytes;
    let item = T::decode(&mut buf).map_err(|source| DecodeError::Rlp { what, source })?;
    if !buf.is_empty() {
        return Err(DecodeError::TrailingBytes {
            what,
            extra: buf.len(),
        });
    }
    Ok(item)
}
