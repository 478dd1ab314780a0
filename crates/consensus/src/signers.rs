//! Where the signer set of a block comes from (tribe.md §5; errata E4).
//!
//! The signers and leaders that may seal block N are read by view calls to the chief contract
//! of N's era (and, from chief 1.0.0, its ChiefBase) **on the state of the parent P**. This
//! crate cannot execute contracts, so it asks a [`SignerSetProvider`]; the execution layer
//! implements it with read-only calls (tribe.md §5: `getStatus()` 0x4e69d560, ChiefBase
//! `takeLeaderList()` 0xf0d55817), tests implement it from recorded `tribe_*` answers.

use alloy_primitives::{Address, B256};
use spectrum_chainspec::ChiefEntry;
use spectrum_primitives::SealedHeader;

/// The chief version whose rules are those of SIP100 (leaders, VRF, difficulty 1..=6).
pub const CHIEF_100_VERSION: &str = "1.0.0";

/// The signer set in force for a block, read at its parent's state (tribe.md §5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignerSet {
    /// `getStatus().signerList` in contract order. From chief 1.0.0 it has `signerLimit`
    /// entries with zero-address placeholders for empty slots; before 1.0.0 it lists only the
    /// actual signers (errata E4). Its length `sl` is the modulus of the in-turn slot.
    pub signers: Vec<Address>,
    /// ChiefBase `takeLeaderList()` (chief 1.0.0 only; empty before).
    pub leaders: Vec<Address>,
}

impl SignerSet {
    /// `sl`, the modulus of the in-turn slot (tribe.md §5, errata E4).
    pub fn modulus(&self) -> u64 {
        u64::try_from(self.signers.len()).unwrap_or(u64::MAX)
    }

    /// The in-turn slot of block `number`, `number mod sl`; `None` for an empty list.
    pub fn slot(&self, number: u64) -> Option<u64> {
        number.checked_rem(self.modulus())
    }

    /// The signer at list position `index`, if the list is that long.
    pub fn signer_at(&self, index: u64) -> Option<Address> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.signers.get(i))
            .copied()
    }

    /// The first index of `address` in the signer list (the reference's `fetchOnSigners`).
    pub fn index_of(&self, address: Address) -> Option<u64> {
        self.signers
            .iter()
            .position(|s| *s == address)
            .and_then(|i| u64::try_from(i).ok())
    }

    /// `L'` (tribe.md §6): the leader list rotated to start just after `signers[0]`, with
    /// `signers[0]` removed; the leader list unchanged if `signers[0]` is not a leader (or the
    /// signer list is empty).
    pub fn rotated_leaders(&self) -> Vec<Address> {
        match self.signers.first() {
            Some(first) => leader_sort(*first, &self.leaders),
            None => self.leaders.clone(),
        }
    }
}

/// The reference's `leaderSort(first, list)` (tribe.md §6): for the first `i` with
/// `list[i] == first`, `list[i+1..] ‖ list[..i]`; `list` unchanged if `first` is not in it.
pub fn leader_sort(first: Address, leaders: &[Address]) -> Vec<Address> {
    match leaders.iter().position(|l| *l == first) {
        Some(i) => {
            let (before, from) = leaders.split_at(i);
            from.iter().skip(1).chain(before).copied().collect()
        }
        None => leaders.to_vec(),
    }
}

/// Why the signer set could not be read. Any of them makes the block invalid (tribe.md §5:
/// "All calls fail → the block is rejected").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The parent's state is not available.
    #[error("no state for parent block {number} ({hash})")]
    MissingState {
        /// The parent's number.
        number: u64,
        /// The parent's hash.
        hash: B256,
    },
    /// A view call failed or returned something that does not decode.
    #[error("chief {version} ({address}): {call} at parent {number} failed: {reason}")]
    CallFailed {
        /// The chief version asked.
        version: String,
        /// The contract called.
        address: Address,
        /// The call, e.g. `getStatus()`.
        call: String,
        /// The parent's number.
        number: u64,
        /// What went wrong.
        reason: String,
    },
}

/// Reads the signer set in force for the child of `parent` (tribe.md §5).
///
/// `chief` is the chief entry of the **child's** number (`ChainSpec::chief_at(parent + 1)`),
/// which picks the contract and the call shapes; the calls run on `parent`'s state. At the
/// first block of a new chief era this is the new contract on the last state of the old era
/// (e.g. chief 1.0.0 at devnet block 62 for block 63: its constructor list
/// `[leaderList[0], 0, …, 0]`, tribe.md §9).
pub trait SignerSetProvider: Send + Sync {
    /// The signer set for the child of `parent` under `chief`.
    fn signer_set(
        &self,
        parent: &SealedHeader,
        chief: &ChiefEntry,
    ) -> Result<SignerSet, ProviderError>;
}

/// Whether `chief` is chief 1.0.0, whose difficulty, delay and leader rules apply (tribe.md §6,
/// §7; the reference switches on `ChiefInfo.Version == "1.0.0"`).
pub fn is_chief_100(chief: &ChiefEntry) -> bool {
    chief.version == CHIEF_100_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    const A: Address = address!("00000000000000000000000000000000000000aa");
    const B: Address = address!("00000000000000000000000000000000000000bb");
    const C: Address = address!("00000000000000000000000000000000000000cc");
    const D: Address = address!("00000000000000000000000000000000000000dd");

    #[test]
    fn leader_sort_rotates_after_first_and_drops_it() {
        // The reference's own examples: [1,2,3,4,5] with first 3 → [4,5,1,2]; 5 → [1,2,3,4].
        assert_eq!(leader_sort(C, &[A, B, C, D]), vec![D, A, B]);
        assert_eq!(leader_sort(D, &[A, B, C, D]), vec![A, B, C]);
        assert_eq!(leader_sort(A, &[A, B, C, D]), vec![B, C, D]);
        assert_eq!(leader_sort(Address::ZERO, &[A, B]), vec![A, B]);
        assert_eq!(leader_sort(A, &[]), Vec::<Address>::new());
    }

    #[test]
    fn slot_and_index() {
        let set = SignerSet {
            signers: vec![A, B, Address::ZERO, B],
            leaders: vec![A],
        };
        assert_eq!(set.slot(9), Some(1));
        assert_eq!(set.index_of(B), Some(1));
        assert_eq!(set.index_of(C), None);
        assert_eq!(SignerSet::default().slot(9), None);
        assert_eq!(set.signer_at(4), None);
    }
}
