//! Leaf values of the state tries.

use alloy_primitives::{B256, U256};
use alloy_trie::TrieAccount;

/// The account trie's leaf value: RLP of `[nonce, balance, storage_root, code_hash]`.
pub fn account_leaf_value(
    nonce: u64,
    balance: U256,
    storage_root: B256,
    code_hash: B256,
) -> Vec<u8> {
    alloy_rlp::encode(TrieAccount {
        nonce,
        balance,
        storage_root,
        code_hash,
    })
}

/// A storage trie's leaf value: RLP of the slot value, or `None` for zero, because a zero slot
/// is absent from the trie; the result plugs straight into
/// [`update_trie`](crate::update_trie)'s changes.
pub fn storage_leaf_value(value: U256) -> Option<Vec<u8>> {
    (!value.is_zero()).then(|| alloy_rlp::encode(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_trie::{EMPTY_ROOT_HASH, KECCAK_EMPTY};

    #[test]
    fn storage_values_are_minimal_rlp_and_zero_is_delete() {
        assert_eq!(storage_leaf_value(U256::ZERO), None);
        assert_eq!(storage_leaf_value(U256::from(1)), Some(vec![0x01]));
        assert_eq!(storage_leaf_value(U256::from(0x80)), Some(vec![0x81, 0x80]));
        assert_eq!(storage_leaf_value(U256::MAX).map(|v| v.len()), Some(33));
    }

    #[test]
    fn account_value_is_trie_account_rlp() {
        let value = account_leaf_value(1, U256::from(2), EMPTY_ROOT_HASH, KECCAK_EMPTY);
        let decoded: TrieAccount = alloy_rlp::Decodable::decode(&mut value.as_slice()).unwrap();
        assert_eq!(decoded.nonce, 1);
        assert_eq!(decoded.balance, U256::from(2));
        assert_eq!(decoded.storage_root, EMPTY_ROOT_HASH);
        assert_eq!(decoded.code_hash, KECCAK_EMPTY);
    }
}
