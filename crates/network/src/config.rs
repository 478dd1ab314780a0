//! Network configuration, limits and their defaults.

use std::{net::IpAddr, time::Duration};

use alloy_primitives::B256;
use libp2p::Multiaddr;
use spectrum_primitives::Limits;

/// Spectrum's default listen port (as the reference node).
pub const DEFAULT_PORT: u16 = 60303;
/// Default most peers connected at once.
pub const DEFAULT_MAX_PEERS: u32 = 25;

/// How the node joins the network.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Address to listen on (`0.0.0.0` for every interface).
    pub listen_addr: IpAddr,
    /// TCP port to listen on; 0 picks a free one (tests).
    pub port: u16,
    /// Peers dialled at start and redialled while the node has too few peers
    /// (`/ip4/…/tcp/…/p2p/<peer id>`).
    pub bootnodes: Vec<Multiaddr>,
    /// Most established connections (inbound and outbound together).
    pub max_peers: u32,
    /// Kademlia discovery on (off with `--nodiscover`).
    pub discovery: bool,
    /// mDNS discovery on the local network (off by default).
    pub mdns: bool,
    /// The node's secp256k1 secret key: its libp2p identity (on a validator, the block signer's key).
    pub node_key: [u8; 32],
    /// Genesis hash: every protocol id and gossip topic is namespaced by it.
    pub genesis_hash: B256,
    /// EIP-155 chain id, checked in the status handshake.
    pub chain_id: u64,
    /// Bounds on requests and responses.
    pub request_limits: RequestLimits,
    /// Bounds on gossip.
    pub gossip_limits: GossipLimits,
    /// Penalties and bans.
    pub scoring: ScoringConfig,
    /// How often each peer's status is asked for again (to learn its new head).
    pub status_interval: Duration,
    /// How long a request may wait for its response.
    pub request_timeout: Duration,
}

impl NetworkConfig {
    /// A configuration with the defaults of the reference node (port 60303, 25 peers, discovery
    /// on, mDNS off) for the chain with `genesis_hash` and `chain_id`.
    pub fn new(node_key: [u8; 32], genesis_hash: B256, chain_id: u64) -> Self {
        Self {
            listen_addr: IpAddr::from([0, 0, 0, 0]),
            port: DEFAULT_PORT,
            bootnodes: Vec::new(),
            max_peers: DEFAULT_MAX_PEERS,
            discovery: true,
            mdns: false,
            node_key,
            genesis_hash,
            chain_id,
            request_limits: RequestLimits::default(),
            gossip_limits: GossipLimits::default(),
            scoring: ScoringConfig::default(),
            status_interval: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Bounds on the request-response protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Largest request message in bytes.
    pub max_request_bytes: usize,
    /// Largest response message in bytes (a response always fits one block of the largest size).
    pub max_response_bytes: usize,
    /// Size after which a server stops adding bodies or receipts to a response.
    pub soft_response_bytes: usize,
    /// Most headers per request (geth: 192).
    pub max_headers: usize,
    /// Most bodies per request (geth: 128).
    pub max_bodies: usize,
    /// Most blocks' receipts per request (geth: 256).
    pub max_receipts: usize,
    /// Requests a peer may make per second, sustained.
    pub requests_per_second: u32,
    /// Requests a peer may make in a burst.
    pub request_burst: u32,
    /// Bounds on the items inside responses.
    pub decode: Limits,
}

impl Default for RequestLimits {
    fn default() -> Self {
        let decode = Limits::DEFAULT;
        Self {
            max_request_bytes: 16 * 1024,
            max_response_bytes: decode.max_block_bytes.saturating_add(64 * 1024),
            soft_response_bytes: 2 * 1024 * 1024,
            max_headers: 192,
            max_bodies: 128,
            max_receipts: 256,
            requests_per_second: 20,
            request_burst: 40,
            decode,
        }
    }
}

/// Bounds on gossip messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GossipLimits {
    /// Largest gossip message on any topic (gossipsub's transmit size).
    pub max_message_bytes: usize,
    /// Largest transactions message.
    pub max_txs_message_bytes: usize,
    /// Most transactions in one message.
    pub max_txs_per_message: usize,
}

impl Default for GossipLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: Limits::DEFAULT.max_block_bytes.saturating_add(64 * 1024),
            max_txs_message_bytes: 512 * 1024,
            max_txs_per_message: 1024,
        }
    }
}

/// Peer scoring: a peer starts at 0, penalties lower its score, time brings it back towards 0;
/// at `ban_threshold` or below it is disconnected and refused for `ban_duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoringConfig {
    /// Score at or below which a peer is banned.
    pub ban_threshold: i32,
    /// How long a ban lasts.
    pub ban_duration: Duration,
    /// Points a score recovers per second.
    pub recovery_per_second: i32,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            ban_threshold: -100,
            ban_duration: Duration::from_secs(600),
            recovery_per_second: 1,
        }
    }
}
