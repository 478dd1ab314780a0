//! Announcing canonical head changes to the rest of the node (RPC subscriptions and filters, the
//! transaction pool, the block producer).

use std::sync::Arc;

use alloy_primitives::B256;
pub use spectrum_primitives::CanonicalChange;
use tokio::sync::broadcast;

use crate::{Blockchain, ChainError};

/// How many changes a slow receiver may fall behind before it misses the oldest.
const CHANNEL_CAPACITY: usize = 512;

/// The sending side, owned by the [`Blockchain`].
pub(crate) struct ChainEvents {
    sender: broadcast::Sender<Arc<CanonicalChange>>,
}

impl Default for ChainEvents {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
        }
    }
}

impl ChainEvents {
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<CanonicalChange>> {
        self.sender.subscribe()
    }
}

impl Blockchain {
    /// Works out what changed since the head was `old_head` and sends it to subscribers.
    pub(crate) fn announce_head_change(&self, old_head: (u64, B256)) -> Result<(), ChainError> {
        if self.events.sender.receiver_count() == 0 {
            return Ok(());
        }
        let Some((new_number, new_hash)) = self.db.head()? else {
            return Ok(());
        };
        if new_hash == old_head.1 {
            return Ok(());
        }
        // Walk the old head back until it meets the canonical chain: those blocks left it.
        let mut removed = Vec::new();
        let (mut number, mut hash) = old_head;
        while self.db.canonical_hash(number)? != Some(hash) {
            let header = self
                .db
                .header(&hash)?
                .ok_or(ChainError::MissingBlock(hash))?;
            hash = header.parent_hash;
            number = number.saturating_sub(1);
            removed.push(header);
        }
        removed.reverse();
        let mut added = Vec::new();
        let mut next = number;
        while next < new_number {
            next = next.saturating_add(1);
            added.push(
                self.db
                    .header_by_number(next)?
                    .ok_or(ChainError::MissingCanonical(next))?,
            );
        }
        // Nobody listening is not an error.
        let _ = self
            .events
            .sender
            .send(Arc::new(CanonicalChange { removed, added }));
        Ok(())
    }
}
