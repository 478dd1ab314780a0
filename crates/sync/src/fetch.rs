//! What a sync round needs from a wire: "a peer I can ask for headers and bodies". libp2p's
//! [`NetworkHandle`] and devp2p's [`crate::devp2p::Devp2pFetcher`] both implement it, so blocks
//! from either wire go through the same round (ancestor search, header checks, body matching,
//! `insert_block`) and the same penalties.

use std::{fmt, future::Future, hash::Hash};

use alloy_primitives::B256;
use spectrum_network::{HeadersRequest, NetworkHandle, PeerId, Penalty, RequestError};
use spectrum_primitives::{BlockBody, SealedHeader};

/// A wire a sync round can download from.
pub trait BlockFetcher: Send + Sync + 'static {
    /// How the wire names a peer.
    type Peer: Copy + Eq + Hash + fmt::Display + fmt::Debug + Send + Sync + 'static;

    /// Headers as `request` names them (at most `request.amount`, hashed; linking is the
    /// caller's to check).
    fn request_headers(
        &self,
        peer: Self::Peer,
        request: HeadersRequest,
    ) -> impl Future<Output = Result<Vec<SealedHeader>, RequestError>> + Send;

    /// Bodies of `hashes`, in order, possibly fewer.
    fn request_bodies(
        &self,
        peer: Self::Peer,
        hashes: Vec<B256>,
    ) -> impl Future<Output = Result<Vec<BlockBody>, RequestError>> + Send;

    /// Records a provable fault of `peer` (the wire decides when it is disconnected/banned).
    fn penalise(&self, peer: Self::Peer, penalty: Penalty) -> impl Future<Output = ()> + Send;

    /// Live peers on this wire (for progress lines).
    fn peer_count(&self) -> usize;
}

impl BlockFetcher for NetworkHandle {
    type Peer = PeerId;

    fn request_headers(
        &self,
        peer: PeerId,
        request: HeadersRequest,
    ) -> impl Future<Output = Result<Vec<SealedHeader>, RequestError>> + Send {
        NetworkHandle::request_headers(self, peer, request)
    }

    fn request_bodies(
        &self,
        peer: PeerId,
        hashes: Vec<B256>,
    ) -> impl Future<Output = Result<Vec<BlockBody>, RequestError>> + Send {
        NetworkHandle::request_bodies(self, peer, hashes)
    }

    fn penalise(&self, peer: PeerId, penalty: Penalty) -> impl Future<Output = ()> + Send {
        NetworkHandle::penalise(self, peer, penalty)
    }

    fn peer_count(&self) -> usize {
        NetworkHandle::peer_count(self)
    }
}
