//! Pool maintenance: keeps the pool in step with the canonical chain. Every move of the head
//! (a [`CanonicalChange`]) becomes a [`HeadUpdate`]: the transactions of the blocks that joined
//! the chain are mined (out of the pool), those of blocks a reorg took out go back in unless the
//! new branch mined them too, and the pool re-validates against the new head's state (stale
//! nonces and unpayable transactions dropped).

use std::sync::Arc;

use alloy_primitives::B256;
use spectrum_primitives::{CanonicalChange, SealedHeader, TransactionSigned};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::{HeadUpdate, Pool, TxPool};

/// What the pool's upkeep reads of the chain: the head and the transactions of a block. The
/// node implements it over its storage.
pub trait CanonicalBlocks: Send + Sync {
    /// The canonical head's header, `None` when it cannot be read.
    fn head_header(&self) -> Option<SealedHeader>;
    /// The transactions of the stored block `hash`, empty when it cannot be read.
    fn block_transactions(&self, hash: &B256) -> Vec<TransactionSigned>;
}

/// Follows `changes` until the chain closes the channel, applying each to `pool`. A receiver
/// that fell behind re-reads the head instead of the changes it missed (the pool then drops
/// what the new head's state makes stale).
pub async fn maintain_pool(
    chain: Arc<dyn CanonicalBlocks>,
    mut changes: broadcast::Receiver<Arc<CanonicalChange>>,
    pool: Arc<Pool>,
) {
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "pool upkeep fell behind; re-reading the head");
                match head_only_change(chain.as_ref()) {
                    Some(change) => Arc::new(change),
                    None => continue,
                }
            }
            Err(RecvError::Closed) => return,
        };
        let update = head_update(chain.as_ref(), &change);
        let pool = pool.clone();
        // Re-validating reads the state: off the async workers.
        let _ = tokio::task::spawn_blocking(move || pool.on_head_update(update)).await;
    }
}

/// The head alone, as if it had just been added (after missed changes).
fn head_only_change(chain: &dyn CanonicalBlocks) -> Option<CanonicalChange> {
    Some(CanonicalChange {
        removed: Vec::new(),
        added: vec![chain.head_header()?],
    })
}

/// What `change` means for the pool: the new head, the transactions mined on the way there
/// and the ones of blocks that left the chain, less those the new branch mined again.
pub fn head_update(chain: &dyn CanonicalBlocks, change: &CanonicalChange) -> HeadUpdate {
    let mined: Vec<B256> = change
        .added
        .iter()
        .flat_map(|h| chain.block_transactions(&h.hash()))
        .map(|tx| tx.hash())
        .collect();
    let reinject = change
        .removed
        .iter()
        .flat_map(|h| chain.block_transactions(&h.hash()))
        .filter(|tx| !mined.contains(&tx.hash()))
        .collect();
    let head = change.head();
    HeadUpdate {
        number: head.map_or(0, |h| h.number),
        gas_limit: head.map_or(0, |h| h.gas_limit),
        mined,
        reinject,
    }
}
