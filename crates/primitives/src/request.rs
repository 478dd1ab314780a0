//! The header request both wires speak: eth/63's `GetBlockHeaders` `[origin, amount, skip,
//! reverse]`, where the origin is a block hash or a number. Defined once here: libp2p's request
//! messages (`spectrum-network`) and devp2p's (`spectrum-devp2p`) encode exactly this, and sync
//! asks either wire with it.

use alloy_primitives::B256;
use alloy_rlp::{Decodable, Encodable, Header as RlpHeader, RlpDecodable, RlpEncodable};

/// Where a header range starts: a block hash or a block number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashOrNumber {
    /// A block hash.
    Hash(B256),
    /// A block number.
    Number(u64),
}

impl Encodable for HashOrNumber {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        match self {
            Self::Hash(hash) => hash.encode(out),
            Self::Number(number) => number.encode(out),
        }
    }

    fn length(&self) -> usize {
        match self {
            Self::Hash(hash) => hash.length(),
            Self::Number(number) => number.length(),
        }
    }
}

impl Decodable for HashOrNumber {
    /// A 32-byte string is a hash, anything else must be a number of at most 8 bytes (as the
    /// reference decides).
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let mut peek = *buf;
        let header = RlpHeader::decode(&mut peek)?;
        if !header.list && header.payload_length == 32 {
            B256::decode(buf).map(Self::Hash)
        } else {
            u64::decode(buf).map(Self::Number)
        }
    }
}

/// A request for headers: `amount` headers from `origin`, every `skip + 1`-th block, towards
/// lower numbers if `reverse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct HeadersRequest {
    /// First block of the range.
    pub origin: HashOrNumber,
    /// How many headers at most (a server clamps this to its limit).
    pub amount: u64,
    /// Blocks left out between two returned headers.
    pub skip: u64,
    /// Towards genesis instead of towards the head.
    pub reverse: bool,
}

impl HeadersRequest {
    /// `amount` consecutive headers from number `start` upwards.
    pub fn range(start: u64, amount: u64) -> Self {
        Self {
            origin: HashOrNumber::Number(start),
            amount,
            skip: 0,
            reverse: false,
        }
    }

    /// The numbers of the headers this request names, given the origin's number, at most
    /// `limit` of them; the walk stops at either end of the `u64` range (absurd amounts or
    /// skips never overflow).
    pub fn numbers(&self, origin_number: u64, limit: u64) -> Vec<u64> {
        let step = self.skip.saturating_add(1);
        let count = self.amount.min(limit);
        let mut numbers = Vec::new();
        let mut current = Some(origin_number);
        for _ in 0..count {
            let Some(number) = current else { break };
            numbers.push(number);
            current = if self.reverse {
                number.checked_sub(step)
            } else {
                number.checked_add(step)
            };
        }
        numbers
    }

    /// What a server holding blocks up to `head` answers with: [`Self::numbers`], ending
    /// before the first number past `head`.
    pub fn numbers_from(&self, origin_number: u64, head: u64, limit: u64) -> Vec<u64> {
        let mut numbers = self.numbers(origin_number, limit);
        let within = numbers.iter().take_while(|n| **n <= head).count();
        numbers.truncate(within);
        numbers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(amount: u64, skip: u64, reverse: bool) -> HeadersRequest {
        HeadersRequest {
            origin: HashOrNumber::Number(0),
            amount,
            skip,
            reverse,
        }
    }

    #[test]
    fn numbers_stay_in_range_and_within_the_head() {
        assert_eq!(req(10, 1, true).numbers(5, 192), vec![5, 3, 1]);
        assert_eq!(
            HeadersRequest::range(u64::MAX, 3).numbers(u64::MAX, 192),
            vec![u64::MAX]
        );
        assert_eq!(req(1000, 0, false).numbers(0, 4), vec![0, 1, 2, 3]);
        assert_eq!(
            req(10, 0, false).numbers_from(98, 100, 192),
            vec![98, 99, 100]
        );
        assert_eq!(
            req(u64::MAX, 0, false).numbers_from(0, u64::MAX, 192).len(),
            192
        );
        assert_eq!(
            req(5, u64::MAX - 1, true).numbers_from(u64::MAX, u64::MAX, 192),
            vec![u64::MAX, 0]
        );
        assert!(req(1, 0, false).numbers_from(101, 100, 192).is_empty());
    }

    #[test]
    fn origin_is_a_hash_only_when_32_bytes() {
        for origin in [
            HashOrNumber::Number(0),
            HashOrNumber::Number(u64::MAX),
            HashOrNumber::Hash(B256::repeat_byte(7)),
        ] {
            let request = HeadersRequest {
                origin,
                amount: 3,
                skip: 1,
                reverse: true,
            };
            let bytes = alloy_rlp::encode(request);
            assert_eq!(HeadersRequest::decode(&mut &bytes[..]).unwrap(), request);
        }
        // A 9-byte number is neither.
        let nine = [0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert!(HashOrNumber::decode(&mut &nine[..]).is_err());
    }
}
