//! Transaction propagation between the pool and the network.
//!
//! ```text
//! gossiped txs ──► pool.add_transaction (External) ──► report Accept / Reject / Ignore
//! pool (new pending) ──► broadcast_transactions          (never gossip we just received)
//! ```
//!
//! Gossiped transactions reach [`admit_gossiped_transactions`] from the sync service, which
//! consumes the network's events ([`GossipedTransactions`]); [`gossip_pool_transactions`]
//! publishes what becomes pending. The two share [`RecentHashes`], so a transaction received
//! by gossip (which gossipsub has forwarded already) is not published again.

use std::{
    collections::{HashSet, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy_primitives::B256;
use spectrum_primitives::TransactionSigned;
use spectrum_txpool::{Pool, PoolError, TxOrigin, TxPool};
use tokio::sync::mpsc;

use crate::{MessageId, MessageValidation, NetworkHandle, PeerId, Penalty};

/// Most transactions gossiped in one message.
const TXS_PER_MESSAGE: usize = 256;
/// How long new pool transactions are gathered into one message.
const TX_BATCH_WINDOW: Duration = Duration::from_millis(25);
/// How many gossiped transaction hashes are remembered so the pool does not echo them.
const RECENT_GOSSIP: usize = 16_384;

/// Transactions received by gossip, for the pool. The receiver reports the verdict with
/// [`NetworkHandle::report_message`] (accept if the pool took any, reject if they were invalid).
#[derive(Debug, Clone)]
pub struct GossipedTransactions {
    /// The relaying peer.
    pub peer: PeerId,
    /// The gossip message id.
    pub msg_id: MessageId,
    /// The transactions (decoded, not validated).
    pub txs: Vec<TransactionSigned>,
}

/// Transaction hashes lately received by gossip, oldest dropped first: the pool announces them
/// as new pending transactions, and gossipsub has forwarded them already.
#[derive(Debug, Default)]
pub struct RecentHashes {
    set: HashSet<B256>,
    order: VecDeque<B256>,
}

impl RecentHashes {
    fn insert(&mut self, hash: B256) {
        if self.set.insert(hash) {
            self.order.push_back(hash);
        }
        while self.order.len() > RECENT_GOSSIP {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }

    fn contains(&self, hash: &B256) -> bool {
        self.set.contains(hash)
    }
}

/// Gossiped transactions into the pool. The verdict decides whether gossipsub forwards the
/// message: forwarded when the pool took one, the peer penalised when one was plainly invalid
/// (a state-dependent refusal such as a stale nonce is nobody's fault). Ends when the sender
/// of `gossiped` (the sync service) is gone.
pub async fn admit_gossiped_transactions(
    mut gossiped: mpsc::Receiver<GossipedTransactions>,
    pool: Arc<Pool>,
    network: NetworkHandle,
    recent: Arc<Mutex<RecentHashes>>,
) {
    while let Some(message) = gossiped.recv().await {
        let pool = pool.clone();
        let txs = message.txs;
        // Sender recovery and state reads: off the async workers.
        let Ok(verdict) = tokio::task::spawn_blocking(move || admit(&pool, txs)).await else {
            continue;
        };
        let validation = if verdict.invalid {
            MessageValidation::Reject(Penalty::InvalidTransactions)
        } else if verdict.accepted.is_empty() {
            MessageValidation::Ignore
        } else {
            MessageValidation::Accept
        };
        if validation == MessageValidation::Accept
            && let Ok(mut recent) = recent.lock()
        {
            for hash in &verdict.accepted {
                recent.insert(*hash);
            }
        }
        network
            .report_message(message.msg_id, message.peer, validation)
            .await;
    }
}

struct Admitted {
    accepted: Vec<B256>,
    invalid: bool,
}

fn admit(pool: &Pool, txs: Vec<TransactionSigned>) -> Admitted {
    let mut admitted = Admitted {
        accepted: Vec::new(),
        invalid: false,
    };
    for tx in txs {
        match pool.add_transaction(tx, TxOrigin::External) {
            Ok(hash) => admitted.accepted.push(hash),
            Err(error) if is_peer_fault(&error) => {
                tracing::debug!(%error, "invalid gossiped transaction");
                admitted.invalid = true;
            }
            Err(error) => tracing::trace!(%error, "gossiped transaction not pooled"),
        }
    }
    admitted
}

/// Refusals no honest peer causes: the transaction is invalid on any chain state. Not
/// `Unprotected` (refused only from SIP003 on) nor `IntrinsicGas` (calldata is repriced at
/// Sip004): both depend on the fork of our head, and a peer whose head is past the fork while
/// ours is not (or the reverse) is honest.
fn is_peer_fault(error: &PoolError) -> bool {
    matches!(
        error,
        PoolError::Oversized
            | PoolError::Decode(_)
            | PoolError::TypedTransaction
            | PoolError::InvalidSender
            | PoolError::ChiefUpdate
    )
}

/// Gossips transactions as they become pending in the pool (RPC submissions, promoted queued
/// ones), a few milliseconds' worth per message. The pool never holds chief-update
/// transactions, so they are never gossiped (they travel inside blocks only). Runs as long as
/// the pool does.
pub async fn gossip_pool_transactions(
    pool: Arc<Pool>,
    network: NetworkHandle,
    recent: Arc<Mutex<RecentHashes>>,
) {
    use tokio::sync::broadcast::error::RecvError;
    let mut pending = pool.subscribe_pending();
    loop {
        let first = match pending.recv().await {
            Ok(hash) => hash,
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "transaction gossip fell behind");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let mut hashes = vec![first];
        let window = tokio::time::sleep(TX_BATCH_WINDOW);
        tokio::pin!(window);
        while hashes.len() < TXS_PER_MESSAGE {
            tokio::select! {
                next = pending.recv() => match next {
                    Ok(hash) => hashes.push(hash),
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                },
                _ = &mut window => break,
            }
        }
        let txs: Vec<TransactionSigned> = {
            let Ok(recent) = recent.lock() else { continue };
            hashes
                .iter()
                .filter(|hash| !recent.contains(hash))
                .filter_map(|hash| pool.get(hash))
                .map(|pooled| pooled.tx.clone())
                .collect()
        };
        network.broadcast_transactions(&txs).await;
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::U256;

    use super::*;

    #[test]
    fn recent_gossip_forgets_the_oldest_beyond_its_bound() {
        let mut recent = RecentHashes::default();
        for i in 0..=RECENT_GOSSIP {
            recent.insert(B256::from(U256::from(i)));
        }
        assert!(!recent.contains(&B256::from(U256::ZERO)), "oldest evicted");
        assert!(recent.contains(&B256::from(U256::from(RECENT_GOSSIP))));
        assert_eq!(recent.set.len(), RECENT_GOSSIP);
        assert_eq!(recent.order.len(), RECENT_GOSSIP);
    }

    #[test]
    fn only_stateless_refusals_are_the_peers_fault() {
        assert!(is_peer_fault(&PoolError::InvalidSender));
        assert!(is_peer_fault(&PoolError::ChiefUpdate));
        assert!(is_peer_fault(&PoolError::TypedTransaction));
        // A stale nonce or a full pool depends on our state, not on the peer's honesty.
        assert!(!is_peer_fault(&PoolError::NonceTooLow));
        assert!(!is_peer_fault(&PoolError::AlreadyKnown));
        assert!(!is_peer_fault(&PoolError::InsufficientFunds));
        assert!(!is_peer_fault(&PoolError::Underpriced));
        // Refusals that depend on which fork our head is in: a peer ahead of us is right.
        assert!(!is_peer_fault(&PoolError::Unprotected));
        assert!(!is_peer_fault(&PoolError::IntrinsicGas));
    }
}
