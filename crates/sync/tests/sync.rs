//! Sync over real sockets between `Blockchain`s over temporary RocksDBs, with the reference
//! devnet chains (413 real Tribe blocks): catching up, following by gossip, fetching missing
//! parents, reorganising onto a heavier chain, and peers that serve bad bodies or gossip
//! invalid blocks.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy_primitives::{B256, U256};
use spectrum_chain::{Blockchain, test_utils::TestChain};
use spectrum_chainspec::ChainSpec;
use spectrum_import::ChainFileReader;
use spectrum_network::{
    ChainStatus, ChainView, EventReceiver, HeadersRequest, NetworkConfig, NetworkEvent,
    NetworkHandle, PeerId, start,
};
use spectrum_primitives::{BlockBody, Header, ReceiptWithBloom, SealedBlock, SealedHeader};
use spectrum_sync::{ChainDataView, SyncConfig, SyncProgress, spawn_sync};

const DEADLINE: Duration = Duration::from_secs(120);

fn testdata(name: &str) -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ))
    .join(name);
    assert!(
        dir.is_dir(),
        "test data {} not found: ../shared/testdata must sit beside the clone",
        dir.display()
    );
    dir
}

fn chain_file(name: &str) -> Vec<SealedBlock> {
    ChainFileReader::open(testdata(name).join("chain.rlp"))
        .unwrap()
        .map(|block| block.unwrap().seal_slow())
        .collect()
}

struct Store {
    _dir: tempfile::TempDir,
    chain: Arc<Blockchain>,
}

impl Store {
    fn devnet() -> Self {
        let TestChain { chain, dir, .. } = TestChain::devnet();
        Self {
            chain: Arc::new(chain),
            _dir: dir,
        }
    }

    fn import(&self, blocks: &[SealedBlock]) {
        for block in blocks {
            if block.number() == 0 {
                continue;
            }
            self.chain
                .insert_block(block.clone())
                .unwrap_or_else(|e| panic!("block {}: {e}", block.number()));
        }
    }

    fn head(&self) -> (u64, B256) {
        self.chain.provider().head().unwrap().unwrap()
    }

    fn view(&self) -> ChainDataView {
        let spec = self.chain.spec();
        ChainDataView::new(
            self.chain.provider().clone(),
            spec.chain_id,
            self.chain.provider().genesis_hash().unwrap().unwrap(),
        )
    }
}

fn network_config(key: u8, store: &Store, bootnodes: &[&NetworkHandle]) -> NetworkConfig {
    let spec = store.chain.spec();
    let genesis = store.chain.provider().genesis_hash().unwrap().unwrap();
    let mut config = NetworkConfig::new([key; 32], genesis, spec.chain_id);
    config.listen_addr = [127, 0, 0, 1].into();
    config.port = 0;
    config.discovery = false;
    // Statuses are exchanged on connect only: following must come from gossip.
    config.status_interval = Duration::from_secs(3600);
    config.bootnodes = bootnodes
        .iter()
        .map(|h| h.listen_addrs()[0].clone())
        .collect();
    config
}

/// A network node that only serves (no sync); its events are drained.
async fn server(key: u8, store: &Store, view: Arc<dyn ChainView>) -> NetworkHandle {
    let (handle, mut events) = start(network_config(key, store, &[]), view).await.unwrap();
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    handle
}

struct Syncing {
    network: NetworkHandle,
    sync: spectrum_sync::SyncHandle,
    seen: Arc<Mutex<Vec<Option<SyncProgress>>>>,
}

