//! Key encodings of the tables (see [`crate::tables`]). Numbers are big-endian so that byte
//! order is numeric order.

use alloy_primitives::{Address, B256};

/// `number BE ‖ hash`: key of headers, bodies, receipts and total difficulty. Number first so
/// that a block's records sort by height (cheap range scans, good locality when syncing).
pub(crate) fn block_key(number: u64, hash: &B256) -> [u8; 40] {
    concat(&[&number.to_be_bytes(), hash.as_slice()])
}

/// `number BE`: key of canonical and block_changes.
pub(crate) fn number_key(number: u64) -> [u8; 8] {
    number.to_be_bytes()
}

/// `address ‖ slot`: key of the plain storage table. Address first so one account's slots are
/// contiguous (wiping storage is one prefix scan).
pub(crate) fn storage_key(address: &Address, slot: &B256) -> [u8; 52] {
    concat(&[address.as_slice(), slot.as_slice()])
}

/// `address ‖ number BE`: key of account_history.
pub(crate) fn account_history_key(address: &Address, number: u64) -> [u8; 28] {
    concat(&[address.as_slice(), &number.to_be_bytes()])
}

/// `address ‖ slot ‖ number BE`: key of storage_history.
pub(crate) fn storage_history_key(address: &Address, slot: &B256, number: u64) -> [u8; 60] {
    concat(&[address.as_slice(), slot.as_slice(), &number.to_be_bytes()])
}

/// The smallest key greater than every key starting with `prefix`, to bound an iterator; `None`
/// when no such key exists (the prefix is all 0xff).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if let Some(next) = last.checked_add(1) {
            out.push(next);
            return Some(out);
        }
    }
    None
}

/// Concatenates `parts` into an array of the key's fixed length. The callers' lengths are
/// constants that add up exactly (checked by the tests); the loop cannot panic regardless.
pub(crate) fn concat<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut dst = out.iter_mut();
    for byte in parts.iter().flat_map(|part| part.iter()) {
        if let Some(slot) = dst.next() {
            *slot = *byte;
        }
    }
    debug_assert!(dst.next().is_none(), "key shorter than its parts");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_parts_in_order() {
        let hash = B256::repeat_byte(0xab);
        let key = block_key(0x0102, &hash);
        assert_eq!(&key[..8], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(&key[8..], hash.as_slice());

        let address = Address::repeat_byte(0x11);
        let slot = B256::repeat_byte(0x22);
        let key = storage_history_key(&address, &slot, 7);
        assert_eq!(&key[..20], address.as_slice());
        assert_eq!(&key[20..52], slot.as_slice());
        assert_eq!(&key[52..], &7u64.to_be_bytes());
        assert_eq!(&account_history_key(&address, 7)[20..], &7u64.to_be_bytes());
        assert_eq!(&storage_key(&address, &slot)[20..], slot.as_slice());
    }

    #[test]
    fn numbers_sort_numerically() {
        let address = Address::repeat_byte(1);
        assert!(account_history_key(&address, 255) < account_history_key(&address, 256));
        assert!(number_key(9) < number_key(10));
    }

    #[test]
    fn prefix_successor_carries() {
        assert_eq!(prefix_successor(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff, 0xff]), None);
    }
}
