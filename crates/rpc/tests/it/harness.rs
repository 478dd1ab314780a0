//! A node over the reference devnet chain: database, chain, pool, RPC servers on their own
//! runtime, and a plain HTTP/1.1 client.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, TxKind, U256, hex};
use serde_json::{Value, json};
use spectrum_chain::{Blockchain, test_utils::TestChain};
use spectrum_import::ChainFileReader;
use spectrum_primitives::SealedBlock;
use spectrum_rpc::{NoNetwork, RpcConfig, RpcContext, RpcHandle};
use spectrum_storage_api::{ChainReader, StateError, StateProvider};
use spectrum_txpool::{Pool, PoolConfig, StateSource, TxPool};

/// Devnet user1 (funded; gen.py's K1).
pub const USER1_KEY: &str = "21161610bc2dde673c45e36f1373df28db2396adf1d8e4b0f2c5ef6781719375";
/// Devnet user2 (gen.py's K2).
pub const USER2_KEY: &str = "85014f716eb68f9ffc1690fe95fe16cab7b87b418b16c655b082bca6ddf462b9";
/// The devnet signer (the reference node's miner).
pub const SIGNER: &str = "0x9944d0cc757cd9391ee320fc17d5b6f61693f2c5";

pub fn testdata() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/spectrum-devnet"
    ));
    assert!(
        dir.is_dir(),
        "test data {} not found: ../shared/testdata must sit beside the clone",
        dir.display()
    );
    dir
}

/// The reference node's recorded answers.
pub fn expected() -> &'static Value {
    static EXPECTED: OnceLock<Value> = OnceLock::new();
    EXPECTED.get_or_init(|| {
        let text = std::fs::read_to_string(testdata().join("expected.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

/// Every block of the reference chain, genesis first.
pub fn blocks() -> &'static [SealedBlock] {
    static BLOCKS: OnceLock<Vec<SealedBlock>> = OnceLock::new();
    BLOCKS.get_or_init(|| {
        ChainFileReader::open(testdata().join("chain.rlp"))
            .unwrap()
            .map(|block| block.unwrap().seal_slow())
            .collect()
    })
}

struct ChainState(Arc<dyn ChainReader>);

impl StateSource for ChainState {
    fn latest(&self) -> Result<Box<dyn StateProvider + '_>, StateError> {
        let state = self.0.latest().map_err(|e| StateError(Box::new(e)))?;
        Ok(state)
    }
}

pub struct Node {
    pub chain: Arc<Blockchain>,
    pub http: SocketAddr,
    pub ws: SocketAddr,
    handle: Option<RpcHandle>,
    // Dropped last: the servers run on it.
    pub rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.rt.block_on(handle.stop());
        }
    }
}

impl Node {
    /// A devnet node holding blocks 0..=`head`, serving with `config` (addresses forced to
    /// 127.0.0.1:0).
    pub fn devnet(head: u64, edit: impl FnOnce(&mut RpcConfig)) -> Node {
        let TestChain {
            chain, spec, dir, ..
        } = TestChain::devnet();
        let chain = Arc::new(chain);
        let db = chain.provider().clone();
        for block in blocks().iter().skip(1).take_while(|b| b.number() <= head) {
            chain.insert_block(block.clone()).unwrap();
        }
        let head_header = db.header_by_number(head).unwrap().unwrap();
        let pool = Arc::new(Pool::new(
            PoolConfig::for_chain(&spec),
            spec.clone(),
            Arc::new(ChainState(db.clone())),
            head_header.number,
            head_header.gas_limit,
        ));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = RpcConfig {
            http: Some("127.0.0.1:0".parse().unwrap()),
            ws: Some("127.0.0.1:0".parse().unwrap()),
            ..RpcConfig::default()
        };
        edit(&mut config);
        let ctx = RpcContext {
            db: db.clone(),
            spec: spec.clone(),
            pool: pool.clone() as Arc<dyn TxPool>,
            events: chain.clone(),
            network: Arc::new(NoNetwork),
            min_gas_price: U256::from(18_000_000_000u64),
            client_version: "spectrum-rs/test".to_owned(),
            validator: Some(SIGNER.parse().unwrap()),
            seal_guard: None,
            admin: None,
            dev_controls: None,
        };
        let handle = rt.block_on(spectrum_rpc::start(config, ctx)).unwrap();
        Node {
            http: handle.http_addr().unwrap_or(([127, 0, 0, 1], 0).into()),
            ws: handle.ws_addr().unwrap_or(([127, 0, 0, 1], 0).into()),
            handle: Some(handle),
            chain,
            rt,
            _dir: dir,
        }
    }

