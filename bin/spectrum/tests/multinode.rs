//! A Spectrum network of real `spectrum` processes on 127.0.0.1 (issue 8 §6): three validators
//! and, later, a fourth non-validating node, each with its own datadir, RPC port and p2p port.
//!
//! One network is shared by every scenario, in order, to keep CI time low (about three minutes):
//!
//! 1. The validators take turns (signer limit 1: every block is a round, the slot-0 leader
//!    rotates, period 2 s so in-turn blocks follow 1 s apart) for at least two full rounds,
//!    and every node has the same head hash.
//! 2. A transaction sent to one node's RPC is mined and visible through every node's RPC.
//! 3. A validator is killed (SIGKILL): the others fill its slots at the stand-in delay
//!    (period + 3 = 5 s); restarted, it catches up and seals again.
//! 4. Misbehaving peers (in-process libp2p nodes of the same chain): one gossips garbage, one an
//!    invalid block; each is banned by the validator it joined, and the chain goes on.
//! 5. A fourth node, not a validator, starts after 100+ blocks with one bootnode, syncs to the
//!    head and follows new blocks.
//! 6. Partition: validator 3 and the fourth node are restarted without the others' addresses
//!    (everyone runs `--nodiscover`, so nobody finds them again), and make their own branch;
//!    validators 1 and 2 make theirs, heavier (two validators in turn against one mostly
//!    standing in). Validator 3 is then restarted with the others as bootnodes: all four
//!    converge on the heavier branch. Restarting with new bootnodes is the reconnection
//!    mechanism because the node has no admin RPC to add peers at run time.
//!
//! The validator keys are fixed test keys imported into each datadir's keystore with
//! `spectrum account import --lightkdf`; the command sequence is the one `docs/validator.md`
//! shows ("A 3-validator network on one machine").

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, TxKind, U256, hex};
use common::{Node, quantity, quantity_u64, spectrum, wait_for};
use secp256k1::SecretKey;
use serde_json::{Value, json};

const CHAIN_ID: u64 = 4242;
/// Tribe period: in-turn blocks 1 s after their parent, stand-ins 5 s and 9 s after.
const PERIOD: u64 = 2;
const STAND_IN_DELAY: u64 = PERIOD + 3;
/// Keys of the three validators and of the funded user.
const VALIDATOR_KEYS: [[u8; 32]; 3] = [[0x11; 32], [0x22; 32], [0x33; 32]];
const USER_KEY: [u8; 32] = [0x44; 32];

fn address_of(key: &[u8; 32]) -> Address {
    let secret = SecretKey::from_byte_array(*key).expect("a valid test key");
    spectrum_primitives::public_key_to_address(&secret.public_key(secp256k1::SECP256K1))
}

/// The test's directory: the genesis file, the password file, and one datadir and log per
/// node.
struct Network {
    dir: Option<tempfile::TempDir>,
    genesis: PathBuf,
    password: PathBuf,
    validators: [Address; 3],
    binary: PathBuf,
}

