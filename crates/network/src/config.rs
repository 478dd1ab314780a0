//! Network configuration, limits and their defaults.

use std::{net::IpAddr, time::Duration};

use alloy_primitives::B256;
use libp2p::Multiaddr;
use spectrum_primitives::Limits;

/// Spectrum's default listen port (as the reference node).
pub const DEFAULT_PORT: u16 = 60303;
/// Default most peers connected at once.
pub const DEFAULT_MAX_PEERS: u32 = 25;
/// Default most connections from one IP address (inbound, and counted over every peer id).
/// Three covers a few nodes behind one NAT; a single host cannot take more of our inbound slots.
pub const DEFAULT_MAX_PEERS_PER_IP: u32 = 3;
/// The largest block gas limit the message bounds are sized for. Every Spectrum network runs at
/// the 40,000,000 floor of Sip004 (producers target 4,712,388, below it, so the limit stays at the
/// floor); 25 % above that needs 229 consecutive blocks each raising the limit by the most the
/// 1/1024 rule allows.
pub const DEFAULT_MAX_BLOCK_GAS: u64 = 50_000_000;
/// The reference node (geth 1.8's `eth` protocol) refuses any message over 10 MiB
/// (`ProtocolMaxMsgSize`), so no block larger than that ever propagated on a Spectrum network.
pub const REFERENCE_MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Bytes of everything in a block that is not calldata: a header (64 KiB covers any extraData a
/// decoder accepts), and per transaction its list prefixes, nonce, gas price, gas, recipient,
/// value and signature (at most 2 + 9 + 33 + 9 + 21 + 33 + 9 + 33 + 33 + 5 bytes, rounded up).
const HEADER_BYTES: u64 = 64 * 1024;
const TX_OVERHEAD_BYTES: u64 = 256;
/// The cheapest a transaction can be: 21,000 gas (a contract creation costs more).
const TX_BASE_GAS: u64 = 21_000;
/// The cheapest calldata byte: a zero byte costs 4 gas in every fork (a non-zero one 68, or 16
/// after Istanbul's repricing, Sip004).
const ZERO_BYTE_GAS: u64 = 4;

/// The largest encoded block whose transactions fit in `gas_limit`, capped at the reference
/// node's message bound. The calldata of a block can hold at most `gas_limit / 4` bytes (all
/// zero bytes, 4 gas each), it holds at most `gas_limit / 21000` transactions, plus one
/// chief-update transaction that consumes no block gas (SIP001).
///
/// For the default 50M gas: 12.5 MB of calldata + 2,382 × 256 bytes + 64 KiB ≈ 13.2 MB, over
/// the reference's 10 MiB, so 10 MiB.
pub fn max_block_bytes(gas_limit: u64) -> usize {
    let txs = (gas_limit / TX_BASE_GAS).saturating_add(1);
    let bytes = (gas_limit / ZERO_BYTE_GAS)
        .saturating_add(txs.saturating_mul(TX_OVERHEAD_BYTES))
        .saturating_add(HEADER_BYTES);
    usize::try_from(bytes)
        .unwrap_or(usize::MAX)
        .min(REFERENCE_MAX_MESSAGE_BYTES)
}

/// Decode bounds for blocks up to `max_block_gas`.
pub fn decode_limits(max_block_gas: u64) -> Limits {
    let max_block_bytes = max_block_bytes(max_block_gas);
    Limits {
        max_block_bytes,
        max_tx_bytes: Limits::DEFAULT.max_tx_bytes.min(max_block_bytes),
        ..Limits::DEFAULT
    }
}

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
    /// Most established connections (inbound and outbound together). A third of them (geth's
    /// dial ratio) is kept for connections we dial, so peers dialling in cannot take every slot.
    pub max_peers: u32,
    /// Most connections from one IP address (inbound; see [`Self::limit_loopback`]).
    pub max_peers_per_ip: u32,
    /// Whether the per-IP cap and IP bans apply to loopback addresses too. Off by default:
    /// nobody remote connects from loopback, and several local nodes (a devnet on one host)
    /// must not count as one address. Tests of the cap turn it on.
    pub limit_loopback: bool,
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
            max_peers_per_ip: DEFAULT_MAX_PEERS_PER_IP,
            limit_loopback: false,
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

    /// Connection slots kept for peers we dial: a third of `max_peers`, at least one when
    /// there are two slots or more.
    pub fn outbound_slots(&self) -> u32 {
        if self.max_peers < 2 {
            0
        } else {
            (self.max_peers / 3).max(1)
        }
    }

    /// Most inbound connections: what the outbound slots leave.
    pub fn max_inbound(&self) -> u32 {
        self.max_peers.saturating_sub(self.outbound_slots())
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
        let decode = decode_limits(DEFAULT_MAX_BLOCK_GAS);
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
    /// Largest gossip message on any topic (gossipsub's transmit size): a block at the gas
    /// limit ([`max_block_bytes`]) plus gossipsub's framing.
    pub max_message_bytes: usize,
    /// Most bytes of decoded gossip (blocks and transactions) waiting in the event queue for
    /// the node; beyond it gossip is ignored (not forwarded, nobody penalised) until the node
    /// catches up. The queue's length alone would let 4,096 maximal blocks pin 40 GiB.
    pub max_queued_bytes: usize,
    /// Largest transactions message.
    pub max_txs_message_bytes: usize,
    /// Most transactions in one message.
    pub max_txs_per_message: usize,
}

impl GossipLimits {
    /// Bounds for blocks up to `max_block_gas`.
    pub fn for_block_gas(max_block_gas: u64) -> Self {
        Self {
            max_message_bytes: max_block_bytes(max_block_gas).saturating_add(64 * 1024),
            ..Self::default()
        }
    }
}

impl Default for GossipLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: max_block_bytes(DEFAULT_MAX_BLOCK_GAS).saturating_add(64 * 1024),
            max_queued_bytes: 64 * 1024 * 1024,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_bound_follows_the_gas_limit_and_the_reference_cap() {
        // 8M gas: 2,000,000 calldata bytes + 381 transactions' overhead + the header.
        assert_eq!(
            max_block_bytes(8_000_000),
            2_000_000 + 381 * 256 + 64 * 1024
        );
        assert_eq!(
            max_block_bytes(DEFAULT_MAX_BLOCK_GAS),
            REFERENCE_MAX_MESSAGE_BYTES
        );
        assert_eq!(max_block_bytes(u64::MAX), REFERENCE_MAX_MESSAGE_BYTES);
        assert!(GossipLimits::default().max_message_bytes < 16 * 1024 * 1024);
        assert_eq!(
            RequestLimits::default().decode.max_block_bytes,
            REFERENCE_MAX_MESSAGE_BYTES
        );
    }

    #[test]
    fn a_third_of_the_slots_is_kept_for_outbound() {
        let mut config = NetworkConfig::new([1; 32], B256::ZERO, 1);
        assert_eq!((config.outbound_slots(), config.max_inbound()), (8, 17));
        config.max_peers = 1;
        assert_eq!((config.outbound_slots(), config.max_inbound()), (0, 1));
        config.max_peers = 2;
        assert_eq!((config.outbound_slots(), config.max_inbound()), (1, 1));
    }
}
