//! Benchmarks of the import path on a generated chain.
//!
//! **Owns:** [`ChainGenerator`], a deterministic generator of realistic blocks on top of the
//! `dev` genesis (plain transfers, ERC20 transfers, contract creations, storage-heavy calls, the
//! contracts hand-assembled in [`contracts`]), and the measurements `spectrum-bench import`
//! prints ([`measure`]): bare execution on an in-memory state against the full import
//! (`Blockchain::insert_block` into RocksDB), an import split into its phases, and the import of
//! a chain file; the same blocks on a state filled with N accounts ([`state_size`]); and a long
//! devnet chain sealed by our producer that the reference node can import too ([`long_chain`]).
//!
//! **Must not touch:** anything the node runs. Nothing here is on the node's path; it drives
//! the public APIs of `spectrum-chain`, `spectrum-execution` and `spectrum-storage` only.

pub mod contracts;
mod generator;
pub mod long_chain;
pub mod measure;
pub mod produce;
pub mod state_size;

pub use generator::{
    COINBASE, ChainConfig, ChainGenerator, EXTRA_DATA_LEN, GeneratedChain, TxKinds, genesis_state,
};

use alloy_primitives::B256;

/// Why generating or measuring failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The configuration or the genesis cannot produce a chain.
    #[error("bench configuration: {0}")]
    Config(String),
    /// The generator's own block did not execute.
    #[error("generating block {number}: {source}")]
    Generate {
        /// The block's number.
        number: u64,
        /// What failed.
        source: spectrum_execution::ExecutionError,
    },
    /// A generated transaction failed (reverted or ran out of gas): the generator is wrong.
    #[error("generating block {number}: transaction {index} failed")]
    FailedTransaction {
        /// The block's number.
        number: u64,
        /// The transaction's index.
        index: usize,
    },
    /// Re-executing a generated block failed.
    #[error("executing block {number}: {source}")]
    Execution {
        /// The block's number.
        number: u64,
        /// What failed.
        source: spectrum_execution::ExecutionError,
    },
    /// A block was not imported as the new canonical head.
    #[error("block {number} {hash}: expected a canonical import, got {outcome}")]
    NotCanonical {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// What happened instead.
        outcome: String,
    },
    /// A measured run disagrees with the generated chain.
    #[error("{0}")]
    Mismatch(String),
    /// Import failed.
    #[error(transparent)]
    Chain(#[from] spectrum_chain::ChainError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] spectrum_storage::StorageError),
    /// The chain file could not be read.
    #[error(transparent)]
    ChainFile(#[from] spectrum_import::ChainFileError),
    /// Our producer could not build a block of the long chain.
    #[error("producing block {number}: {reason}")]
    Produce {
        /// The block's number.
        number: u64,
        /// Why.
        reason: String,
    },
    /// A block's sender could not be recovered.
    #[error("block {number}: transaction {index}: {source}")]
    Sender {
        /// The block's number.
        number: u64,
        /// The transaction's index.
        index: usize,
        /// Why.
        source: spectrum_primitives::SignatureError,
    },
}
