//! The libp2p behaviours the swarm runs, and the protocol names, all namespaced by genesis hash.

use std::time::Duration;

use alloy_primitives::{B256, keccak256};
use libp2p::{
    StreamProtocol, allow_block_list, connection_limits, gossipsub, identify,
    identity::Keypair,
    kad, mdns, ping, request_response,
    swarm::{NetworkBehaviour, behaviour::toggle::Toggle},
};

use crate::{codec::FramedCodec, config::NetworkConfig, error::NetworkError, ip_limits::IpLimits};

/// Protocol names and topics of one chain.
#[derive(Debug, Clone)]
pub struct Namespace {
    prefix: String,
}

impl Namespace {
    /// The namespace of the chain with `genesis_hash`: `/spectrum/<genesis hex>`.
    pub fn new(genesis_hash: B256) -> Self {
        Self {
            prefix: format!("/spectrum/{}", alloy_primitives::hex::encode(genesis_hash)),
        }
    }

    fn protocol(&self, name: &str) -> Result<StreamProtocol, NetworkError> {
        StreamProtocol::try_from_owned(format!("{}/{name}", self.prefix))
            .map_err(|e| NetworkError::Setup(format!("protocol name: {e}")))
    }

    /// The request-response protocol.
    pub fn request_protocol(&self) -> Result<StreamProtocol, NetworkError> {
        self.protocol("req/1")
    }

    /// The Kademlia protocol (nodes of other chains have separate DHTs).
    pub fn kad_protocol(&self) -> Result<StreamProtocol, NetworkError> {
        self.protocol("kad/1")
    }

    /// Identify's protocol version string: peers announcing another one are of another chain.
    pub fn identify_version(&self) -> String {
        format!("{}/1", self.prefix)
    }

    /// Gossipsub's protocol id prefix.
    pub fn gossipsub_prefix(&self) -> String {
        format!("{}/meshsub", self.prefix)
    }

    /// The new-blocks topic.
    pub fn blocks_topic(&self) -> gossipsub::IdentTopic {
        gossipsub::IdentTopic::new(format!("{}/blocks/1", self.prefix))
    }

    /// The transactions topic.
    pub fn txs_topic(&self) -> gossipsub::IdentTopic {
        gossipsub::IdentTopic::new(format!("{}/txs/1", self.prefix))
    }
}

/// Everything the swarm runs.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Banned peers: connections refused and closed.
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Per-IP caps and IP bans, before any handshake.
    pub ip_limits: IpLimits,
    /// Connection limits (`--maxpeers`, with a third of the slots kept for outbound).
    pub limits: connection_limits::Behaviour,
    /// Identify: listen addresses and protocol version of peers.
    pub identify: identify::Behaviour,
    /// Keep-alive and liveness.
    pub ping: ping::Behaviour,
    /// Block and transaction gossip.
    pub gossipsub: gossipsub::Behaviour,
    /// Status, headers, bodies, receipts.
    pub requests: request_response::Behaviour<FramedCodec>,
    /// Discovery (off with `--nodiscover`).
    pub kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    /// Local discovery (off unless asked for).
    pub mdns: Toggle<mdns::tokio::Behaviour>,
}

