//! In-process networks of two or three swarms on 127.0.0.1 (ephemeral ports): handshake,
//! chains that must not mix, gossip with validation, requests, and misbehaving peers.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use alloy_primitives::{Address, B256, TxKind, U256};
use spectrum_network::{
    ChainStatus, ChainView, EventReceiver, GossipTopic, HashOrNumber, HeadersRequest,
    MessageValidation, NetworkConfig, NetworkEvent, NetworkHandle, PeerId, Penalty, RequestError,
    start,
};
use spectrum_primitives::{
    Block, BlockBody, Header, Log, Receipt, ReceiptWithBloom, SealedBlock, TransactionSigned,
    TxLegacy, sign_transaction,
};

const CHAIN_ID: u64 = 1337;
const DEADLINE: Duration = Duration::from_secs(30);

/// A chain held in memory: block i at index i.
struct MemoryChain {
    blocks: Vec<SealedBlock>,
    /// Header requests served.
    headers_served: AtomicUsize,
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
            value: U256::from(nonce + 1),
            input: Default::default(),
        },
        &key,
    )
}

impl MemoryChain {
    /// `length` blocks after a genesis whose extra data is `genesis_tag` (so two tags give two
    /// different chains).
    fn new(genesis_tag: u8, length: u64) -> Self {
        let mut blocks = vec![
            Block {
                header: Header {
                    extra_data: vec![genesis_tag].into(),
                    difficulty: U256::from(1u64),
                    ..Default::default()
                },
                body: BlockBody::default(),
            }
            .seal_slow(),
        ];
        for number in 1..=length {
            blocks.push(child_of(blocks.last().unwrap(), number));
        }
        Self {
            blocks,
            headers_served: AtomicUsize::new(0),
        }
    }

    fn genesis(&self) -> B256 {
        self.blocks[0].hash()
    }

    fn number_of(&self, origin: HashOrNumber) -> Option<u64> {
        match origin {
            HashOrNumber::Number(n) => Some(n),
            HashOrNumber::Hash(h) => self
                .blocks
                .iter()
                .position(|b| b.hash() == h)
                .map(|i| i as u64),
        }
    }

    fn find(&self, hash: &B256) -> Option<&SealedBlock> {
        self.blocks.iter().find(|b| b.hash() == *hash)
    }
}

