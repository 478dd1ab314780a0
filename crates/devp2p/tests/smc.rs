//! Interop with the reference node: real `smc` processes on a local devnet (127.0.0.1, ephemeral
//! ports, temp datadirs), killed on drop. Every wait is on a condition with a deadline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256};
use serde_json::{Value, json};
use spectrum_devp2p::{
    DisconnectReason, Discv4, Discv4Config, EthMessage, GetBlockHeaders, HashOrNumber, LocalNode,
    NodeRecord, P2pError, PeerEvent, SessionError, Status, StatusError,
    crypto::random_secret_key,
    eth::ETH63,
    service::{Devp2pConfig, Devp2pService},
    session::{self, EthSession, Incoming},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::watch,
};

const SMC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference-node/smc"
);
const DEADLINE: Duration = Duration::from_secs(60);

/// A free port for TCP and UDP on 127.0.0.1 (the OS picks; we release it for smc).
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// One smc process on the devnet: mining (`--devmaster --devreset`) unless asked otherwise.
struct Smc {
    child: Child,
    _dir: tempfile::TempDir,
    rpc_port: u16,
    p2p_port: u16,
}

impl Drop for Smc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smc {
    async fn start(discovery: bool) -> Self {
        assert!(
            std::path::Path::new(SMC).exists(),
            "reference node {SMC} not found: ../shared must sit beside the clone"
        );
        let dir = tempfile::tempdir().unwrap();
        let (rpc_port, p2p_port) = (free_port(), free_port());
        let mut cmd = Command::new(SMC);
        cmd.env("HOME", dir.path().join("home"))
            .args(["--devnet", "--devmaster", "--devreset", "--nat", "none"])
            .arg("--datadir")
            .arg(dir.path().join("devnet"))
            .args([
                "--port",
                &p2p_port.to_string(),
                "--netrestrict",
                "127.0.0.1/32",
            ])
            .args([
                "--rpc",
                "--rpcaddr",
                "127.0.0.1",
                "--rpcport",
                &rpc_port.to_string(),
            ])
            .args(["--rpcapi", "eth,net,web3,admin", "--ipcdisable"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("smc.log")).unwrap());
        if !discovery {
            cmd.arg("--nodiscover");
        }
        let smc = Self {
            child: cmd.spawn().expect("spawn smc"),
            _dir: dir,
            rpc_port,
            p2p_port,
        };
        let deadline = Instant::now() + DEADLINE;
        while smc.try_rpc("net_version", json!([])).await.is_none() {
            assert!(Instant::now() < deadline, "smc RPC did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        smc
    }

    /// One JSON-RPC call over HTTP/1.0 (so the Go server never chunks the reply).
    async fn try_rpc(&self, method: &str, params: Value) -> Option<Value> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.rpc_port))
            .await
            .ok()?;
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let request = format!(
            "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8(response).ok()?;
        let (_, json) = text.split_once("\r\n\r\n")?;
        let value: Value = serde_json::from_str(json).ok()?;
        value.get("result").cloned()
    }

    async fn rpc(&self, method: &str, params: Value) -> Value {
        self.try_rpc(method, params)
            .await
            .unwrap_or_else(|| panic!("smc RPC {method} failed"))
    }

    /// smc's node record on 127.0.0.1 (admin_nodeInfo prints [::]).
    async fn record(&self) -> NodeRecord {
        let info = self.rpc("admin_nodeInfo", json!([])).await;
        let id = info["id"].as_str().unwrap();
        format!("enode://{id}@127.0.0.1:{}", self.p2p_port)
            .parse()
            .unwrap()
    }

    /// A Status matching smc's chain: its network id and genesis, our head at genesis.
    async fn status(&self) -> Status {
        let network_id: u64 = self
            .rpc("net_version", json!([]))
            .await
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let genesis = self.block_hash(0).await;
        Status {
            protocol_version: u32::from(ETH63),
            network_id,
            total_difficulty: U256::from(1),
            head: genesis,
            genesis,
        }
    }

    async fn block(&self, number: u64) -> Value {
        self.rpc(
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), false]),
        )
        .await
    }

    async fn block_hash(&self, number: u64) -> B256 {
        self.block(number).await["hash"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }
}

fn local() -> LocalNode {
    LocalNode::new(random_secret_key(), 0)
}

