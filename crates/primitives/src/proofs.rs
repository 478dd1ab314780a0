//! The roots and bloom a header commits to.

use alloy_primitives::{B256, Bloom};
use alloy_rlp::Encodable;

use crate::{ReceiptWithBloom, TransactionSigned};

/// Root of the Merkle-Patricia trie keyed by `rlp(index)` over the RLP of each item: the form of
/// both `transactionsRoot` and `receiptsRoot`.
pub fn ordered_trie_root<T: Encodable>(items: &[T]) -> B256 {
    alloy_trie::root::ordered_trie_root_with_encoder(items, |item, buf| item.encode(buf))
}

/// The header's `transactionsRoot` for these transactions.
pub fn transactions_root(transactions: &[TransactionSigned]) -> B256 {
    ordered_trie_root(transactions)
}

/// The header's `receiptsRoot` for these receipts.
pub fn receipts_root(receipts: &[ReceiptWithBloom]) -> B256 {
    ordered_trie_root(receipts)
}

/// The header's `logsBloom`: the union of the receipts' blooms.
pub fn logs_bloom<'a>(receipts: impl IntoIterator<Item = &'a ReceiptWithBloom>) -> Bloom {
    receipts
        .into_iter()
        .fold(Bloom::ZERO, |acc, r| acc | r.logs_bloom)
}
