//! `spectrum validator …` end to end, with real processes:
//!
//! - on a `spectrum --dev` process: the node key made with `validator key`, a funded dev
//!   account imported beside it, deposit / stop / withdraw through the commands, balances and
//!   POC state checked over JSON-RPC after each, failures (already staked, still waiting, no
//!   stake) explained in words and not sent, `--print-unsigned` sending nothing;
//! - the double-signing guard on a two-leader network: a second live node with the same key,
//!   and a validator restarted from an old copy of its datadir, both refuse to seal (and
//!   `tribe_missedSlots` names the slots the other leader filled meanwhile);
//! - a fourth node on a three-leader network (signer limit 2): its operator makes the key, binds
//!   a wallet to it in Anmap, deposits, runs it; it is picked by the VRF and seals a block every
//!   node accepts, which pays the wallet; `validator status` counts it by its seal; the operator
//!   stops, withdraws after the wait (3 blocks in this genesis) and unbinds.

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

    // The dev chain has no Anmap (genesis/dev.json predates it): bind says so, sends nothing.
    let error = failed(run("bind", &[]));
    assert!(
        error.contains("chain dev has no Anmap contract at block"),
        "{error}"
    );

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
    use std::path::PathBuf;

    use alloy_primitives::Address;
    use serde_json::json;

    use super::*;
    use crate::common::{
        Node,
        net::{Genesis, address_of, bootnodes, copy_dir, import_key, node_args, path_str as s},
    };

    const KEY_A: [u8; 32] = [0x55; 32];
    const KEY_B: [u8; 32] = [0x66; 32];

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
                import_key(&key, &dir.path().join(datadir), &password);
            }
            let genesis = dir.path().join("guard.json");
            Genesis {
                name: "guard",
                chain_id: 4343,
                period: 2,
                signer_limit: 1,
                validators: &[address_of(&KEY_A), address_of(&KEY_B)],
                alloc: &[],
                extra: &[],
            }
            .write(&genesis);
            Net {
                dir,
                binary,
                genesis,
                password,
            }
        }

        fn start(&self, datadir: &str, peers: &[&Node]) -> Node {
            let mut args = node_args(&self.genesis, &self.dir.path().join(datadir));
            args.extend(["--mine", "--password", s(&self.password)].map(str::to_owned));
            args.extend(bootnodes(peers));
            let log = self.dir.path().join(format!("{datadir}.log"));
            Node::start(&self.binary, datadir, &args, &log)
        }
    }

    /// The highest block of `node`'s chain sealed by `who`.
    fn last_by(node: &Node, who: Address) -> u64 {
        (1..=node.head())
            .rev()
            .find(|n| node.miner_at(*n) == Some(who))
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
            assert_eq!(b.miner_at(number), Some(b_address), "{slot}");
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

// ---- a fourth node becomes a staked validator on a 3-leader network, through the commands ----

mod staking_network {
    use std::path::PathBuf;

    use alloy_primitives::{Address, U256};
    use serde_json::json;

    use super::*;
    use crate::common::{
        Node,
        net::{Genesis, address_of, bootnodes, import_key, node_args, path_str as s},
    };

    const LEADER_KEYS: [[u8; 32]; 3] = [[0x71; 32], [0x72; 32], [0x73; 32]];
    const WALLET_KEY: [u8; 32] = [0x74; 32];
    /// Blocks between `stop` and the first block a `withdraw` may be mined in, minus one.
    const WITHDRAW_WAIT: u64 = 3;
    /// The block reward of chains made by `spectrum genesis new`: 35 coins.
    const BLOCK_REWARD: u128 = 35_000_000_000_000_000_000;

    struct Net {
        dir: tempfile::TempDir,
        binary: PathBuf,
        genesis: PathBuf,
        password: PathBuf,
    }

    impl Net {
        /// Three leaders, signer limit 2 (slot 0 a leader, slot 1 a staker picked by the
        /// VRF), period 2 s, a withdraw wait of 3 blocks; the wallet funded.
        fn create() -> Net {
            let dir = tempfile::tempdir().unwrap();
            let binary = common::copy_binary(dir.path());
            let password = dir.path().join("pw.txt");
            std::fs::write(&password, "staking test\n").unwrap();
            for (i, key) in LEADER_KEYS.iter().enumerate() {
                import_key(key, &dir.path().join(format!("v{i}")), &password);
            }
            import_key(&WALLET_KEY, &dir.path().join("n4"), &password);
            let genesis = dir.path().join("staking.json");
            let withdraw_wait = WITHDRAW_WAIT.to_string();
            Genesis {
                name: "staking",
                chain_id: 4444,
                period: 2,
                signer_limit: 2,
                validators: &LEADER_KEYS.map(|k| address_of(&k)),
                alloc: &[(
                    address_of(&WALLET_KEY),
                    U256::from(10u64).pow(U256::from(20u64)),
                )],
                extra: &["--withdraw-wait", &withdraw_wait],
            }
            .write(&genesis);
            Net {
                dir,
                binary,
                genesis,
                password,
            }
        }

        fn start(&self, datadir: &str, peers: &[&Node], extra: &[&str]) -> Node {
            let mut args = node_args(&self.genesis, &self.dir.path().join(datadir));
            args.extend(["--mine", "--password", s(&self.password)].map(str::to_owned));
            args.extend(extra.iter().map(|a| (*a).to_owned()));
            args.extend(bootnodes(peers));
            let log = self.dir.path().join(format!("{datadir}.log"));
            Node::start(&self.binary, datadir, &args, &log)
        }

        /// `spectrum validator --rpc <node> args…` with the operator's keystore (n4's).
        fn validator(&self, rpc: &Node, args: &[&str]) -> Output {
            Command::new(&self.binary)
                .args([
                    "--chain",
                    s(&self.genesis),
                    "--datadir",
                    s(&self.dir.path().join("n4")),
                ])
                .args(["--password", s(&self.password), "validator", "--rpc"])
                .arg(format!("http://{}", rpc.http))
                .args(args)
                .env_remove("RUST_LOG")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        }
    }

    /// The fee of the transaction whose hash the command printed.
    fn fee(node: &Node, stdout: &str) -> U256 {
        let hash = stdout
            .split("sent ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap();
        let receipt = node.result("eth_getTransactionReceipt", json!([hash]));
        assert_eq!(receipt["status"], json!("0x1"));
        let tx = node.result("eth_getTransactionByHash", json!([hash]));
        quantity(&receipt["gasUsed"]) * quantity(&tx["gasPrice"])
    }

    fn staked(node: &Node, miner: Address) -> Option<(Address, u64)> {
        let status = node.result("tribe_pocGetStatus", json!([]));
        let miners: Vec<Address> = serde_json::from_value(status["MinerList"].clone()).unwrap();
        let at = miners.iter().position(|m| *m == miner)?;
        let owner = serde_json::from_value(status["OwnerList"][at].clone()).unwrap();
        Some((owner, status["BlockList"][at].as_u64().unwrap()))
    }

    #[test]
    fn a_fourth_node_binds_stakes_seals_for_its_wallet_then_stops_withdraws_and_unbinds() {
        let net = Net::create();
        let wallet = address_of(&WALLET_KEY);
        let v0 = net.start("v0", &[], &[]);
        let v1 = net.start("v1", &[&v0], &[]);
        let v2 = net.start("v2", &[&v0, &v1], &[]);
        let validators = [&v0, &v1, &v2];

        // The operator makes the node key beside the wallet key and runs the node (mining: it
        // seals once the VRF gives it a slot).
        let made = ok(net.validator(&v0, &["key", "--lightkdf"]));
        let node_key: Address = line_value(&made, "Address:").parse().unwrap();
        let n4 = net.start("n4", &[&v0, &v1, &v2], &["--unlock", &node_key.to_string()]);
        wait_for("n4 in step", Duration::from_secs(60), || {
            (n4.head() >= 3 && n4.head() + 1 >= v0.head()).then_some(())
        });
        let owner = [
            "--node",
            &node_key.to_string(),
            "--from",
            &wallet.to_string(),
        ];
        let run = |command: &str| {
            let mut args = vec![command];
            args.extend(owner);
            net.validator(&n4, &args)
        };

        // Bind first: the wallet will receive n4's rewards. Every node sees the binding.
        let before = n4.balance(wallet);
        let out = ok(run("bind"));
        assert!(out.contains("bind: mined in block"), "{out}");
        assert_eq!(
            n4.balance(wallet),
            before - fee(&n4, &out),
            "bind costs its fee only"
        );
        for node in validators.iter().chain([&&n4]) {
            wait_for("the binding everywhere", Duration::from_secs(30), || {
                (bind_info(node, node_key) == (wallet, vec![node_key])).then_some(())
            });
        }
        assert_eq!(bind_info(&n4, wallet), (wallet, vec![node_key]));
        // A second bind would revert (one wallet per node): explained and not sent.
        let sent = nonce(&n4, wallet);
        let error = failed(run("bind"));
        assert!(
            error.contains("bind not sent: it would be reverted: \"Anmap: node already bound\""),
            "{error}"
        );
        assert_eq!(nonce(&n4, wallet), sent, "the refused bind was not sent");

        // Deposit through n4's RPC; every node sees the stake.
        let before = n4.balance(wallet);
        let status = n4.result("tribe_getStatus", json!([]));
        assert!(
            !status
                .to_string()
                .to_lowercase()
                .contains(&format!("{node_key:#x}")),
            "not a signer yet: {status}"
        );
        let out = ok(run("deposit"));
        assert!(out.contains("deposit: mined in block"), "{out}");
        for node in validators {
            wait_for("the stake everywhere", Duration::from_secs(30), || {
                (staked(node, node_key) == Some((wallet, 0))).then_some(())
            });
        }
        assert_eq!(
            n4.balance(wallet),
            before - U256::from(ONE_COIN) - fee(&n4, &out)
        );

        // Picked by the VRF, n4 seals a block every node accepts. Its coinbase is the bound
        // wallet (so blocks are found by coinbase here, and their seal checked below).
        let (number, hash) = wait_for(
            "a block sealed by n4 on every node",
            Duration::from_secs(90),
            || {
                let head = v0.head();
                let number = (1..=head)
                    .rev()
                    .take(20)
                    .find(|n| v0.miner_at(*n) == Some(wallet))?;
                let hash = v0.hash_at(number)?;
                validators
                    .iter()
                    .chain([&&n4])
                    .all(|n| n.hash_at(number) == Some(hash))
                    .then_some((number, hash))
            },
        );
        assert!(n4.log_contains("sealed block"));
        // Its role over RPC: a signer in the set its block was sealed under (read at the parent).
        let parent = v0.hash_at(number - 1).unwrap();
        let status = v0.result("tribe_getStatus", json!([parent]));
        let signers: Vec<Address> = status["signers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["address"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(signers.contains(&node_key), "{status}");
        assert!(
            !status["leaders"]
                .to_string()
                .to_lowercase()
                .contains(&format!("{node_key:#x}"))
        );
        let _ = hash;
        // The block paid the wallet: the reward (and the fees of its transactions), nothing to
        // the node key.
        let at = |n: u64| format!("{n:#x}");
        let paid = quantity(&v0.result("eth_getBalance", json!([wallet, at(number)])))
            - quantity(&v0.result("eth_getBalance", json!([wallet, at(number - 1)])));
        let txs =
            quantity_u64(&v0.result("eth_getBlockTransactionCountByNumber", json!([at(number)])));
        if txs == 1 {
            assert_eq!(
                paid,
                U256::from(BLOCK_REWARD),
                "only the chief update in it"
            );
        } else {
            assert!(paid >= U256::from(BLOCK_REWARD), "{paid}");
        }
        assert_eq!(
            v0.result("eth_getBalance", json!([node_key, at(number)])),
            json!("0x0"),
            "the node key receives nothing"
        );

        // `validator status` counts the blocks n4 sealed by their seal, though they name the
        // wallet: exactly the blocks with the wallet as coinbase in its range.
        let status = ok(net.validator(&v0, &["status", "--node", &node_key.to_string()]));
        assert!(
            status.contains(&format!("Rewards:  to {wallet} (bound in Anmap")),
            "{status}"
        );
        let sealed = line_value(&status, "Sealed:");
        let (count, range) = sealed.split_once(" of blocks ").unwrap();
        let (from, rest) = range.split_once("..=").unwrap();
        let to = rest.split_whitespace().next().unwrap();
        let (from, to): (u64, u64) = (from.parse().unwrap(), to.parse().unwrap());
        let by_wallet = (from..=to)
            .filter(|n| v0.miner_at(*n) == Some(wallet))
            .count();
        assert!(by_wallet >= 1 && (from..=to).contains(&number), "{status}");
        assert_eq!(count.parse::<usize>().unwrap(), by_wallet, "{status}");
        assert!(
            sealed.ends_with(&format!(
                "carry its seal ({by_wallet} paid to a bound wallet)"
            )),
            "{status}"
        );

        // Stop, wait, withdraw: the stake comes back.
        ok(run("stop"));
        let (_, stop_block) = wait_for("the stop everywhere", Duration::from_secs(30), || {
            staked(&v0, node_key).filter(|(_, stop)| *stop > 0)
        });
        let first = stop_block + WITHDRAW_WAIT + 1;
        wait_for("the withdraw wait", Duration::from_secs(90), || {
            (n4.head() >= first).then_some(())
        });
        let before = n4.balance(wallet);
        let out = ok(run("withdraw"));
        assert!(out.contains("withdraw: mined in block"), "{out}");
        assert!(
            n4.balance(wallet)
                > before + U256::from(ONE_COIN) - U256::from(10u64).pow(U256::from(15u64))
        );
        assert_eq!(staked(&n4, node_key), None);
        wait_for("the withdraw everywhere", Duration::from_secs(30), || {
            validators
                .iter()
                .all(|n| staked(n, node_key).is_none())
                .then_some(())
        });

        // Unbind: the node answers for itself again, on every node; a second unbind is
        // refused and not sent.
        let out = ok(run("unbind"));
        assert!(out.contains("unbind: mined in block"), "{out}");
        for node in validators.iter().chain([&&n4]) {
            wait_for("the unbinding everywhere", Duration::from_secs(30), || {
                (bind_info(node, node_key) == (node_key, vec![])).then_some(())
            });
        }
        assert_eq!(bind_info(&n4, wallet), (wallet, vec![]));
        let error = failed(run("unbind"));
        assert!(error.contains("\"Anmap: node not bound\""), "{error}");
        let status = ok(net.validator(&v0, &["status", "--node", &node_key.to_string()]));
        assert!(
            status.contains("Rewards:  to the node address (no wallet bound in Anmap)"),
            "{status}"
        );
    }

    /// `tribe_bindInfo(addr)`: (from, nodeids).
    fn bind_info(node: &Node, addr: Address) -> (Address, Vec<Address>) {
        let info = node.result("tribe_bindInfo", json!([addr]));
        (
            info["from"].as_str().unwrap().parse().unwrap(),
            serde_json::from_value(info["nodeids"].clone()).unwrap(),
        )
    }

    fn nonce(node: &Node, who: Address) -> u64 {
        quantity_u64(&node.result("eth_getTransactionCount", json!([who, "latest"])))
    }
}
