//! What each devp2p peer is known to have, so that we never send a peer a block or a
//! transaction it sent us or was already sent: bounded per peer as the reference's
//! `maxKnownBlocks` (1024) and `maxKnownTxs` (32768), the oldest forgotten first.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use alloy_primitives::B256;
use spectrum_devp2p::PeerId;

/// Block hashes remembered per peer (geth's `maxKnownBlocks`).
pub const KNOWN_BLOCKS_PER_PEER: usize = 1024;
/// Transaction hashes remembered per peer (geth's `maxKnownTxs`).
pub const KNOWN_TXS_PER_PEER: usize = 32768;

/// Per peer: hashes in arrival order (to forget the oldest) and as a set.
type KnownMap = HashMap<PeerId, (VecDeque<B256>, HashSet<B256>)>;

/// A bounded set of hashes per peer, shared between tasks.
#[derive(Debug, Clone)]
pub struct KnownHashes {
    bound: usize,
    peers: Arc<Mutex<KnownMap>>,
}

impl KnownHashes {
    /// At most `bound` hashes per peer.
    pub fn new(bound: usize) -> Self {
        Self {
            bound,
            peers: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, KnownMap> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `peer` has `hash`.
    pub fn saw(&self, peer: PeerId, hash: B256) {
        self.mark(peer, hash);
    }

    /// Whether `peer` has `hash`.
    pub fn has(&self, peer: &PeerId, hash: &B256) -> bool {
        self.lock()
            .get(peer)
            .is_some_and(|(_, set)| set.contains(hash))
    }

    /// Marks `hash` as had by `peer` and says whether it is new to it: the one check-and-set
    /// a sender uses, so that two tasks never both send it.
    pub fn mark(&self, peer: PeerId, hash: B256) -> bool {
        let mut all = self.lock();
        let (order, set) = all.entry(peer).or_default();
        let fresh = set.insert(hash);
        if fresh {
            order.push_back(hash);
            while order.len() > self.bound {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
        }
        fresh
    }

    /// Forgets a peer that left.
    pub fn forget(&self, peer: &PeerId) {
        self.lock().remove(peer);
    }
}

/// The blocks each devp2p peer is known to have (sent us, or was sent).
#[derive(Debug, Clone)]
pub struct KnownBlocks(pub KnownHashes);

impl Default for KnownBlocks {
    fn default() -> Self {
        Self(KnownHashes::new(KNOWN_BLOCKS_PER_PEER))
    }
}

/// The transactions each devp2p peer is known to have (sent us, or was sent).
#[derive(Debug, Clone)]
pub struct KnownTransactions(pub KnownHashes);

impl Default for KnownTransactions {
    fn default() -> Self {
        Self(KnownHashes::new(KNOWN_TXS_PER_PEER))
    }
}

impl std::ops::Deref for KnownBlocks {
    type Target = KnownHashes;
    fn deref(&self) -> &KnownHashes {
        &self.0
    }
}

impl std::ops::Deref for KnownTransactions {
    type Target = KnownHashes;
    fn deref(&self) -> &KnownHashes {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(i: usize) -> B256 {
        B256::from(alloy_primitives::U256::from(i))
    }

    #[test]
    fn known_blocks_forget_the_oldest_beyond_the_bound() {
        let known = KnownBlocks::default();
        let peer = PeerId::repeat_byte(1);
        for i in 0..=KNOWN_BLOCKS_PER_PEER {
            known.saw(peer, hash(i));
        }
        assert!(!known.has(&peer, &hash(0)), "the oldest is forgotten");
        assert!(known.has(&peer, &hash(1)));
        assert!(known.has(&peer, &hash(KNOWN_BLOCKS_PER_PEER)));
        assert!(!known.has(&PeerId::repeat_byte(2), &hash(1)));
    }

    #[test]
    fn known_transactions_hold_32768_per_peer_and_mark_once() {
        let known = KnownTransactions::default();
        let (a, b) = (PeerId::repeat_byte(1), PeerId::repeat_byte(2));
        for i in 0..KNOWN_TXS_PER_PEER {
            assert!(known.mark(a, hash(i)));
        }
        assert!(!known.mark(a, hash(0)), "a hash it has is not new to it");
        assert!(known.mark(b, hash(0)), "another peer's set is its own");
        // One more pushes out the oldest.
        assert!(known.mark(a, hash(KNOWN_TXS_PER_PEER)));
        assert!(!known.has(&a, &hash(0)));
        assert!(known.has(&a, &hash(1)));
        known.forget(&a);
        assert!(!known.has(&a, &hash(1)));
    }
}
