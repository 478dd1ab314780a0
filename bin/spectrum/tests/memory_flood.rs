//! Memory any one peer can pin (issue 13 item 6), measured, not asserted: a real `spectrum`
//! process (the test profile's binary: a debug build) and an in-process libp2p peer of its
//! chain that floods it with maximum-size block messages (unknown parents: decoded, queued,
//! then ignored, nobody penalised) and then with near-future blocks (held in the future
//! queue). Prints the node's resident memory (VmRSS) and peak (VmHWM) after each phase,
//! against the bounds: a block message at most 10 MiB, 64 MiB of decoded gossip in the event
//! queue, 256 held future blocks or 32 MiB.
//!
//! Run: `cargo test --workspace --test memory_flood -- --ignored --nocapture`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    path::Path,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, B64, B256, TxKind, U256, keccak256};
use common::{
    Node,
    net::{Genesis, node_args, path_str},
    peer::{ignore_gossip, joined, start_peer},
    quantity_u64,
};
use secp256k1::SecretKey;
use spectrum_network::NetworkHandle;
use spectrum_primitives::{
    Block, BlockBody, Header, SealedBlock, TransactionSigned, TxLegacy, sign_transaction,
    transactions_root,
};

const CHAIN_ID: u64 = 4344;
/// Calldata per transaction: three make a block of about 10.2 MB, just under the 10 MiB block
/// bound (and each transaction under the 4 MiB transaction bound).
const CALLDATA: usize = 3_400_000;

fn start_node(dir: &Path) -> Node {
    let genesis = dir.join("genesis.json");
    Genesis {
        name: "memflood",
        chain_id: CHAIN_ID,
        period: 2,
        signer_limit: 1,
        validators: &[Address::repeat_byte(0x11)],
        alloc: &[],
        extra: &[],
    }
    .write(&genesis);
    let args = node_args(&genesis, &dir.join("node"));
    Node::start(
        Path::new(env!("CARGO_BIN_EXE_spectrum")),
        "node",
        &args,
        &dir.join("node.log"),
    )
}

/// `(VmRSS, VmHWM)` in MiB of the process whose command line names `datadir`.
fn memory_mib(datadir: &Path) -> (u64, u64) {
    let needle = path_str(datadir);
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let path = entry.expect("an entry").path();
        let Ok(cmdline) = std::fs::read(path.join("cmdline")) else {
            continue;
        };
        if !String::from_utf8_lossy(&cmdline).contains(needle) {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).expect("status");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .expect("a memory line")
                / 1024
        };
        return (field("VmRSS:"), field("VmHWM:"));
    }
    panic!("no process for {needle}");
}

fn big_transactions(count: u64) -> Vec<TransactionSigned> {
    let key = SecretKey::from_byte_array([0x42; 32]).expect("a key");
    (0..count)
        .map(|nonce| {
            sign_transaction(
                TxLegacy {
                    chain_id: Some(CHAIN_ID),
                    nonce,
                    gas_price: 1_000_000_000,
                    gas_limit: 21_000 + 4 * CALLDATA as u64,
                    to: TxKind::Call(Address::repeat_byte(9)),
                    value: U256::ZERO,
                    input: vec![0u8; CALLDATA].into(),
                },
                &key,
            )
        })
        .collect()
}

/// A block with `transactions` after `parent_hash`, distinct per `tag`, whose header passes
/// the stateless rules of block 1 on this chain (VRF-length extra data, difficulty in range,
/// the genesis gas limit).
fn block(
    parent_hash: B256,
    timestamp: u64,
    gas_limit: u64,
    tag: u64,
    transactions: &[TransactionSigned],
) -> SealedBlock {
    let mut extra = vec![0u8; 226];
    extra[..8].copy_from_slice(&tag.to_be_bytes());
    Block {
        header: Header {
            parent_hash,
            number: 1,
            difficulty: U256::from(1u64),
            timestamp,
            gas_limit,
            nonce: B64::ZERO,
            extra_data: extra.into(),
            ommers_hash: spectrum_primitives::EMPTY_OMMER_ROOT_HASH,
            transactions_root: transactions_root(transactions),
            ..Default::default()
        },
        body: BlockBody {
            transactions: transactions.to_vec(),
            ommers: vec![],
        },
    }
    .seal_slow()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn log_count(node: &Node, needle: &str) -> usize {
    std::fs::read_to_string(&node.log)
        .map(|log| log.lines().filter(|l| l.contains(needle)).count())
        .unwrap_or(0)
}

/// Waits until the count of `needle` in the node's log stops changing for 15 s (at most 2
/// minutes); returns it. A measurement, not a synchronisation: nothing is asserted after.
async fn settle(node: &Node, needle: &str) -> usize {
    let started = Instant::now();
    let mut last = (log_count(node, needle), Instant::now());
    while started.elapsed() < Duration::from_secs(120) && last.1.elapsed() < Duration::from_secs(15)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let seen = log_count(node, needle);
        if seen != last.0 {
            last = (seen, Instant::now());
        }
    }
    last.0
}

