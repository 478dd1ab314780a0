//! JSON-RPC end to end against a real `spectrum --dev` process: the wallet flow a MetaMask-like
//! client follows, then the ethers v6 suite in `tests/clients/ethers-e2e.mjs` (transfers,
//! a contract and its events, filters, WebSocket subscriptions, a revert with its reason, every
//! pool error, malformed parameters, a batch). The suite's packages are installed with
//! `npm ci --prefix tests/clients` (pinned by its lock file) when they are missing, so README's
//! one test command is enough; without Node.js the test fails and says so. Issue 19 adds viem's
//! test client (`tests/clients/viem-dev.mjs`) and a Hardhat project (`tests/clients/hardhat`)
//! driving the dev controls.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{path::PathBuf, process::Command, time::Duration};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, TxKind, U256, hex};
use common::{DevNode, quantity, wait_for};
use serde_json::{Value, json};

/// One call; prints request and response (the wallet flow in the report shows them).
fn call(node: &DevNode, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response = node.post(&request.to_string());
    eprintln!("--> {request}\n<-- {response}");
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}

/// What MetaMask does for a send: chain id, balance, estimate, price, send, receipt.
#[test]
fn wallet_flow() {
    let node = DevNode::start(&[]);
    let from = node.accounts[2];
    let to = Address::repeat_byte(0x5a);
    let value = U256::from(10u64).pow(U256::from(17u64));
    assert_eq!(call(&node, "eth_chainId", json!([])), json!("0x539"));
    let balance = quantity(&call(&node, "eth_getBalance", json!([from, "latest"])));
    assert_eq!(
        balance,
        U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64))
    );
    let estimate = call(
        &node,
        "eth_estimateGas",
        json!([{"from": from, "to": to, "value": format!("{value:#x}")}]),
    );
    assert_eq!(estimate, json!("0x5208"));
    let price = quantity(&call(&node, "eth_gasPrice", json!([])));
    assert!(price >= U256::from(1_000_000_000u64));
    let nonce = quantity(&call(
        &node,
        "eth_getTransactionCount",
        json!([from, "pending"]),
    ));
    let key: [u8; 32] = hex::decode(&node.keys[2]).unwrap().try_into().unwrap();
    let key = secp256k1::SecretKey::from_byte_array(key).unwrap();
    let tx = TxLegacy {
        chain_id: Some(1337),
        nonce: nonce.to::<u64>(),
        gas_price: price.to::<u128>(),
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value,
        input: Default::default(),
    };
    let signed = spectrum_primitives::sign_transaction(tx, &key);
    let raw = format!("0x{}", hex::encode(alloy_rlp::encode(&signed)));
    let hash = call(&node, "eth_sendRawTransaction", json!([raw]));
    assert_eq!(hash, json!(signed.hash()));
    let receipt = wait_for("the receipt", Duration::from_secs(30), || {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt", "params": [hash]});
        let response = node.post(&request.to_string());
        (!response["result"].is_null()).then(|| {
            eprintln!("--> {request}\n<-- {response}");
            response["result"].clone()
        })
    });
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(receipt["effectiveGasPrice"], json!(format!("{price:#x}")));
    assert_eq!(
        quantity(&call(&node, "eth_getBalance", json!([to, "latest"]))),
        value
    );
}

fn clients_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/clients"))
}

#[test]
fn ethers_v6_suite() {
    let dir = clients_dir();
    install_ethers(&dir);
    let contracts = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/spectrum-devnet/contracts.json"
    ));
    assert!(
        contracts.is_file(),
        "{} not found: ../shared must sit beside the clone",
        contracts.display()
    );
    let node = DevNode::start(&[]);
    let output = Command::new("node")
        .arg(dir.join("ethers-e2e.mjs"))
        .arg(format!("http://{}", node.http))
        .arg(format!("ws://{}", node.ws))
        .arg(format!("0x{}", node.keys[0].trim_start_matches("0x")))
        .arg(format!("0x{}", node.keys[1].trim_start_matches("0x")))
        .arg(&contracts)
        .output()
        .expect("run node (Node.js is needed for the ethers suite)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ethers suite failed:\n{stdout}\n{stderr}"
    );
    let checks: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ethers e2e: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}"));
    assert!(checks >= 60, "only {checks} checks ran:\n{stdout}");
}

/// viem's test client (issue 19): `tests/clients/viem-dev.mjs` drives the dev controls
/// (mine, snapshot / revert, increaseTime, setNextBlockTimestamp, automine, the state setters,
/// impersonateAccount). viem's version is pinned in package.json.
#[test]
fn viem_test_client_suite() {
    let dir = clients_dir();
    install_ethers(&dir);
    let node = DevNode::start(&[]);
    let output = Command::new("node")
        .arg(dir.join("viem-dev.mjs"))
        .arg(format!("http://{}", node.http))
        .arg(format!("0x{}", node.keys[1].trim_start_matches("0x")))
        .output()
        .expect("run node (Node.js is needed for the viem suite)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "viem suite failed:\n{stdout}\n{stderr}"
    );
    let checks: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("viem dev: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}"));
    assert!(checks >= 15, "only {checks} checks ran:\n{stdout}");
}

/// A Hardhat project (`tests/clients/hardhat`, Hardhat 2.28.6 with hardhat-ethers 3.1.3,
/// pinned by its lock file) runs its tests with `npx hardhat test --network localhost`, the
/// `localhost` network pointed at the node: mining, time travel, snapshots, state setters and
/// a transfer through hardhat-ethers' signer (`eth_accounts` / `eth_sendTransaction`).
#[test]
fn hardhat_project_tests() {
    let dir = clients_dir().join("hardhat");
    if !dir.join("node_modules/hardhat/package.json").is_file() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .expect("run npm (Node.js and npm are needed for the Hardhat project)");
        assert!(
            status.success(),
            "`npm ci --prefix tests/clients/hardhat` failed: {status}"
        );
    }
    let node = DevNode::start(&[]);
    let output = Command::new("npx")
        .args(["hardhat", "test", "--network", "localhost"])
        .current_dir(&dir)
        .env("SPECTRUM_RPC_URL", format!("http://{}", node.http))
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
        .env("CI", "true")
        .output()
        .expect("run npx hardhat");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "hardhat test failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("5 passing") && !stdout.contains("failing"),
        "expected the project's 5 tests to pass:\n{stdout}"
    );
}

/// Installs the suite's locked packages unless they are there (`.ci/run` does it beforehand).
fn install_ethers(dir: &std::path::Path) {
    if dir.join("node_modules/ethers/package.json").is_file()
        && dir.join("node_modules/viem/package.json").is_file()
    {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .status()
        .expect("run npm (Node.js and npm are needed for the ethers suite)");
    assert!(
        status.success(),
        "`npm ci --prefix tests/clients` failed: {status}"
    );
}
