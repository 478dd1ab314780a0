//! Who is due at a height (tribe.md §6, §7) and whose in-turn slot a canonical block filled:
//! the one derivation behind `tribe_nextSlots`, `tribe_missedSlots` and the node's per-signer
//! missed-slot metric.

use alloy_primitives::Address;
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::{
    ProviderError, SealError, SignerSet, SignerSetProvider, recover_block_signer, role_delay,
};
use spectrum_primitives::SealedHeader;

use crate::ChiefContracts;

/// Who may seal one height, and after which delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// The height.
    pub number: u64,
    /// Who is due: the in-turn signer, or for an empty slot the first stand-in.
    pub signer: Option<Address>,
    /// Whether `signer` is in turn (false: the slot is empty and this is a stand-in).
    pub in_turn: bool,
    /// Seconds after the parent's timestamp at which `signer` may seal.
    pub delay: u64,
}

/// A canonical block sealed by someone other than its in-turn signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissedSlot {
    /// The block's number.
    pub number: u64,
    /// Whose in-turn slot it was.
    pub in_turn: Address,
    /// Who sealed the block instead.
    pub sealed_by: Address,
}

/// Why a slot could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// The signer set could not be read at the parent's state.
    #[error(transparent)]
    Chief(#[from] ProviderError),
    /// The block's seal does not recover to a signer.
    #[error("block {number}: {source}")]
    Seal {
        /// The block.
        number: u64,
        /// Why its seal does not recover.
        source: SealError,
    },
}

/// Who is due at `number` under `set`, and after which delay.
pub fn due(spec: &ChainSpec, number: u64, set: &SignerSet) -> Slot {
    let in_turn = set
        .slot(number)
        .and_then(|slot| set.signer_at(slot))
        .filter(|a| *a != Address::ZERO);
    let signer = in_turn.or_else(|| {
        set.signers
            .first()
            .copied()
            .filter(|a| *a != Address::ZERO)
            .or_else(|| set.rotated_leaders().first().copied())
    });
    let delay = match (signer, spec.chief_at(number)) {
        (Some(signer), Some(chief)) => role_delay(spec, chief, number, signer, set),
        _ => 0,
    };
    Slot {
        number,
        signer,
        in_turn: in_turn.is_some(),
        delay,
    }
}

impl ChiefContracts {
    /// The slot at `number` under the signer set read at `parent`'s state (exact for
    /// `parent.number + 1`, a prediction beyond); `None` before the first chief.
    pub fn slot(&self, parent: &SealedHeader, number: u64) -> Result<Option<Slot>, ProviderError> {
        let Some(chief) = self.spec().chief_at(number) else {
            return Ok(None);
        };
        let set = self.signer_set(parent, chief)?;
        Ok(Some(due(self.spec(), number, &set)))
    }

    /// Whether `header` (the child of `parent`) filled another signer's in-turn slot.
    pub fn missed_slot(
        &self,
        parent: &SealedHeader,
        header: &SealedHeader,
    ) -> Result<Option<MissedSlot>, SlotError> {
        let Some(slot) = self.slot(parent, header.number)? else {
            return Ok(None);
        };
        let (true, Some(in_turn)) = (slot.in_turn, slot.signer) else {
            return Ok(None);
        };
        let sealed_by = recover_block_signer(header).map_err(|source| SlotError::Seal {
            number: header.number,
            source,
        })?;
        Ok((sealed_by != in_turn).then_some(MissedSlot {
            number: header.number,
            in_turn,
            sealed_by,
        }))
    }
}
