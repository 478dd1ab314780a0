//! Block production for a Tribe validator (tribe.md §15): plan the signer's slot (role,
//! difficulty, earliest time), lay out the header (VRF over the parent from SIP100), put the
//! signer's own chief-update transaction first with the volunteer `takeMiner` picks, add
//! candidate transactions while gas lasts, execute, compute the roots and seal.
//!
//! **Owns:** [`BlockProducer`] (building one block on the head), [`ProducerService`] (when a
//! validator node builds: at its turn, on new transactions, on a timer for `--dev`) and
//! [`SealRecord`] (the fsync'd record of the last block signed: after a crash the validator
//! never signs a second, different block at a height it already signed), and on `--dev` the
//! control channel [`DevControl`] (`evm_mine`, automine, time travel, snapshots) with its
//! [`DevClock`].
//!
//! **Must not touch:** the database's writes (a built block goes through
//! `spectrum_chain::Blockchain::insert_block` like any peer's block, so every block we
//! produce passes our own verifier), the pool's internals (it takes candidates through its own
//! [`TransactionSource`] trait, which the node implements over the pool), the database (it
//! reads chain data and state snapshots through `spectrum-storage-api`'s `ChainReader`), or
//! the network (a sealed block is handed out on a channel).

mod build;
mod coinbase;
// ---- dev controls (issue 19) ----
mod dev_control;
mod error;
mod guard;
mod plan;
mod record;
mod service;

use std::sync::Arc;

use alloy_primitives::Address;
use spectrum_chainspec::ChainSpec;
use spectrum_execution::BlockExecutor;
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::ChainReader;
use spectrum_tribe_state::ChiefContracts;

pub use build::{
    BuildRequest, BuiltBlock, CHIEF_UPDATE_GAS, CHIEF_UPDATE_GAS_PRICE, Candidate, Skipped,
};
pub use dev_control::{DevClock, DevControl, DevError, MAX_BLOCKS_PER_MINE, MinedBlock};
pub use error::ProducerError;
pub use guard::SealConflict;
pub use plan::SlotPlan;
pub use record::{LastSealed, SealRecord, SealRecordError};
pub use service::{ProducerConfig, ProducerService, ProductionMode, TransactionSource};

/// Builds blocks on the canonical head of a chain.
pub struct BlockProducer {
    db: Arc<dyn ChainReader>,
    spec: Arc<ChainSpec>,
    chief: ChiefContracts,
    executor: BlockExecutor,
}

impl BlockProducer {
    /// A producer over the chain data `db` reads, for the chain of `spec`.
    pub fn new(db: Arc<dyn ChainReader>, spec: Arc<ChainSpec>) -> Self {
        Self {
            chief: ChiefContracts::new(db.clone(), spec.clone()),
            executor: BlockExecutor::spectrum(spec.clone()),
            db,
            spec,
        }
    }

    /// `signer`'s slot for the block after `parent` (difficulty, delay, earliest time), or
    /// [`ProducerError::NotAuthorised`].
    pub fn plan(&self, parent: &SealedHeader, signer: Address) -> Result<SlotPlan, ProducerError> {
        plan::plan_slot(&self.spec, &self.chief, parent, signer)
    }

    /// The signer set the rules read for the block after `parent` (at `parent`'s state), and
    /// whether its chief is 1.0.0; `None` before the chain's first chief.
    pub(crate) fn signer_set_after(
        &self,
        parent: &SealedHeader,
    ) -> Result<Option<(spectrum_consensus::SignerSet, bool)>, ProducerError> {
        let number = parent
            .number
            .checked_add(1)
            .ok_or(ProducerError::Overflow("block number"))?;
        let Some(chief) = self.spec.chief_at(number) else {
            return Ok(None);
        };
        let set = spectrum_consensus::SignerSetProvider::signer_set(&self.chief, parent, chief)?;
        Ok(Some((set, spectrum_consensus::is_chief_100(chief))))
    }

    /// The chain spec.
    pub fn spec(&self) -> &Arc<ChainSpec> {
        &self.spec
    }
}
