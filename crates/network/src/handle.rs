//! The handle the node holds: commands into the network service, requests with typed answers,
//! and a snapshot of the peers.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, RwLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use alloy_rlp::Encodable;

use alloy_primitives::B256;
use libp2p::{Multiaddr, PeerId, gossipsub::MessageId};
use spectrum_primitives::{
    BlockBody, ReceiptWithBloom, SealedBlock, SealedHeader, TransactionSigned,
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    config::RequestLimits,
    error::RequestError,
    messages::{
        ChainStatus, HeadersRequest, Request, decode_bodies, decode_headers, decode_receipts,
        encode_block, encode_list,
    },
    peers::Penalty,
};

/// What the node hears from the network.
#[derive(Debug, Clone)]
pub enum NetworkEvent {
    /// A peer completed the status handshake (same chain id and genesis).
    PeerConnected {
        /// The peer.
        peer: PeerId,
        /// Its status.
        status: ChainStatus,
    },
    /// A connected peer reported a new status (periodic re-handshake).
    PeerStatus {
        /// The peer.
        peer: PeerId,
        /// Its status.
        status: ChainStatus,
    },
    /// A peer that had completed the handshake disconnected.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
    },
    /// A peer was banned (its score fell to the threshold).
    PeerBanned {
        /// The peer.
        peer: PeerId,
    },
    /// A block arrived by gossip. It is decoded but NOT validated: the node validates it and
    /// calls [`NetworkHandle::report_message`]; only then is it forwarded (or dropped).
    NewBlock {
        /// The peer that relayed it.
        peer: PeerId,
        /// The gossip message id, for the report.
        msg_id: MessageId,
        /// The block (boxed: the other events are small).
        block: Box<SealedBlock>,
    },
    /// Transactions arrived by gossip, decoded but not validated; report as for blocks.
    Transactions {
        /// The peer that relayed them.
        peer: PeerId,
        /// The gossip message id, for the report.
        msg_id: MessageId,
        /// The transactions.
        txs: Vec<TransactionSigned>,
    },
}

/// The verdict on a gossiped message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageValidation {
    /// Valid: forward it.
    Accept,
    /// Not forwarded, nobody penalised (e.g. a block whose parent we do not have yet).
    Ignore,
    /// Invalid: not forwarded, and the relaying peer pays the penalty.
    Reject(Penalty),
}

/// A connected peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its id.
    pub id: PeerId,
    /// Its last status.
    pub status: ChainStatus,
}

/// Gossip topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GossipTopic {
    /// New blocks.
    Blocks,
    /// Transactions.
    Transactions,
}

/// What the service shares with handles for reading without a round trip.
#[derive(Debug, Default)]
pub(crate) struct SharedState {
    pub(crate) listen_addrs: RwLock<Vec<Multiaddr>>,
    pub(crate) peers: RwLock<HashMap<PeerId, ChainStatus>>,
    pub(crate) gossip_peers: RwLock<HashSet<PeerId>>,
    /// Connected peers whose first connection they dialled (we listened): the rest we dialled.
    pub(crate) inbound: RwLock<HashSet<PeerId>>,
    pub(crate) banned: RwLock<HashSet<PeerId>>,
    /// Bytes of gossip (blocks, transactions) sent to the node and not yet received by it.
    pub(crate) queued_bytes: AtomicUsize,
    /// Scores of connected peers that have been penalised.
    pub(crate) scores: RwLock<HashMap<PeerId, i32>>,
    /// Why the latest inbound connections were refused (newest last, at most
    /// [`REFUSED_KEPT`]).
    pub(crate) refused: RwLock<std::collections::VecDeque<String>>,
}

/// How many refusals of inbound connections are remembered (for operators and tests).
pub(crate) const REFUSED_KEPT: usize = 64;

/// What an event pins in memory while it waits in the queue: the encoded size of the block
/// or transactions it carries (the decoded form is of the same order), nothing for the rest.
pub(crate) fn event_bytes(event: &NetworkEvent) -> usize {
    match event {
        NetworkEvent::NewBlock { block, .. } => block
            .header
            .header()
            .length()
            .saturating_add(block.body.transactions.length())
            .saturating_add(block.body.ommers.length()),
        NetworkEvent::Transactions { txs, .. } => txs.length(),
        _ => 0,
    }
}

/// The receiving end of the network's events. Gossip waiting here is bounded in bytes
/// ([`crate::GossipLimits::max_queued_bytes`]), not only in number.
#[derive(Debug)]
pub struct EventReceiver {
    pub(crate) events: mpsc::Receiver<NetworkEvent>,
    pub(crate) shared: Arc<SharedState>,
}

