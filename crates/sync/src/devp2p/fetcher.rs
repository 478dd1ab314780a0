//! Requests over devp2p: eth/63 has no request ids, so, as geth's downloader, at most one
//! request of a kind is outstanding per peer and the next answer of that kind from the peer is
//! its answer. Also the ban list: peers proven faulty are disconnected and refused for a while.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use spectrum_devp2p::{
    Devp2pHandle, DisconnectReason, EthMessage, GetBlockHeaders, HashOrNumber as WireOrigin, PeerId,
};
use spectrum_network::{HashOrNumber, HeadersRequest, Penalty, RequestError};
use spectrum_primitives::{BlockBody, SealedHeader};
use tokio::sync::oneshot;

use crate::fetch::BlockFetcher;

/// How long a devp2p peer has to answer a request (geth's downloader allows about as long).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a peer proven faulty stays banned.
pub const BAN_DURATION: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Headers,
    Bodies,
}

type Waiters = HashMap<(PeerId, Kind), oneshot::Sender<EthMessage>>;
type Slots = HashMap<(PeerId, Kind), Arc<tokio::sync::Mutex<()>>>;

/// Downloads from devp2p peers (a [`BlockFetcher`]) and keeps the ban list.
#[derive(Clone)]
pub struct Devp2pFetcher {
    handle: Devp2pHandle,
    waiters: Arc<Mutex<Waiters>>,
    /// One request of a kind at a time per peer.
    slots: Arc<Mutex<Slots>>,
    banned: Arc<Mutex<HashMap<PeerId, Instant>>>,
}

impl std::fmt::Debug for Devp2pFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devp2pFetcher")
            .field("peers", &self.handle.peer_count())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Devp2pFetcher {
    /// A fetcher over `handle`.
    pub fn new(handle: Devp2pHandle) -> Self {
        Self {
            handle,
            waiters: Arc::default(),
            slots: Arc::default(),
            banned: Arc::default(),
        }
    }

    /// The service handle.
    pub fn handle(&self) -> &Devp2pHandle {
        &self.handle
    }

    /// Hands an answer (BlockHeaders, BlockBodies) to the request waiting for it; `false` if
    /// nothing asked (an unsolicited answer, dropped).
    pub fn deliver(&self, peer: PeerId, message: EthMessage) -> bool {
        let kind = match &message {
            EthMessage::BlockHeaders(_) => Kind::Headers,
            EthMessage::BlockBodies(_) => Kind::Bodies,
            _ => return false,
        };
        match lock(&self.waiters).remove(&(peer, kind)) {
            Some(waiter) => waiter.send(message).is_ok(),
            None => false,
        }
    }

    /// Whether `peer` is banned now.
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        let mut banned = lock(&self.banned);
        let now = Instant::now();
        banned.retain(|_, until| *until > now);
        banned.contains_key(peer)
    }

    /// Bans `peer` and disconnects it (a provable fault).
    pub fn ban(&self, peer: PeerId, reason: DisconnectReason) {
        lock(&self.banned).insert(peer, Instant::now() + BAN_DURATION);
        self.handle.disconnect(&peer, reason);
    }

    fn slot(&self, peer: PeerId, kind: Kind) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.slots).entry((peer, kind)).or_default().clone()
    }

    async fn request(
        &self,
        peer: PeerId,
        kind: Kind,
        message: EthMessage,
    ) -> Result<EthMessage, RequestError> {
        let slot = self.slot(peer, kind);
        let _turn = slot.lock().await;
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters).insert((peer, kind), tx);
        if !self.handle.send(&peer, message) {
            lock(&self.waiters).remove(&(peer, kind));
            return Err(RequestError::NotConnected);
        }
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, rx).await;
        lock(&self.waiters).remove(&(peer, kind));
        match answer {
            Ok(Ok(message)) => Ok(message),
            Ok(Err(_)) => Err(RequestError::ConnectionClosed),
            Err(_) => Err(RequestError::Timeout),
        }
    }

    /// Forgets a peer that left (its pending requests end as closed).
    pub fn forget(&self, peer: &PeerId) {
        lock(&self.waiters).retain(|(p, _), _| p != peer);
        lock(&self.slots).retain(|(p, _), _| p != peer);
    }
}

impl BlockFetcher for Devp2pFetcher {
    type Peer = PeerId;

    async fn request_headers(
        &self,
        peer: PeerId,
        request: HeadersRequest,
    ) -> Result<Vec<SealedHeader>, RequestError> {
        let origin = match request.origin {
            HashOrNumber::Hash(hash) => WireOrigin::Hash(hash),
            HashOrNumber::Number(number) => WireOrigin::Number(number),
        };
        let ask = EthMessage::GetBlockHeaders(GetBlockHeaders {
            origin,
            amount: request.amount,
            skip: request.skip,
            reverse: request.reverse,
        });
        match self.request(peer, Kind::Headers, ask).await? {
            EthMessage::BlockHeaders(headers)
                if u64::try_from(headers.len()).is_ok_and(|n| n <= request.amount) =>
            {
                Ok(headers)
            }
            _ => {
                self.ban(peer, DisconnectReason::SubprotocolError);
                Err(RequestError::BadResponse("more headers than asked".into()))
            }
        }
    }

    async fn request_bodies(
        &self,
        peer: PeerId,
        hashes: Vec<B256>,
    ) -> Result<Vec<BlockBody>, RequestError> {
        let count = hashes.len();
        match self
            .request(peer, Kind::Bodies, EthMessage::GetBlockBodies(hashes))
            .await?
        {
            EthMessage::BlockBodies(bodies) if bodies.len() <= count => Ok(bodies),
            _ => {
                self.ban(peer, DisconnectReason::SubprotocolError);
                Err(RequestError::BadResponse("more bodies than asked".into()))
            }
        }
    }

    async fn penalise(&self, peer: PeerId, penalty: Penalty) {
        // Sync penalises only provable faults (an invalid block, a body not matching its
        // header, a false total difficulty, another chain): each costs a devp2p peer its
        // connection and a ban, as geth drops a peer that delivers a bad block.
        tracing::info!(%peer, ?penalty, "devp2p peer banned");
        self.ban(peer, DisconnectReason::SubprotocolError);
    }

    fn peer_count(&self) -> usize {
        self.handle.peer_count()
    }
}
