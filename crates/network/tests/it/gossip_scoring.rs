//! Gossipsub's own peer scoring, on its own (issue 13 item 6): real swarms on 127.0.0.1, and a
//! victim whose [`spectrum_network::Penalty`] ban is turned off so that only gossipsub acts. A
//! peer publishing invalid messages sees its gossipsub score drop below the graylist threshold:
//! the victim drops its messages unread (no longer decoding them, nor delivering its valid
//! blocks), while an honest peer's messages still arrive; as the penalty decays, the peer is
//! heard again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{sync::Arc, time::Duration};

use alloy_primitives::{Address, B256, TxKind, U256};
use spectrum_network::{
    ChainStatus, ChainView, EventReceiver, GossipTopic, HeadersRequest, MessageValidation,
    NetworkConfig, NetworkEvent, NetworkHandle, PeerId, Penalty, start,
};
use spectrum_primitives::{
    Block, BlockBody, Header, ReceiptWithBloom, SealedBlock, TransactionSigned, TxLegacy,
    sign_transaction,
};

const CHAIN_ID: u64 = 1337;
const DEADLINE: Duration = Duration::from_secs(30);
/// Invalid messages the attacker publishes in one burst.
const GARBAGE: i32 = 30;

/// A chain of the genesis only; every node of the test shares it.
struct GenesisOnly(SealedBlock);

impl GenesisOnly {
    fn new() -> Self {
        Self(
            Block {
                header: Header {
                    difficulty: U256::from(1u64),
                    ..Default::default()
                },
                body: BlockBody::default(),
            }
            .seal_slow(),
        )
    }
}

impl ChainView for GenesisOnly {
    fn status(&self) -> ChainStatus {
        ChainStatus {
            chain_id: CHAIN_ID,
            genesis_hash: self.0.hash(),
            head_hash: self.0.hash(),
            head_number: 0,
            total_difficulty: U256::from(1u64),
        }
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

fn transfer(nonce: u64) -> TransactionSigned {
    let key = secp256k1::SecretKey::from_byte_array([0x42; 32]).unwrap();
    sign_transaction(
        TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce,
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(9)),
            value: U256::from(1u64),
            input: Default::default(),
        },
        &key,
    )
}

/// A well-formed block (it decodes; the test's consumer judges it), distinct per `number`.
fn block(parent: &SealedBlock, number: u64) -> SealedBlock {
    Block {
        header: Header {
            parent_hash: parent.hash(),
            number,
            difficulty: U256::from(2u64),
            timestamp: 1_600_000_000 + number,
            gas_limit: 8_000_000,
            ..Default::default()
        },
        body: BlockBody {
            transactions: vec![transfer(number)],
            ommers: vec![],
        },
    }
    .seal_slow()
}

fn config(key: u8, chain: &GenesisOnly, bootnodes: &[&NetworkHandle]) -> NetworkConfig {
    let mut config = NetworkConfig::new([key; 32], chain.0.hash(), CHAIN_ID);
    config.listen_addr = [127, 0, 0, 1].into();
    config.port = 0;
    config.discovery = false;
    config.bootnodes = bootnodes
        .iter()
        .map(|h| h.listen_addrs()[0].clone())
        .collect();
    config
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = tokio::time::Instant::now();
    while !condition() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next gossiped block the victim hears, with its relay (reported `Ignore`: the verdict
/// must not touch anyone's score).
async fn next_block(victim: &NetworkHandle, events: &mut EventReceiver) -> (PeerId, u64) {
    tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await.expect("network running") {
                NetworkEvent::NewBlock {
                    peer,
                    msg_id,
                    block,
                } => {
                    victim
                        .report_message(msg_id, peer, MessageValidation::Ignore)
                        .await;
                    return (peer, block.number());
                }
                NetworkEvent::PeerDisconnected { peer } => panic!("{peer} disconnected"),
                _ => {}
            }
        }
    })
    .await
    .expect("a block before the deadline")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_gossip_graylists_the_publisher_until_its_penalty_decays() {
    let chain = Arc::new(GenesisOnly::new());
    let genesis = chain.0.clone();
    let mut victim_config = config(1, &chain, &[]);
    // Our own ban never fires here: what happens is gossipsub's scoring alone.
    victim_config.scoring.ban_threshold = i32::MIN / 2;
    let (victim, mut victim_events) = start(victim_config, chain.clone()).await.unwrap();
    let (attacker, attacker_events) = start(config(2, &chain, &[&victim]), chain.clone())
        .await
        .unwrap();
    let (honest, honest_events) = start(config(3, &chain, &[&victim]), chain.clone())
        .await
        .unwrap();
    for mut events in [attacker_events, honest_events] {
        tokio::spawn(async move { while events.recv().await.is_some() {} });
    }
    wait_until("both peers in the victim's gossip", || {
        victim.gossip_peer_count() == 2
            && attacker.gossip_peer_count() == 1
            && honest.gossip_peer_count() == 1
    })
    .await;
    let attacker_id = attacker.local_peer_id();

    // A burst of distinct undecodable blocks, each rejected by the victim (and each costing
    // `UndecodableMessage` in its own score book, which thus counts the ones it decoded).
    for i in 0..GARBAGE {
        attacker
            .publish_raw(
                GossipTopic::Blocks,
                format!("not a block #{i}").into_bytes(),
            )
            .await;
    }
    // Then valid blocks, one every 100 ms, until the victim hears one; and one from the
    // honest peer.
    honest.broadcast_block(&block(&genesis, 5_000)).await;
    let mut published = 0u64;
    let mut honest_heard = false;
    let first_heard = loop {
        attacker
            .broadcast_block(&block(&genesis, 1_000 + published))
            .await;
        published += 1;
        match tokio::time::timeout(
            Duration::from_millis(100),
            next_block(&victim, &mut victim_events),
        )
        .await
        {
            Ok((peer, number)) if peer == attacker_id => break number - 1_000,
            Ok((_, 5_000)) => honest_heard = true,
            Ok((peer, number)) => panic!("unexpected block {number} from {peer}"),
            Err(_) => {}
        }
        assert!(published < 300, "the attacker was never heard again");
    };
    if !honest_heard {
        let (peer, number) = next_block(&victim, &mut victim_events).await;
        assert_eq!((peer, number), (honest.local_peer_id(), 5_000));
    }

    // The victim decoded only the first few invalid messages: from the third on, the
    // attacker's gossipsub score (−20 × invalid²) was below the graylist threshold (−80) and
    // its messages were dropped unread. Without scoring all 30 would be decoded and penalised.
    let score = victim.peer_score(&attacker_id);
    let decoded =
        (-score + Penalty::UndecodableMessage.points() - 1) / Penalty::UndecodableMessage.points();
    println!(
        "decoded {decoded} of {GARBAGE} invalid messages; first valid block heard: #{first_heard}"
    );
    assert!(
        (3..GARBAGE / 2).contains(&decoded),
        "the victim decoded {decoded} of {GARBAGE} invalid messages (score {score})"
    );
    // The valid block sent right after the burst was dropped too; a later one, once the
    // penalty had decayed (halved every second), was heard.
    assert!(
        first_heard >= 1,
        "the attacker's first valid block after the burst was delivered"
    );
    // Graylisting is not a ban: the connection stays.
    assert!(!victim.is_banned(&attacker_id));
    assert!(victim.peers().iter().any(|p| p.id == attacker_id));
}
