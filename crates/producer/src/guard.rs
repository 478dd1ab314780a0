//! The double-signing guard beyond the seal record: a block signed with our key that this
//! process did not seal means either that another live node runs with the same key, or that
//! this node runs from an old copy of its datadir (its record is old too, so the record alone
//! cannot know what was signed after the copy). Either way sealing on could sign a second
//! block at a height: the node stops sealing, says why, and shows it in `tribe_getStatus`.
//!
//! "Ours" is decided against the record, which is written before any block we seal leaves the
//! node: a block signed with our key above the recorded height, or at it with another hash,
//! is not ours. Below the recorded height nothing can be told apart and nothing is concluded.
//!
//! What is checked: every block that becomes canonical (gossip, sync, reorgs), every block
//! stored on a side chain (a peer's block on a branch that loses, which never becomes
//! canonical here), the canonical blocks above the record at start (a node from an old copy
//! catches up before it seals), and the parent of every block we are about to seal. The height
//! of a conflicting block is also written to the record, so that after a restart (which clears
//! the refusal) the node still never signs at or below a height signed elsewhere with its key.
//! Not seen: blocks refused as invalid, and side blocks stored before production started
//! (nothing indexes them by height; the canonical scan covers what the node caught up on).

use alloy_primitives::{Address, B256};
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::ChainReader;

use crate::{LastSealed, SealRecord};

/// How many canonical blocks above the record are checked at start.
pub const START_SCAN_BLOCKS: u64 = 10_000;

/// A block signed with our key that this process did not seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealConflict {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
    /// Our record when it was seen.
    pub recorded: Option<LastSealed>,
}

impl std::fmt::Display for SealConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last = match self.recorded {
            Some(last) => format!(
                "the last block it sealed is {} ({})",
                last.number, last.hash
            ),
            None => "it has sealed nothing".to_owned(),
        };
        write!(
            f,
            "block {} ({}) is signed with this validator's key but this node did not seal it ({last}): another node runs with this key, or this datadir is an old copy; sealing stops until a restart",
            self.number, self.hash
        )
    }
}

impl SealRecord {
    /// The conflict that stopped sealing, if any.
    pub fn conflict(&self) -> Option<SealConflict> {
        self.conflict
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Checks a block signed with our key; returns the conflict it reveals (also kept, and
    /// its height written to the record) or `None` if it is ours or cannot be told apart.
    pub fn observe_own_key_block(&self, number: u64, hash: B256) -> Option<SealConflict> {
        let recorded = self.last();
        let ours_or_older = match recorded {
            Some(last) => last.number > number || (last.number == number && last.hash == hash),
            None => false,
        };
        if ours_or_older {
            return None;
        }
        let conflict = SealConflict {
            number,
            hash,
            recorded,
        };
        if let Err(error) = self.record(number, hash) {
            tracing::error!(%error, "cannot write the conflicting block's height to the seal record");
        }
        let mut slot = self.conflict.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            tracing::error!(number, %hash, record = %self.path().display(), "{conflict}");
            *slot = Some(conflict.clone());
        }
        Some(conflict)
    }

    /// Checks `header` if `signer` signed it.
    pub fn observe(&self, header: &SealedHeader, signer: Address) -> Option<SealConflict> {
        if header.number == 0 {
            return None;
        }
        let by = spectrum_consensus::recover_block_signer(header).ok()?;
        (by == signer)
            .then(|| self.observe_own_key_block(header.number, header.hash()))
            .flatten()
    }

    /// At start: the canonical blocks above the record (at most [`START_SCAN_BLOCKS`]).
    pub fn scan_canonical(&self, chain: &dyn ChainReader, signer: Address) -> Option<SealConflict> {
        let (head, _) = chain.head().ok()??;
        let from = self
            .last()
            .map_or(0, |last| last.number.saturating_add(1))
            .max(head.saturating_sub(START_SCAN_BLOCKS))
            .max(1);
        // Every block is looked at (not only up to the first conflict), so that the record
        // ends at the highest height signed elsewhere and a restart does not stop again on
        // the next of them.
        let mut first = None;
        for number in from..=head {
            let Ok(Some(header)) = chain.header_by_number(number) else {
                continue;
            };
            if let Some(conflict) = self.observe(&header, signer) {
                first.get_or_insert(conflict);
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_above_the_record_or_beside_it_are_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let record = SealRecord::open(&dir.path().join("last-sealed")).unwrap();
        assert!(record.record(10, B256::repeat_byte(1)).unwrap());
        // Ours, and older ones, are not conflicts.
        assert_eq!(record.observe_own_key_block(10, B256::repeat_byte(1)), None);
        assert_eq!(record.observe_own_key_block(9, B256::repeat_byte(9)), None);
        assert_eq!(record.conflict(), None);
        // Another block at our height.
        let conflict = record
            .observe_own_key_block(10, B256::repeat_byte(2))
            .unwrap();
        assert_eq!(conflict.recorded.unwrap().number, 10);
        assert_eq!(record.conflict(), Some(conflict));
        // A later one: kept as the first, but its height is recorded and survives a reopen.
        record
            .observe_own_key_block(12, B256::repeat_byte(3))
            .unwrap();
        assert_eq!(record.conflict().unwrap().number, 10);
        let reopened = SealRecord::open(record.path()).unwrap();
        assert_eq!(reopened.last().unwrap().number, 12);
        assert_eq!(reopened.forbids(12).unwrap().hash, B256::repeat_byte(3));
        assert_eq!(reopened.conflict(), None);
    }

    #[test]
    fn without_a_record_any_block_with_our_key_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let record = SealRecord::open(&dir.path().join("last-sealed")).unwrap();
        let conflict = record
            .observe_own_key_block(5, B256::repeat_byte(5))
            .unwrap();
        assert!(
            conflict.to_string().contains("it has sealed nothing"),
            "{conflict}"
        );
    }
}
