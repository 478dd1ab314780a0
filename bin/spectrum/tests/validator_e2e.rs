//! `spectrum validator …` against a real `spectrum --dev` process: the node key is made with
//! `validator key`, the wallet is a funded dev account imported into the same keystore, and
//! every staking step (deposit, stop, withdraw) goes through the command, with balances and
//! POC state checked over JSON-RPC after each, and the failures explained in words.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::Duration,
};

use alloy_primitives::{Address, U256};
use common::{DevNode, quantity, quantity_u64, wait_for};
use serde_json::{Value, json};

/// POC on chains made by `spectrum genesis new` (the dev chain among them).
const POC: &str = "0x5ec7000000000000000000000000000000000003";
/// The dev chain's minimum deposit: 1 coin.
const ONE_COIN: u128 = 1_000_000_000_000_000_000;

/// Runs `spectrum --chain dev --datadir DIR --password PW args…` and returns its output,
/// successful or not.
fn validator(dir: &Path, args: &[&str]) -> Output {
    let datadir = dir.join("operator");
    let password = dir.join("pw.txt");
    Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(["--chain", "dev", "--datadir"])
        .arg(&datadir)
        .arg("--password")
        .arg(&password)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("spawn spectrum")
}

fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn failed(out: Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn line_value<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{text}"))
        .trim()
}

fn balance(node: &DevNode, who: Address) -> U256 {
    quantity(&node.result("eth_getBalance", json!([who, "latest"])))
}

fn nonce(node: &DevNode, who: Address) -> u64 {
    quantity_u64(&node.result("eth_getTransactionCount", json!([who, "latest"])))
}

/// The fee of the transaction whose hash the command printed (`…: sent 0x… (`).
fn fee_of(node: &DevNode, stdout: &str) -> U256 {
    let hash = stdout
        .split("sent ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no sent hash in {stdout}"));
    let receipt = node.result("eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    let tx = node.result("eth_getTransactionByHash", json!([hash]));
    quantity(&receipt["gasUsed"]) * quantity(&tx["gasPrice"])
}

/// POC's entry for `miner` from `tribe_pocGetStatus`: (owner, stop block), if staked.
fn poc_entry(node: &DevNode, miner: Address) -> Option<(Address, u64)> {
    let status = node.result("tribe_pocGetStatus", json!([]));
    let miners: Vec<Address> = serde_json::from_value(status["MinerList"].clone()).unwrap();
    let at = miners.iter().position(|m| *m == miner)?;
    let owner: Address = serde_json::from_value(status["OwnerList"][at].clone()).unwrap();
    let stop = status["BlockList"][at].as_u64().unwrap();
    Some((owner, stop))
}