impl EventReceiver {
    fn release(&self, event: &NetworkEvent) {
        let bytes = event_bytes(event);
        let _ =
            self.shared
                .queued_bytes
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |queued| {
                    Some(queued.saturating_sub(bytes))
                });
    }

    /// The next event; `None` once the service has stopped.
    pub async fn recv(&mut self) -> Option<NetworkEvent> {
        let event = self.events.recv().await?;
        self.release(&event);
        Some(event)
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Result<NetworkEvent, mpsc::error::TryRecvError> {
        let event = self.events.try_recv()?;
        self.release(&event);
        Ok(event)
    }
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|e| e.into_inner()).clone()
}

pub(crate) fn write<T>(lock: &RwLock<T>, f: impl FnOnce(&mut T)) {
    f(&mut lock.write().unwrap_or_else(|e| e.into_inner()));
}

/// Commands from handles to the service.
#[derive(Debug)]
pub(crate) enum Command {
    Publish {
        topic: GossipTopic,
        bytes: Vec<u8>,
    },
    Report {
        msg_id: MessageId,
        peer: PeerId,
        validation: MessageValidation,
    },
    Request {
        peer: PeerId,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, RequestError>>,
    },
    Penalise {
        peer: PeerId,
        penalty: Penalty,
    },
    Dial {
        addr: Multiaddr,
    },
    /// admin_removePeer (issue 18).
    Disconnect {
        peer: PeerId,
    },
}

/// The node's handle on the network service; cheap to clone. The service stops when every
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    pub(crate) local_peer_id: PeerId,
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) shared: Arc<SharedState>,
    pub(crate) limits: RequestLimits,
}

