//! The libp2p behaviours the swarm runs, and the protocol names, all namespaced by genesis hash.

use std::time::Duration;

use alloy_primitives::{B256, keccak256};
use libp2p::{
    StreamProtocol, allow_block_list, connection_limits, gossipsub, identify,
    identity::Keypair,
    kad, mdns, ping, request_response,
    swarm::{NetworkBehaviour, behaviour::toggle::Toggle},
};

use crate::{codec::FramedCodec, config::NetworkConfig, error::NetworkError};

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
    /// Connection limits (`--maxpeers`).
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
    for topic in [namespace.blocks_topic(), namespace.txs_topic()] {
        gossipsub
            .subscribe(&topic)
            .map_err(|e| NetworkError::Setup(format!("subscribe: {e}")))?;
    }
    Ok(gossipsub)
}