#[test]
fn an_operator_stakes_stops_and_withdraws_through_validator_commands() {
    let node = DevNode::start(&["--dev.period", "1"]);
    let rpc = format!("http://{}", node.http);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw.txt"), "operator password\n").unwrap();
    std::fs::write(dir.path().join("wallet.hex"), &node.keys[1]).unwrap();
    let wallet = node.accounts[1];

    // The node key, made and shown by `validator key`; the wallet imported beside it.
    let made = ok(validator(dir.path(), &["validator", "key", "--lightkdf"]));
    let node_key: Address = line_value(&made, "Address:").parse().unwrap();
    assert!(
        line_value(&made, "Enode:").starts_with("enode://"),
        "{made}"
    );
    assert!(
        line_value(&made, "Peer id:").starts_with("16Uiu2"),
        "{made}"
    );
    let wallet_file = dir.path().join("wallet.hex");
    ok(validator(
        dir.path(),
        &[
            "account",
            "import",
            wallet_file.to_str().unwrap(),
            "--lightkdf",
        ],
    ));
    let owner_args = |command: &str| -> Vec<String> {
        [
            "validator",
            "--rpc",
            &rpc,
            command,
            "--node",
            &node_key.to_string(),
            "--from",
            &wallet.to_string(),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let run = |command: &str, extra: &[&str]| {
        let mut args = owner_args(command);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        validator(dir.path(), &args)
    };

    // --print-unsigned: the calldata for an external wallet, nothing sent.
    let unsigned: Value = serde_json::from_str(&ok(run("deposit", &["--print-unsigned"]))).unwrap();
    assert_eq!(unsigned["to"], json!(POC));
    assert_eq!(unsigned["value"], json!(ONE_COIN.to_string()));
    assert_eq!(unsigned["chainId"], json!(1337));
    assert!(
        unsigned["data"].as_str().unwrap().starts_with("0xf2a558f9"),
        "{unsigned}"
    );
    assert!(
        matches!(unsigned["nodeSignature"]["v"].as_u64(), Some(27 | 28)),
        "{unsigned}"
    );
    assert_eq!(nonce(&node, wallet), 0, "--print-unsigned sends nothing");

    // Deposit: the minimum stake leaves the wallet and POC lists the node, owned by it.
    let before = balance(&node, wallet);
    let out = ok(run("deposit", &[]));
    assert!(out.contains("deposit: mined in block"), "{out}");
    assert_eq!(
        balance(&node, wallet),
        before - U256::from(ONE_COIN) - fee_of(&node, &out)
    );
    assert_eq!(poc_entry(&node, node_key), Some((wallet, 0)));
    let status = ok(validator(
        dir.path(),
        &[
            "validator",
            "--rpc",
            &rpc,
            "status",
            "--node",
            &node_key.to_string(),
        ],
    ));
    assert!(
        status.contains(&format!("Stake:    {ONE_COIN} wei from {wallet}, running")),
        "{status}"
    );

    // A second deposit would revert: explained and not sent.
    let error = failed(run("deposit", &[]));
    assert!(
        error.contains("deposit not sent: it would be reverted: \"POC: already staked\": this node already has a stake"),
        "{error}"
    );
    assert_eq!(nonce(&node, wallet), 1, "the refused deposit was not sent");

    // Stop, then a withdraw before the wait is refused with the block it can be mined from.
    ok(run("stop", &[]));
    let (_, stop_block) = poc_entry(&node, node_key).unwrap();
    assert!(stop_block > 0);
    let error = failed(run("withdraw", &[]));
    assert!(error.contains("\"POC: still waiting\""), "{error}");
    let first = stop_block + 10 + 1;
    wait_for("the withdraw wait", Duration::from_secs(60), || {
        (quantity_u64(&node.result("eth_blockNumber", json!([]))) >= first).then_some(())
    });

    // Withdraw: the stake comes back and POC forgets the node.
    let before = balance(&node, wallet);
    let out = ok(run("withdraw", &[]));
    assert_eq!(
        balance(&node, wallet),
        before + U256::from(ONE_COIN) - fee_of(&node, &out)
    );
    assert_eq!(poc_entry(&node, node_key), None);
    let error = failed(run("withdraw", &[]));
    assert!(
        error.contains("\"POC: no such miner\": this node has no stake"),
        "{error}"
    );
}

#[test]
fn a_node_of_another_chain_is_refused_before_anything_is_signed() {
    let node = DevNode::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw.txt"), "pw\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(["--chain", "testnet", "--datadir"])
        .arg(dir.path())
        .args([
            "validator",
            "--rpc",
            &format!("http://{}", node.http),
            "stop",
        ])
        .args([
            "--node",
            &Address::repeat_byte(1).to_string(),
            "--from",
            &node.accounts[0].to_string(),
        ])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let error = failed(out);
    assert!(
        error.contains("the node at --rpc runs chain id 1337, but --chain testnet has chain id"),
        "{error}"
    );
}

// ---- the double-signing guard, on a private network of real processes ----

mod guard {
    use std::path::{Path, PathBuf};

    use alloy_primitives::{Address, hex};
    use secp256k1::SecretKey;
    use serde_json::json;

    use super::*;
    use crate::common::{Node, spectrum};

    const KEY_A: [u8; 32] = [0x55; 32];
    const KEY_B: [u8; 32] = [0x66; 32];

    fn address_of(key: &[u8; 32]) -> Address {
        let secret = SecretKey::from_byte_array(*key).unwrap();
        spectrum_primitives::public_key_to_address(&secret.public_key(secp256k1::SECP256K1))
    }

    fn s(path: &Path) -> &str {
        path.to_str().unwrap()
    }

    struct Net {
        dir: tempfile::TempDir,
        binary: PathBuf,
        genesis: PathBuf,
        password: PathBuf,
    }

    impl Net {
        /// Two leaders A and B (signer limit 1, period 2 s); key A imported into the datadirs
        /// `a` and `a2`, key B into `b`.
        fn create() -> Net {
            let dir = tempfile::tempdir().unwrap();
            let binary = common::copy_binary(dir.path());
            let password = dir.path().join("pw.txt");
            std::fs::write(&password, "guard test\n").unwrap();
            for (key, datadir) in [(KEY_A, "a"), (KEY_A, "a2"), (KEY_B, "b")] {
                let file = dir.path().join("key.txt");
                std::fs::write(&file, hex::encode(key)).unwrap();
                let datadir = dir.path().join(datadir);
                spectrum(&[
                    "account",
                    "import",
                    s(&file),
                    "--lightkdf",
                    "--datadir",
                    s(&datadir),
                    "--password",
                    s(&password),
                ]);
            }
            let genesis = dir.path().join("guard.json");
            let leaders = format!("{},{}", address_of(&KEY_A), address_of(&KEY_B));
            spectrum(&[
                "genesis",
                "new",
                "--name",
                "guard",
                "--chain-id",
                "4343",
                "--period",
                "2",
                "--signer-limit",
                "1",
                "--epoch",
                "1000",
                "--validators",
                &leaders,
                "--out",
                s(&genesis),
            ]);
            Net {
                dir,
                binary,
                genesis,
                password,
            }
        }

        fn start(&self, datadir: &str, bootnodes: &[&Node]) -> Node {
            let mut args: Vec<String> = [
                "--chain",
                s(&self.genesis),
                "--datadir",
                s(&self.dir.path().join(datadir)),
                "--listen-addr",
                "127.0.0.1",
                "--port",
                "0",
                "--nodiscover",
                "--http",
                "--http.port",
                "0",
                "--mine",
                "--password",
                s(&self.password),
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
            let log = self.dir.path().join(format!("{datadir}.log"));
            Node::start(&self.binary, datadir, &args, &log)
        }
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }

    fn miner_at(node: &Node, number: u64) -> Option<Address> {
        node.block(number)
            .map(|b| b["miner"].as_str().unwrap().parse().unwrap())
    }

    /// The highest block of `node`'s chain sealed by `who`.
    fn last_by(node: &Node, who: Address) -> u64 {
        (1..=node.head())
            .rev()
            .find(|n| miner_at(node, *n) == Some(who))
            .unwrap_or(0)
    }

    /// The guard's refusal as `tribe_getStatus` shows it, once the node reports one.
    fn wait_for_refusal(node: &Node) -> String {
        wait_for(
            "the double-signing guard to refuse",
            Duration::from_secs(60),
            || {
                node.result("tribe_getStatus", json!([]))["sealGuard"]
                    .as_str()
                    .map(str::to_owned)
            },
        )
    }

    #[test]
    fn a_second_node_with_our_key_and_a_restored_datadir_copy_refuse_to_seal() {
        let net = Net::create();
        let a_address = address_of(&KEY_A);
        let a = net.start("a", &[]);
        let b = net.start("b", &[&a]);
        wait_for("both validators sealing", Duration::from_secs(60), || {
            (b.head() >= 4 && last_by(&b, a_address) >= 2).then_some(())
        });

        // 1. A second live node with key A: it catches up on blocks signed with A that it did
        // not seal, and refuses.
        let a2 = net.start("a2", &[&a, &b]);
        let refusal = wait_for_refusal(&a2);
        assert!(
            refusal.contains("is signed with this validator's key but this node did not seal it"),
            "{refusal}"
        );
        let status = ok(Command::new(&net.binary)
            .args([
                "--chain",
                s(&net.genesis),
                "--datadir",
                s(&net.dir.path().join("a2")),
            ])
            .args([
                "validator",
                "--rpc",
                &format!("http://{}", a2.http),
                "status",
                "--node",
                &a_address.to_string(),
            ])
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .unwrap());
        assert!(
            status.contains("Sealing:  REFUSED by the double-signing guard"),
            "{status}"
        );
        let head = b.head();
        wait_for("the chain to go on", Duration::from_secs(30), || {
            (a.head() >= head + 3).then_some(())
        });
        assert!(
            !a2.log_contains("sealed block"),
            "the second node with key A sealed"
        );
        a2.kill();

        // 2. A's datadir copied, A seals on, then A is restarted from the old copy.
        a.kill();
        copy_dir(&net.dir.path().join("a"), &net.dir.path().join("a-copy"));
        let a = net.start("a", &[&b]);
        let copied_at = last_by(&b, a_address);
        wait_for("A sealing after the copy", Duration::from_secs(60), || {
            (last_by(&b, a_address) >= copied_at + 2).then_some(())
        });
        let sealed_before = last_by(&b, a_address);
        a.kill();
        let restored = net.start("a-copy", &[&b]);
        let refusal = wait_for_refusal(&restored);
        assert!(refusal.contains("did not seal it"), "{refusal}");
        assert!(restored.log_contains("refusing to seal"));
        // B goes on alone (standing in for A's slots); no block signed with A appears.
        let head = b.head();
        wait_for("B to seal on", Duration::from_secs(60), || {
            (b.head() >= head + 3).then_some(())
        });
        assert_eq!(
            last_by(&b, a_address),
            sealed_before,
            "the restored copy sealed with key A"
        );
        assert!(
            !restored.log_contains("sealed block"),
            "the restored copy sealed"
        );
        // tribe_missedSlots names A's in-turn slots that B filled meanwhile.
        let b_address = address_of(&KEY_B);
        let missed = b.result(
            "tribe_missedSlots",
            json!([a_address, sealed_before + 1, b.head()]),
        );
        let missed = missed.as_array().unwrap();
        assert!(!missed.is_empty(), "A's slots were filled by B");
        for slot in missed {
            let number = slot["number"].as_u64().unwrap();
            assert!(number > sealed_before);
            assert_eq!(miner_at(&b, number), Some(b_address), "{slot}");
            let sealed_by: Address = slot["sealedBy"].as_str().unwrap().parse().unwrap();
            assert_eq!(sealed_by, b_address);
        }

        // 3. The operator has retired the other copy and restarts: the refusal is lifted, the
        // record keeps it from signing at the heights signed elsewhere, and it seals again.
        restored.kill();
        let resumed = net.start("a-copy", &[&b]);
        wait_for("A sealing again", Duration::from_secs(60), || {
            (last_by(&b, a_address) > sealed_before).then_some(())
        });
        assert_eq!(
            resumed.result("tribe_getStatus", json!([]))["sealGuard"],
            json!(null)
        );
        let height = b.head().min(resumed.head());
        assert_eq!(b.hash_at(height), resumed.hash_at(height), "one chain");
    }
}
