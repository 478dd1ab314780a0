//! Why a block could not be produced.

use alloy_primitives::{Address, B256};

use crate::record::SealRecordError;
use spectrum_chain::ChainError;
use spectrum_consensus::{ProviderError, SealError, VrfError};
use spectrum_execution::ExecutionError;

/// Why [`crate::BlockProducer`] could not build a block.
#[derive(Debug, thiserror::Error)]
pub enum ProducerError {
    /// The parent is not in the database.
    #[error("parent block {0} is unknown")]
    UnknownParent(B256),
    /// Blocks are built on the canonical head only (its state and trie are at hand).
    #[error("parent {parent} is not the head {head}")]
    ParentNotHead {
        /// The requested parent.
        parent: B256,
        /// The current head.
        head: B256,
    },
    /// The signer may not seal this block under the chief's signer set (tribe.md §7 item 3).
    #[error("{signer} may not seal block {number}: not in the signer set nor a leader")]
    NotAuthorised {
        /// The would-be signer.
        signer: Address,
        /// The block number.
        number: u64,
    },
    /// A requested timestamp before the signer's earliest time (tribe.md §7 item 1).
    #[error("timestamp {got} is before the earliest allowed {earliest}")]
    TooEarly {
        /// The earliest allowed timestamp.
        earliest: u64,
        /// The requested one.
        got: u64,
    },
    /// The signer set could not be read from the chief contracts.
    #[error("reading the signer set: {0}")]
    SignerSet(#[from] ProviderError),
    /// Our own chief-update transaction failed: the block would be invalid.
    #[error("the chief-update transaction failed: {0}")]
    ChiefUpdate(String),
    /// Executing failed for a reason that is not one transaction's fault.
    #[error("execution: {0}")]
    Execution(#[from] ExecutionError),
    /// VRF proving failed.
    #[error("VRF: {0}")]
    Vrf(#[from] VrfError),
    /// Sealing failed.
    #[error("seal: {0}")]
    Seal(#[from] SealError),
    /// The state root could not be computed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A database read failed.
    #[error(transparent)]
    Storage(#[from] spectrum_storage_api::ProviderError),
    /// This validator already signed a block at this height or above (possibly before a
    /// crash that cost the database its newest commits): signing another would equivocate.
    #[error(
        "refusing to seal block {number}: this validator already signed block {signed_number} ({signed_hash}); it waits for the chain to pass that height"
    )]
    AlreadySigned {
        /// The block we were about to seal.
        number: u64,
        /// The highest block this validator signed.
        signed_number: u64,
        /// Its hash.
        signed_hash: B256,
    },
    /// A block signed with our key that we did not seal: sealing stops (see `guard.rs`).
    #[error("refusing to seal: {0}")]
    SealConflict(crate::SealConflict),
    /// The record of the last signed block could not be written: nothing is sealed without it.
    #[error(transparent)]
    SealRecord(#[from] SealRecordError),
    /// A dev state patch could not be applied (`--dev` only).
    #[error(transparent)]
    DevPatch(#[from] spectrum_chain::DevPatchError),
    /// The blocking task that built the block failed (panicked or was cancelled).
    #[error("block production task failed: {0}")]
    Task(String),
    /// A number left its range.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
}