/// The next message that satisfies `pick`, skipping smc's announcements; within the deadline.
async fn next_matching<S, T>(
    session: &mut EthSession<S>,
    mut pick: impl FnMut(EthMessage) -> Option<T>,
) -> T
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < deadline, "no matching message in time");
        let message = tokio::time::timeout(DEADLINE, session.next_message())
            .await
            .expect("message in time")
            .expect("session alive");
        if let Some(found) = pick(message) {
            return found;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_dial_smc_status_headers_and_bodies() {
    let smc = Smc::start(false).await;
    let status = smc.status().await;
    let remote = smc.record().await;
    let mut session = session::dial(&local(), &remote, &status)
        .await
        .expect("handshake with smc");
    assert_eq!(session.info.id, remote.id);
    assert!(
        session.info.hello.client.starts_with("Smc/"),
        "{}",
        session.info.hello.client
    );
    assert_eq!(session.info.eth_version, ETH63);
    assert_eq!(session.info.status.genesis, status.genesis);
    assert_eq!(session.info.status.network_id, status.network_id);

    // Genesis header by number: its hash is what smc's RPC says.
    let request = |origin, amount| {
        EthMessage::GetBlockHeaders(GetBlockHeaders {
            origin,
            amount,
            skip: 0,
            reverse: false,
        })
    };
    session
        .send(&request(HashOrNumber::Number(0), 1))
        .await
        .unwrap();
    let headers = next_matching(&mut session, |m| match m {
        EthMessage::BlockHeaders(h) => Some(h),
        _ => None,
    })
    .await;
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].hash(), status.genesis);

    // Blocks 1..=8 by hash of block 1 (smc's devnet snapshot holds blocks 0-56 already).
    let first = smc.block_hash(1).await;
    session
        .send(&request(HashOrNumber::Hash(first), 8))
        .await
        .unwrap();
    let headers = next_matching(&mut session, |m| match m {
        EthMessage::BlockHeaders(h) if !h.is_empty() => Some(h),
        _ => None,
    })
    .await;
    assert_eq!(headers.len(), 8);
    for (i, h) in headers.iter().enumerate() {
        assert_eq!(h.number, i as u64 + 1);
        assert_eq!(h.hash(), smc.block_hash(h.number).await);
    }
    // Their bodies: transaction roots match the headers, counts match smc's RPC.
    let hashes: Vec<B256> = headers.iter().map(|h| h.hash()).collect();
    session
        .send(&EthMessage::GetBlockBodies(hashes.clone()))
        .await
        .unwrap();
    let bodies = next_matching(&mut session, |m| match m {
        EthMessage::BlockBodies(b) => Some(b),
        _ => None,
    })
    .await;
    assert_eq!(bodies.len(), 8);
    let mut total_txs = 0;
    for (header, body) in headers.iter().zip(&bodies) {
        let root = spectrum_primitives::transactions_root(&body.transactions);
        assert_eq!(root, header.transactions_root, "block {}", header.number);
        // Block objects hide the chief-update transaction (rpc.md); the count method does not.
        let count = smc
            .rpc(
                "eth_getBlockTransactionCountByNumber",
                json!([format!("{:#x}", header.number)]),
            )
            .await;
        let count =
            u64::from_str_radix(count.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        assert_eq!(
            body.transactions.len() as u64,
            count,
            "block {}",
            header.number
        );
        total_txs += count;
    }
    assert!(
        total_txs > 0,
        "blocks 4-8 of the devnet carry chief-update transactions"
    );

    // eth/63: their receipts hash to the headers' receipt roots.
    session
        .send(&EthMessage::GetReceipts(hashes))
        .await
        .unwrap();
    let receipts = next_matching(&mut session, |m| match m {
        EthMessage::Receipts(r) => Some(r),
        _ => None,
    })
    .await;
    assert_eq!(receipts.len(), 8);
    for (header, receipts) in headers.iter().zip(&receipts) {
        let root = spectrum_primitives::receipts_root(receipts);
        assert_eq!(root, header.receipts_root, "block {}", header.number);
    }
    // eth/63: the trie node behind a state root is served and hashes to it.
    let state_root = headers[7].state_root;
    session
        .send(&EthMessage::GetNodeData(vec![state_root]))
        .await
        .unwrap();
    let nodes = next_matching(&mut session, |m| match m {
        EthMessage::NodeData(n) => Some(n),
        _ => None,
    })
    .await;
    assert_eq!(nodes.len(), 1);
    assert_eq!(alloy_primitives::keccak256(&nodes[0]), state_root);

    // smc propagates what it mines: a NewBlock (we announced TD 1, so we lack it) that decodes
    // with our types and hashes to what smc's RPC says.
    let new_block = next_matching(&mut session, |m| match m {
        EthMessage::NewBlock(b) => Some(b),
        _ => None,
    })
    .await;
    let number = new_block.block.header.number;
    assert!(number > 56, "a newly mined block, got {number}");
    assert_eq!(
        new_block.block.header.hash_slow(),
        smc.block_hash(number).await
    );
    assert!(new_block.total_difficulty > U256::from(number));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smc_dials_us_and_we_answer_as_responder() {
    let smc = Smc::start(false).await;
    let status = smc.status().await;
    let (_tx, rx) = watch::channel(status.clone());
    let (handle, mut events) = Devp2pService::start(Devp2pConfig {
        local: local(),
        listen: "127.0.0.1:0".parse().unwrap(),
        max_peers: 25,
        status: rx,
    })
    .await
    .unwrap();
    let enode = handle.local_enode();
    assert_eq!(enode.ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(
        smc.rpc("admin_addPeer", json!([enode.to_string()])).await,
        json!(true)
    );
    let smc_id = smc.record().await.id;
    let info = loop {
        match tokio::time::timeout(DEADLINE, events.recv())
            .await
            .expect("event in time")
        {
            Some(PeerEvent::Connected(info)) => break info,
            Some(PeerEvent::Refused { error, .. }) => panic!("refused smc: {error}"),
            Some(_) => {}
            None => panic!("service stopped"),
        }
    };
    assert_eq!(info.id, smc_id);
    assert_eq!(info.status.genesis, status.genesis);
    assert_eq!(handle.peer_count(), 1);
    // smc lists us as its peer, with our client name.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let peers = smc.rpc("admin_peers", json!([])).await;
        if let Some(p) = peers.as_array().and_then(|a| a.first()) {
            assert!(
                p["name"].as_str().unwrap().starts_with("spectrum-rs/"),
                "{p}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "smc never listed us");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The peer stays up and we can ask it for something through the handle.
    assert!(handle.send(
        &smc_id,
        EthMessage::GetBlockHeaders(GetBlockHeaders {
            origin: HashOrNumber::Number(0),
            amount: 1,
            skip: 0,
            reverse: false,
        })
    ));
    loop {
        match tokio::time::timeout(DEADLINE, events.recv())
            .await
            .expect("event in time")
        {
            Some(PeerEvent::Message {
                message: EthMessage::BlockHeaders(h),
                ..
            }) => {
                assert_eq!(h[0].hash(), status.genesis);
                break;
            }
            Some(PeerEvent::Disconnected { error, .. }) => panic!("smc left: {error}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smc_refuses_our_wrong_network_id_with_subprotocol_error() {
    let smc = Smc::start(false).await;
    let right = smc.status().await;
    let remote = smc.record().await;
    let stream = TcpStream::connect(remote.tcp_addr()).await.unwrap();
    let mut p2p = session::connect(stream, &local(), remote.id).await.unwrap();
    // Send a Status on another network id and read what smc says: its own Status, then its
    // Disconnect.
    let wrong = Status {
        network_id: right.network_id + 1000,
        ..right.clone()
    };
    p2p.writer.send(&EthMessage::Status(wrong)).await.unwrap();
    let deadline = Instant::now() + DEADLINE;
    let reason = loop {
        assert!(Instant::now() < deadline);
        match p2p.reader.next().await {
            Ok(Incoming::Eth(EthMessage::Status(theirs))) => {
                assert_eq!(theirs.genesis, right.genesis)
            }
            Ok(_) => {}
            Err(SessionError::P2p(P2pError::Disconnected(reason))) => break reason,
            Err(e) => panic!("expected a Disconnect from smc, got {e}"),
        }
    };
    assert_eq!(reason, DisconnectReason::SubprotocolError);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_refuse_smc_on_another_genesis() {
    let smc = Smc::start(false).await;
    let mut ours = smc.status().await;
    ours.genesis = B256::repeat_byte(0x42);
    let (_tx, rx) = watch::channel(ours);
    let (handle, mut events) = Devp2pService::start(Devp2pConfig {
        local: local(),
        listen: "127.0.0.1:0".parse().unwrap(),
        max_peers: 25,
        status: rx,
    })
    .await
    .unwrap();
    smc.rpc("admin_addPeer", json!([handle.local_enode().to_string()]))
        .await;
    let (reason, error) = loop {
        match tokio::time::timeout(DEADLINE, events.recv())
            .await
            .expect("event in time")
        {
            Some(PeerEvent::Refused { reason, error, .. }) => break (reason, error),
            Some(PeerEvent::Connected(info)) => {
                panic!("accepted a peer on another genesis: {info:?}")
            }
            _ => {}
        }
    };
    // Both sides refuse the other's Status; whose Disconnect comes first is a race (smc writes
    // its Status from a goroutine and may send its Disconnect before it: seen). If smc refused
    // first, our refusal is shown as the dialler (smc redials only after 30 s).
    let error = if matches!(*error, SessionError::Status(_)) {
        assert_eq!(reason, DisconnectReason::SubprotocolError);
        error
    } else {
        assert!(
            matches!(
                *error,
                SessionError::P2p(spectrum_devp2p::P2pError::Disconnected(
                    DisconnectReason::SubprotocolError
                ))
            ),
            "{error}"
        );
        let remote = smc.record().await;
        let mut ours = None;
        for _ in 0..20 {
            if let Err(e @ SessionError::Status(_)) = handle.dial(&remote).await {
                ours = Some(std::sync::Arc::new(e));
                break;
            }
        }
        ours.expect("our refusal of smc's Status within 20 dials")
    };
    assert!(
        matches!(
            *error,
            SessionError::Status(StatusError::GenesisMismatch { expected, .. })
                if expected == B256::repeat_byte(0x42)
        ),
        "{error}"
    );
    assert!(
        !error.is_misbehaviour(),
        "another network is not an offence"
    );
    assert_eq!(handle.peer_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_bonds_with_smc_and_gets_neighbors() {
    let smc = Smc::start(true).await;
    let remote = smc.record().await;
    let disc = Discv4::bind(Discv4Config {
        secret_key: random_secret_key(),
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        tcp_port: 30303,
        bootnodes: vec![remote],
    })
    .await
    .unwrap();
    let me = disc.local_record().unwrap();
    // Our ping gets smc's pong; smc pings back (its half of the bond), and we answer it.
    let deadline = Instant::now() + DEADLINE;
    while disc.bond(&remote).await.is_err() {
        assert!(Instant::now() < deadline, "smc never bonded");
    }
    assert!(disc.is_bonded(&remote.id));
    assert!(disc.has_pinged_us(&remote.id));
    // smc answers findnode only for bonded nodes; its table now holds us, which proves it got
    // a valid pong from us.
    let neighbors = loop {
        if let Ok(nodes) = disc.find_node(&remote, me.id).await {
            break nodes;
        }
        assert!(Instant::now() < deadline, "smc never answered findnode");
    };
    let us = neighbors
        .iter()
        .find(|n| n.id == me.id)
        .expect("smc's table holds us");
    assert_eq!(us.udp_port, me.udp_port);
    assert!(
        disc.dropped().is_empty(),
        "dropped packets from smc: {:?}",
        disc.dropped()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_ours_find_each_other_through_smc_as_bootnode() {
    let smc = Smc::start(true).await;
    let bootnode = smc.record().await;
    let start = || {
        Discv4::bind(Discv4Config {
            secret_key: random_secret_key(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tcp_port: 30303,
            bootnodes: vec![bootnode],
        })
    };
    let (a, b) = (start().await.unwrap(), start().await.unwrap());
    let b_id = b.local_record().unwrap().id;
    let deadline = Instant::now() + DEADLINE;
    // b registers with the bootnode; a's lookup of b then goes through smc's table.
    while !b.bootstrap().await.iter().any(|n| n.id == bootnode.id) {
        assert!(Instant::now() < deadline, "b never bonded with smc");
    }
    loop {
        a.bootstrap().await;
        if a.lookup(b_id).await.iter().any(|n| n.id == b_id) {
            break;
        }
        assert!(Instant::now() < deadline, "a never found b through smc");
    }
    assert!(a.table_nodes().iter().any(|n| n.id == b_id));
}

/// Both sides drop a peer silent for 30 s: an idle session lives on our Pings and our Pongs to
/// smc's, past that timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_with_smc_outlives_the_read_timeout() {
    let smc = Smc::start(false).await;
    let (_tx, rx) = watch::channel(smc.status().await);
    let (handle, mut events) = Devp2pService::start(Devp2pConfig {
        local: local(),
        listen: "127.0.0.1:0".parse().unwrap(),
        max_peers: 25,
        status: rx,
    })
    .await
    .unwrap();
    let smc_id = smc.record().await.id;
    handle.dial(&smc.record().await).await.unwrap();
    // What is under test is time passing: 40 s of smc's announcements but no Disconnect.
    let quiet_until =
        tokio::time::Instant::now() + session::FRAME_READ_TIMEOUT + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(quiet_until, events.recv()).await {
            Err(_) => break,
            Ok(Some(PeerEvent::Disconnected { error, reason, .. })) => {
                panic!("dropped while idle: {reason} {error}")
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("service stopped"),
        }
    }
    assert_eq!(handle.peer_count(), 1);
    let peers = smc.rpc("admin_peers", json!([])).await;
    assert_eq!(peers.as_array().map(Vec::len), Some(1), "{peers}");
    assert!(handle.send(&smc_id, EthMessage::GetBlockBodies(vec![])));
    loop {
        match tokio::time::timeout(DEADLINE, events.recv())
            .await
            .expect("event in time")
        {
            Some(PeerEvent::Message {
                message: EthMessage::BlockBodies(b),
                ..
            }) => {
                assert!(b.is_empty());
                break;
            }
            Some(PeerEvent::Disconnected { error, .. }) => panic!("smc left: {error}"),
            _ => {}
        }
    }
}
