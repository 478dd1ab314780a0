//! `--dev` only (issue 19): moving the head back on purpose, for `evm_revert` and
//! `anvil_reset`. A network node never calls this: it unwinds only inside a reorg.

use crate::{Blockchain, ChainError};

impl Blockchain {
    /// Makes canonical block `number` the head again (state and trie restored, as a reorg's
    /// unwind does). The blocks above stay stored as a side branch, never re-executed unless
    /// a heavier block builds on them. Serialised with [`Blockchain::insert_block`].
    ///
    /// Nothing is announced: a `CanonicalChange` with removed blocks would make the pool put
    /// their transactions back, and a reverted transaction must stay reverted (as in Hardhat
    /// and anvil). Subscribers see the next block as added on top of `number`.
    pub fn rewind_to(&self, number: u64) -> Result<(), ChainError> {
        let _guard = self
            .insert_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (head, _) = self.db.head()?.ok_or(ChainError::NoHead)?;
        if head <= number {
            return Ok(());
        }
        self.unwind_to(number)
    }
}
