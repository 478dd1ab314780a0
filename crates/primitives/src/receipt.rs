//! Receipts: Byzantium form `[status, cumulativeGasUsed, bloom, logs]`.

/// A log entry: emitting address, topics, data.
pub use alloy_primitives::Log;

/// A transaction's receipt without its bloom (status, cumulative gas, logs).
pub type Receipt = alloy_consensus::Receipt<Log>;

/// A receipt with its bloom: the form that is hashed into the receipts root and stored.
pub type ReceiptWithBloom = alloy_consensus::ReceiptWithBloom<Receipt>;
