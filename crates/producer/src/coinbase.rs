//! Where a validator's fees and block rewards go (tribe.md §2, §15): the wallet its node key is
//! bound to in Anmap, else the node address. This is how the reference's `Tribe.Prepare` picks
//! a block's coinbase: Anmap `bindInfo(node)` at the head's state, its `from` when non-zero
//! (an unbound node answers with itself), the node address when the network has no Anmap yet
//! or the read fails. Nobody verifies it (a block's author for rewards is simply its coinbase),
//! so a failed read costs the operator a reward, never the block.

use alloy_primitives::Address;
use spectrum_primitives::SealedHeader;

use crate::BlockProducer;

impl BlockProducer {
    /// The coinbase of `signer`'s block on `parent`: its Anmap-bound wallet at `parent`'s
    /// state, else `signer`.
    pub fn coinbase(&self, parent: &SealedHeader, signer: Address) -> Address {
        match self.chief.bind_info(parent, signer) {
            Ok(Some((wallet, _))) if !wallet.is_zero() => wallet,
            Ok(_) => signer,
            Err(error) => {
                tracing::warn!(%error, number = parent.number, %signer, "cannot read the Anmap binding; the block pays the node address");
                signer
            }
        }
    }
}
