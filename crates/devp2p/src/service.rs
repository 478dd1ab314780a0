//! The devp2p peer set: a listener, dialing, one task per established peer, typed events out
//! and typed requests in. This is the API the node integrates with.
//!
//! Each peer runs two tasks: a reader (frames → [`PeerEvent::Message`], Pings answered) and a
//! writer (commands from [`Devp2pHandle`] → frames, and a Ping every 15 s). Status is read
//! from a `watch` channel the node keeps current (head and total difficulty).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
};

use crate::{
    crypto::PeerId,
    enode::NodeRecord,
    error::{P2pError, RlpxError, SessionError},
    eth::{EthMessage, Status},
    p2p::DisconnectReason,
    session::{
        self, EthSession, Incoming, LocalNode, PING_INTERVAL, PeerInfo, SessionReader,
        SessionWriter,
    },
};

/// Configuration of the service.
pub struct Devp2pConfig {
    /// Our identity and client name.
    pub local: LocalNode,
    /// TCP address to listen on.
    pub listen: SocketAddr,
    /// Most peers at once (reference default: 25).
    pub max_peers: usize,
    /// Our Status, kept current by the node (protocol version: the highest we speak, 63).
    pub status: watch::Receiver<Status>,
}

/// What the service reports.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// A peer completed Hello and Status.
    Connected(PeerInfo),
    /// An eth message from a peer.
    Message {
        /// The peer.
        peer: PeerId,
        /// The message.
        message: EthMessage,
    },
    /// A peer left or was dropped.
    Disconnected {
        /// The peer.
        peer: PeerId,
        /// Why, as sent or received.
        reason: DisconnectReason,
        /// What ended it ([`SessionError::is_misbehaviour`] tells whether to penalise the peer).
        error: Arc<SessionError>,
    },
    /// An inbound connection failed its handshake (Hello or Status).
    Refused {
        /// Where it came from.
        addr: SocketAddr,
        /// The Disconnect reason we sent (or received).
        reason: DisconnectReason,
        /// What failed.
        error: Arc<SessionError>,
    },
}

enum Command {
    Send(EthMessage),
    Pong,
    Disconnect(DisconnectReason),
    /// Close without a Disconnect (the peer already sent one, or the socket failed).
    Close,
}

/// A live session: what it said, its command queue, and whether it dialled us (inbound).
type Live = (PeerInfo, mpsc::UnboundedSender<Command>, bool);

struct Shared {
    config_local: LocalNode,
    max_peers: usize,
    status: watch::Receiver<Status>,
    events: mpsc::Sender<PeerEvent>,
    peers: Mutex<HashMap<PeerId, Live>>,
    listen_addr: SocketAddr,
}

/// Handle to the running service (clone freely).
#[derive(Clone)]
pub struct Devp2pHandle {
    shared: Arc<Shared>,
}

/// Starts the service.
pub struct Devp2pService;

impl Devp2pService {
    /// Binds the listener and starts accepting; returns the handle and the event stream.
    pub async fn start(
        config: Devp2pConfig,
    ) -> std::io::Result<(Devp2pHandle, mpsc::Receiver<PeerEvent>)> {
        let listener = TcpListener::bind(config.listen).await?;
        let listen_addr = listener.local_addr()?;
        let (events, rx) = mpsc::channel(1024);
        let mut local = config.local;
        local.listen_port = listen_addr.port();
        let shared = Arc::new(Shared {
            config_local: local,
            max_peers: config.max_peers,
            status: config.status,
            events,
            peers: Mutex::new(HashMap::new()),
            listen_addr,
        });
        tokio::spawn(accept_loop(listener, Arc::downgrade(&shared)));
        Ok((Devp2pHandle { shared }, rx))
    }
}

async fn accept_loop(listener: TcpListener, weak: std::sync::Weak<Shared>) {
    loop {
        let Ok((stream, addr)) = listener.accept().await else {
            continue;
        };
        let Some(shared) = weak.upgrade() else { return };
        tokio::spawn(async move {
            if let Err(e) = shared.inbound(stream).await {
                let _ = shared
                    .events
                    .send(PeerEvent::Refused {
                        addr,
                        reason: e.disconnect_reason(),
                        error: Arc::new(e),
                    })
                    .await;
            }
        });
    }
}

impl Shared {
    fn peers(&self) -> MutexGuard<'_, HashMap<PeerId, Live>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses a peer we cannot take (full, duplicate) with the reference's reasons.
    fn admission(&self, id: &PeerId) -> Option<DisconnectReason> {
        let peers = self.peers();
        if peers.contains_key(id) {
            Some(DisconnectReason::AlreadyConnected)
        } else if peers.len() >= self.max_peers {
            Some(DisconnectReason::TooManyPeers)
        } else {
            None
        }
    }

    async fn inbound(self: &Arc<Self>, stream: TcpStream) -> Result<(), SessionError> {
        let _ = stream.set_nodelay(true);
        let mut p2p = session::accept(stream, &self.config_local).await?;
        if let Some(reason) = self.admission(&p2p.hello.id) {
            p2p.writer.disconnect(reason).await;
            return Err(P2pError::Disconnected(reason).into());
        }
        let status = self.status.borrow().clone();
        let eth = p2p.exchange_status(&status).await?;
        self.run(eth, true).await;
        Ok(())
    }

