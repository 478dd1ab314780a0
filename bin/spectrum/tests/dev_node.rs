//! `spectrum --dev` as a real process: it prints the funded accounts and RPC URLs, seals
//! blocks, and mines a transfer signed with a printed key, visible over JSON-RPC.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, TxKind, U256, hex};
use serde_json::{Value, json};

/// A running `spectrum --dev`, killed on drop.
struct DevNode {
    child: Child,
    http: SocketAddr,
    keys: Vec<String>,
    accounts: Vec<Address>,
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> DevNode {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(["--dev", "--http.port", "0", "--ws.port", "0"])
        .args(extra)
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
    let (mut keys, mut accounts, mut http) = (Vec::new(), Vec::new(), None);
    let mut section = "";
    while http.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("the dev banner within 60 s");
        if line.starts_with("Available accounts") {
            section = "accounts";
        } else if line.starts_with("Private keys") {
            section = "keys";
        } else if let Some(url) = line.strip_prefix("HTTP JSON-RPC: http://") {
            http = Some(url.parse().unwrap());
        } else if let Some((_, value)) = line.split_once(") ") {
            match section {
                "accounts" => accounts.push(value.parse().unwrap()),
                "keys" => keys.push(value.to_owned()),
                _ => {}
            }
        }
    }
    assert_eq!(
        (accounts.len(), keys.len()),
        (10, 10),
        "ten accounts and keys printed"
    );
    DevNode {
        child,
        http: http.unwrap(),
        keys,
        accounts,
    }
}

/// One JSON-RPC call over a plain HTTP/1.1 connection.
fn call(node: &DevNode, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
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

fn result(node: &DevNode, method: &str, params: Value) -> Value {
    let response = call(node, method, params);
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}

fn quantity(value: &Value) -> U256 {
    let text = value.as_str().unwrap();
    U256::from_str_radix(text.strip_prefix("0x").unwrap(), 16).unwrap()
}

fn signed_transfer(key_hex: &str, nonce: u64, to: Address, value: U256) -> String {
    let bytes: [u8; 32] = hex::decode(key_hex).unwrap().try_into().unwrap();
    let key = secp256k1::SecretKey::from_byte_array(bytes).unwrap();
    let tx = TxLegacy {
        chain_id: Some(1337),
        nonce,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value,
        input: Default::default(),
    };
    let signed = spectrum_primitives::sign_transaction(tx, &key);
    format!("0x{}", hex::encode(alloy_rlp::encode(&signed)))
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

#[test]
fn dev_chain_mines_a_transfer_signed_with_a_printed_key() {
    let node = start(&[]);
    assert_eq!(result(&node, "eth_chainId", json!([])), json!("0x539"));
    assert_eq!(result(&node, "net_version", json!([])), json!("1337"));

    let sender = node.accounts[0];
    let recipient = Address::repeat_byte(0x77);
    let before = quantity(&result(&node, "eth_getBalance", json!([sender, "latest"])));
    assert_eq!(
        before,
        U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64))
    );
    let value = U256::from(123_456_789u64);
    let raw = signed_transfer(&node.keys[0], 0, recipient, value);
    let hash = result(&node, "eth_sendRawTransaction", json!([raw]));

    // A transaction in the pool gets a block at once (no fixed period on --dev).
    let receipt = wait_for("the receipt", Duration::from_secs(20), || {
        let receipt = result(&node, "eth_getTransactionReceipt", json!([hash]));
        (!receipt.is_null()).then_some(receipt)
    });
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(receipt["from"], json!(sender));
    assert_eq!(receipt["to"], json!(recipient));
    assert_eq!(receipt["gasUsed"], json!("0x5208"));
    assert_eq!(receipt["type"], json!("0x0"));
    assert_eq!(
        receipt["transactionIndex"],
        json!("0x1"),
        "after the chief update"
    );
    let mined_in = quantity(&receipt["blockNumber"]);
    assert!(mined_in >= U256::from(1u64));
    assert!(quantity(&result(&node, "eth_blockNumber", json!([]))) >= mined_in);
    assert_eq!(
        quantity(&result(
            &node,
            "eth_getBalance",
            json!([recipient, "latest"])
        )),
        value
    );
    let after = quantity(&result(&node, "eth_getBalance", json!([sender, "latest"])));
    let fee = U256::from(21_000u64) * U256::from(1_000_000_000u64);
    assert_eq!(after, before - value - fee);
    // Historical state: before the block, the recipient had nothing.
    let earlier = format!("{:#x}", mined_in - U256::from(1u64));
    assert_eq!(
        quantity(&result(
            &node,
            "eth_getBalance",
            json!([recipient, earlier])
        )),
        U256::ZERO
    );

    // Pool errors in geth's words.
    let again = call(&node, "eth_sendRawTransaction", json!([raw]));
    assert_eq!(again["error"]["message"], json!("nonce too low"), "{again}");
    let broke = signed_transfer(&node.keys[1], 0, recipient, U256::MAX >> 1);
    let refused = call(&node, "eth_sendRawTransaction", json!([broke]));
    assert_eq!(
        refused["error"]["message"],
        json!("insufficient funds for gas * price + value")
    );
    // Strict parameters: a decimal number is not a quantity.
    let bad = call(&node, "eth_getBalance", json!([sender, "12"]));
    assert_eq!(bad["error"]["code"], json!(-32602), "{bad}");

    // And empty blocks keep coming without transactions.
    let now = quantity(&result(&node, "eth_blockNumber", json!([])));
    wait_for("an empty block", Duration::from_secs(20), || {
        (quantity(&result(&node, "eth_blockNumber", json!([]))) > now).then_some(())
    });
}
