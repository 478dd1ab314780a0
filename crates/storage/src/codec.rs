//! Value encodings of the tables (see [`crate::tables`]) and their decoders. Every decoder is
//! total: bytes that are not a valid record give [`StorageError::Corrupt`], never a panic.

use alloy_primitives::{Address, B256, U256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use spectrum_primitives::decode::decode_exact;
use spectrum_storage_api::{Account, TxLocation};

use crate::{StorageError, Table, keys::concat};

/// `number BE ‖ hash ‖ index BE`: the `tx_lookup` record.
pub(crate) fn encode_tx_location(location: &TxLocation) -> [u8; 44] {
    concat(&[
        &location.block_number.to_be_bytes(),
        location.block_hash.as_slice(),
        &location.index.to_be_bytes(),
    ])
}

pub(crate) fn decode_tx_location(key: &[u8], bytes: &[u8]) -> Result<TxLocation, StorageError> {
    let table = Table::TxLookup;
    let fields = bytes
        .split_first_chunk::<8>()
        .and_then(|(number, rest)| {
            let (hash, index) = rest.split_first_chunk::<32>()?;
            Some((number, hash, <[u8; 4]>::try_from(index).ok()?))
        })
        .ok_or_else(|| wrong_length(table, key, 44, bytes.len()))?;
    let (number, hash, index) = fields;
    Ok(TxLocation {
        block_number: u64::from_be_bytes(*number),
        block_hash: B256::from(*hash),
        index: u32::from_be_bytes(index),
    })
}

/// The `block_changes` record: every account and slot a canonical block changed. Unwinding reads
/// it to find the block's history entries without scanning the history tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub(crate) struct BlockChangeSet {
    /// Addresses whose account changed.
    pub(crate) accounts: Vec<Address>,
    /// Slots whose value changed.
    pub(crate) storage: Vec<SlotKey>,
}

/// One storage slot of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub(crate) struct SlotKey {
    pub(crate) address: Address,
    pub(crate) slot: B256,
}

/// RLP of `value`.
pub(crate) fn encode_rlp<T: Encodable>(value: &T) -> Vec<u8> {
    alloy_rlp::encode(value)
}

/// RLP list of `items`.
pub(crate) fn encode_rlp_list<T: Encodable>(items: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    alloy_rlp::encode_list(items, &mut out);
    out
}

/// Decodes exactly one RLP `T` from the record at `key` of `table`.
pub(crate) fn decode_rlp<T: Decodable>(
    table: Table,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StorageError> {
    // Our own records have no size bound beyond what we wrote; the exactness check is the point.
    decode_exact(table.name(), bytes, usize::MAX)
        .map_err(|err| StorageError::corrupt(table, key, err.to_string()))
}

/// A history value: the account before a block changed it. Empty = it did not exist, which no
/// account RLP (always a list, at least one byte) can be confused with.
pub(crate) fn encode_prior_account(account: Option<&Account>) -> Vec<u8> {
    account.map(encode_rlp).unwrap_or_default()
}

/// Inverse of [`encode_prior_account`].
pub(crate) fn decode_prior_account(
    key: &[u8],
    bytes: &[u8],
) -> Result<Option<Account>, StorageError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    decode_rlp(Table::AccountHistory, key, bytes).map(Some)
}

/// A fixed-length record.
pub(crate) fn decode_fixed<const N: usize>(
    table: Table,
    key: &[u8],
    bytes: &[u8],
) -> Result<[u8; N], StorageError> {
    <[u8; N]>::try_from(bytes).map_err(|_| wrong_length(table, key, N, bytes.len()))
}

/// A u64 stored big-endian.
pub(crate) fn decode_u64(table: Table, key: &[u8], bytes: &[u8]) -> Result<u64, StorageError> {
    decode_fixed(table, key, bytes).map(u64::from_be_bytes)
}

/// A 32-byte hash.
pub(crate) fn decode_b256(table: Table, key: &[u8], bytes: &[u8]) -> Result<B256, StorageError> {
    decode_fixed(table, key, bytes).map(B256::from)
}

/// A U256 stored as 32 bytes big-endian (total difficulty).
pub(crate) fn decode_u256_be(table: Table, key: &[u8], bytes: &[u8]) -> Result<U256, StorageError> {
    decode_fixed::<32>(table, key, bytes).map(|b| U256::from_be_bytes(b))
}

/// `number BE ‖ hash`: the head record.
pub(crate) fn encode_head(number: u64, hash: &B256) -> [u8; 40] {
    crate::keys::block_key(number, hash)
}

/// Inverse of [`encode_head`].
pub(crate) fn decode_head(key: &[u8], bytes: &[u8]) -> Result<(u64, B256), StorageError> {
    let (number, hash) = bytes
        .split_first_chunk::<8>()
        .and_then(|(number, rest)| Some((number, <[u8; 32]>::try_from(rest).ok()?)))
        .ok_or_else(|| wrong_length(Table::Meta, key, 40, bytes.len()))?;
    Ok((u64::from_be_bytes(*number), B256::from(hash)))
}

fn wrong_length(table: Table, key: &[u8], expected: usize, found: usize) -> StorageError {
    StorageError::corrupt(
        table,
        key,
        format!("expected {expected} bytes, found {found}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_location_round_trips_and_refuses_bad_lengths() {
        let loc = TxLocation {
            block_number: 5,
            block_hash: B256::repeat_byte(3),
            index: 9,
        };
        assert_eq!(
            decode_tx_location(b"k", &encode_tx_location(&loc)).unwrap(),
            loc
        );
        assert!(matches!(
            decode_tx_location(b"k", &encode_tx_location(&loc)[..43]),
            Err(StorageError::Corrupt {
                table: Table::TxLookup,
                ..
            })
        ));
    }

    #[test]
    fn prior_account_distinguishes_absent_from_default() {
        assert_eq!(
            decode_prior_account(b"k", &encode_prior_account(None)).unwrap(),
            None
        );
        let acc = Account::default();
        assert_eq!(
            decode_prior_account(b"k", &encode_prior_account(Some(&acc))).unwrap(),
            Some(acc)
        );
    }

    #[test]
    fn head_round_trips() {
        let hash = B256::repeat_byte(7);
        assert_eq!(
            decode_head(b"head", &encode_head(42, &hash)).unwrap(),
            (42, hash)
        );
        assert!(decode_head(b"head", &[0u8; 39]).is_err());
    }

    #[test]
    fn change_set_round_trips() {
        let set = BlockChangeSet {
            accounts: vec![Address::repeat_byte(1)],
            storage: vec![SlotKey {
                address: Address::repeat_byte(2),
                slot: B256::repeat_byte(3),
            }],
        };
        let bytes = encode_rlp(&set);
        assert_eq!(
            decode_rlp::<BlockChangeSet>(Table::BlockChanges, b"k", &bytes).unwrap(),
            set
        );
        assert!(decode_rlp::<BlockChangeSet>(Table::BlockChanges, b"k", &bytes[1..]).is_err());
    }
}
