//! The consensus edge: a block's consensus rules are someone else's (Tribe's), applied through
//! this trait at the two points where the chain has what they need.

use alloy_primitives::Address;
use spectrum_consensus::TribeError;
use spectrum_primitives::{ReceiptWithBloom, SealedBlock, SealedHeader};

/// Decides whether a block may follow its parent under the chain's consensus rules.
///
/// Both methods run when the block is about to be executed on top of its parent, so the
/// parent's state is the head state (a side-chain block is checked when its branch is
/// executed). Neither is called for the genesis. Errors are the typed rule and its values;
/// [`crate::ChainError::is_invalid_block`] tells which of them are the block's fault.
pub trait BlockValidator: Send + Sync {
    /// Before execution: header rules against the parent, seal and authorisation, and the body
    /// rules that need only the transactions and their recovered `senders`. Returns the seal's
    /// signer when the rules recovered it, so that import never recovers the seal twice.
    fn validate_block(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        senders: &[Address],
    ) -> Result<Option<Address>, TribeError>;

    /// Stateless work on `header` (its seal, its VRF proof on `parent`) done ahead, possibly on
    /// another thread, so that [`Self::validate_block`] need not repeat it. Decides nothing:
    /// the rules still run, in order, at validation.
    fn prepare_header(&self, _header: &SealedHeader, _parent: &SealedHeader) {}

    /// A side-chain block's header whose parent is canonical but not the head: every header
    /// rule, with whatever state it needs read at the parent's (historical) state. Runs before
    /// the block is stored, so that its difficulty counts for fork choice only once checked.
    fn validate_side_header(
        &self,
        _header: &SealedHeader,
        _parent: &SealedHeader,
    ) -> Result<(), TribeError> {
        Ok(())
    }

    /// A side-chain block's header whose parent is itself on a side chain (its state does not
    /// exist until the branch is executed): the rules that need no state.
    fn validate_header_without_state(
        &self,
        _header: &SealedHeader,
        _parent: &SealedHeader,
    ) -> Result<(), TribeError> {
        Ok(())
    }

    /// After execution, before commit: rules that need the receipts (and may read the parent's
    /// state, still the head's).
    fn validate_after_execution(
        &self,
        _block: &SealedBlock,
        _parent: &SealedHeader,
        _receipts: &[ReceiptWithBloom],
    ) -> Result<(), TribeError> {
        Ok(())
    }
}

/// No consensus rules: only what execution proves (roots, gas) is checked. Used for the
/// Ethereum test vectors (whose PoW seals we do not verify) and `--no-consensus` tooling.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecutionChecksOnly;

impl BlockValidator for ExecutionChecksOnly {
    fn validate_block(
        &self,
        _block: &SealedBlock,
        _parent: &SealedHeader,
        _senders: &[Address],
    ) -> Result<Option<Address>, TribeError> {
        Ok(None)
    }
}