    /// Imports reference blocks `from..=to` (they must follow the head).
    pub fn import(&self, from: u64, to: u64) {
        for block in blocks()
            .iter()
            .filter(|b| (from..=to).contains(&b.number()))
        {
            self.chain.insert_block(block.clone()).unwrap();
        }
    }

    /// POSTs `body`; the status and the body.
    pub fn post(&self, body: &str) -> (u16, String) {
        post_raw(self.http, body, &[])
    }

    /// One request; the whole response object.
    pub fn request(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (status, text) = self.post(&body.to_string());
        assert_eq!(status, 200, "{method}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method}: {e}: {text}"))
    }

    /// The result of a request that must succeed.
    pub fn result(&self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The error of a request that must fail: code and message.
    pub fn error(&self, method: &str, params: Value) -> (i64, String, Value) {
        let response = self.request(method, params);
        let error = response
            .get("error")
            .unwrap_or_else(|| panic!("{method} should fail: {response}"));
        (
            error["code"].as_i64().unwrap(),
            error["message"].as_str().unwrap().to_owned(),
            error.get("data").cloned().unwrap_or(Value::Null),
        )
    }
}

/// Limits the heavy pool: `threads` running, `queue` waiting, each EVM call stopped after
/// `evm_timeout`.
pub fn limit_heavy(config: &mut RpcConfig, threads: usize, queue: usize, evm_timeout: Duration) {
    config.limits.heavy_threads = threads;
    config.limits.heavy_queue = queue;
    config.limits.evm_timeout = evm_timeout;
}

/// Caps the subscriptions of all connections together.
pub fn limit_subscriptions(config: &mut RpcConfig, max: usize) {
    config.limits.max_subscriptions = max;
}

/// The node over the whole reference chain, shared by read-only tests.
pub fn shared() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| Node::devnet(220, |_| {}))
}

/// A POST over a fresh connection with extra headers; status and body.
pub fn post_raw(addr: SocketAddr, body: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) and close before reading a huge body.
    let _ = stream.write_all(body.as_bytes());
    read_response(stream)
}

/// Any request over a fresh connection; the status, headers (lower-cased names) and body.
pub fn raw_request(addr: SocketAddr, request: &str) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, dechunk(body))
}

fn read_response(mut stream: TcpStream) -> (u16, String) {
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    )
}

fn dechunk(body: &str) -> String {
    if !body.contains("\r\n") {
        return body.to_owned();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_owned();
        };
        if size == 0 {
            break;
        }
        out.push_str(tail.get(..size).unwrap_or(tail));
        rest = tail.get(size + 2..).unwrap_or("");
    }
    out
}

/// `0x…` quantity or decimal string to U256.
pub fn quantity(value: &Value) -> U256 {
    match value {
        Value::String(s) if s.starts_with("0x") => U256::from_str_radix(&s[2..], 16).unwrap(),
        Value::String(s) => s.parse().unwrap(),
        Value::Number(n) => U256::from(n.as_u64().unwrap()),
        other => panic!("not a number: {other}"),
    }
}

pub fn lower(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_ascii_lowercase()
}

pub fn key(hex_key: &str) -> secp256k1::SecretKey {
    let bytes: [u8; 32] = hex::decode(hex_key).unwrap().try_into().unwrap();
    secp256k1::SecretKey::from_byte_array(bytes).unwrap()
}

pub fn address_of(hex_key: &str) -> Address {
    spectrum_primitives::public_key_to_address(&key(hex_key).public_key(secp256k1::SECP256K1))
}

/// A signed legacy transaction as `0x` RLP.
pub fn signed(hex_key: &str, tx: TxLegacy) -> (String, B256) {
    let signed = spectrum_primitives::sign_transaction(tx, &key(hex_key));
    (
        format!("0x{}", hex::encode(alloy_rlp::encode(&signed))),
        signed.hash(),
    )
}

/// A devnet (chain id 4) transfer.
pub fn transfer(nonce: u64, to: Address, value: U256, gas_price: u128) -> TxLegacy {
    TxLegacy {
        chain_id: Some(4),
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value,
        input: Default::default(),
    }
}

/// Waits for `f` to give a value, polling, up to `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
