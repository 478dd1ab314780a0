//! Where subscriptions and filters learn that the canonical chain moved.

use std::sync::Arc;

use spectrum_chain::{Blockchain, CanonicalChange};
use tokio::sync::broadcast;

/// A source of canonical head changes: the node's [`Blockchain`], or a plain broadcast
/// sender (tests, tools).
pub trait CanonicalEvents: Send + Sync {
    /// Changes from now on.
    fn subscribe(&self) -> broadcast::Receiver<Arc<CanonicalChange>>;
}

impl CanonicalEvents for Blockchain {
    fn subscribe(&self) -> broadcast::Receiver<Arc<CanonicalChange>> {
        Blockchain::subscribe(self)
    }
}

impl CanonicalEvents for broadcast::Sender<Arc<CanonicalChange>> {
    fn subscribe(&self) -> broadcast::Receiver<Arc<CanonicalChange>> {
        broadcast::Sender::subscribe(self)
    }
}
