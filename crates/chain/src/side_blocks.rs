//! Announcing blocks stored on a side chain (their headers checked, their branch not the
//! heaviest) to whoever must see every block and not only the canonical ones: a validator's
//! double-signing guard, for which a block signed with its key on a branch that never became
//! canonical is as telling as a canonical one.

use spectrum_primitives::SealedHeader;
use tokio::sync::broadcast;

use crate::Blockchain;

/// How many side blocks a slow receiver may fall behind before it misses the oldest.
const CHANNEL_CAPACITY: usize = 256;

/// The sending side, owned by the [`Blockchain`].
pub(crate) struct SideBlocks {
    sender: broadcast::Sender<SealedHeader>,
}

impl Default for SideBlocks {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
        }
    }
}

impl SideBlocks {
    /// Whether anyone listens (the header is only copied for them).
    pub(crate) fn wanted(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    pub(crate) fn announce(&self, header: SealedHeader) {
        // Nobody listening is not an error.
        let _ = self.sender.send(header);
    }
}

impl Blockchain {
    /// The header of every block stored on a side chain, from now on (blocks that later
    /// become canonical by a reorg are also announced to [`Self::subscribe`]rs then).
    pub fn subscribe_side_blocks(&self) -> broadcast::Receiver<SealedHeader> {
        self.side_blocks.sender.subscribe()
    }
}
