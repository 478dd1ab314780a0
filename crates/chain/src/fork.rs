//! What a block off the head must pass before it is stored or counted: the bad-block cache,
//! checkpoints, the reorg depth and its header checks at the fork parent's state.

use alloy_primitives::B256;
use spectrum_primitives::{SealedBlock, SealedHeader};

use crate::{Blockchain, ChainError, bad_blocks::BadKind};

impl Blockchain {
    /// The refusal of a block remembered as bad, or built on one (which is remembered too, so
    /// that its own children are refused at once).
    pub(crate) fn remembered_refusal(
        &self,
        number: u64,
        hash: B256,
        parent: B256,
    ) -> Option<ChainError> {
        let refusal = |kind| match kind {
            BadKind::Invalid => ChainError::KnownBad { number, hash },
            BadKind::BadAncestor(ancestor) => ChainError::BadAncestor {
                number,
                hash,
                ancestor,
            },
        };
        if let Some(kind) = self.bad_blocks.get(&hash) {
            return Some(refusal(kind));
        }
        let ancestor = match self.bad_blocks.get(&parent)? {
            BadKind::Invalid => parent,
            BadKind::BadAncestor(ancestor) => ancestor,
        };
        let kind = BadKind::BadAncestor(ancestor);
        self.bad_blocks.insert(hash, kind);
        Some(refusal(kind))
    }

    /// Remembers `hash` if `error` says the block is invalid. A block too far in the future is
    /// not remembered: it may become acceptable once its time comes closer. Nor is a body that
    /// does not match its header: the hash names the header only, so remembering it would let
    /// anyone who pairs an honest header with a wrong body get the honest block refused.
    pub(crate) fn remember_refusal(&self, hash: B256, error: &ChainError) {
        if error.is_invalid_block()
            && !matches!(
                error,
                ChainError::FutureBlock { .. }
                    | ChainError::KnownBad { .. }
                    | ChainError::TransactionsRoot(_)
                    | ChainError::OmmersHash(_)
            )
        {
            self.bad_blocks.insert(hash, BadKind::Invalid);
        }
    }

    /// Remembers the branch blocks from `failed` on (oldest first) after `failed` broke a rule
    /// while its branch was executed.
    pub(crate) fn remember_failed_branch(&self, failed: &[B256]) {
        let Some((first, rest)) = failed.split_first() else {
            return;
        };
        self.bad_blocks.insert(*first, BadKind::Invalid);
        for hash in rest {
            self.bad_blocks.insert(*hash, BadKind::BadAncestor(*first));
        }
    }

    /// A checkpoint pins the block at its number: any other block there is refused.
    pub(crate) fn check_checkpoint(&self, number: u64, hash: B256) -> Result<(), ChainError> {
        match self.spec.checkpoint_at(number) {
            Some(expected) if expected != hash => Err(ChainError::CheckpointMismatch {
                number,
                hash,
                expected,
            }),
            _ => Ok(()),
        }
    }

    /// The number of the last canonical ancestor of a block off the head whose parent is
    /// `parent`, found by walking back no further than the allowed reorg depth; refused if the
    /// fork is deeper, or below a checkpoint the chain has reached.
    pub(crate) fn fork_point_of(
        &self,
        (number, hash): (u64, B256),
        parent: &SealedHeader,
        head: u64,
    ) -> Result<u64, ChainError> {
        let mut ancestor = parent.clone();
        let fork_point = loop {
            if head.saturating_sub(ancestor.number) > self.max_reorg_depth {
                return Err(ChainError::ReorgTooDeep {
                    number,
                    hash,
                    fork_point: ancestor.number,
                    head,
                    max_depth: self.max_reorg_depth,
                });
            }
            if self.db.canonical_hash(ancestor.number)? == Some(ancestor.hash()) {
                break ancestor.number;
            }
            ancestor = self
                .db
                .header(&ancestor.parent_hash)?
                .ok_or(ChainError::MissingBlock(ancestor.parent_hash))?;
        };
        if let Some(checkpoint) = self.spec.last_checkpoint_at_or_below(head)
            && fork_point < checkpoint
        {
            return Err(ChainError::BelowCheckpoint {
                number,
                hash,
                fork_point,
                checkpoint,
            });
        }
        Ok(fork_point)
    }

    /// The header checks of a block off the head, before it is stored and its difficulty
    /// counts: every rule at the parent's (historical) state when the parent is canonical, the
    /// rules needing no state when the parent is itself off the canonical chain (the rest run
    /// when the branch is executed).
    pub(crate) fn check_side_header(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        fork_point: u64,
    ) -> Result<(), ChainError> {
        let checked = if parent.number == fork_point {
            self.validator.validate_side_header(&block.header, parent)
        } else {
            self.validator
                .validate_header_without_state(&block.header, parent)
        };
        checked.map_err(|source| ChainError::Invalid {
            number: block.number(),
            hash: block.hash(),
            source: Box::new(source),
        })
    }
}
