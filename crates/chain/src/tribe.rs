//! Tribe wired to the chain: the adapter that makes `spectrum-consensus`'s `TribeValidator` the
//! chain's [`BlockValidator`], with the signer set and the volunteer of §8.1 read through
//! `spectrum-tribe-state`'s `ChiefContracts` on the parent's state (tribe.md §5).

use std::sync::Arc;

use alloy_primitives::{Address, B256};
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::{
    TribeError, TribeValidator, validate_chief_tx_receipt, validate_chief_volunteer,
};
use spectrum_primitives::{ReceiptWithBloom, SealedBlock, SealedHeader};
use spectrum_storage_api::StateProviderFactory;
use spectrum_tribe_state::ChiefContracts;

use crate::BlockValidator;

/// Tribe's rules as the chain's block validator.
pub struct TribeBlockValidator {
    tribe: TribeValidator,
    contracts: Arc<ChiefContracts>,
    spec: Arc<ChainSpec>,
}

impl TribeBlockValidator {
    /// Tribe over the states `state` opens, for `spec`, with the system clock.
    pub fn new(state: Arc<dyn StateProviderFactory>, spec: Arc<ChainSpec>) -> Self {
        let contracts = Arc::new(ChiefContracts::new(state, spec.clone()));
        let tribe = TribeValidator::new(
            spec.clone(),
            contracts.clone(),
            Arc::new(spectrum_consensus::SystemClock),
        );
        Self {
            tribe,
            contracts,
            spec,
        }
    }

    /// The same rules reading the time from `clock` (the node's one clock).
    pub fn with_clock(mut self, clock: Arc<dyn spectrum_consensus::Clock>) -> Self {
        self.tribe = self.tribe.with_clock(clock);
        self
    }
}

impl BlockValidator for TribeBlockValidator {
    fn prepare_header(&self, header: &SealedHeader, parent: &SealedHeader) {
        self.tribe.preverify_seal(header, parent);
    }

    fn validate_side_header(
        &self,
        header: &SealedHeader,
        parent: &SealedHeader,
    ) -> Result<(), TribeError> {
        // The signer set is read at the parent's state: the head's, or the history of a
        // canonical block (`ChiefContracts::with_state`).
        self.tribe.validate_header(header, parent)
    }

    fn validate_header_without_state(
        &self,
        header: &SealedHeader,
        parent: &SealedHeader,
    ) -> Result<(), TribeError> {
        self.tribe.validate_header_without_state(header, parent)
    }

    fn validate_block(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        senders: &[Address],
    ) -> Result<Option<Address>, TribeError> {
        self.tribe
            .validate_block_pre_execution(block, parent, senders)
    }

    fn validate_after_execution(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        receipts: &[ReceiptWithBloom],
    ) -> Result<(), TribeError> {
        let number = block.number();
        let first_ok = receipts.first().map(|r| r.receipt.status.coerce_status());
        validate_chief_tx_receipt(&self.spec, number, first_ok)?;
        let Some(chief) = self.spec.chief_at(number) else {
            return Ok(());
        };
        if number <= 3 || !self.spec.is_sip100(number) {
            return Ok(());
        }
        let vrfn = block
            .header
            .extra_data
            .get(..32)
            .map(B256::from_slice)
            .unwrap_or_default();
        let expected = self.contracts.expected_volunteer(parent, chief, vrfn)?;
        validate_chief_volunteer(block, &self.spec, expected)
    }
}
