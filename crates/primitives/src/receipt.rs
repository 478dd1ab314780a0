//! Receipts: Byzantium form `[status, cumulativeGasUsed, bloom, logs]`.

/// A log entry: emitting address, topics, data.
pub use alloy_primitives::Log;

/// A transaction's receipt without its bloom (status, cumulative gas, logs).
pub type Receipt = alloy_consensus::Receipt<Log>;

/// A receipt with its bloom: the form that is hashed into the receipts root and stored.
pub type ReceiptWithBloom = alloy_consensus::ReceiptWithBloom<Receipt>;

/// Decodes one stored or received receipt: bounded, Byzantium form only (a status byte, never a
/// post-state root: Spectrum has had status receipts since block 0, chain.md §3).
pub fn decode_receipt_bounded(
    bytes: &[u8],
    limits: &crate::Limits,
) -> Result<ReceiptWithBloom, crate::DecodeError> {
    let receipt: ReceiptWithBloom =
        crate::decode::decode_exact("receipt", bytes, limits.max_block_bytes)?;
    if matches!(
        receipt.receipt.status,
        alloy_consensus::Eip658Value::PostState(_)
    ) {
        return Err(crate::DecodeError::PreByzantiumReceipt);
    }
    Ok(receipt)
}