async fn syncing_node(key: u8, store: &Store, bootnodes: &[&NetworkHandle]) -> Syncing {
    let view: Arc<dyn ChainView> = Arc::new(store.view());
    let (network, events) = start(network_config(key, store, bootnodes), view)
        .await
        .unwrap();
    let sync = spawn_sync(
        store.chain.clone(),
        network.clone(),
        events,
        None,
        SyncConfig::default(),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut progress = sync.progress();
    let record = seen.clone();
    tokio::spawn(async move {
        while progress.changed().await.is_ok() {
            let value = *progress.borrow_and_update();
            record.lock().unwrap().push(value);
        }
    });
    Syncing {
        network,
        sync,
        seen,
    }
}

/// A peer serving `store`'s chain, connected to `target` and in its gossip mesh.
async fn rogue(key: u8, store: &Store, target: &NetworkHandle) -> (NetworkHandle, EventReceiver) {
    let (rogue, events) = start(
        network_config(key, store, &[target]),
        Arc::new(store.view()),
    )
    .await
    .unwrap();
    wait_until("rogue in the mesh", || rogue.gossip_peer_count() == 1).await;
    (rogue, events)
}

/// Waits, within the deadline, until `events` report the connection to `from` closed.
async fn disconnected(events: &mut EventReceiver, from: PeerId) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("disconnected before the deadline")
            .unwrap();
        if let NetworkEvent::PeerDisconnected { peer } = event
            && peer == from
        {
            return;
        }
    }
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = tokio::time::Instant::now();
    while !condition() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn assert_same_chain(a: &Store, b: &Store, up_to: u64) {
    for number in 0..=up_to {
        assert_eq!(
            a.chain.provider().canonical_hash(number).unwrap(),
            b.chain.provider().canonical_hash(number).unwrap(),
            "block {number}"
        );
    }
    let (_, head) = b.head();
    let header = b.chain.provider().header(&head).unwrap().unwrap();
    let expected = a.chain.provider().header(&head).unwrap().unwrap();
    assert_eq!(header.state_root, expected.state_root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_the_devnet_chain_then_follows_by_gossip() {
    let blocks = chain_file("spectrum-devnet-multi");
    assert_eq!(blocks.len(), 413);
    let source = Store::devnet();
    source.import(&blocks[..=200]);
    let source_net = server(1, &source, Arc::new(source.view())).await;

    let sink = Store::devnet();
    let node = syncing_node(2, &sink, &[&source_net]).await;
    wait_until("synced to 200", || sink.head().0 == 200).await;
    assert_same_chain(&source, &sink, 200);
    // Rounds import in prepared batches (senders, seals, VRF proofs over every core).
    let prepared = sink
        .chain
        .import_phases()
        .of(spectrum_chain::Phase::Prepare);
    assert!(
        prepared > std::time::Duration::ZERO,
        "no round was prepared"
    );
    wait_until("not syncing any more", || {
        node.sync.progress().borrow().is_none()
    })
    .await;
    let seen = node.seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|p| matches!(
            p,
            Some(SyncProgress {
                starting_block: 0,
                highest_block: 200,
                ..
            })
        )),
        "progress reported while syncing: {seen:?}"
    );

    // Following: each new block arrives by gossip and is imported before it is forwarded.
    wait_until("gossip mesh", || {
        source_net.gossip_peer_count() == 1 && node.network.gossip_peer_count() == 1
    })
    .await;
    for block in &blocks[201..=300] {
        source.import(std::slice::from_ref(block));
        source_net.broadcast_block(block).await;
    }
    wait_until("followed to 300", || sink.head().0 == 300).await;

    // A gap: only the newest block is gossiped; the missing parents are fetched.
    source.import(&blocks[301..]);
    source_net.broadcast_block(&blocks[412]).await;
    wait_until("caught up to 412", || sink.head().0 == 412).await;
    assert_same_chain(&source, &sink, 412);
    assert_eq!(sink.head().1, blocks[412].hash());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorganises_onto_a_peers_heavier_chain() {
    // Devnet-A and the multi chain share blocks 0..=56; the multi chain is heavier.
    let lighter = chain_file("spectrum-devnet");
    let heavier = chain_file("spectrum-devnet-multi");
    let source = Store::devnet();
    source.import(&heavier);
    let source_net = server(1, &source, Arc::new(source.view())).await;

    let sink = Store::devnet();
    sink.import(&lighter);
    let lighter_head = sink.head();
    assert_ne!(lighter_head.1, heavier[lighter_head.0 as usize].hash());
    let _node = syncing_node(2, &sink, &[&source_net]).await;
    wait_until("reorganised onto the heavier chain", || {
        sink.head() == (412, heavier[412].hash())
    })
    .await;
    assert_same_chain(&source, &sink, 412);
}

/// Serves the chain but with every body's transactions reversed: bodies that do not match
/// their headers.
struct BadBodies(ChainDataView);

impl ChainView for BadBodies {
    fn status(&self) -> ChainStatus {
        self.0.status()
    }
    fn headers(&self, request: &HeadersRequest) -> Vec<Header> {
        self.0.headers(request)
    }
    fn bodies(&self, hashes: &[B256]) -> Vec<BlockBody> {
        self.0
            .bodies(hashes)
            .into_iter()
            .map(|mut body| {
                body.transactions.reverse();
                body.transactions.truncate(1);
                body
            })
            .collect()
    }
    fn receipts(&self, hashes: &[B256]) -> Vec<Vec<ReceiptWithBloom>> {
        self.0.receipts(hashes)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_serving_bad_bodies_is_banned_and_sync_goes_on_with_another() {
    let blocks = chain_file("spectrum-devnet-multi");
    let source = Store::devnet();
    source.import(&blocks[..=120]);
    let bad = server(1, &source, Arc::new(BadBodies(source.view()))).await;
    let good = server(3, &source, Arc::new(source.view())).await;

    let sink = Store::devnet();
    let node = syncing_node(2, &sink, &[&bad]).await;
    let bad_id = bad.local_peer_id();
    wait_until("the bad peer is banned", || node.network.is_banned(&bad_id)).await;
    assert_eq!(sink.head().0, 0, "nothing from the bad peer was imported");

    node.network.dial(good.listen_addrs()[0].clone()).await;
    wait_until("synced from the good peer", || sink.head().0 == 120).await;
    assert_same_chain(&source, &sink, 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_gossiped_block_is_rejected_and_its_relay_banned() {
    let blocks = chain_file("spectrum-devnet-multi");
    let source = Store::devnet();
    source.import(&blocks[..=100]);
    let source_net = server(1, &source, Arc::new(source.view())).await;
    let sink = Store::devnet();
    let node = syncing_node(2, &sink, &[&source_net]).await;
    wait_until("synced to 100", || sink.head().0 == 100).await;

    // A rogue peer on the same chain relays block 101 with its seal's last byte changed: the
    // seal recovers another address, not an authorised signer.
    let (rogue, mut rogue_events) = rogue(4, &source, &node.network).await;
    let rogue_id = rogue.local_peer_id();
    let mut forged = blocks[101].clone().unseal();
    let mut extra = forged.header.extra_data.to_vec();
    let last = extra.len() - 66;
    extra[last] ^= 0x01;
    forged.header.extra_data = extra.into();
    let forged = forged.seal_slow();
    rogue.broadcast_block(&forged).await;
    disconnected(&mut rogue_events, node.network.local_peer_id()).await;
    assert!(node.network.is_banned(&rogue_id));
    assert_eq!(sink.head().0, 100, "the forged block was not imported");

    // The network goes on: the genuine block 101 arrives by gossip and is imported.
    wait_until("gossip mesh", || source_net.gossip_peer_count() == 1).await;
    source.import(&blocks[101..=101]);
    source_net.broadcast_block(&blocks[101]).await;
    wait_until("genuine block imported", || sink.head().0 == 101).await;
    assert_eq!(sink.head().1, blocks[101].hash());
}

/// Forged heavy blocks by gossip (issue 13): block 1 with difficulty 2^128 and its seal
/// untouched, and VRF-era block 101 re-weighted the same way. Neither may move the head of a
/// node at block 100, nor be stored; each relay is banned for an invalid block. On devnet
/// block 1 meets its checkpoint first; the difficulty range that refuses it elsewhere is
/// `crates/chain/tests/fork_safety.rs`'s, with the checkpoints cleared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_heavy_gossiped_blocks_leave_the_head_unchanged() {
    let blocks = chain_file("spectrum-devnet-multi");
    let source = Store::devnet();
    source.import(&blocks[..=100]);
    let source_net = server(1, &source, Arc::new(source.view())).await;
    let sink = Store::devnet();
    let node = syncing_node(2, &sink, &[&source_net]).await;
    wait_until("synced to 100", || sink.head().0 == 100).await;
    let head = sink.head();

    for (key, number) in [(4u8, 1usize), (6, 101)] {
        let (rogue, mut rogue_events) = rogue(key, &source, &node.network).await;
        let rogue_id = rogue.local_peer_id();
        let mut forged = blocks[number].clone().unseal();
        forged.header.difficulty = U256::from(1u8) << 128;
        let forged = forged.seal_slow();
        rogue.broadcast_block(&forged).await;
        disconnected(&mut rogue_events, node.network.local_peer_id()).await;
        assert!(node.network.is_banned(&rogue_id), "block {number}'s relay");
        assert_eq!(
            sink.head(),
            head,
            "forged heavy block {number} moved the head"
        );
        assert!(
            sink.chain
                .provider()
                .block_number(&forged.hash())
                .unwrap()
                .is_none(),
            "forged heavy block {number} was stored"
        );
    }
}

/// Serves its chain honestly but announces a total difficulty far above it.
struct Inflated(ChainDataView);

impl ChainView for Inflated {
    fn status(&self) -> ChainStatus {
        ChainStatus {
            total_difficulty: U256::from(10u64).pow(U256::from(30u64)),
            ..self.0.status()
        }
    }
    fn headers(&self, request: &HeadersRequest) -> Vec<Header> {
        self.0.headers(request)
    }
    fn bodies(&self, hashes: &[B256]) -> Vec<BlockBody> {
        self.0.bodies(hashes)
    }
    fn receipts(&self, hashes: &[B256]) -> Vec<Vec<ReceiptWithBloom>> {
        self.0.receipts(hashes)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_claiming_more_than_it_delivers_is_penalised_and_sync_moves_on() {
    let blocks = chain_file("spectrum-devnet-multi");
    // The liar has 50 blocks and claims a total difficulty of 10^30; the honest peer has 120.
    let liar_store = Store::devnet();
    liar_store.import(&blocks[..=50]);
    // A liar answers every request: it does not rate-limit (and so ban) a node that keeps
    // asking it, which would end the stall for the wrong reason.
    let mut liar_config = network_config(1, &liar_store, &[]);
    liar_config.request_limits.requests_per_second = 1_000_000;
    liar_config.request_limits.request_burst = 1_000_000;
    let (liar, mut liar_events) = start(liar_config, Arc::new(Inflated(liar_store.view())))
        .await
        .unwrap();
    tokio::spawn(async move { while liar_events.recv().await.is_some() {} });
    let honest_store = Store::devnet();
    honest_store.import(&blocks[..=120]);
    let honest = server(3, &honest_store, Arc::new(honest_store.view())).await;

    let sink = Store::devnet();
    let node = syncing_node(2, &sink, &[&liar]).await;
    let liar_id = liar.local_peer_id();
    wait_until(
        "the liar's blocks imported and its claim found false",
        || sink.head().0 == 50 && node.network.peer_score(&liar_id) < 0,
    )
    .await;
    assert_eq!(
        node.network.peer_score(&liar_id),
        -spectrum_network::Penalty::FalseClaim.points()
    );
    node.network.dial(honest.listen_addrs()[0].clone()).await;
    wait_until("synced from the honest peer", || sink.head().0 == 120).await;
    assert_same_chain(&honest_store, &sink, 120);
    wait_until("not syncing any more", || {
        node.sync.progress().borrow().is_none()
    })
    .await;
    // The liar stays connected (a false claim is not an invalid block) but is not synced from.
    assert_eq!(node.network.peer_count(), 2);
    assert!(!node.network.is_banned(&liar_id));
    assert_eq!(node.network.queued_event_bytes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_side_block_sealed_by_a_stranger_is_not_forwarded() {
    let blocks = chain_file("spectrum-devnet-multi");
    let source = Store::devnet();
    source.import(&blocks[..=100]);
    let source_net = server(1, &source, Arc::new(source.view())).await;
    let sink = Store::devnet();
    let node = syncing_node(2, &sink, &[&source_net]).await;
    wait_until("synced to 100", || sink.head().0 == 100).await;

    // An observer hears the sink's gossip; a rogue gossips to the sink.
    let empty = Store::devnet();
    let (observer, mut observer_events) = start(
        network_config(5, &empty, &[&node.network]),
        Arc::new(empty.view()),
    )
    .await
    .unwrap();
    let (rogue, mut rogue_events) = start(
        network_config(4, &source, &[&node.network]),
        Arc::new(source.view()),
    )
    .await
    .unwrap();
    tokio::spawn(async move { while rogue_events.recv().await.is_some() {} });
    wait_until("observer and rogue in the sink's mesh", || {
        observer.gossip_peer_count() == 1 && rogue.gossip_peer_count() == 1
    })
    .await;

    // Block 100 again, sealed by a key that is no validator's: a well-formed side block
    // whose header passes every rule that needs no state.
    let stranger = secp256k1::SecretKey::from_byte_array([0x77; 32]).unwrap();
    let header =
        spectrum_consensus::sign_header(blocks[100].header.header().clone(), &stranger).unwrap();
    let side = SealedBlock {
        header: SealedHeader::seal(header),
        body: blocks[100].body.clone(),
    };
    assert_ne!(side.hash(), blocks[100].hash());
    rogue.broadcast_block(&side).await;

    // The rogue then relays the genuine block 101. Its two messages reach the sink in order on
    // one connection and the sink handles gossip one message at a time, so when 101 is the
    // head the side block was dealt with; and the sink's gossip to the observer is in order
    // too, so the side block, had it been forwarded, would reach the observer first. (A sink
    // that refuses the side block as invalid bans the rogue instead: then the source relays.)
    source.import(&blocks[101..=101]);
    rogue.broadcast_block(&blocks[101]).await;
    let rogue_id = rogue.local_peer_id();
    wait_until("block 101 imported or the rogue banned", || {
        sink.head().0 == 101 || node.network.is_banned(&rogue_id)
    })
    .await;
    if sink.head().0 != 101 {
        source_net.broadcast_block(&blocks[101]).await;
        wait_until("block 101 imported", || sink.head().0 == 101).await;
    }
    let first = tokio::time::timeout(DEADLINE, async {
        loop {
            if let Some(NetworkEvent::NewBlock { block, .. }) = observer_events.recv().await {
                return block.hash();
            }
        }
    })
    .await
    .expect("the observer heard a block");
    assert_eq!(
        first,
        blocks[101].hash(),
        "the stranger's side block was forwarded"
    );
    assert_eq!(sink.head(), (101, blocks[101].hash()));
    let peers: Vec<_> = node.network.peers().iter().map(|p| p.id).collect();
    assert!(peers.contains(&source_net.local_peer_id()));
    assert!(peers.contains(&observer.local_peer_id()));
    assert_eq!(node.network.queued_event_bytes(), 0);
}

#[test]
fn header_checks_and_body_matching_on_real_blocks() {
    let blocks = chain_file("spectrum-devnet-multi");
    let checks = spectrum_sync::HeaderChecks::new(Arc::new(ChainSpec::devnet()));
    let now = u64::MAX / 2;
    for i in [1usize, 4, 57, 200, 412] {
        checks
            .check(&blocks[i].header, &blocks[i - 1].header, now)
            .unwrap_or_else(|e| panic!("block {i}: {e}"));
        assert!(spectrum_sync::body_matches(
            &blocks[i].header,
            &blocks[i].body
        ));
    }
    // Not linked to the parent.
    assert!(
        checks
            .check(&blocks[200].header, &blocks[198].header, now)
            .is_err()
    );
    // Gas used above the limit.
    let mut header = blocks[200].header.header().clone();
    header.gas_used = header.gas_limit + 1;
    let tampered = spectrum_primitives::SealedHeader::seal(header);
    assert!(checks.check(&tampered, &blocks[199].header, now).is_err());
    // From the future.
    assert!(
        checks
            .check(&blocks[200].header, &blocks[199].header, 1_000)
            .is_err()
    );
    // A body missing a transaction.
    let mut body = blocks[200].body.clone();
    body.transactions.pop();
    assert!(!spectrum_sync::body_matches(&blocks[200].header, &body));
}