impl Behaviour {
    /// Builds every behaviour for `config`.
    pub fn new(
        key: &Keypair,
        config: &NetworkConfig,
        namespace: &Namespace,
    ) -> Result<Self, NetworkError> {
        let local = key.public().to_peer_id();
        let max_peers = config.max_peers;
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(max_peers))
            // Peers dialling in get what the outbound slots leave: however many identities
            // an attacker makes, the peers we chose still find room (eclipse resistance).
            .with_max_established_incoming(Some(config.max_inbound()))
            .with_max_pending_incoming(Some(max_peers))
            // Two: a simultaneous dial from both ends must not close both connections.
            .with_max_established_per_peer(Some(2));
        let identify = identify::Behaviour::new(
            identify::Config::new(namespace.identify_version(), key.public())
                .with_agent_version(format!("spectrum-rs/{}", env!("CARGO_PKG_VERSION"))),
        );
        let requests = request_response::Behaviour::with_codec(
            FramedCodec {
                max_request_bytes: config.request_limits.max_request_bytes,
                max_response_bytes: config.request_limits.max_response_bytes,
            },
            [(
                namespace.request_protocol()?,
                request_response::ProtocolSupport::Full,
            )],
            request_response::Config::default().with_request_timeout(config.request_timeout),
        );
        let kad = config
            .discovery
            .then(|| -> Result<_, NetworkError> {
                let mut kad_config = kad::Config::new(namespace.kad_protocol()?);
                kad_config.set_query_timeout(Duration::from_secs(30));
                let mut kad = kad::Behaviour::with_config(
                    local,
                    kad::store::MemoryStore::new(local),
                    kad_config,
                );
                kad.set_mode(Some(kad::Mode::Server));
                Ok(kad)
            })
            .transpose()?;
        let mdns = config
            .mdns
            .then(|| mdns::tokio::Behaviour::new(mdns::Config::default(), local))
            .transpose()
            .map_err(|e| NetworkError::Setup(format!("mdns: {e}")))?;
        Ok(Self {
            blocked: Default::default(),
            ip_limits: IpLimits::new(config.max_peers_per_ip, config.limit_loopback),
            limits: connection_limits::Behaviour::new(limits),
            identify,
            ping: ping::Behaviour::new(ping::Config::new()),
            gossipsub: gossipsub_behaviour(key, config, namespace)?,
            requests,
            kad: kad.into(),
            mdns: mdns.into(),
        })
    }
}

fn gossipsub_behaviour(
    key: &Keypair,
    config: &NetworkConfig,
    namespace: &Namespace,
) -> Result<gossipsub::Behaviour, NetworkError> {
    let gossip_config = gossipsub::ConfigBuilder::default()
        .protocol_id_prefix(namespace.gossipsub_prefix())
        .max_transmit_size(config.gossip_limits.max_message_bytes)
        // The node validates a block (seal and header rules) before it is forwarded.
        .validate_messages()
        .validation_mode(gossipsub::ValidationMode::Strict)
        // Content-addressed ids: the same block relayed by two peers is one message.
        .message_id_fn(|message| gossipsub::MessageId::from(keccak256(&message.data).to_vec()))
        .heartbeat_interval(Duration::from_millis(700))
        .flood_publish(true)
        .build()
        .map_err(|e| NetworkError::Setup(format!("gossipsub config: {e}")))?;
    let mut gossipsub = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(key.clone()),
        gossip_config,
    )
    .map_err(|e| NetworkError::Setup(format!("gossipsub: {e}")))?;
    let (params, thresholds) = peer_score(config, namespace);
    gossipsub
        .with_peer_score(params, thresholds)
        .map_err(|e| NetworkError::Setup(format!("gossipsub peer score: {e}")))?;
    for topic in [namespace.blocks_topic(), namespace.txs_topic()] {
        gossipsub
            .subscribe(&topic)
            .map_err(|e| NetworkError::Setup(format!("subscribe: {e}")))?;
    }
    Ok(gossipsub)
}

/// Gossipsub's peer scoring: a peer whose messages we reject (invalid blocks, undecodable
/// gossip) loses score quadratically, is left out of the mesh, then not gossiped to, then
/// graylisted (its messages dropped unread) — before our own [`crate::Penalty`] ban. Time in
/// the mesh and first deliveries of valid blocks earn a little. The mesh-delivery-rate
/// penalties are off: blocks come every few seconds, so a quiet honest peer is normal.
fn peer_score(
    config: &NetworkConfig,
    namespace: &Namespace,
) -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    let topic = |weight: f64| gossipsub::TopicScoreParams {
        topic_weight: weight,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 300.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: 20.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -20.0,
        invalid_message_deliveries_decay: 0.5,
        ..Default::default()
    };
    let mut params = gossipsub::PeerScoreParams {
        topic_score_cap: 50.0,
        ..Default::default()
    };
    params
        .topics
        .insert(namespace.blocks_topic().hash(), topic(1.0));
    params
        .topics
        .insert(namespace.txs_topic().hash(), topic(0.5));
    if !config.limit_loopback {
        // Local nodes share an address by nature (see `NetworkConfig::limit_loopback`).
        params.ip_colocation_factor_whitelist.extend([
            std::net::IpAddr::from([127, 0, 0, 1]),
            std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ]);
    }
    (params, gossipsub::PeerScoreThresholds::default())
}
