//! A restarted validator must not wait forever for a peer that lies (issue: "a lying peer
//! stalls sync and a restarted validator forever"): a real `spectrum` validator process whose
//! only bootnode is an in-process libp2p peer announcing a total difficulty of 10^30 and
//! serving nothing. The validator penalises the liar's claim, gives up waiting after
//! `--catchup-timeout` and seals its own blocks.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256};
use common::{
    Node,
    net::{Genesis, address_of, import_key, node_args, path_str},
    peer::{ignore_gossip, start_peer},
    spectrum, wait_for,
};
use spectrum_network::ChainStatus;

const CHAIN_ID: u64 = 7331;
const VALIDATOR_KEY: [u8; 32] = [0x11; 32];

/// A one-validator chain (period 2 s) in `dir`, the validator's key in `dir/v1`'s keystore;
/// returns the genesis file, the password file and the genesis hash.
fn one_validator_chain(dir: &Path) -> (String, String, B256) {
    let password = dir.join("password.txt");
    std::fs::write(&password, "catch-up test password\n").unwrap();
    let datadir = dir.join("v1");
    import_key(&VALIDATOR_KEY, &datadir, &password);
    let genesis = dir.join("catchup.json");
    Genesis {
        name: "catchup",
        chain_id: CHAIN_ID,
        period: 2,
        signer_limit: 1,
        validators: &[address_of(&VALIDATOR_KEY)],
        alloc: &[],
        extra: &[],
    }
    .write(&genesis);
    let out = spectrum(&[
        "init",
        "--chain",
        path_str(&genesis),
        "--datadir",
        path_str(&datadir),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let hash = stdout
        .lines()
        .find_map(|line| line.strip_prefix("genesis hash: "))
        .expect("init prints the genesis hash")
        .trim()
        .parse()
        .expect("a hash");
    (
        path_str(&genesis).to_owned(),
        path_str(&password).to_owned(),
        hash,
    )
}

#[test]
fn a_validator_whose_only_peer_lies_gives_up_waiting_and_seals() {
    let dir = tempfile::tempdir().unwrap();
    let binary = common::copy_binary(dir.path());
    let (genesis, password, genesis_hash) = one_validator_chain(dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let claim = ChainStatus {
        chain_id: CHAIN_ID,
        genesis_hash,
        head_hash: B256::repeat_byte(0xab),
        head_number: 1000,
        total_difficulty: U256::from(10u64).pow(U256::from(30u64)),
    };
    // Claims a chain of 1000 blocks heavier than anything, serves nothing.
    let liar = runtime.block_on(async {
        let (liar, events) = start_peer([0x99; 32], claim, &[]).await;
        ignore_gossip(&liar, events);
        liar
    });
    let liar_addr = liar.listen_addrs()[0].to_string();

    let mut args = node_args(Path::new(&genesis), &dir.path().join("v1"));
    args.extend(
        [
            "--bootnodes",
            &liar_addr,
            "--catchup-timeout",
            "5",
            "--mine",
            "--password",
            &password,
        ]
        .map(str::to_owned),
    );
    let started = Instant::now();
    let validator = Node::start(&binary, "v1", &args, &dir.path().join("v1.log"));
    wait_for("the liar's claim refused", Duration::from_secs(60), || {
        validator
            .log_contains("peer's chain does not reach the total difficulty it announced")
            .then_some(())
    });
    wait_for(
        "the validator seals block 2",
        Duration::from_secs(60),
        || (validator.head() >= 2).then_some(()),
    );
    assert!(validator.log_contains("catching up made no progress"));
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "sealed before the catch-up bound"
    );
    // The liar is still a peer (a false claim costs points, not a ban) and is not followed.
    assert_eq!(validator.peer_count(), 1);
    let rss = validator.rss_kib();
    assert!(rss < 512 * 1024, "validator resident memory {rss} KiB");
    drop(validator);
    drop(liar);
}
