//! What the RPC needs to know about the network: peers and sync progress.

pub use spectrum_primitives::SyncProgress;

/// Peers and sync state, implemented by the network service.
pub trait NetworkInfo: Send + Sync {
    /// Connected peers.
    fn peer_count(&self) -> usize;
    /// Whether the node accepts connections.
    fn listening(&self) -> bool;
    /// `Some` while catching up with peers.
    fn syncing(&self) -> Option<SyncProgress>;
}

/// A node without networking (`--dev`, tests): no peers, not listening, never syncing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNetwork;

impl NetworkInfo for NoNetwork {
    fn peer_count(&self) -> usize {
        0
    }

    fn listening(&self) -> bool {
        false
    }

    fn syncing(&self) -> Option<SyncProgress> {
        None
    }
}
