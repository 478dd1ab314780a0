//! An in-process libp2p peer of a node's chain, for the tests where a peer misbehaves or
//! floods: it announces a chain status and serves nothing.

use std::{sync::Arc, time::Duration};

use alloy_primitives::B256;
use spectrum_network::{
    ChainStatus, ChainView, EventReceiver, HeadersRequest, MessageValidation, NetworkConfig,
    NetworkEvent, NetworkHandle,
};
use spectrum_primitives::{BlockBody, Header, ReceiptWithBloom};

use super::{Node, quantity};

/// A chain view that announces its status and serves nothing (a peer at the genesis, or a liar).
pub struct StatusOnly(pub ChainStatus);

impl ChainView for StatusOnly {
    fn status(&self) -> ChainStatus {
        self.0
    }
    fn headers(&self, _: &HeadersRequest) -> Vec<Header> {
        Vec::new()
    }
    fn bodies(&self, _: &[B256]) -> Vec<BlockBody> {
        Vec::new()
    }
    fn receipts(&self, _: &[B256]) -> Vec<Vec<ReceiptWithBloom>> {
        Vec::new()
    }
}

impl Node {
    /// The status of a peer at this node's genesis on chain `chain_id`.
    pub fn genesis_status(&self, chain_id: u64) -> ChainStatus {
        let genesis = self.block(0).expect("genesis");
        let genesis_hash: B256 = genesis["hash"]
            .as_str()
            .expect("hash")
            .parse()
            .expect("hex");
        ChainStatus {
            chain_id,
            genesis_hash,
            head_hash: genesis_hash,
            head_number: 0,
            total_difficulty: quantity(&genesis["difficulty"]),
        }
    }
}

/// Starts a peer with p2p key `key` announcing `status` (chain id and genesis from it), on
/// 127.0.0.1 with an ephemeral port, no discovery, dialing `bootnodes`. Call inside a runtime.
pub async fn start_peer(
    key: [u8; 32],
    status: ChainStatus,
    bootnodes: &[&Node],
) -> (NetworkHandle, EventReceiver) {
    let mut config = NetworkConfig::new(key, status.genesis_hash, status.chain_id);
    config.listen_addr = [127, 0, 0, 1].into();
    config.port = 0;
    config.discovery = false;
    config.bootnodes = bootnodes
        .iter()
        .map(|node| node.p2p.parse().expect("a multiaddr"))
        .collect();
    spectrum_network::start(config, Arc::new(StatusOnly(status)))
        .await
        .expect("the peer starts")
}

/// Reports every gossiped block and transaction batch the peer receives as `Ignore` (taken,
/// not forwarded, nobody penalised), for as long as the peer runs.
pub fn ignore_gossip(peer: &NetworkHandle, mut events: EventReceiver) {
    let reporter = peer.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NetworkEvent::NewBlock { peer, msg_id, .. }
            | NetworkEvent::Transactions { peer, msg_id, .. } = event
            {
                reporter
                    .report_message(msg_id, peer, MessageValidation::Ignore)
                    .await;
            }
        }
    });
}

/// Waits (at most a minute) until the peer has a gossip connection.
pub async fn joined(peer: &NetworkHandle) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while peer.gossip_peer_count() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the peer joined");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
