//! `dev_skipSlot`: a signer other than the validator misses its in-turn slot, as one that is
//! offline does on mainnet. The node holds no key but the validator's and needs none: the
//! validator, a leader, may seal any height at its leader-role delay (tribe.md §7), and
//! `mine_one` stamps the block at that delay, moving the dev clock forward. The chief update
//! of a block whose slot owner did not seal it stops and blacklists the owner in POC (§9).

use alloy_primitives::{Address, B256};

use super::{DevError, DevParts, MAX_SKIP_BLOCKS, SkippedSlot, run::DevState};
use crate::{ProducerError, ProducerService};

/// Who is in turn at the block after the head, as far as skipping goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NextSlot {
    /// Another signer's slot: sealing it now makes that signer miss it.
    Other(Address),
    /// The validator's own slot, an empty one or the leader slot (leaders are never
    /// penalised); another signer sits later in the list (of this many slots).
    NotYet(usize),
    /// No signer but the validator (and leaders) in the list of this many slots: no slot
    /// to skip comes.
    Nobody(usize),
}

impl ProducerService {
    /// Seals blocks until one falls in another signer's slot, and that one too (see the
    /// module docs). Refuses at once if the signer list holds nobody else.
    pub(super) async fn skip_slot(
        &self,
        dev: &DevParts,
        state: &mut DevState,
    ) -> Result<SkippedSlot, DevError> {
        let mut slots = 0;
        for _ in 0..MAX_SKIP_BLOCKS {
            let next = match self.next_slot()? {
                NextSlot::Nobody(len) => return Err(DevError::NoOtherSigner { slots: len }),
                NextSlot::NotYet(len) => {
                    slots = len;
                    None
                }
                NextSlot::Other(signer) => Some(signer),
            };
            let (number, hash, _) = self
                .mine_one(dev, state, None, usize::MAX, Vec::new())
                .await?;
            if let Some(signer) = next {
                tracing::info!(number, %signer, "dev: the validator sealed another signer's slot");
                return Ok(SkippedSlot {
                    signer,
                    number,
                    hash,
                });
            }
        }
        Err(DevError::NoOtherSigner { slots })
    }

    /// The slot of the block after the head, read as the rules read it (at the head's state).
    fn next_slot(&self) -> Result<NextSlot, DevError> {
        let db = self.chain.provider();
        let (_, head) = db
            .head()
            .map_err(ProducerError::from)?
            .ok_or(ProducerError::UnknownParent(B256::ZERO))?;
        let parent = db
            .header(&head)
            .map_err(ProducerError::from)?
            .ok_or(ProducerError::UnknownParent(head))?;
        let number = parent.number.checked_add(1).ok_or(DevError::Overflow)?;
        // Only chief 1.0.0 penalises a missed slot through POC.
        let Some((set, true)) = self.producer.signer_set_after(&parent)? else {
            return Ok(NextSlot::Nobody(0));
        };
        let other = |a: &Address| *a != Address::ZERO && *a != self.signer;
        // Slot 0 is the round's leader, never penalised (tribe.md §9 item 2).
        if !set.signers.iter().skip(1).any(other) {
            return Ok(NextSlot::Nobody(set.signers.len()));
        }
        let in_turn = set
            .slot(number)
            .filter(|slot| *slot > 0)
            .and_then(|slot| set.signer_at(slot))
            .filter(other);
        Ok(in_turn.map_or(NextSlot::NotYet(set.signers.len()), NextSlot::Other))
    }
}
