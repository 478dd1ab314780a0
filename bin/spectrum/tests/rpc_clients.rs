//! JSON-RPC end to end against a real `spectrum --dev` process: the wallet flow a MetaMask-like
//! client follows, then the ethers v6 suite in `tests/clients/ethers-e2e.mjs` (transfers,
//! a contract and its events, filters, WebSocket subscriptions, a revert with its reason, every
//! pool error, malformed parameters, a batch). The suite's packages are installed with
//! `npm ci --prefix tests/clients` (pinned by its lock file) when they are missing, so README's
//! one test command is enough; without Node.js the test fails and says so.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, TxKind, U256, hex};
use serde_json::{Value, json};

struct DevNode {
    child: Child,
    http: SocketAddr,
    ws: SocketAddr,
    keys: Vec<String>,
    accounts: Vec<Address>,
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> DevNode {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(["--dev", "--http.port", "0", "--ws.port", "0"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn spectrum --dev");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut keys, mut accounts, mut http, mut ws) = (Vec::new(), Vec::new(), None, None);
    let mut section = "";
    while http.is_none() || ws.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("the dev banner within 60 s");
        if line.starts_with("Available accounts") {
            section = "accounts";
        } else if line.starts_with("Private keys") {
            section = "keys";
        } else if let Some(url) = line.strip_prefix("HTTP JSON-RPC: http://") {
            http = Some(url.parse().unwrap());
        } else if let Some(url) = line.strip_prefix("WebSocket JSON-RPC: ws://") {
            ws = Some(url.parse().unwrap());
        } else if let Some((_, value)) = line.split_once(") ") {
            match section {
                "accounts" => accounts.push(value.parse().unwrap()),
                "keys" => keys.push(value.to_owned()),
                _ => {}
            }
        }
    }
    DevNode {
        child,
        http: http.unwrap(),
        ws: ws.unwrap(),
        keys,
        accounts,
    }
}

fn post(node: &DevNode, body: &str) -> Value {
    let mut stream = TcpStream::connect(node.http).unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        node.http,
        body.len(),
        body
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (_, json_body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    serde_json::from_str(json_body).unwrap_or_else(|e| panic!("{e}: {json_body}"))
}

/// One call; prints request and response (the wallet flow in the report shows them).
fn call(node: &DevNode, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response = post(node, &request.to_string());
    eprintln!("--> {request}\n<-- {response}");
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}

fn quantity(value: &Value) -> U256 {
    U256::from_str_radix(value.as_str().unwrap().strip_prefix("0x").unwrap(), 16).unwrap()
}

fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What MetaMask does for a send: chain id, balance, estimate, price, send, receipt.
#[test]
fn wallet_flow() {
    let node = start();
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
        let response = post(&node, &request.to_string());
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
    let node = start();
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

/// Installs the suite's locked packages unless they are there (`.ci/run` does it beforehand).
fn install_ethers(dir: &std::path::Path) {
    if dir.join("node_modules/ethers/package.json").is_file() {
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
