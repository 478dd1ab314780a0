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
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256, hex};
use common::{Node, spectrum, wait_for};
use spectrum_network::{
    ChainStatus, ChainView, HeadersRequest, MessageValidation, NetworkConfig, NetworkEvent,
};
use spectrum_primitives::{BlockBody, Header, ReceiptWithBloom};

const CHAIN_ID: u64 = 7331;
const VALIDATOR_KEY: [u8; 32] = [0x11; 32];

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// Claims a chain of 1000 blocks heavier than anything, serves nothing.
struct Liar(ChainStatus);

impl ChainView for Liar {
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

/// A one-validator chain (period 2 s) in `dir`, the validator's key in `dir/v1`'s keystore;
/// returns the genesis file, the password file and the genesis hash.
fn one_validator_chain(dir: &Path) -> (String, String, B256) {
    let password = dir.join("password.txt");
    std::fs::write(&password, "catch-up test password\n").unwrap();
    let key_file = dir.join("key.txt");
    std::fs::write(&key_file, hex::encode(VALIDATOR_KEY)).unwrap();
    let datadir = dir.join("v1");
    spectrum(&[
        "account",
        "import",
        path_str(&key_file),
        "--lightkdf",
        "--datadir",
        path_str(&datadir),
        "--password",
        path_str(&password),
    ]);
    let secret = secp256k1::SecretKey::from_byte_array(VALIDATOR_KEY).unwrap();
    let address =
        spectrum_primitives::public_key_to_address(&secret.public_key(secp256k1::SECP256K1));
    let genesis = dir.join("catchup.json");
    spectrum(&[
        "genesis",
        "new",
        "--name",
        "catchup",
        "--chain-id",
        &CHAIN_ID.to_string(),
        "--period",
        "2",
        "--signer-limit",
        "1",
        "--epoch",
        "1000",
        "--validators",
        &address.to_string(),
        "--out",
        path_str(&genesis),
    ]);
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
    let (liar, mut liar_events) = runtime.block_on(async {
        let mut config = NetworkConfig::new([0x99; 32], genesis_hash, CHAIN_ID);
        config.listen_addr = [127, 0, 0, 1].into();
        config.port = 0;
        config.discovery = false;
        spectrum_network::start(config, Arc::new(Liar(claim)))
            .await
            .expect("the liar starts")
    });
    let reporter = liar.clone();
    runtime.spawn(async move {
        while let Some(event) = liar_events.recv().await {
            if let NetworkEvent::NewBlock { peer, msg_id, .. } = event {
                reporter
                    .report_message(msg_id, peer, MessageValidation::Ignore)
                    .await;
            }
        }
    });
    let liar_addr = liar.listen_addrs()[0].to_string();

    let args: Vec<String> = [
        "--chain",
        &genesis,
        "--datadir",
        path_str(&dir.path().join("v1")),
        "--listen-addr",
        "127.0.0.1",
        "--port",
        "0",
        "--nodiscover",
        "--http",
        "--http.port",
        "0",
        "--bootnodes",
        &liar_addr,
        "--catchup-timeout",
        "5",
        "--mine",
        "--password",
        &password,
    ]
    .map(str::to_owned)
    .to_vec();
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
