//! Real `spectrum` processes for the end-to-end tests: a `spectrum --dev` with the accounts, keys
//! and URLs its banner prints ([`DevNode`]), and network nodes ([`Node`]) spawned with their own
//! datadir, RPC port and p2p port (all ephemeral), their addresses read from stdout, their logs
//! kept in a file beside the datadir (printed when a test fails). Every process is killed on
//! drop, even on panic. [`net`] makes their keys, genesis and command lines; [`peer`] is an
//! in-process libp2p peer of their chain.

#![allow(dead_code)]

pub mod net;
pub mod peer;

use std::{
    fs::File,
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U256};
use serde_json::{Value, json};

/// How long a process may take to print its addresses.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A private copy of the `spectrum` binary in `dir`: a test that restarts nodes minutes after
/// it began keeps running one build even if the shared target directory is rebuilt meanwhile.
pub fn copy_binary(dir: &Path) -> PathBuf {
    let copy = dir.join("spectrum");
    std::fs::copy(env!("CARGO_BIN_EXE_spectrum"), &copy).expect("copy the spectrum binary");
    copy
}

/// Runs `spectrum args…` to completion and returns its output (asserting success).
pub fn spectrum(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("spawn spectrum");
    assert!(
        out.status.success(),
        "spectrum {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A running `spectrum --dev` on ephemeral RPC ports, killed on drop.
pub struct DevNode {
    child: Child,
    /// The datadir when the caller gave none: a temporary directory removed on drop (the node
    /// removes its own temporary datadir only on a clean shutdown, and drop kills it).
    _datadir: Option<tempfile::TempDir>,
    /// HTTP JSON-RPC address.
    pub http: SocketAddr,
    /// WebSocket JSON-RPC address.
    pub ws: SocketAddr,
    /// The funded accounts' private keys, as printed (hex).
    pub keys: Vec<String>,
    /// The funded accounts.
    pub accounts: Vec<Address>,
}

impl DevNode {
    /// Starts `spectrum --dev extra…` and reads its banner: ten accounts, their keys, the URLs.
    pub fn start(extra: &[&str]) -> DevNode {
        let datadir = (!extra.contains(&"--datadir"))
            .then(|| tempfile::tempdir().expect("a temporary datadir"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_spectrum"));
        command.args(["--dev", "--http.port", "0", "--ws.port", "0"]);
        if let Some(dir) = &datadir {
            command.arg("--datadir").arg(dir.path());
        }
        let mut child = command
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn spectrum --dev");
        let lines = stdout_lines(&mut child);
        let deadline = Instant::now() + START_DEADLINE;
        let (mut keys, mut accounts, mut http, mut ws) = (Vec::new(), Vec::new(), None, None);
        let mut section = "";
        while http.is_none() || ws.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines.recv_timeout(left).expect("the dev banner in time");
            if line.starts_with("Available accounts") {
                section = "accounts";
            } else if line.starts_with("Private keys") {
                section = "keys";
            } else if let Some(url) = line.strip_prefix("HTTP JSON-RPC: http://") {
                http = Some(url.parse().expect("the HTTP address"));
            } else if let Some(url) = line.strip_prefix("WebSocket JSON-RPC: ws://") {
                ws = Some(url.parse().expect("the WebSocket address"));
            } else if let Some((_, value)) = line.split_once(") ") {
                match section {
                    "accounts" => accounts.push(value.parse().expect("an address")),
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
            _datadir: datadir,
            http: http.expect("read above"),
            ws: ws.expect("read above"),
            keys,
            accounts,
        }
    }

    /// POSTs `body` over a fresh HTTP/1.1 connection and returns the JSON answer.
    pub fn post(&self, body: &str) -> Value {
        post_json(self.http, body).unwrap_or_else(|e| panic!("{e}"))
    }

    /// One JSON-RPC call; the whole response object.
    pub fn call(&self, method: &str, params: Value) -> Value {
        self.post(
            &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
        )
    }

    /// The result of a JSON-RPC call that must succeed.
    pub fn result(&self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's stdout, line by line, on a channel (a reader thread ends with the process).
fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// POSTs a JSON body to `addr` over a fresh HTTP/1.1 connection and parses the answer.
fn post_json(addr: SocketAddr, body: &str) -> Result<Value, String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("{addr}: connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
    )
    .map_err(|e| format!("{addr}: write: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("{addr}: read: {e}"))?;
    let (_, json_body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{addr}: not an HTTP response: {response}"))?;
    serde_json::from_str(json_body).map_err(|e| format!("{addr}: {e}: {json_body}"))
}

/// A running node. Dropping it kills the process.
pub struct Node {
    pub name: String,
    child: Child,
    /// HTTP JSON-RPC address.
    pub http: SocketAddr,
    /// Its p2p multiaddr with `/p2p/<peer id>` (a bootnode address for others).
    pub p2p: String,
    /// Its log (stderr).
    pub log: PathBuf,
    /// Its devp2p `enode://` URL, when it runs devp2p (printed before the RPC URL).
    pub enode: Option<String>,
}

impl Node {
    /// Starts `binary args…` (a `spectrum` binary) with its stderr appended to `log`, and waits
    /// until it prints its p2p address and RPC URL.
    pub fn start(binary: &Path, name: &str, args: &[String], log: &Path) -> Node {
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(log)
            .expect("open the log file");
        let mut child = Command::new(binary)
            .args(args)
            .env(
                "RUST_LOG",
                "info,spectrum_sync=debug,spectrum_network=debug",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn spectrum");
        let rx = stdout_lines(&mut child);
        let mut node = Node {
            name: name.to_owned(),
            child,
            http: SocketAddr::from(([0, 0, 0, 0], 0)),
            p2p: String::new(),
            log: log.to_owned(),
            enode: None,
        };
        let deadline = Instant::now() + START_DEADLINE;
        let (mut http, mut p2p) = (None, None);
        while http.is_none() || p2p.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                panic!(
                    "{name} printed no addresses within {START_DEADLINE:?}:\n{}",
                    node.log_tail(40)
                );
            };
            if let Some(url) = line.strip_prefix("HTTP JSON-RPC: http://") {
                http = Some(url.parse().expect("an RPC address"));
            } else if let Some(addr) = line.strip_prefix("P2P: ") {
                p2p = Some(addr.to_owned());
            } else if let Some(enode) = line.strip_prefix("ENODE: ") {
                node.enode = Some(enode.to_owned());
            }
        }
        node.http = http.expect("checked");
        node.p2p = p2p.expect("checked");
        node
    }

    /// The TCP port of the p2p address (to restart the node on the same one).
    pub fn p2p_port(&self) -> u16 {
        let mut parts = self.p2p.split('/');
        parts
            .by_ref()
            .find(|part| *part == "tcp")
            .and_then(|_| parts.next())
            .and_then(|port| port.parse().ok())
            .expect("a /tcp/ port in the p2p address")
    }

    /// Its resident memory in KiB (`VmRSS` of /proc/<pid>/status).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process is running");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a VmRSS line")
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Whether its log contains `needle`.
    pub fn log_contains(&self, needle: &str) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|text| text.contains(needle))
    }

    /// Kills the process at once (SIGKILL: a crash, not a clean stop).
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// One JSON-RPC call; `Err` if the node does not answer.
    pub fn try_call(&self, method: &str, params: Value) -> Result<Value, String> {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        post_json(self.http, &body).map_err(|e| format!("{}: {e}", self.name))
    }

    /// The result of a JSON-RPC call that must succeed.
    pub fn result(&self, method: &str, params: Value) -> Value {
        let response = self
            .try_call(method, params)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.log_tail(30)));
        assert!(
            response.get("error").is_none(),
            "{} {method}: {response}",
            self.name
        );
        response["result"].clone()
    }

    /// Head number.
    pub fn head(&self) -> u64 {
        quantity_u64(&self.result("eth_blockNumber", json!([])))
    }

    /// The canonical block at `number` (without transactions), `None` if it has none.
    pub fn block(&self, number: u64) -> Option<Value> {
        let block = self.result(
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), false]),
        );
        (!block.is_null()).then_some(block)
    }

    /// The canonical hash at `number`.
    pub fn hash_at(&self, number: u64) -> Option<B256> {
        self.block(number).map(|block| {
            block["hash"]
                .as_str()
                .expect("a hash")
                .parse()
                .expect("hex")
        })
    }

    /// `net_peerCount`.
    pub fn peer_count(&self) -> u64 {
        quantity_u64(&self.result("net_peerCount", json!([])))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "---- last log lines of {} ({}) ----\n{}",
                self.name,
                self.log.display(),
                self.log_tail(60)
            );
        }
    }
}

/// A hex quantity as a number.
pub fn quantity(value: &Value) -> U256 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a quantity: {value}"));
    U256::from_str_radix(text.trim_start_matches("0x"), 16).expect("hex")
}

/// A hex quantity that fits a u64.
pub fn quantity_u64(value: &Value) -> u64 {
    u64::try_from(quantity(value)).expect("fits u64")
}

/// Polls `f` until it returns `Some`, for at most `timeout`; panics naming `what` after.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