    async fn run(self: &Arc<Self>, eth: EthSession<TcpStream>, inbound: bool) {
        let EthSession {
            reader,
            writer,
            info,
        } = eth;
        let (tx, rx) = mpsc::unbounded_channel();
        let id = info.id;
        self.peers().insert(id, (info.clone(), tx.clone(), inbound));
        let _ = self.events.send(PeerEvent::Connected(info)).await;
        // The writer reports when it ended the session (our Disconnect, a write failure): the
        // reader stops then too, rather than holding the slot until the peer closes the socket
        // or the read timeout passes.
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(write_loop(writer, rx, ended_tx));
        let (reason, error, remote) = tokio::select! {
            ended = self.read_loop(id, reader, tx.clone()) => ended,
            Ok(reason) = ended_rx => {
                let ended = P2pError::Disconnected(reason);
                (reason, Arc::new(ended.into()), true)
            }
        };
        self.peers().remove(&id);
        let _ = tx.send(if remote {
            Command::Close
        } else {
            Command::Disconnect(reason)
        });
        let _ = self
            .events
            .send(PeerEvent::Disconnected {
                peer: id,
                reason,
                error,
            })
            .await;
    }

    async fn read_loop(
        &self,
        id: PeerId,
        mut reader: SessionReader<TcpStream>,
        tx: mpsc::UnboundedSender<Command>,
    ) -> (DisconnectReason, Arc<SessionError>, bool) {
        loop {
            match reader.next().await {
                Ok(Incoming::Eth(message)) => {
                    if self
                        .events
                        .send(PeerEvent::Message { peer: id, message })
                        .await
                        .is_err()
                    {
                        let stopped = P2pError::Disconnected(DisconnectReason::Quitting);
                        return (DisconnectReason::Quitting, Arc::new(stopped.into()), false);
                    }
                }
                Ok(Incoming::Ping) => {
                    let _ = tx.send(Command::Pong);
                }
                Ok(Incoming::Pong) => {}
                Err(e) => {
                    // Ended by the peer (its Disconnect or the socket): nothing to tell it.
                    let remote = matches!(
                        e,
                        SessionError::P2p(
                            P2pError::Disconnected(_) | P2pError::Rlpx(RlpxError::Io(_))
                        )
                    );
                    return (e.disconnect_reason(), Arc::new(e), remote);
                }
            }
        }
    }
}

async fn write_loop(
    mut writer: SessionWriter<TcpStream>,
    mut rx: mpsc::UnboundedReceiver<Command>,
    ended: tokio::sync::oneshot::Sender<DisconnectReason>,
) {
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.tick().await;
    loop {
        let result = tokio::select! {
            command = rx.recv() => match command {
                Some(Command::Send(message)) => writer.send(&message).await,
                Some(Command::Pong) => writer.pong().await,
                Some(Command::Close) => return,
                Some(Command::Disconnect(reason)) => {
                    writer.disconnect(reason).await;
                    let _ = ended.send(reason);
                    return;
                }
                None => {
                    writer.disconnect(DisconnectReason::Quitting).await;
                    return;
                }
            },
            _ = ping.tick() => writer.ping().await,
        };
        if result.is_err() {
            let _ = ended.send(DisconnectReason::NetworkError);
            return;
        }
    }
}

impl Devp2pHandle {
    /// Our `enode://` URL (with the listener's address; an unspecified IP prints as such).
    pub fn local_enode(&self) -> NodeRecord {
        NodeRecord {
            id: self.shared.config_local.id(),
            ip: self.shared.listen_addr.ip(),
            tcp_port: self.shared.listen_addr.port(),
            udp_port: self.shared.listen_addr.port(),
        }
    }

    /// Dials a node and runs the handshake; on success the peer is live and reported as
    /// [`PeerEvent::Connected`].
    pub async fn dial(&self, node: &NodeRecord) -> Result<PeerInfo, SessionError> {
        if let Some(reason) = self.shared.admission(&node.id) {
            return Err(P2pError::Disconnected(reason).into());
        }
        let status = self.shared.status.borrow().clone();
        let eth = session::dial(&self.shared.config_local, node, &status).await?;
        let info = eth.info.clone();
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move { shared.run(eth, false).await });
        Ok(info)
    }

    /// Queues a message to a peer; false if the peer is gone.
    pub fn send(&self, peer: &PeerId, message: EthMessage) -> bool {
        self.shared
            .peers()
            .get(peer)
            .is_some_and(|(_, tx, _)| tx.send(Command::Send(message)).is_ok())
    }

    /// Disconnects a peer with a reason (e.g. a penalty for a bad block).
    pub fn disconnect(&self, peer: &PeerId, reason: DisconnectReason) {
        if let Some((_, tx, _)) = self.shared.peers().get(peer) {
            let _ = tx.send(Command::Disconnect(reason));
        }
    }

    /// The live peers.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.shared
            .peers()
            .values()
            .map(|(i, _, _)| i.clone())
            .collect()
    }

    /// How many live peers.
    pub fn peer_count(&self) -> usize {
        self.shared.peers().len()
    }

    /// Live peers by who dialled: `(inbound, outbound)`.
    pub fn peer_directions(&self) -> (usize, usize) {
        let peers = self.shared.peers();
        let inbound = peers.values().filter(|(_, _, inbound)| *inbound).count();
        (inbound, peers.len().saturating_sub(inbound))
    }
}
