//! Spectrum's chain data types: header, block, legacy transaction, receipt, log and bloom,
//! with their RLP encodings and hashes.
//!
//! **Owns:** the byte formats that go on the wire and into the database, and the hashes derived
//! from them (block hash, transaction hash, transactions/receipts roots, the Tribe seal hash is
//! in the consensus crate). Every decoder here is bounded ([`decode`]) and returns a typed
//! [`DecodeError`]; bad bytes never panic.
//!
//! Also the plain data the node's services hand each other ([`CanonicalChange`],
//! [`SyncProgress`]), defined once here so that no service crate depends on another for a type.
//!
//! **Must not touch:** storage, execution, consensus rules or networking. This crate knows what a
//! block *is*, not whether it is *valid*.
//!
//! Naming follows reth's convention:
//! - *sealed* types ([`SealedHeader`], [`SealedBlock`]) carry their hash, computed once;
//! - *recovered* types ([`RecoveredBlock`], [`RecoveredTx`]) carry their transactions' senders;
//! - a function named `*_unchecked` trusts its caller for what it would otherwise verify.
//!
//! Spectrum uses the Byzantium-era formats: a 15-field header, legacy (untyped) transactions
//! `[nonce, gasPrice, gas, to, value, data, v, r, s]` signed with EIP-155 (or unprotected), and
//! receipts `[status, cumulativeGasUsed, bloom, logs]`. Where alloy's types encode exactly these
//! formats they are re-used; anything post-Byzantium (typed transactions, London header fields)
//! is refused by the decoders.

mod block;
mod chain_state;
pub mod decode;
mod error;
mod proofs;
mod receipt;
mod request;
mod transaction;

pub use block::{Block, BlockBody, RecoveredBlock, SealedBlock, SealedHeader};
pub use chain_state::{CanonicalChange, SyncProgress};
pub use decode::{DecodeError, Limits};
pub use error::GotExpected;
pub use proofs::{logs_bloom, ordered_trie_root, receipts_root, transactions_root};
pub use receipt::{Log, Receipt, ReceiptWithBloom, decode_receipt_bounded};
pub use request::{HashOrNumber, HeadersRequest};
pub use transaction::{
    RecoveredTx, SignatureError, TransactionSigned, TxLegacy, public_key_to_address,
    recover_signer_unchecked, sign_transaction,
};

pub use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, EMPTY_ROOT_HASH, Header};
pub use alloy_primitives::{
    Address, B64, B256, Bloom, Bytes, Signature, TxKind, U256, address, b256, bytes, hex, keccak256,
};

/// Keccak-256 of the empty string: the code hash of an account without code.
pub const KECCAK_EMPTY: B256 =
    b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// A block number.
pub type BlockNumber = u64;
/// A block hash.
pub type BlockHash = B256;
/// A transaction hash.
pub type TxHash = B256;
