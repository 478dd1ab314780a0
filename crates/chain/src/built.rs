//! Committing a block our own producer built from the outcome of that build, with no second
//! run of the EVM (issue 16, item 4).
//!
//! The producer executed the block on the head's state to fill in its roots; executing it
//! again on import would give the same outcome at the same cost. The outcome travels with the
//! block as an [`ExecutedBlock`], keyed by the block's hash and parent, and the chain runs
//! every check that does not need the EVM on it: the block's standalone checks and header
//! rules (seal, difficulty, VRF, chief update), the fee recipient, gas used, bloom and
//! receipts root against the header, the rules after execution, and the state root. An
//! outcome that does not belong to the block, or disagrees with it, is refused
//! ([`ChainError::CarriedOutcome`]) and nothing is written.

use alloy_primitives::{Address, B256};
use spectrum_execution::BlockExecutionOutput;
use spectrum_primitives::{GotExpected, RecoveredBlock, SealedBlock};
use spectrum_storage_api::PriorState;

use crate::{Blockchain, ChainError, InsertOutcome, StateRootUpdate};

/// What executing a block produced where it was built: everything its commit needs.
#[derive(Debug, Clone)]
pub struct ExecutedBlock {
    /// The hash of the block this is the outcome of.
    pub block_hash: B256,
    /// The state it was executed on: the parent block's hash.
    pub parent_hash: B256,
    /// Who received the fees during execution.
    pub fee_recipient: Address,
    /// The transactions' senders, in block order (recovered by the pool, the chief update's
    /// being the signer).
    pub senders: Vec<Address>,
    /// Receipts, gas and state changes (storage roots filled in by the state-root step).
    pub output: BlockExecutionOutput,
    /// The state root those changes give on the parent's state, with its trie node writes.
    pub roots: StateRootUpdate,
    /// The parent's values the build read ([`crate::ReadLog`]): the commit's history entries
    /// come from them instead of from RocksDB. Empty is correct too (storage then reads).
    pub priors: PriorState,
}

/// Which field of a carried outcome disagreed with the block it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarriedField {
    /// The outcome is another block's.
    BlockHash,
    /// It was executed on another parent.
    ParentHash,
    /// Its state root is not the header's.
    StateRoot,
    /// It paid the fees to someone other than the block's author.
    FeeRecipient,
}

impl std::fmt::Display for CarriedField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::BlockHash => "block hash",
            Self::ParentHash => "parent hash",
            Self::StateRoot => "state root",
            Self::FeeRecipient => "fee recipient",
        })
    }
}

impl ExecutedBlock {
    /// Refuses an outcome that was not produced for `block` on its parent.
    fn check_key(&self, block: &SealedBlock) -> Result<(), ChainError> {
        let mismatch = |field, got, expected| ChainError::CarriedOutcome {
            number: block.number(),
            hash: block.hash(),
            field,
            mismatch: GotExpected::new(got, expected),
        };
        if self.block_hash != block.hash() {
            return Err(mismatch(
                CarriedField::BlockHash,
                self.block_hash,
                block.hash(),
            ));
        }
        if self.parent_hash != block.header.parent_hash {
            return Err(mismatch(
                CarriedField::ParentHash,
                self.parent_hash,
                block.header.parent_hash,
            ));
        }
        Ok(())
    }

    /// Refuses an outcome whose fee recipient is not the one import would pay, or whose
    /// state root is not the header's.
    pub(crate) fn check_result(
        &self,
        block: &RecoveredBlock,
        fee_recipient: Address,
    ) -> Result<(), ChainError> {
        let header = block.header();
        let mismatch = |field, got: B256, expected: B256| ChainError::CarriedOutcome {
            number: header.number,
            hash: block.hash(),
            field,
            mismatch: GotExpected::new(got, expected),
        };
        if self.fee_recipient != fee_recipient {
            return Err(mismatch(
                CarriedField::FeeRecipient,
                self.fee_recipient.into_word(),
                fee_recipient.into_word(),
            ));
        }
        if self.roots.state_root != header.state_root {
            return Err(mismatch(
                CarriedField::StateRoot,
                self.roots.state_root,
                header.state_root,
            ));
        }
        Ok(())
    }
}

impl Blockchain {
    /// Inserts `block`, which our producer built and executed with outcome `executed`: like
    /// [`Self::insert_block`] with every check, but when the block extends the head its
    /// outcome is committed instead of executing it again. Off the head (the head moved since
    /// the build) the outcome is not used: the block is stored or reorganised onto as any
    /// other. A refusal of the block or of its outcome writes nothing and, since our own
    /// build is to blame, does not mark the block as bad.
    pub fn insert_built_block(
        &self,
        block: SealedBlock,
        executed: ExecutedBlock,
    ) -> Result<InsertOutcome, ChainError> {
        executed.check_key(&block)?;
        self.insert_block_with(block, Some(executed))
    }
}
