//! Both wires as one source of blocks: a peer is a libp2p peer or a devp2p peer
//! ([`SyncPeer`]), and [`Wires`] asks whichever wire the peer is on. The one sync driver
//! (`crate::service`) keeps the peers of both in one table, picks the best total difficulty
//! among all of them and runs its one round through [`Wires`].

use std::fmt;

use alloy_primitives::{B256, U256};
use spectrum_network::{HeadersRequest, NetworkHandle, Penalty, RequestError};
use spectrum_primitives::{BlockBody, SealedHeader};
use tokio::sync::mpsc;

use crate::{devp2p::Devp2pFetcher, fetch::BlockFetcher};

/// A peer on either wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncPeer {
    /// A spectrum-rs peer on libp2p.
    Libp2p(spectrum_network::PeerId),
    /// A peer on devp2p (smc, or spectrum-rs over devp2p).
    Devp2p(spectrum_devp2p::PeerId),
}

impl SyncPeer {
    /// The wire's name, for log lines.
    pub fn wire(&self) -> &'static str {
        match self {
            Self::Libp2p(_) => "libp2p",
            Self::Devp2p(_) => "devp2p",
        }
    }
}

impl fmt::Display for SyncPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Libp2p(peer) => write!(f, "libp2p:{peer}"),
            // 64 bytes of node id: the first 8 name it well enough in a log line.
            Self::Devp2p(peer) => write!(f, "devp2p:{}", &peer.to_string()[..18]),
        }
    }
}

/// What the devp2p bridge tells the sync driver about its peers (libp2p's come as
/// [`spectrum_network::NetworkEvent`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireUpdate {
    /// A peer's head: at connection (its Status) or a heavier NewBlock. eth's Status names the
    /// head by hash only: `number` is `None` until a block tells it.
    Head {
        /// The peer.
        peer: SyncPeer,
        /// Its head's hash.
        hash: B256,
        /// Its head's number, when known.
        number: Option<u64>,
        /// Its head's total difficulty (a claim).
        total_difficulty: U256,
    },
    /// The peer announced a block we cannot attach: sync from it whatever its total
    /// difficulty says.
    Ahead {
        /// The peer.
        peer: SyncPeer,
        /// The announced block's number, when known.
        number: Option<u64>,
    },
    /// The peer left.
    Gone(SyncPeer),
}

/// The devp2p side handed to the sync driver: its fetcher and the bridge's peer updates.
#[derive(Debug)]
pub struct Devp2pWire {
    /// Requests to devp2p peers and their ban list.
    pub fetcher: Devp2pFetcher,
    /// Peer updates from the bridge (`crate::devp2p::devp2p_bridge`).
    pub updates: mpsc::Receiver<WireUpdate>,
}

/// Both wires as one [`BlockFetcher`]: each request goes to the peer's wire.
#[derive(Clone, Default)]
pub struct Wires {
    /// libp2p, when it runs.
    pub libp2p: Option<NetworkHandle>,
    /// devp2p, when it runs.
    pub devp2p: Option<Devp2pFetcher>,
}

impl BlockFetcher for Wires {
    type Peer = SyncPeer;

    async fn request_headers(
        &self,
        peer: SyncPeer,
        request: HeadersRequest,
    ) -> Result<Vec<SealedHeader>, RequestError> {
        match (peer, &self.libp2p, &self.devp2p) {
            (SyncPeer::Libp2p(id), Some(net), _) => net.request_headers(id, request).await,
            (SyncPeer::Devp2p(id), _, Some(dev)) => dev.request_headers(id, request).await,
            _ => Err(RequestError::NotConnected),
        }
    }

    async fn request_bodies(
        &self,
        peer: SyncPeer,
        hashes: Vec<B256>,
    ) -> Result<Vec<BlockBody>, RequestError> {
        match (peer, &self.libp2p, &self.devp2p) {
            (SyncPeer::Libp2p(id), Some(net), _) => net.request_bodies(id, hashes).await,
            (SyncPeer::Devp2p(id), _, Some(dev)) => dev.request_bodies(id, hashes).await,
            _ => Err(RequestError::NotConnected),
        }
    }

    async fn penalise(&self, peer: SyncPeer, penalty: Penalty) {
        match (peer, &self.libp2p, &self.devp2p) {
            (SyncPeer::Libp2p(id), Some(net), _) => net.penalise(id, penalty).await,
            (SyncPeer::Devp2p(id), _, Some(dev)) => BlockFetcher::penalise(dev, id, penalty).await,
            _ => {}
        }
    }

    /// Peers of both wires.
    fn peer_count(&self) -> usize {
        let libp2p = self.libp2p.as_ref().map_or(0, NetworkHandle::peer_count);
        let devp2p = self.devp2p.as_ref().map_or(0, BlockFetcher::peer_count);
        libp2p.saturating_add(devp2p)
    }
}