/// Publishes `blocks` one after another (gossipsub queues them on the one connection).
async fn flood(peer: &NetworkHandle, blocks: impl Iterator<Item = SealedBlock>) -> usize {
    let mut sent = 0;
    for block in blocks {
        peer.broadcast_block(&block).await;
        sent += 1;
    }
    sent
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn peak_memory_under_a_block_flood() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let node = start_node(dir.path());
    let datadir = dir.path().join("node");
    let status = node.genesis_status(CHAIN_ID);
    let genesis_hash = status.genesis_hash;
    let gas_limit = quantity_u64(&node.block(0).expect("genesis")["gasLimit"]);
    let (rss, peak) = memory_mib(&datadir);
    println!("started: rss {rss} MiB, peak {peak} MiB");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (peer, events) = start_peer([0x77; 32], status, &[&node]).await;
        ignore_gossip(&peer, events);
        joined(&peer).await;
        let big = big_transactions(3);
        let size = alloy_rlp::Encodable::length(&block(B256::ZERO, 0, gas_limit, 0, &big).unseal());
        println!("block message: {size} bytes");

        // Phase 1: maximum-size blocks whose parent nobody has, in two rounds of 60: the peak
        // after the second shows whether memory grows with the flood's length.
        for round in 0..2u64 {
            let started = Instant::now();
            let sent = flood(
                &peer,
                (0..60u64).map(|i| {
                    let tag = round * 1_000_000 + i;
                    block(keccak256(tag.to_be_bytes()), now(), gas_limit, tag, &big)
                }),
            )
            .await;
            let handled = settle(&node, "gossiped block with unknown parent").await;
            let (rss, peak) = memory_mib(&datadir);
            println!(
                "phase 1, round {round}: {sent} unknown-parent blocks of {size} B sent in {:?}; \
                 {handled} handled and {} dropped over the event queue's byte budget so far; \
                 rss {rss} MiB, peak {peak} MiB, peer still connected: {}",
                started.elapsed(),
                log_count(&node, "over its byte budget"),
                peer.peer_count() == 1
            );
            if std::env::var_os("MEMORY_FLOOD_LOG").is_some() {
                println!("{}", node.log_tail(25));
            }
        }

        // Phase 2: near-future blocks 1 on the genesis, 25 s ahead: 300 small ones (the count
        // bound, 256) and then 20 maximum-size ones (the byte bound, 32 MiB).
        let small = vec![];
        let ahead = now() + 25;
        let sent_big = flood(
            &peer,
            (0..20u64).map(|i| block(genesis_hash, ahead, gas_limit, 2_000 + i, &big)),
        )
        .await;
        settle(&node, "gossiped block").await;
        println!(
            "phase 2: of {sent_big} maximum-size future blocks, {} held, {} refused (queue full)",
            log_count(&node, "Future"),
            log_count(&node, "the queue is full")
        );
        let sent_small = flood(
            &peer,
            (0..300u64).map(|i| block(genesis_hash, ahead, gas_limit, 1_000 + i, &small)),
        )
        .await;
        settle(&node, "gossiped block").await;
        let (rss, peak) = memory_mib(&datadir);
        println!(
            "phase 2: {sent_small} small and {sent_big} maximum-size future blocks sent; \
             rss {rss} MiB, peak {peak} MiB, peer still connected: {}",
            peer.peer_count() == 1
        );
    });
    println!(
        "node log: held {} / refused full {} future blocks",
        log_count(&node, "Future"),
        log_count(&node, "the queue is full")
    );
    // What the node held against the peer, if anything.
    let log = std::fs::read_to_string(&node.log).unwrap_or_default();
    for line in log.lines().filter(|line| {
        ["penalised", "banned", "disconnected", "sync round failed"]
            .iter()
            .any(|word| line.contains(word))
    }) {
        println!("  {}", line.get(..260).unwrap_or(line));
    }
}
