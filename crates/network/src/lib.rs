//! The peer-to-peer layer of spectrum-rs, on libp2p (tokio, TCP + noise + yamux).
//!
//! **Owns:** the swarm and its protocols — identify, ping, gossipsub (new blocks, transactions),
//! request-response (status handshake, headers, bodies, receipts), Kademlia discovery, static
//! bootnodes and optional mDNS — the wire encodings of their messages with size and item
//! bounds, the request limits (items per request, requests per peer per second) and peer
//! scoring with temporary bans; and transaction propagation ([`transactions`]): gossiped
//! transactions into the pool, newly pending ones out.
//!
//! **Must not touch:** the database, consensus rules or execution. Chain data is read through
//! [`ChainView`], which the node implements; whether a gossiped block is valid is the node's
//! decision, reported back through [`NetworkHandle::report_message`]. Nothing a peer sends is
//! trusted: everything handed out is decoded within bounds, and nothing else is checked here.
//!
//! # Protocols
//!
//! Every protocol id and topic is namespaced by the genesis hash (`/spectrum/<genesis hex>/…`),
//! so nodes of different chains cannot exchange blocks: they do not even share a DHT.
//!
//! | what | id / topic | payload |
//! |---|---|---|
//! | requests | `/spectrum/<g>/req/1` | 4-byte length, then kind byte + RLP (see [`messages`]) |
//! | status handshake | request kind 0 | `[chainId, genesis, headHash, headNumber, td]` both ways |
//! | headers | request kind 1 | `[origin (hash or number), amount, skip, reverse]` → `[header…]` |
//! | bodies | request kind 2 | `[hash…]` → `[[txs, uncles]…]` |
//! | receipts | request kind 3 | `[hash…]` → `[[receipt…]…]` |
//! | new blocks | `/spectrum/<g>/blocks/1` | block RLP |
//! | transactions | `/spectrum/<g>/txs/1` | `[tx…]` (pool transactions only: never the chief update) |
//! | DHT | `/spectrum/<g>/kad/1` | Kademlia |
//!
//! On every new connection both sides send their status; a peer with another chain id or
//! genesis, or one speaking another chain's protocols, is disconnected and banned. Statuses are
//! asked for again every [`NetworkConfig::status_interval`] to learn peers' new heads.
//!
//! Gossipsub runs in manual-validation mode: a received block is handed to the node as
//! [`NetworkEvent::NewBlock`] and forwarded only after the node reports
//! [`MessageValidation::Accept`] (seal and header rules checked).
//!
//! # Peer scoring
//!
//! A peer starts at score 0; a [`Penalty`] lowers it (an invalid block or another chain at
//! once to the ban threshold, a false total-difficulty claim 50 points, an undecodable message
//! 40, a flood of requests 10 per refused request, …), time restores it. At the threshold the
//! peer is disconnected and its connections refused for [`ScoringConfig::ban_duration`], by
//! peer id and by the IP addresses it was connected from. Gossipsub's own peer scoring is on
//! too: a peer whose messages are rejected leaves the mesh and is graylisted.
//!
//! # Memory and connection bounds
//!
//! - A block message is at most what a block within [`DEFAULT_MAX_BLOCK_GAS`] can encode to,
//!   capped at the reference node's 10 MiB message bound ([`max_block_bytes`]).
//! - Gossip waiting for the node is bounded in bytes ([`GossipLimits::max_queued_bytes`]) as
//!   well as in number; beyond it gossip is ignored, nobody penalised.
//! - A third of `max_peers` is kept for connections we dial: identities dialling in, however
//!   many, cannot take every slot (eclipse). At most [`NetworkConfig::max_peers_per_ip`]
//!   inbound connections come from one IP address (loopback exempt unless
//!   [`NetworkConfig::limit_loopback`]).
//!
//! # API
//!
//! [`start`] builds the swarm from a [`NetworkConfig`] and a [`ChainView`], starts listening
//! and returns a [`NetworkHandle`] (clone it freely; the service stops when every clone is
//! dropped) and the receiver of [`NetworkEvent`]s.

mod behaviour;
mod codec;
pub mod config;
mod error;
mod handle;
mod ip_limits;
pub mod messages;
mod peers;
mod service;
pub mod transactions;

use std::{sync::Arc, time::Duration};

use alloy_primitives::B256;
use libp2p::{identity, noise, swarm::SwarmEvent, tcp, yamux};
use spectrum_primitives::{BlockBody, Header, ReceiptWithBloom};
use tokio::sync::mpsc;

pub use config::{
    DEFAULT_MAX_BLOCK_GAS, DEFAULT_MAX_PEERS, DEFAULT_MAX_PEERS_PER_IP, DEFAULT_PORT, GossipLimits,
    NetworkConfig, REFERENCE_MAX_MESSAGE_BYTES, RequestLimits, ScoringConfig, max_block_bytes,
};
pub use error::{NetworkError, RequestError};
pub use handle::{
    EventReceiver, GossipTopic, MessageValidation, NetworkEvent, NetworkHandle, PeerInfo,
};
pub use ip_limits::IpDenied;
pub use libp2p::{Multiaddr, PeerId, gossipsub::MessageId};
pub use messages::{ChainStatus, HashOrNumber, HeadersRequest};
pub use peers::Penalty;
pub use transactions::GossipedTransactions;

use crate::{
    behaviour::{Behaviour, Namespace},
    handle::SharedState,
    service::Service,
};