impl Network {
    /// Writes the genesis (three leaders, signer limit 1, period 2 s) and imports each
    /// validator key into its datadir's keystore.
    fn create() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let binary = common::copy_binary(dir.path());
        let password = dir.path().join("password.txt");
        std::fs::write(&password, "multinode test password\n").expect("write the password");
        let validators = VALIDATOR_KEYS.map(|key| address_of(&key));
        for (i, key) in VALIDATOR_KEYS.iter().enumerate() {
            let key_file = dir.path().join(format!("key{}.txt", i + 1));
            std::fs::write(&key_file, hex::encode(key)).expect("write the key");
            spectrum(&[
                "account",
                "import",
                path_str(&key_file),
                "--lightkdf",
                "--datadir",
                path_str(&dir.path().join(format!("v{}", i + 1))),
                "--password",
                path_str(&password),
            ]);
            std::fs::remove_file(&key_file).expect("remove the plain key");
        }
        let genesis = dir.path().join("multinode.json");
        let leaders = validators.map(|a| a.to_string()).join(",");
        let alloc = format!("{}=1000000000000000000000", address_of(&USER_KEY));
        spectrum(&[
            "genesis",
            "new",
            "--name",
            "multinode",
            "--chain-id",
            &CHAIN_ID.to_string(),
            "--period",
            &PERIOD.to_string(),
            "--signer-limit",
            "1",
            "--epoch",
            "1000",
            "--validators",
            &leaders,
            "--alloc",
            &alloc,
            "--out",
            path_str(&genesis),
        ]);
        Self {
            dir: Some(dir),
            genesis,
            password,
            validators,
            binary,
        }
    }

    fn path(&self) -> &Path {
        self.dir.as_ref().expect("until dropped").path()
    }

    fn datadir(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    fn args(&self, name: &str, port: u16, bootnodes: &[&Node]) -> Vec<String> {
        let mut args: Vec<String> = [
            "--chain",
            path_str(&self.genesis),
            "--datadir",
            path_str(&self.datadir(name)),
            "--listen-addr",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--nodiscover",
            "--http",
            "--http.port",
            "0",
        ]
        .map(str::to_owned)
        .to_vec();
        if !bootnodes.is_empty() {
            args.push("--bootnodes".into());
            args.push(
                bootnodes
                    .iter()
                    .map(|n| n.p2p.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        args
    }

    /// Validator `i` (1-based): `--mine` with the keystore key.
    fn validator(&self, i: usize, port: u16, bootnodes: &[&Node]) -> Node {
        let name = format!("v{i}");
        let mut args = self.args(&name, port, bootnodes);
        args.extend([
            "--mine".into(),
            "--password".into(),
            path_str(&self.password).into(),
        ]);
        Node::start(&self.binary, &name, &args, &self.log(&name))
    }

    /// The non-validating node.
    fn follower(&self, port: u16, bootnodes: &[&Node]) -> Node {
        Node::start(
            &self.binary,
            "n4",
            &self.args("n4", port, bootnodes),
            &self.log("n4"),
        )
    }

    fn log(&self, name: &str) -> PathBuf {
        self.path().join(format!("{name}.log"))
    }

    fn validator_index(&self, miner: Address) -> Option<usize> {
        self.validators.iter().position(|v| *v == miner)
    }
}

impl Drop for Network {
    /// A failed run keeps its datadirs and logs for a look.
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("the datadirs and logs are kept in {}", dir.keep().display());
        }
    }
}

/// Blocks `killed_at + 1 ..= killed_at + 6`, sealed while validator `dead` (0-based) is down:
/// with signer limit 1 every height is a leader slot (tribe.md §6–§7, chief 1.0.0), so the
/// signer in turn is `signers[0]` at the parent (difficulty 6, delay period − 1); when that is
/// the dead validator, the next leader after it (`L'[0]`) stands in at difficulty 5, period + 3
/// after the parent. Each block is checked for who sealed it and at which delay; at least one
/// stand-in must have happened. The first block may still be the dead validator's own, sealed
/// just before it died.
fn check_stand_ins(net: &Network, node: &Node, killed_at: u64, dead: usize) {
    let dead_address = net.validators[dead];
    let mut stand_ins = 0;
    for number in killed_at + 1..=killed_at + 6 {
        let block = node.block(number).expect("a canonical block");
        let parent = node.block(number - 1).expect("its parent");
        let status = node.result("tribe_getStatus", json!([parent["hash"]]));
        let in_turn: Address = status["signers"][0]["address"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .expect("signers[0] at the parent");
        let leaders: Vec<Address> = serde_json::from_value(status["leaders"].clone())
            .expect("the leader list at the parent");
        let miner = miner_of(&block);
        let delay = timestamp_of(&block) - timestamp_of(&parent);
        let difficulty = quantity_u64(&block["difficulty"]);
        let what = format!(
            "block {number}: in turn {in_turn}, sealed by {miner} after {delay} s at difficulty {difficulty}"
        );
        if in_turn == dead_address && miner == dead_address {
            assert_eq!(number, killed_at + 1, "the dead validator sealed {what}");
            continue;
        }
        if in_turn == dead_address || in_turn == Address::ZERO {
            // L' = the leaders rotated to start just after signers[0], without it (unchanged when
            // signers[0] is not a leader, e.g. a zero placeholder); the first live one stands in.
            let rotated: Vec<Address> = match leaders.iter().position(|l| *l == in_turn) {
                Some(at) => (1..leaders.len())
                    .map(|k| leaders[(at + k) % leaders.len()])
                    .collect(),
                None => leaders.clone(),
            };
            let (i, stand_in) = rotated
                .iter()
                .enumerate()
                .find(|(_, l)| **l != dead_address)
                .expect("a live leader");
            let i = u64::try_from(i).expect("a small index");
            assert_eq!(
                miner, *stand_in,
                "the first live leader in L' stands in: {what}"
            );
            assert_eq!(
                difficulty,
                5 - i,
                "a stand-in's difficulty (L'[{i}]): {what}"
            );
            assert!(
                delay >= STAND_IN_DELAY + 4 * i,
                "a stand-in L'[{i}] waits period + 3 + 4i s: {what}"
            );
            stand_ins += 1;
        } else {
            assert_eq!(miner, in_turn, "the signer in turn seals: {what}");
            assert_eq!(difficulty, 6, "in-turn difficulty: {what}");
            assert!(delay >= PERIOD - 1, "in turn after period - 1: {what}");
        }
    }
    assert!(
        stand_ins > 0,
        "a stand-in filled at least one of validator {}'s slots",
        dead + 1
    );
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn miner_of(block: &Value) -> Address {
    block["miner"]
        .as_str()
        .expect("a miner")
        .parse()
        .expect("an address")
}

fn timestamp_of(block: &Value) -> u64 {
    quantity_u64(&block["timestamp"])
}

/// Waits until every node has the same block at a common height at least `min_height`.
fn wait_for_agreement(nodes: &[&Node], min_height: u64, timeout: Duration) -> (u64, B256) {
    wait_for("every node on the same block", timeout, || {
        let height = nodes.iter().map(|n| n.head()).min()?;
        if height < min_height {
            return None;
        }
        let first = nodes[0].hash_at(height)?;
        nodes
            .iter()
            .all(|n| n.hash_at(height) == Some(first))
            .then_some((height, first))
    })
}

#[test]
fn three_validators_a_follower_a_crash_a_partition_and_bad_peers() {
    let started = Instant::now();
    let net = Network::create();
    let v1 = net.validator(1, 0, &[]);
    let v2 = net.validator(2, 0, &[&v1]);
    let v3 = net.validator(3, 0, &[&v1, &v2]);
    let v3_port = v3.p2p_port();
    eprintln!("[{:?}] three validators up", started.elapsed());

    // 1. Two full rounds in turn: six consecutive blocks sealed V_a, V_b, V_c, V_a, V_b, V_c.
    let window_end = wait_for("two full rounds in turn", Duration::from_secs(90), || {
        let head = v1.head();
        let first = head.checked_sub(5)?.max(1);
        let miners: Vec<usize> = (first..=head)
            .map(|n| v1.block(n).and_then(|b| net.validator_index(miner_of(&b))))
            .collect::<Option<_>>()?;
        let in_turn = miners.len() == 6
            && (0..3).all(|i| miners[i] != miners[(i + 1) % 3] && miners[i] == miners[i + 3]);
        in_turn.then_some(head)
    });
    let (height, _) = wait_for_agreement(&[&v1, &v2, &v3], window_end, Duration::from_secs(30));
    eprintln!(
        "[{:?}] 1. rounds in turn up to {window_end}; all agree at {height}",
        started.elapsed()
    );

    // 2. A transfer sent to validator 2 is mined and visible on every node.
    send_transfer_and_check(&[&v1, &v2, &v3], &v2);
    eprintln!("[{:?}] 2. transfer visible everywhere", started.elapsed());

    // 3. Validator 3 crashes: the others fill its slots at the stand-in delay.
    v3.kill();
    let killed_at = v1.head();
    wait_for(
        "six blocks without validator 3",
        Duration::from_secs(60),
        || (v1.head() >= killed_at + 6).then_some(()),
    );
    check_stand_ins(&net, &v1, killed_at, 2);
    let v3 = net.validator(3, v3_port, &[&v1, &v2]);
    let restarted_at = v1.head();
    wait_for_agreement(&[&v1, &v2, &v3], restarted_at, Duration::from_secs(60));
    wait_for("validator 3 sealing again", Duration::from_secs(60), || {
        let head = v1.head();
        (restarted_at + 1..=head)
            .any(|n| {
                v1.block(n)
                    .is_some_and(|b| net.validator_index(miner_of(&b)) == Some(2))
            })
            .then_some(())
    });
    eprintln!(
        "[{:?}] 3. crash at {killed_at}, stand-ins, restart at {restarted_at}, sealing again",
        started.elapsed()
    );

    // 4. Peers that send garbage or an invalid block are banned; the chain goes on.
    let peers_before = v1.peer_count();
    misbehaving_peers(&v1);
    let head = v1.head();
    wait_for("blocks after the bans", Duration::from_secs(30), || {
        (v1.head() >= head + 2).then_some(())
    });
    assert_eq!(
        v1.peer_count(),
        peers_before,
        "the bad peers are gone, the good ones stay"
    );
    eprintln!("[{:?}] 4. bad peers banned", started.elapsed());

    // 5. A fourth node joins after 100+ blocks with one bootnode, syncs, then follows.
    wait_for("100 blocks", Duration::from_secs(150), || {
        (v1.head() >= 100).then_some(())
    });
    let n4 = net.follower(0, &[&v1]);
    let n4_port = n4.p2p_port();
    let target = v1.head();
    let (synced, _) = wait_for_agreement(&[&v1, &n4], target, Duration::from_secs(90));
    wait_for_agreement(&[&v1, &n4], synced + 3, Duration::from_secs(30));
    assert!(
        n4.log_contains("sync finished"),
        "the follower caught up by requests, not only by gossip"
    );
    assert!(n4.peer_count() >= 1);
    assert_eq!(n4.result("net_listening", json!([])), json!(true));
    assert_eq!(n4.result("eth_syncing", json!([])), json!(false));
    eprintln!(
        "[{:?}] 5. follower synced to {target} and follows",
        started.elapsed()
    );

    // 6. Partition {v1, v2} | {v3, n4}, then reconnect.
    v3.kill();
    n4.kill();
    let v3 = net.validator(3, v3_port, &[]);
    let n4 = net.follower(n4_port, &[&v3]);
    let partitioned_at = v1.head();
    let (branch_number, branch_hash) =
        wait_for("a branch of group B", Duration::from_secs(60), || {
            let head = v3.head();
            let own: Vec<u64> = (partitioned_at.saturating_sub(2)..=head)
                .filter(|n| v3.hash_at(*n) != v1.hash_at(*n))
                .collect();
            let in_step = n4.hash_at(head) == v3.hash_at(head);
            (own.len() >= 2 && in_step).then(|| (own[0], v3.hash_at(own[0]).expect("own block")))
        });
    let a_hash = v1.hash_at(branch_number);
    assert_ne!(a_hash, Some(branch_hash), "two branches");
    v3.kill();
    let v3 = net.validator(3, v3_port, &[&v1, &v2]);
    let reconnected_at = v1.head();
    let nodes = [&v1, &v2, &v3, &n4];
    wait_for_agreement(&nodes, reconnected_at, Duration::from_secs(90));
    for node in nodes {
        assert_eq!(
            node.hash_at(branch_number),
            v1.hash_at(branch_number),
            "{} on group A's branch",
            node.name
        );
        assert_ne!(
            node.hash_at(branch_number),
            Some(branch_hash),
            "{}",
            node.name
        );
    }
    eprintln!(
        "[{:?}] 6. partition from {partitioned_at}, group B's branch at {branch_number} dropped",
        started.elapsed()
    );
}

/// Sends a transfer from the funded user to `via` and waits for it on every node.
fn send_transfer_and_check(nodes: &[&Node], via: &Node) {
    let recipient = Address::repeat_byte(0x77);
    let value = U256::from(123_456_789u64);
    let gas_price = u128::try_from(quantity(&via.result("eth_gasPrice", json!([])))).expect("u128");
    let tx = spectrum_primitives::TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce: 0,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(recipient),
        value,
        input: Default::default(),
    };
    let key = SecretKey::from_byte_array(USER_KEY).expect("a valid key");
    let signed = spectrum_primitives::sign_transaction(tx, &key);
    let raw = format!("0x{}", hex::encode(alloy_rlp::encode(&signed)));
    let hash = via.result("eth_sendRawTransaction", json!([raw]));
    for node in nodes {
        let receipt = wait_for("the receipt", Duration::from_secs(30), || {
            let receipt = node.result("eth_getTransactionReceipt", json!([hash]));
            (!receipt.is_null()).then_some(receipt)
        });
        assert_eq!(receipt["status"], json!("0x1"), "{}", node.name);
        assert_eq!(
            quantity(&node.result("eth_getBalance", json!([recipient, "latest"]))),
            value,
            "{}",
            node.name
        );
    }
}

/// A chain view of the misbehaving peers: only the genesis.
struct GenesisOnly(spectrum_network::ChainStatus);

impl spectrum_network::ChainView for GenesisOnly {
    fn status(&self) -> spectrum_network::ChainStatus {
        self.0
    }
    fn headers(&self, _: &spectrum_network::HeadersRequest) -> Vec<spectrum_primitives::Header> {
        Vec::new()
    }
    fn bodies(&self, _: &[B256]) -> Vec<spectrum_primitives::BlockBody> {
        Vec::new()
    }
    fn receipts(&self, _: &[B256]) -> Vec<Vec<spectrum_primitives::ReceiptWithBloom>> {
        Vec::new()
    }
}

/// Two in-process peers of the same chain join `node`: one gossips undecodable blocks, one a
/// well-formed block 11 with a seal that recovers no signer (blocks 1 to 3 carry no signer
/// rules, so a later one is needed). Each must be banned by `node`.
fn misbehaving_peers(node: &Node) {
    let genesis = node.block(0).expect("genesis");
    let genesis_hash: B256 = genesis["hash"]
        .as_str()
        .expect("hash")
        .parse()
        .expect("hex");
    let status = spectrum_network::ChainStatus {
        chain_id: CHAIN_ID,
        genesis_hash,
        head_hash: genesis_hash,
        head_number: 0,
        total_difficulty: quantity(&genesis["difficulty"]),
    };
    let parent = node.block(10).expect("block 10");
    let invalid_block = spectrum_primitives::Block {
        header: spectrum_primitives::Header {
            parent_hash: parent["hash"].as_str().expect("hash").parse().expect("hex"),
            number: 11,
            timestamp: timestamp_of(&parent) + PERIOD,
            difficulty: U256::from(6u64),
            gas_limit: quantity_u64(&parent["gasLimit"]),
            // VRF output and proof, then a zero seal: no signer recovers from it.
            extra_data: vec![0u8; 32 + 129 + 65].into(),
            ..Default::default()
        },
        body: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut garbage = 0u32;
        ban_peer(node, status, [0x55; 32], || {
            garbage += 1;
            format!("not a block #{garbage}").into_bytes()
        })
        .await;
        let block = alloy_rlp::encode(&invalid_block);
        ban_peer(node, status, [0x66; 32], || block.clone()).await;
    });
}

/// Joins `node` as a peer with `key` and gossips `message()` on the block topic until `node`
/// logs that it banned us and our connection is gone.
async fn ban_peer(
    node: &Node,
    status: spectrum_network::ChainStatus,
    key: [u8; 32],
    mut message: impl FnMut() -> Vec<u8>,
) {
    use spectrum_network::{GossipTopic, MessageValidation, NetworkConfig, NetworkEvent};
    let mut config = NetworkConfig::new(key, status.genesis_hash, status.chain_id);
    config.listen_addr = [127, 0, 0, 1].into();
    config.port = 0;
    config.discovery = false;
    config.bootnodes = vec![node.p2p.parse().expect("a multiaddr")];
    let (handle, mut events) =
        spectrum_network::start(config, std::sync::Arc::new(GenesisOnly(status)))
            .await
            .expect("the bad peer starts");
    let reporter = handle.clone();
    let drain = tokio::spawn(async move {
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
    let peer_id = handle.local_peer_id().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while handle.gossip_peer_count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the bad peer never joined {}",
            node.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let banned = |handle: &spectrum_network::NetworkHandle| {
        handle.peer_count() == 0
            && std::fs::read_to_string(&node.log).is_ok_and(|log| {
                log.lines()
                    .any(|line| line.contains("peer banned") && line.contains(&peer_id))
            })
    };
    while !banned(&handle) {
        assert!(
            Instant::now() < deadline,
            "{} did not ban the peer sending bad gossip",
            node.name
        );
        handle.publish_raw(GossipTopic::Blocks, message()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drain.abort();
}
