//! The chain's state as the node's services see it: how the canonical chain moved (the chain
//! announces it; the pool, the producer and RPC follow it) and how far a catch-up with peers has
//! come (sync reports it; `eth_syncing` shows it). Plain data, defined once here because both
//! sides of each are in different crates.

use crate::SealedHeader;

/// The canonical chain moved: `removed` blocks left it (a reorg), `added` joined it. Both are
/// oldest first; after a plain extension `removed` is empty and `added` holds the new head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalChange {
    /// Headers that are no longer canonical.
    pub removed: Vec<SealedHeader>,
    /// Headers that became canonical; the last one is the new head.
    pub added: Vec<SealedHeader>,
}

impl CanonicalChange {
    /// The new head.
    pub fn head(&self) -> Option<&SealedHeader> {
        self.added.last()
    }
}

/// What `eth_syncing` reports while the node is catching up (`None` when it is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    /// Our head when this sync began.
    pub starting_block: u64,
    /// Our head now.
    pub current_block: u64,
    /// The best peer's head.
    pub highest_block: u64,
}
