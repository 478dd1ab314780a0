//! When may a signer seal the next block, and with which difficulty (tribe.md §6, §7).

use alloy_primitives::Address;
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::{
    SignerSetProvider, check_signer_authorised, expected_difficulty, role_delay, tribe_period,
};
use spectrum_primitives::SealedHeader;
use spectrum_tribe_state::ChiefContracts;

use crate::ProducerError;

/// A signer's slot for the block after a parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotPlan {
    /// The block's number.
    pub number: u64,
    /// Who seals it.
    pub signer: Address,
    /// The difficulty the rules give this signer here (6 in turn under chief 1.0.0).
    pub difficulty: u64,
    /// The minimum delay after the parent for this signer (its role delay).
    pub delay: u64,
    /// The earliest timestamp: parent time + delay.
    pub earliest: u64,
}

impl SlotPlan {
    /// Whether this is the signer's own turn: the highest difficulty of its era, so no
    /// other signer's block can beat it.
    pub fn in_turn(&self, spec: &ChainSpec) -> bool {
        let top = match spec.chief_at(self.number) {
            Some(chief) if spectrum_consensus::is_chief_100(chief) => 6,
            _ if spec.is_sip002(self.number) => 3,
            _ => 2,
        };
        self.difficulty >= top
    }
}

/// Plans `signer`'s block after `parent`, or refuses if the signer set read at the parent's
/// state does not let it seal that block (tribe.md §7 item 3: checked for every block we
/// produce, also N ≤ 3 where import does not check it, so that we never produce what the
/// rules would refuse once they apply).
pub(crate) fn plan_slot(
    spec: &ChainSpec,
    chief_contracts: &ChiefContracts,
    parent: &SealedHeader,
    signer: Address,
) -> Result<SlotPlan, ProducerError> {
    let number = parent
        .number
        .checked_add(1)
        .ok_or(ProducerError::Overflow("block number"))?;
    let period = tribe_period(spec);
    let (difficulty, delay) = match spec.chief_at(number) {
        Some(chief) => {
            let set = chief_contracts.signer_set(parent, chief)?;
            check_signer_authorised(spec, number, signer, &set)
                .map_err(|_| ProducerError::NotAuthorised { signer, number })?;
            let difficulty = expected_difficulty(spec, chief, number, signer, &set);
            let delay = if spec.is_sip002(number) {
                role_delay(spec, chief, number, signer, &set)
            } else {
                period
            };
            (difficulty, delay)
        }
        // Only the first blocks of a chain before its first chief have no signer set; nothing
        // checks their signer (tribe.md §1).
        None if number <= spectrum_consensus::CHIEF_NUMBER => (1, period),
        None => return Err(ProducerError::NotAuthorised { signer, number }),
    };
    if difficulty == 0 {
        // A leader too far down L' (tribe.md §6): no header of ours would be valid.
        return Err(ProducerError::NotAuthorised { signer, number });
    }
    let earliest = parent
        .timestamp
        .checked_add(delay)
        .ok_or(ProducerError::Overflow("timestamp"))?;
    Ok(SlotPlan {
        number,
        signer,
        difficulty,
        delay,
        earliest,
    })
}