impl NetworkHandle {
    /// Our peer id (from the node key).
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// The addresses we listen on, each ending in `/p2p/<our peer id>` (usable as a bootnode).
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        read(&self.shared.listen_addrs)
    }

    /// Peers that completed the handshake, with their last status.
    pub fn peers(&self) -> Vec<PeerInfo> {
        read(&self.shared.peers)
            .into_iter()
            .map(|(id, status)| PeerInfo { id, status })
            .collect()
    }

    /// How many peers completed the handshake.
    pub fn peer_count(&self) -> usize {
        self.shared
            .peers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Handshaken peers by the direction of their first connection: `(inbound, outbound)`.
    pub fn peer_directions(&self) -> (usize, usize) {
        let peers = self.shared.peers.read().unwrap_or_else(|e| e.into_inner());
        let inbound = self
            .shared
            .inbound
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let count = peers.keys().filter(|id| inbound.contains(id)).count();
        (count, peers.len().saturating_sub(count))
    }

    /// Peers subscribed to the block topic (a published block reaches them).
    pub fn gossip_peer_count(&self) -> usize {
        self.shared
            .gossip_peers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// A connected peer's score right after its latest penalty (0 if never penalised; scores
    /// recover with time, see [`crate::ScoringConfig`]).
    pub fn peer_score(&self, peer: &PeerId) -> i32 {
        read(&self.shared.scores).get(peer).copied().unwrap_or(0)
    }

    /// Why the latest inbound connections were refused before a handshake (per-IP cap, banned
    /// address, inbound slots full), oldest first.
    pub fn refused_connections(&self) -> Vec<String> {
        read(&self.shared.refused).into_iter().collect()
    }

    /// Bytes of gossiped blocks and transactions waiting in the event queue.
    pub fn queued_event_bytes(&self) -> usize {
        self.shared.queued_bytes.load(Ordering::SeqCst)
    }

    /// Whether `peer` is banned now.
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.shared
            .banned
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(peer)
    }

    async fn send(&self, command: Command) {
        // A stopped service drops commands: there is nobody left to act on them.
        let _ = self.commands.send(command).await;
    }

    /// Gossips a block (our own, or one the node has validated).
    pub async fn broadcast_block(&self, block: &SealedBlock) {
        let bytes = encode_block(&block.clone().unseal());
        self.send(Command::Publish {
            topic: GossipTopic::Blocks,
            bytes,
        })
        .await;
    }

    /// Gossips pool transactions. The caller passes only transactions from the pool, which
    /// refuses chief-update transactions: those travel only inside blocks (network.md §4).
    pub async fn broadcast_transactions(&self, txs: &[TransactionSigned]) {
        if txs.is_empty() {
            return;
        }
        self.send(Command::Publish {
            topic: GossipTopic::Transactions,
            bytes: encode_list(txs),
        })
        .await;
    }

    /// Reports the verdict on a gossiped message (see [`NetworkEvent::NewBlock`]).
    pub async fn report_message(
        &self,
        msg_id: MessageId,
        peer: PeerId,
        validation: MessageValidation,
    ) {
        self.send(Command::Report {
            msg_id,
            peer,
            validation,
        })
        .await;
    }

    /// Penalises a peer (e.g. bodies that do not match their headers).
    pub async fn penalise(&self, peer: PeerId, penalty: Penalty) {
        self.send(Command::Penalise { peer, penalty }).await;
    }

    /// Dials an address (e.g. a bootnode added at run time).
    pub async fn dial(&self, addr: Multiaddr) {
        self.send(Command::Dial { addr }).await;
    }

    /// Closes every connection to `peer` (`admin_removePeer`); it may connect again.
    pub async fn disconnect(&self, peer: PeerId) {
        self.send(Command::Disconnect { peer }).await;
    }

    async fn request_bytes(&self, peer: PeerId, bytes: Vec<u8>) -> Result<Vec<u8>, RequestError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Request { peer, bytes, reply })
            .await
            .map_err(|_| RequestError::ServiceStopped)?;
        answer.await.map_err(|_| RequestError::ServiceStopped)?
    }

    /// Asks `peer` for headers. The answer holds at most `request.amount` headers, each decoded
    /// within the size bounds and hashed; whether they link up is the caller's to check.
    pub async fn request_headers(
        &self,
        peer: PeerId,
        request: HeadersRequest,
    ) -> Result<Vec<SealedHeader>, RequestError> {
        let max = self.limits.max_headers;
        if usize::try_from(request.amount).map_or(true, |amount| amount > max) {
            return Err(RequestError::OverLimit(format!(
                "{} headers, at most {max}",
                request.amount
            )));
        }
        let bytes = self
            .request_bytes(peer, Request::Headers(request).encode())
            .await?;
        let limit = usize::try_from(request.amount).unwrap_or(max);
        let decoded = decode_headers(&bytes, limit, &self.limits.decode);
        self.penalise_on_error(peer, decoded).await
    }

    /// Asks `peer` for the bodies of `hashes` (it may return fewer, in order, stopping at the
    /// first it lacks); matching them to headers is the caller's to check.
    pub async fn request_bodies(
        &self,
        peer: PeerId,
        hashes: Vec<B256>,
    ) -> Result<Vec<BlockBody>, RequestError> {
        let count = hashes.len();
        if count > self.limits.max_bodies {
            return Err(RequestError::OverLimit(format!("{count} bodies")));
        }
        let bytes = self
            .request_bytes(peer, Request::Bodies(hashes).encode())
            .await?;
        let decoded = decode_bodies(&bytes, count, &self.limits.decode);
        self.penalise_on_error(peer, decoded).await
    }

    /// Asks `peer` for the receipts of the blocks `hashes`.
    pub async fn request_receipts(
        &self,
        peer: PeerId,
        hashes: Vec<B256>,
    ) -> Result<Vec<Vec<ReceiptWithBloom>>, RequestError> {
        let count = hashes.len();
        if count > self.limits.max_receipts {
            return Err(RequestError::OverLimit(format!("{count} receipts")));
        }
        let bytes = self
            .request_bytes(peer, Request::Receipts(hashes).encode())
            .await?;
        let decoded = decode_receipts(&bytes, count, &self.limits.decode);
        self.penalise_on_error(peer, decoded).await
    }

    async fn penalise_on_error<T>(
        &self,
        peer: PeerId,
        decoded: Result<T, crate::messages::MessageError>,
    ) -> Result<T, RequestError> {
        match decoded {
            Ok(value) => Ok(value),
            Err(error) => {
                self.penalise(peer, Penalty::BadResponse).await;
                Err(error.into())
            }
        }
    }

    /// Sends `bytes` as a request, unchecked, and returns the raw response. For tests and
    /// tools that must behave like a misbehaving peer; the node never uses it.
    pub async fn request_raw(&self, peer: PeerId, bytes: Vec<u8>) -> Result<Vec<u8>, RequestError> {
        self.request_bytes(peer, bytes).await
    }

    /// Publishes `bytes` on a topic, unchecked. For tests and tools that must behave like a
    /// misbehaving peer; the node never uses it.
    pub async fn publish_raw(&self, topic: GossipTopic, bytes: Vec<u8>) {
        self.send(Command::Publish { topic, bytes }).await;
    }
}