/// The chain as the network serves it; the node implements it over its database. Called on
/// blocking threads.
pub trait ChainView: Send + Sync + 'static {
    /// Our chain id, genesis, head and its total difficulty.
    fn status(&self) -> ChainStatus;
    /// Canonical headers named by `request`, at most `request.amount`, stopping at the first
    /// missing one (the network truncates to its limit too).
    fn headers(&self, request: &HeadersRequest) -> Vec<Header>;
    /// Bodies of the blocks `hashes`, in order, stopping at the first unknown one.
    fn bodies(&self, hashes: &[B256]) -> Vec<BlockBody>;
    /// Receipts of the blocks `hashes`, in order, stopping at the first unknown one.
    fn receipts(&self, hashes: &[B256]) -> Vec<Vec<ReceiptWithBloom>>;
}

/// Capacity of the event queue; gossip beyond it (or beyond its byte budget,
/// [`GossipLimits::max_queued_bytes`]) is ignored (not forwarded) rather than letting a slow
/// consumer stall the swarm or a peer fill memory.
const EVENT_QUEUE: usize = 4096;

/// The libp2p identity of a node key: the secp256k1 key that also signs blocks.
pub fn node_identity(node_key: &[u8; 32]) -> Result<identity::Keypair, NetworkError> {
    let secret = identity::secp256k1::SecretKey::try_from_bytes(*node_key)
        .map_err(|e| NetworkError::InvalidNodeKey(e.to_string()))?;
    Ok(identity::secp256k1::Keypair::from(secret).into())
}

/// The peer id of a node key.
pub fn peer_id_of_key(node_key: &[u8; 32]) -> Result<PeerId, NetworkError> {
    Ok(node_identity(node_key)?.public().to_peer_id())
}

/// Starts the network: builds the swarm, listens on `config.listen_addr:config.port`, dials the
/// bootnodes and runs the service on the current tokio runtime.
pub async fn start(
    config: NetworkConfig,
    chain: Arc<dyn ChainView>,
) -> Result<(NetworkHandle, EventReceiver), NetworkError> {
    let (handle, events, service) = start_service(config, chain).await?;
    tokio::spawn(service);
    Ok((handle, events))
}

/// Like [`start`], but hands the service that drives the swarm back for the caller to run (the
/// node runs it as a critical task): nothing moves on the network until it is polled.
pub async fn start_service(
    config: NetworkConfig,
    chain: Arc<dyn ChainView>,
) -> Result<
    (
        NetworkHandle,
        EventReceiver,
        impl Future<Output = ()> + Send + 'static,
    ),
    NetworkError,
> {
    let key = node_identity(&config.node_key)?;
    let namespace = Namespace::new(config.genesis_hash);
    let behaviour = Behaviour::new(&key, &config, &namespace)?;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetworkError::Setup(format!("transport: {e}")))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| NetworkError::Setup(format!("behaviour: {e}")))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();

    let ip = match config.listen_addr {
        std::net::IpAddr::V4(ip) => libp2p::multiaddr::Protocol::Ip4(ip),
        std::net::IpAddr::V6(ip) => libp2p::multiaddr::Protocol::Ip6(ip),
    };
    let listen = Multiaddr::empty()
        .with(ip)
        .with(libp2p::multiaddr::Protocol::Tcp(config.port));
    swarm
        .listen_on(listen.clone())
        .map_err(|e| NetworkError::Listen {
            addr: listen.to_string(),
            reason: e.to_string(),
        })?;

    let shared = Arc::new(SharedState::default());
    // Wait for the first listen address so `listen_addrs()` is usable at once.
    wait_for_listen_addr(&mut swarm, &shared, &listen).await?;

    let local_status = {
        let chain = Arc::clone(&chain);
        tokio::task::spawn_blocking(move || chain.status())
            .await
            .map_err(|e| NetworkError::Setup(format!("chain status: {e}")))?
    };
    let (command_tx, command_rx) = mpsc::channel(1024);
    let (event_tx, event_rx) = mpsc::channel(EVENT_QUEUE);
    let handle = NetworkHandle {
        local_peer_id: *swarm.local_peer_id(),
        commands: command_tx,
        shared: Arc::clone(&shared),
        limits: config.request_limits,
    };
    let mut service = Service::new(
        swarm,
        config,
        namespace,
        chain,
        Arc::clone(&shared),
        command_rx,
        event_tx,
        local_status,
    );
    service.set_local_status(local_status);
    Ok((
        handle,
        EventReceiver {
            events: event_rx,
            shared,
        },
        service.run(),
    ))
}

async fn wait_for_listen_addr(
    swarm: &mut libp2p::Swarm<Behaviour>,
    shared: &SharedState,
    listen: &Multiaddr,
) -> Result<(), NetworkError> {
    use futures::StreamExt;
    let deadline = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { address, .. } => {
                    let full = address.with(libp2p::multiaddr::Protocol::P2p(*swarm.local_peer_id()));
                    tracing::info!(addr = %full, "listening");
                    handle::write(&shared.listen_addrs, |addrs| addrs.push(full));
                    return Ok(());
                }
                SwarmEvent::ListenerClosed { reason: Err(e), .. } | SwarmEvent::ListenerError { error: e, .. } => {
                    return Err(NetworkError::Listen { addr: listen.to_string(), reason: e.to_string() });
                }
                _ => {}
            },
            _ = &mut deadline => {
                return Err(NetworkError::Listen { addr: listen.to_string(), reason: "no listen address after 10 s".into() });
            }
        }
    }
}