fn child_of(parent: &SealedBlock, number: u64) -> SealedBlock {
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

fn receipts_for(block: &SealedBlock) -> Vec<ReceiptWithBloom> {
    block
        .body
        .transactions
        .iter()
        .map(|_| {
            Receipt {
                status: true.into(),
                cumulative_gas_used: 21_000,
                logs: vec![Log::empty()],
            }
            .into()
        })
        .collect()
}

impl ChainView for MemoryChain {
    fn status(&self) -> ChainStatus {
        let head = self.blocks.last().unwrap();
        ChainStatus {
            chain_id: CHAIN_ID,
            genesis_hash: self.genesis(),
            head_hash: head.hash(),
            head_number: head.number(),
            total_difficulty: U256::from(self.blocks.len() as u64 * 2),
        }
    }

    fn headers(&self, request: &HeadersRequest) -> Vec<Header> {
        self.headers_served.fetch_add(1, Ordering::SeqCst);
        let Some(origin) = self.number_of(request.origin) else {
            return vec![];
        };
        request
            .numbers(origin, 192)
            .into_iter()
            .map_while(|n| self.blocks.get(n as usize))
            .map(|b| b.header.header().clone())
            .collect()
    }

    fn bodies(&self, hashes: &[B256]) -> Vec<BlockBody> {
        hashes
            .iter()
            .map_while(|h| self.find(h))
            .map(|b| b.body.clone())
            .collect()
    }

    fn receipts(&self, hashes: &[B256]) -> Vec<Vec<ReceiptWithBloom>> {
        hashes
            .iter()
            .map_while(|h| self.find(h))
            .map(receipts_for)
            .collect()
    }
}

struct Node {
    handle: NetworkHandle,
    events: EventReceiver,
    chain: Arc<MemoryChain>,
}

fn config(key_byte: u8, chain: &MemoryChain) -> NetworkConfig {
    let mut config = NetworkConfig::new([key_byte; 32], chain.genesis(), CHAIN_ID);
    config.listen_addr = [127, 0, 0, 1].into();
    config.port = 0;
    config.discovery = false;
    config
}

async fn node_with(config: NetworkConfig, chain: Arc<MemoryChain>) -> Node {
    let (handle, events) = start(config, chain.clone()).await.expect("network starts");
    Node {
        handle,
        events,
        chain,
    }
}

async fn node(key_byte: u8, chain: Arc<MemoryChain>, bootnodes: &[&Node]) -> Node {
    let mut config = config(key_byte, &chain);
    config.bootnodes = bootnodes
        .iter()
        .map(|n| n.handle.listen_addrs()[0].clone())
        .collect();
    node_with(config, chain).await
}

/// Waits for the first event `pick` maps to `Some`, within the deadline.
async fn next_event<T>(node: &mut Node, mut pick: impl FnMut(NetworkEvent) -> Option<T>) -> T {
    tokio::time::timeout(DEADLINE, async {
        loop {
            let event = node.events.recv().await.expect("network running");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
    .expect("event before the deadline")
}

/// Polls `condition` until it holds or the deadline passes.
async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = tokio::time::Instant::now();
    while !condition() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn connected(node: &mut Node, peer: PeerId) -> ChainStatus {
    next_event(node, |e| match e {
        NetworkEvent::PeerConnected { peer: p, status } if p == peer => Some(status),
        _ => None,
    })
    .await
}

async fn pair(length_a: u64, length_b: u64) -> (Node, Node) {
    let a = node(1, Arc::new(MemoryChain::new(0, length_a)), &[]).await;
    // Same genesis; B's chain is a prefix of A's (the blocks are deterministic).
    let mut b = node(2, Arc::new(MemoryChain::new(0, length_b)), &[&a]).await;
    let mut a = a;
    connected(&mut a, b.handle.local_peer_id()).await;
    connected(&mut b, a.handle.local_peer_id()).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_exchanges_statuses() {
    let mut a = node(1, Arc::new(MemoryChain::new(0, 12)), &[]).await;
    let mut b = node(2, Arc::new(MemoryChain::new(0, 5)), &[&a]).await;
    let a_id = a.handle.local_peer_id();
    let b_id = b.handle.local_peer_id();
    assert!(
        a.handle.listen_addrs()[0]
            .to_string()
            .ends_with(&a_id.to_string())
    );

    let a_seen_by_b = connected(&mut b, a_id).await;
    assert_eq!(a_seen_by_b, a.chain.status());
    assert_eq!(a_seen_by_b.head_number, 12);
    let b_seen_by_a = connected(&mut a, b_id).await;
    assert_eq!(b_seen_by_a.head_number, 5);
    assert_eq!(a.handle.peer_count(), 1);
    assert_eq!(b.handle.peers()[0].id, a_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_genesis_is_disconnected_and_banned() {
    let mut a = node(1, Arc::new(MemoryChain::new(0, 3)), &[]).await;
    let other = node(2, Arc::new(MemoryChain::new(7, 3)), &[&a]).await;
    assert_ne!(a.chain.genesis(), other.chain.genesis());
    let other_id = other.handle.local_peer_id();
    let a_id = a.handle.local_peer_id();
    // Their protocols are namespaced by genesis: neither can speak to the other, and each bans
    // the other as a peer of another chain.
    wait_until("the other chain's node is banned", || {
        a.handle.is_banned(&other_id) || other.handle.is_banned(&a_id)
    })
    .await;
    assert_eq!(a.handle.peer_count(), 0);
    assert_eq!(other.handle.peer_count(), 0);
    // Same genesis but another chain id: refused in the status handshake.
    let same_genesis = MemoryChain::new(0, 3);
    let mut wrong_id = config(3, &same_genesis);
    wrong_id.chain_id = CHAIN_ID + 1;
    wrong_id.bootnodes = vec![a.handle.listen_addrs()[0].clone()];
    let mut wrong = node_with(wrong_id, Arc::new(same_genesis)).await;
    let wrong_peer = wrong.handle.local_peer_id();
    // Whichever side reads the other's status first bans it and closes the connection; the
    // other side may then see only the connection close, so either ban will do.
    wait_until("the node of another chain id is banned", || {
        a.handle.is_banned(&wrong_peer) || wrong.handle.is_banned(&a_id)
    })
    .await;
    wait_until("no peers left", || {
        a.handle.peer_count() == 0 && wrong.handle.peer_count() == 0
    })
    .await;
    for (node, other) in [(&mut a, wrong_peer), (&mut wrong, a_id)] {
        while let Ok(event) = node.events.try_recv() {
            if let NetworkEvent::PeerConnected { peer, .. } = event {
                assert_ne!(
                    peer, other,
                    "a peer of another chain id completed the handshake"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossiped_blocks_are_forwarded_only_when_accepted() {
    // A line: A - B - C. C hears A's blocks only through B, and only those B accepts.
    let chain = Arc::new(MemoryChain::new(0, 3));
    let mut a = node(1, chain.clone(), &[]).await;
    let mut b = node(2, chain.clone(), &[&a]).await;
    let mut c = node(3, chain.clone(), &[&b]).await;
    let (a_id, b_id) = (a.handle.local_peer_id(), b.handle.local_peer_id());
    connected(&mut a, b_id).await;
    connected(&mut c, b_id).await;
    wait_until("gossip meshes form", || {
        a.handle.gossip_peer_count() == 1
            && b.handle.gossip_peer_count() == 2
            && c.handle.gossip_peer_count() == 1
    })
    .await;

    let good = child_of(chain.blocks.last().unwrap(), 4);
    a.handle.broadcast_block(&good).await;
    let (msg_id, block) = next_event(&mut b, |e| match e {
        NetworkEvent::NewBlock {
            peer,
            msg_id,
            block,
        } if peer == a_id => Some((msg_id, block)),
        _ => None,
    })
    .await;
    assert_eq!(*block, good);
    b.handle
        .report_message(msg_id, a_id, MessageValidation::Accept)
        .await;
    let relayed = next_event(&mut c, |e| match e {
        NetworkEvent::NewBlock { peer, block, .. } if peer == b_id => Some(block),
        _ => None,
    })
    .await;
    assert_eq!(relayed.hash(), good.hash());

    // B rejects the next block as invalid: it is not forwarded, and A is banned by B.
    let bad = child_of(&good, 5);
    a.handle.broadcast_block(&bad).await;
    let msg_id = next_event(&mut b, |e| match e {
        NetworkEvent::NewBlock { msg_id, block, .. } if block.hash() == bad.hash() => Some(msg_id),
        _ => None,
    })
    .await;
    b.handle
        .report_message(
            msg_id,
            a_id,
            MessageValidation::Reject(Penalty::InvalidBlock),
        )
        .await;
    next_event(&mut b, |e| match e {
        NetworkEvent::PeerBanned { peer } if peer == a_id => Some(()),
        _ => None,
    })
    .await;
    // A block B publishes itself afterwards reaches C; the rejected one never came first.
    let own = child_of(&good, 6);
    b.handle.broadcast_block(&own).await;
    let first = next_event(&mut c, |e| match e {
        NetworkEvent::NewBlock { block, .. } => Some(block),
        _ => None,
    })
    .await;
    assert_eq!(first.hash(), own.hash(), "the rejected block was forwarded");
    wait_until("A disconnected from B", || {
        !b.handle.peers().iter().any(|p| p.id == a_id)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossiped_transactions_arrive_decoded() {
    let (a, mut b) = pair(2, 2).await;
    wait_until("gossip", || {
        a.handle.gossip_peer_count() == 1 && b.handle.gossip_peer_count() == 1
    })
    .await;
    let txs = vec![transfer(7), transfer(8), transfer(9)];
    a.handle.broadcast_transactions(&txs).await;
    let received = next_event(&mut b, |e| match e {
        NetworkEvent::Transactions { txs, .. } => Some(txs),
        _ => None,
    })
    .await;
    assert_eq!(received, txs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_bodies_and_receipts_are_served() {
    let (a, b) = pair(50, 0).await;
    let a_id = a.handle.local_peer_id();
    let headers = b
        .handle
        .request_headers(a_id, HeadersRequest::range(1, 20))
        .await
        .unwrap();
    assert_eq!(headers.len(), 20);
    for (i, header) in headers.iter().enumerate() {
        assert_eq!(header.hash(), a.chain.blocks[i + 1].hash());
    }
    // By hash, towards genesis, every third block.
    let reverse = b
        .handle
        .request_headers(
            a_id,
            HeadersRequest {
                origin: HashOrNumber::Hash(a.chain.blocks[30].hash()),
                amount: 4,
                skip: 2,
                reverse: true,
            },
        )
        .await
        .unwrap();
    let numbers: Vec<u64> = reverse.iter().map(|h| h.number()).collect();
    assert_eq!(numbers, vec![30, 27, 24, 21]);

    let hashes: Vec<B256> = headers.iter().map(|h| h.hash()).collect();
    let bodies = b.handle.request_bodies(a_id, hashes.clone()).await.unwrap();
    assert_eq!(bodies.len(), 20);
    assert_eq!(bodies[4], a.chain.blocks[5].body);
    let receipts = b
        .handle
        .request_receipts(a_id, hashes[..3].to_vec())
        .await
        .unwrap();
    assert_eq!(receipts, vec![receipts_for(&a.chain.blocks[1]); 3]);

    // Unknown hashes: an empty answer, not an error.
    let none = b
        .handle
        .request_bodies(a_id, vec![B256::repeat_byte(0xee)])
        .await
        .unwrap();
    assert!(none.is_empty());
    // Beyond the limits: refused before sending.
    assert!(matches!(
        b.handle
            .request_headers(a_id, HeadersRequest::range(0, 10_000))
            .await,
        Err(RequestError::OverLimit(_))
    ));
    assert!(matches!(
        b.handle.request_bodies(a_id, vec![B256::ZERO; 1000]).await,
        Err(RequestError::OverLimit(_))
    ));
    assert_eq!(
        b.handle
            .request_headers(PeerId::random(), HeadersRequest::range(0, 1))
            .await,
        Err(RequestError::NotConnected)
    );
}

/// Waits until `victim` bans `offender`, and the offender loses the connection.
async fn banned(victim: &mut Node, offender: &mut Node) {
    let offender_id = offender.handle.local_peer_id();
    let victim_id = victim.handle.local_peer_id();
    next_event(victim, |e| match e {
        NetworkEvent::PeerBanned { peer } if peer == offender_id => Some(()),
        _ => None,
    })
    .await;
    next_event(offender, |e| match e {
        NetworkEvent::PeerDisconnected { peer } if peer == victim_id => Some(()),
        _ => None,
    })
    .await;
    assert!(victim.handle.is_banned(&offender_id));
    wait_until("the offender is gone", || victim.handle.peer_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_requests_get_the_sender_banned() {
    let (mut a, mut b) = pair(5, 5).await;
    let a_id = a.handle.local_peer_id();
    for garbage in [vec![0xff, 0x01, 0x02], vec![1, 0xc3, 0x80], vec![]] {
        // No answer to garbage: the stream is dropped.
        assert!(b.handle.request_raw(a_id, garbage).await.is_err());
        if a.handle.is_banned(&b.handle.local_peer_id()) {
            break;
        }
    }
    banned(&mut a, &mut b).await;
    // Banned: a new dial is refused, no handshake happens.
    b.handle.dial(a.handle.listen_addrs()[0].clone()).await;
    // Refused either before the request (no connection) or as the request races the refusal
    // of a connection the transport had already set up (closed under it): never answered.
    let answer = b
        .handle
        .request_headers(a_id, HeadersRequest::range(0, 1))
        .await
        .map(|h| h.len());
    assert!(
        matches!(
            answer,
            Err(RequestError::NotConnected | RequestError::ConnectionClosed)
        ),
        "{answer:?}"
    );
    assert!(a.handle.is_banned(&b.handle.local_peer_id()));
    assert!(
        a.handle
            .peers()
            .iter()
            .all(|p| p.id != b.handle.local_peer_id())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_get_the_sender_banned() {
    let (mut a, mut b) = pair(5, 5).await;
    let a_id = a.handle.local_peer_id();
    // Over the 16 KiB request bound: the codec refuses it before reading it.
    let oversized = vec![2u8; 64 * 1024];
    for _ in 0..3 {
        let _ = b.handle.request_raw(a_id, oversized.clone()).await;
    }
    banned(&mut a, &mut b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_ranges_are_refused_and_penalised() {
    let (mut a, mut b) = pair(5, 5).await;
    let a_id = a.handle.local_peer_id();
    let absurd =
        spectrum_network::messages::Request::Headers(HeadersRequest::range(0, u64::MAX)).encode();
    let mut answered = 0;
    for _ in 0..5 {
        if b.handle.request_raw(a_id, absurd.clone()).await.is_ok() {
            answered += 1;
        }
    }
    assert_eq!(answered, 0, "an absurd range was served");
    banned(&mut a, &mut b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_gossip_gets_the_relay_banned() {
    let (mut a, mut b) = pair(2, 2).await;
    wait_until("gossip", || {
        a.handle.gossip_peer_count() == 1 && b.handle.gossip_peer_count() == 1
    })
    .await;
    // Undecodable blocks and an oversized transactions message (over 512 KiB).
    b.handle
        .publish_raw(GossipTopic::Blocks, vec![0xc1, 0xff])
        .await;
    b.handle
        .publish_raw(GossipTopic::Blocks, vec![0xde, 0xad, 0xbe, 0xef])
        .await;
    b.handle
        .publish_raw(GossipTopic::Transactions, vec![0xc0; 600 * 1024])
        .await;
    banned(&mut a, &mut b).await;
    // Nothing undecodable reached A's consumer.
    while let Ok(event) = a.events.try_recv() {
        assert!(!matches!(
            event,
            NetworkEvent::NewBlock { .. } | NetworkEvent::Transactions { .. }
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_floods_are_limited_and_banned() {
    // No refill (0 a second): what A serves is counted in tokens, not in elapsed time.
    let chain_a = Arc::new(MemoryChain::new(0, 200));
    let mut config_a = config(1, &chain_a);
    config_a.request_limits.requests_per_second = 0;
    let burst = config_a.request_limits.request_burst;
    let mut a = node_with(config_a, chain_a).await;
    let mut config_b = config(2, &MemoryChain::new(0, 0));
    config_b.bootnodes = vec![a.handle.listen_addrs()[0].clone()];
    config_b.status_interval = Duration::from_secs(3600);
    let mut b = node_with(config_b, Arc::new(MemoryChain::new(0, 0))).await;
    let (a_id, b_id) = (a.handle.local_peer_id(), b.handle.local_peer_id());
    // A hears B's status twice: as the answer to its own request and as B's request, which
    // took one of B's tokens. After both, B has `burst - 1` left.
    connected(&mut a, b_id).await;
    next_event(&mut a, |e| match e {
        NetworkEvent::PeerStatus { peer, .. } if peer == b_id => Some(()),
        _ => None,
    })
    .await;
    connected(&mut b, a_id).await;
    let requests = (0..200).map(|i| {
        let handle = b.handle.clone();
        async move {
            handle
                .request_headers(a_id, HeadersRequest::range(i, 1))
                .await
        }
    });
    let answered = futures::future::join_all(requests)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count();
    banned(&mut a, &mut b).await;
    let served = a.chain.headers_served.load(Ordering::SeqCst);
    assert_eq!(served, burst as usize - 1, "headers requests served");
    assert!(answered <= served, "{answered} answers for {served} served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kademlia_discovers_peers_beyond_the_bootnode() {
    let chain = Arc::new(MemoryChain::new(0, 1));
    let with_discovery = |key: u8, bootnodes: Vec<spectrum_network::Multiaddr>| {
        let mut config = config(key, &chain);
        config.discovery = true;
        config.bootnodes = bootnodes;
        config
    };
    let boot = node_with(with_discovery(1, vec![]), chain.clone()).await;
    let boot_addr = boot.handle.listen_addrs()[0].clone();
    let mut a = node_with(with_discovery(2, vec![boot_addr.clone()]), chain.clone()).await;
    let b = node_with(with_discovery(3, vec![boot_addr]), chain.clone()).await;
    let b_id = b.handle.local_peer_id();
    // A knows only the bootnode; it finds B through the DHT.
    connected(&mut a, b_id).await;
}

/// `n` nodes of `chain` (keys from `first_key` on) that dial `target`.
async fn dialers(first_key: u8, n: u8, chain: &Arc<MemoryChain>, target: &Node) -> Vec<Node> {
    let mut nodes = Vec::new();
    for key in first_key..first_key + n {
        nodes.push(node(key, chain.clone(), &[target]).await);
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_identities_cannot_take_the_slots_kept_for_outbound() {
    // Three slots: one kept for a peer we dial, two for peers dialling in. Five identities
    // dial in (an attacker's are free); the peer we choose still gets in.
    let chain = Arc::new(MemoryChain::new(0, 3));
    let mut victim_config = config(1, &chain);
    victim_config.max_peers = 3;
    assert_eq!(victim_config.max_inbound(), 2);
    let mut victim = node_with(victim_config, chain.clone()).await;
    let attackers = dialers(10, 5, &chain, &victim).await;
    wait_until("the inbound slots are full and more were refused", || {
        victim.handle.peer_count() == 2 && victim.handle.refused_connections().iter().any(|r| {
            r == "connection limit exceeded: at most 2 established incoming connections are allowed"
        })
    })
    .await;

    let honest = node(2, chain.clone(), &[]).await;
    let honest_id = honest.handle.local_peer_id();
    victim
        .handle
        .dial(honest.handle.listen_addrs()[0].clone())
        .await;
    connected(&mut victim, honest_id).await;
    let peers: Vec<PeerId> = victim.handle.peers().iter().map(|p| p.id).collect();
    assert_eq!(peers.len(), 3, "{peers:?}");
    assert!(peers.contains(&honest_id));
    let attackers_in = attackers
        .iter()
        .filter(|a| peers.contains(&a.handle.local_peer_id()))
        .count();
    assert_eq!(
        attackers_in, 2,
        "inbound identities beyond the inbound slots"
    );
    assert_eq!(victim.handle.queued_event_bytes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_per_address_and_bans_cover_the_address() {
    let chain = Arc::new(MemoryChain::new(0, 3));
    let mut victim_config = config(1, &chain);
    // Every test node is on 127.0.0.1: apply the address rules to loopback too.
    victim_config.limit_loopback = true;
    victim_config.max_peers_per_ip = 2;
    let mut victim = node_with(victim_config, chain.clone()).await;
    let mut first = dialers(10, 2, &chain, &victim).await;
    let (id_a, id_b) = (
        first[0].handle.local_peer_id(),
        first[1].handle.local_peer_id(),
    );
    // Either may connect first: wait for both in one pass so neither event is skipped.
    let mut pending = vec![id_a, id_b];
    while !pending.is_empty() {
        let peer = next_event(&mut victim, |e| match e {
            NetworkEvent::PeerConnected { peer, .. } if pending.contains(&peer) => Some(peer),
            _ => None,
        })
        .await;
        pending.retain(|p| *p != peer);
    }

    // A third identity from the same address is refused before any handshake.
    let third = node(12, chain.clone(), &[&victim]).await;
    wait_until("the third connection from 127.0.0.1 is refused", || {
        victim
            .handle
            .refused_connections()
            .contains(&"127.0.0.1 already has 2 inbound connections".to_owned())
    })
    .await;
    assert_eq!(third.handle.peer_count(), 0);
    assert_eq!(victim.handle.peer_count(), 2);

    // The first misbehaves and is banned: its address is banned with it, so a fresh identity
    // from there gets nowhere, while the other peer already connected stays.
    let victim_id = victim.handle.local_peer_id();
    let mut offender = first.remove(0);
    for _ in 0..5 {
        let _ = offender
            .handle
            .request_raw(victim_id, vec![0xff, 0x01])
            .await;
        if victim.handle.is_banned(&id_a) {
            break;
        }
    }
    next_event(&mut victim, |e| match e {
        NetworkEvent::PeerBanned { peer } if peer == id_a => Some(()),
        _ => None,
    })
    .await;
    next_event(&mut offender, |e| match e {
        NetworkEvent::PeerDisconnected { peer } if peer == victim_id => Some(()),
        _ => None,
    })
    .await;
    let fresh = node(13, chain.clone(), &[&victim]).await;
    wait_until("the banned address is refused", || {
        victim
            .handle
            .refused_connections()
            .contains(&"127.0.0.1 is banned".to_owned())
    })
    .await;
    assert_eq!(fresh.handle.peer_count(), 0);
    let peers: Vec<PeerId> = victim.handle.peers().iter().map(|p| p.id).collect();
    assert_eq!(peers, vec![id_b]);
}

/// A block of `txs` transactions of `data_bytes` zero bytes each, on top of `parent`.
fn big_block(parent: &SealedBlock, number: u64, txs: u64, data_bytes: usize) -> SealedBlock {
    let key = secp256k1::SecretKey::from_byte_array([0x42; 32]).unwrap();
    let transactions = (0..txs)
        .map(|nonce| {
            sign_transaction(
                TxLegacy {
                    chain_id: Some(CHAIN_ID),
                    nonce,
                    gas_price: 1_000_000_000,
                    gas_limit: 21_000 + 4 * data_bytes as u64,
                    to: TxKind::Call(Address::repeat_byte(9)),
                    value: U256::from(number),
                    input: vec![0u8; data_bytes].into(),
                },
                &key,
            )
        })
        .collect();
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
            transactions,
            ommers: vec![],
        },
    }
    .seal_slow()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_messages_are_bounded_by_what_the_gas_limit_allows() {
    // Three transactions of 3.6 MB of zero calldata: 10.8 MB, more than any block within the
    // gas limit can be (and than the reference node carries), less than the old 16 MiB.
    let chain = Arc::new(MemoryChain::new(0, 2));
    let head = chain.blocks.last().unwrap();
    let oversized = big_block(head, 3, 3, 3_600_000);
    let size = alloy_rlp::Encodable::length(&oversized.clone().unseal());
    let bound = spectrum_network::max_block_bytes(spectrum_network::DEFAULT_MAX_BLOCK_GAS);
    assert!(size > bound && size < 16 * 1024 * 1024, "{size} bytes");
    // Gossipsub itself drops a message over the bound (the stream it came on is closed, so
    // nothing after it is ordered): the default transmit size is below it.
    assert!(spectrum_network::GossipLimits::default().max_message_bytes < size);

    // Behind gossipsub, the block decoder has the same bound: a node whose transmit size is the
    // old 16 MiB still refuses the block, and charges the sender for it.
    let mut attacker_config = config(1, &chain);
    attacker_config.gossip_limits.max_message_bytes = 16 * 1024 * 1024 + 64 * 1024;
    let attacker = node_with(attacker_config, chain.clone()).await;
    let mut b_config = config(2, &chain);
    b_config.gossip_limits.max_message_bytes = 16 * 1024 * 1024 + 64 * 1024;
    b_config.bootnodes = vec![attacker.handle.listen_addrs()[0].clone()];
    let mut b = node_with(b_config, chain.clone()).await;
    wait_until("gossip", || {
        attacker.handle.gossip_peer_count() == 1 && b.handle.gossip_peer_count() == 1
    })
    .await;
    attacker.handle.broadcast_block(&oversized).await;
    // Another number: the header alone (here without a transactions root) makes the hash.
    let small = big_block(head, 4, 1, 10);
    attacker.handle.broadcast_block(&small).await;
    let attacker_id = attacker.handle.local_peer_id();
    wait_until("the oversized block refused and its sender charged", || {
        b.handle.peer_score(&attacker_id) == -Penalty::UndecodableMessage.points()
    })
    .await;
    // The small block arrives; the oversized one never reaches the node.
    let mut delivered = Vec::new();
    while !delivered.contains(&small.hash()) {
        delivered.push(
            next_event(&mut b, |e| match e {
                NetworkEvent::NewBlock { block, .. } => Some(block.hash()),
                _ => None,
            })
            .await,
        );
    }
    while let Ok(event) = b.events.try_recv() {
        if let NetworkEvent::NewBlock { block, .. } = event {
            delivered.push(block.hash());
        }
    }
    assert!(
        !delivered.contains(&oversized.hash()),
        "a block over the gas-limit bound was delivered"
    );
    assert_eq!(b.handle.queued_event_bytes(), 0);
    assert_eq!(b.handle.peer_count(), 1);
}

/// What a block event pins, as the network counts it.
fn event_size(block: &SealedBlock) -> usize {
    use alloy_rlp::Encodable;
    block.header.header().length() + block.body.transactions.length() + block.body.ommers.length()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_queue_is_bounded_in_bytes() {
    let chain = Arc::new(MemoryChain::new(0, 2));
    let head = chain.blocks.last().unwrap().clone();
    let blocks: Vec<SealedBlock> = (0..8)
        .map(|i| big_block(&head, 3 + i, 1, 100_000))
        .collect();
    let txs = vec![transfer(1)];
    let txs_bytes = alloy_rlp::Encodable::length(&txs);
    let three: usize = blocks[..3].iter().map(event_size).sum();
    let a = node(1, chain.clone(), &[]).await;
    let mut b_config = config(2, &chain);
    // Room for three of the blocks and the transactions, not a fourth block.
    b_config.gossip_limits.max_queued_bytes = three + txs_bytes;
    b_config.bootnodes = vec![a.handle.listen_addrs()[0].clone()];
    let mut b = node_with(b_config, chain.clone()).await;
    wait_until("gossip", || {
        a.handle.gossip_peer_count() == 1 && b.handle.gossip_peer_count() == 1
    })
    .await;
    // Nobody reads B's events while A gossips eight blocks, then transactions.
    for block in &blocks {
        a.handle.broadcast_block(block).await;
    }
    a.handle.broadcast_transactions(&txs).await;
    wait_until("the transactions are queued after the blocks", || {
        b.handle.queued_event_bytes() == three + txs_bytes
    })
    .await;
    let mut queued_blocks = Vec::new();
    loop {
        match b.events.try_recv() {
            Ok(NetworkEvent::NewBlock { block, .. }) => queued_blocks.push(block.hash()),
            Ok(NetworkEvent::Transactions { txs: got, .. }) => {
                assert_eq!(got, txs);
                break;
            }
            Ok(_) => {}
            Err(error) => panic!("the transactions never came: {error}"),
        }
    }
    let first_three: Vec<B256> = blocks[..3].iter().map(|b| b.hash()).collect();
    assert_eq!(
        queued_blocks, first_three,
        "blocks beyond the byte budget queued"
    );
    assert_eq!(b.handle.queued_event_bytes(), 0);
    assert_eq!(b.handle.peer_count(), 1, "dropping gossip penalises nobody");
}
