//! Operating a node (issue 18): two validators as real processes, scraped on `/metrics`
//! while they make blocks; the Grafana dashboard checked against the live scrape; the status
//! line and `--log.format json` / `--log.file` in their logs.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    time::Duration,
};

use alloy_primitives::{Address, TxKind, U256, hex};
use common::{
    Node,
    net::{Genesis, address_of, import_key, node_args, path_str},
    quantity, wait_for,
};
use secp256k1::SecretKey;
use serde_json::{Value, json};

const CHAIN_ID: u64 = 4343;
const VALIDATOR_KEYS: [[u8; 32]; 3] = [[0x11; 32], [0x22; 32], [0x33; 32]];
const USER_KEY: [u8; 32] = [0x44; 32];

/// A genesis of three leaders (signer limit 1, period 2 s: a block about every second) and one
/// keystore per validator.
struct Validators {
    dir: tempfile::TempDir,
    binary: PathBuf,
    genesis: PathBuf,
    password: PathBuf,
}

impl Validators {
    fn create() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let binary = common::copy_binary(dir.path());
        let password = dir.path().join("password.txt");
        std::fs::write(&password, "ops test password\n").unwrap();
        for (i, key) in VALIDATOR_KEYS.iter().enumerate() {
            import_key(key, &dir.path().join(format!("v{}", i + 1)), &password);
        }
        let genesis = dir.path().join("ops.json");
        Genesis {
            name: "ops",
            chain_id: CHAIN_ID,
            period: 2,
            signer_limit: 1,
            validators: &VALIDATOR_KEYS.map(|k| address_of(&k)),
            alloc: &[(
                address_of(&USER_KEY),
                U256::from(10u64).pow(U256::from(21u64)),
            )],
            extra: &[],
        }
        .write(&genesis);
        Self {
            dir,
            binary,
            genesis,
            password,
        }
    }

    fn validator(&self, i: usize, bootnode: Option<&Node>, extra: &[&str]) -> Node {
        let name = format!("v{i}");
        let datadir = self.dir.path().join(&name);
        let mut args = node_args(&self.genesis, &datadir);
        args.extend(
            [
                "--mine",
                "--password",
                path_str(&self.password),
                "--metrics",
                "--metrics.port",
                "0",
            ]
            .map(str::to_owned),
        );
        if let Some(boot) = bootnode {
            args.extend(["--bootnodes".to_owned(), boot.p2p.clone()]);
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let log = self.dir.path().join(format!("{name}.log"));
        Node::start(&self.binary, &name, &args, &log)
    }
}

/// The metrics address the node logged (`metrics listening url=http://…/metrics`).
fn metrics_addr(node: &Node) -> SocketAddr {
    wait_for(
        "the metrics address in the log",
        Duration::from_secs(20),
        || {
            let log = std::fs::read_to_string(&node.log).ok()?;
            let line = log.lines().find(|l| l.contains("metrics listening"))?;
            let start = line.find("http://")? + "http://".len();
            let end = start + line[start..].find("/metrics")?;
            line[start..end].parse().ok()
        },
    )
}

/// GET `path` over a plain socket: (status line, body).
fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    (
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    )
}

/// A scrape: every sample `name{labels}` to its value.
fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let (status, body) = get(addr, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("`series value`");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

/// The metric names a scrape declares (`# TYPE`: a labelled family is declared before its
/// first series), with the sample names each type is exposed under.
fn declared_names(addr: SocketAddr) -> BTreeSet<String> {
    let (_, body) = get(addr, "/metrics");
    body.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .flat_map(|l| {
            let (name, kind) = l.split_once(' ').expect("`# TYPE name kind`");
            let suffixes: &[&str] = match kind {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            suffixes
                .iter()
                .map(move |s| format!("{name}{s}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn value(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no series {series} in the scrape: {:#?}", samples.keys()))
}

/// Each signer's `spectrum_tribe_missed_slots_total` lies between what `tribe_missedSlots`
/// reports for the heads just before and just after the scrape (the counter follows the chain
/// events, so it may trail the head for a moment: retried until then).
fn missed_slots_match_tribe_missed_slots(node: &Node, metrics: SocketAddr) {
    let missed = |key: &[u8; 32], to: u64| {
        let list = node.result("tribe_missedSlots", json!([address_of(key), 1, to]));
        list.as_array().unwrap().len() as f64
    };
    wait_for(
        "the missed-slot counters to match tribe_missedSlots",
        Duration::from_secs(15),
        || {
            let head_before = node.head();
            let samples = scrape(metrics);
            let head_after = node.head();
            let (mut all, mut seen) = (true, String::new());
            for key in &VALIDATOR_KEYS {
                let series = format!(
                    "spectrum_tribe_missed_slots_total{{signer=\"{}\"}}",
                    address_of(key)
                );
                let counted = samples.get(&series).copied().unwrap_or(0.0);
                let (low, high) = (missed(key, head_before), missed(key, head_after));
                seen.push_str(&format!("{series}={counted} rpc {low}..={high}; "));
                all &= low <= counted && counted <= high;
            }
            eprintln!("missed slots: {seen}");
            all.then_some(())
        },
    );
}

fn send_transfer(via: &Node, nonce: u64) -> Value {
    let gas_price = u128::try_from(quantity(&via.result("eth_gasPrice", json!([])))).unwrap();
    let tx = spectrum_primitives::TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x77)),
        value: U256::from(1_000u64),
        input: Default::default(),
    };
    let key = SecretKey::from_byte_array(USER_KEY).unwrap();
    let signed = spectrum_primitives::sign_transaction(tx, &key);
    let raw = format!("0x{}", hex::encode(alloy_rlp::encode(&signed)));
    let first = via.result("eth_sendRawTransaction", json!([raw]));
    // The same transaction again: the pool refuses it (a rejection by reason).
    let again = via
        .try_call("eth_sendRawTransaction", json!([raw]))
        .unwrap();
    assert!(
        again.get("error").is_some(),
        "a duplicate is refused: {again}"
    );
    first
}

/// Every `spectrum_*` metric name an expression of the dashboard uses.
fn dashboard_metric_names(dashboard: &Value) -> BTreeSet<String> {
    let mut exprs = Vec::new();
    collect_exprs(dashboard, &mut exprs);
    assert!(exprs.len() >= 20, "the dashboard has its panels: {exprs:?}");
    exprs
        .iter()
        .flat_map(|e| {
            e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|t| t.starts_with("spectrum_"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn collect_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", Value::String(expr)) => out.push(expr.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

#[test]
fn metrics_move_as_blocks_are_made_and_the_dashboard_matches_them() {
    let net = Validators::create();
    let v1 = net.validator(1, None, &[]);
    let file_log = net.dir.path().join("v2-file.log");
    let v2 = net.validator(
        2,
        Some(&v1),
        &[
            "--log.format",
            "json",
            "--log.file",
            path_str(&file_log),
            "--http.api",
            "eth,net,web3,txpool,tribe,admin",
        ],
    );
    // The third validator (the issue asks for a 3-validator network) also dials v1.
    let v3 = net.validator(3, Some(&v1), &[]);
    let (m1, m2) = (metrics_addr(&v1), metrics_addr(&v2));
    wait_for(
        "the three validators to peer",
        Duration::from_secs(30),
        || (v1.peer_count() >= 2 && v2.peer_count() >= 1 && v3.peer_count() >= 1).then_some(()),
    );
    let before = scrape(m1);

    let hash = send_transfer(&v1, 0);
    assert_eq!(
        v1.try_call("no_suchMethod", json!([])).unwrap()["error"]["code"],
        json!(-32601)
    );
    wait_for("the transfer to be mined", Duration::from_secs(30), || {
        let receipt = v1.result("eth_getTransactionReceipt", json!([hash]));
        (!receipt.is_null()).then_some(())
    });
    let head_then = v1.head();
    wait_for("two more blocks", Duration::from_secs(30), || {
        (v1.head() >= head_then + 2).then_some(())
    });
    let after = wait_for(
        "v1 to have sealed and its sampler to catch up",
        Duration::from_secs(30),
        || {
            let s = scrape(m1);
            (s.get("spectrum_validator_sealed_blocks_total")
                .copied()
                .unwrap_or(0.0)
                > 0.0
                && value(&s, "spectrum_chain_head_number") >= head_then as f64 + 2.0)
                .then_some(s)
        },
    );

    // Counters and gauges that must have moved while blocks were made.
    for series in [
        "spectrum_chain_head_number",
        "spectrum_chain_imported_blocks_total",
        "spectrum_chain_imported_transactions_total",
        "spectrum_chain_imported_gas_total",
        "spectrum_validator_sealed_blocks_total",
        "spectrum_uptime_seconds",
        "spectrum_process_cpu_seconds",
        "spectrum_validator_next_block",
        "spectrum_rpc_calls_total{method=\"eth_sendRawTransaction\"}",
        "spectrum_rpc_calls_total{method=\"eth_getTransactionReceipt\"}",
    ] {
        let was = before.get(series).copied().unwrap_or(0.0);
        assert!(
            value(&after, series) > was,
            "{series} moved: {was} -> {}",
            value(&after, series)
        );
    }
    assert_eq!(
        value(
            &after,
            "spectrum_rpc_errors_total{method=\"no_suchMethod\"}"
        ),
        1.0
    );
    assert!(
        value(
            &after,
            "spectrum_p2p_gossip_received_total{topic=\"blocks\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &after,
            "spectrum_p2p_requests_served_total{kind=\"Status\"}"
        ) >= 1.0
    );
    assert_eq!(
        value(
            &after,
            "spectrum_p2p_peer_bans_total{reason=\"InvalidBlock\"}"
        ),
        0.0
    );
    assert!(
        value(
            &after,
            "spectrum_chain_import_seconds_count{phase=\"execute\"}"
        ) >= 1.0
    );
    assert!(
        value(
            &after,
            "spectrum_txpool_rejections_total{reason=\"AlreadyKnown\"}"
        ) >= 1.0
    );
    // RocksDB's figures are sampled (the first sample comes at start-up).
    for series in [
        "spectrum_db_compactions_running",
        "spectrum_db_table_bytes{table=\"headers\",kind=\"sst\"}",
        "spectrum_db_table_bytes{table=\"headers\",kind=\"live\"}",
        "spectrum_db_pending_compaction_bytes{table=\"headers\"}",
    ] {
        assert!(value(&after, series) >= 0.0, "{series}");
    }
    // v2 and v3 dialled v1 (their bootnode): two inbound libp2p peers on v1, no devp2p peer.
    for (series, expected) in [
        (
            "spectrum_p2p_peers{wire=\"libp2p\",direction=\"inbound\"}",
            2.0,
        ),
        (
            "spectrum_p2p_peers{wire=\"libp2p\",direction=\"outbound\"}",
            0.0,
        ),
        (
            "spectrum_p2p_peers{wire=\"devp2p\",direction=\"inbound\"}",
            0.0,
        ),
    ] {
        assert_eq!(value(&after, series), expected, "{series}");
    }
    // Both validators are ChiefBase leaders: the role says so (the status page agrees).
    assert_eq!(
        value(&after, "spectrum_validator_role{role=\"leader\"}"),
        1.0
    );
    assert_eq!(
        value(&after, "spectrum_validator_role{role=\"signer\"}"),
        0.0
    );
    missed_slots_match_tribe_missed_slots(&v1, m1);
    assert!(value(&after, "spectrum_process_resident_memory_bytes") > 1e6);
    assert!(value(&after, "spectrum_db_size_bytes") > 0.0);
    assert!(value(&after, "spectrum_chain_head_age_seconds") < 30.0);
    assert_eq!(value(&after, "spectrum_sync_distance_blocks"), 0.0);
    // The other node counts the blocks it imported from v1 too.
    let other = scrape(m2);
    assert!(value(&other, "spectrum_chain_imported_blocks_total") >= 2.0);

    // The dashboard uses only metrics that exist.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../etc/grafana/spectrum.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let exposed = declared_names(m1);
    assert!(
        exposed.contains("spectrum_chain_head_number"),
        "{exposed:?}"
    );
    let used = dashboard_metric_names(&dashboard);
    let missing: Vec<_> = used.difference(&exposed).collect();
    assert!(
        missing.is_empty(),
        "dashboard metrics not exposed: {missing:?}\nexposed: {exposed:?}"
    );

    // Only GET /metrics is served.
    assert_eq!(get(m1, "/").0, "HTTP/1.1 404 Not Found");

    // admin_*: refused unless named in --http.api; on v2 it lists and drops v1.
    assert_eq!(
        v1.try_call("admin_peers", json!([])).unwrap()["error"]["code"],
        json!(-32601)
    );
    let v1_id = v1.p2p.rsplit_once("/p2p/").unwrap().1.to_owned();
    let v2_id = v2.p2p.rsplit_once("/p2p/").unwrap().1.to_owned();
    assert_eq!(v2.result("admin_nodeInfo", json!([]))["id"], json!(v2_id));
    let peers = v2.result("admin_peers", json!([]));
    assert_eq!(peers[0]["id"], json!(v1_id), "{peers}");
    assert_eq!(peers[0]["wire"], json!("libp2p"));
    let refused = v2
        .try_call("admin_addPeer", json!(["/ip4/127.0.0.1/tcp/1"]))
        .unwrap();
    assert_eq!(refused["error"]["code"], json!(-32602), "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no /p2p/<peer id>"),
        "{refused}"
    );
    assert_eq!(v2.result("admin_removePeer", json!([v1.p2p])), json!(true));
    let dropped = format!("peer disconnected peer={v2_id}");
    wait_for("v1 to see v2 drop it", Duration::from_secs(20), || {
        v1.log_contains(&dropped).then_some(())
    });
    assert_eq!(
        v2.result("admin_addTrustedPeer", json!([v1.p2p])),
        json!(true)
    );
    wait_for(
        "v2 to be back with v1, trusted",
        Duration::from_secs(30),
        || {
            let peers = v2.result("admin_peers", json!([]));
            (peers[0]["id"] == json!(v1_id) && peers[0]["trusted"] == json!(true)).then_some(())
        },
    );

    wait_for(
        "each validator to have sealed a block the page shows",
        Duration::from_secs(60),
        || {
            let page = status_html(v1.http);
            VALIDATOR_KEYS
                .iter()
                .all(|key| {
                    let address = address_of(key).to_checksum(None);
                    page.split("<tr")
                        .any(|r| r.contains(&address) && r.contains("<td>leader</td><td>#"))
                })
                .then_some(())
        },
    );
    status_page_in_headless_chromium(&v1, &net.dir.path().join("chromium"));

    // A checkpoint needs the node stopped: said in one line while it runs.
    let backup = net.dir.path().join("backup");
    let (ok, _, err) = run(&[
        "db",
        "checkpoint",
        path_str(&backup),
        "--chain",
        path_str(&net.genesis),
        "--datadir",
        path_str(&net.dir.path().join("v1")),
    ]);
    assert!(!ok);
    assert!(
        err.contains("is in use (a running node holds its lock): stop the node first"),
        "{err}"
    );

    // The status line: text on v1's stderr, JSON in v2's rotated file (and its stderr).
    wait_for("a status line in each log", Duration::from_secs(20), || {
        let text = std::fs::read_to_string(&v1.log).ok()?;
        let file = std::fs::read_to_string(&file_log).ok()?;
        (text.contains(" status head=") && file.contains("\"msg\":\"status\"")).then_some(())
    });
    let file = std::fs::read_to_string(&file_log).unwrap();
    let lines: Vec<Value> = file
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("every file line is JSON"))
        .collect();
    let status = lines.iter().rev().find(|v| v["msg"] == "status").unwrap();
    assert_eq!(status["level"], "INFO");
    for field in [
        "head",
        "age",
        "peers",
        "sync_distance",
        "eta",
        "pool_pending",
        "next_slot",
    ] {
        assert!(status.get(field).is_some(), "status has {field}: {status}");
    }
}

/// `spectrum ARGS` (no RUST_LOG): (success, stdout, stderr).
fn run(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn config_file_flags_override_it_and_dumpconfig_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(
        &file,
        "http = true\n\"http.api\" = [\"eth\", \"net\"]\nmaxpeers = 7\n[metrics]\nport = 7070\n",
    )
    .unwrap();
    let (ok, dump, err) = run(&["--config", path_str(&file), "--maxpeers", "9", "dumpconfig"]);
    assert!(ok, "{err}");
    for line in [
        "http = true",
        "\"http.api\" = [\"eth\", \"net\"]",
        "\"metrics.port\" = 7070",
    ] {
        assert!(
            dump.lines().any(|l| l == line),
            "{line} from the file in:\n{dump}"
        );
    }
    assert!(
        dump.lines().any(|l| l == "maxpeers = 9"),
        "the flag wins:\n{dump}"
    );

    // The dump, fed back, is the same configuration.
    let dumped = dir.path().join("dumped.toml");
    std::fs::write(&dumped, &dump).unwrap();
    let (ok, again, err) = run(&["--config", path_str(&dumped), "dumpconfig"]);
    assert!(ok, "{err}");
    assert_eq!(again, dump);

    // An unknown key, and a value of the wrong type: one line naming the key.
    std::fs::write(&file, "\"http.prot\" = 8545\n").unwrap();
    let (ok, _, err) = run(&["--config", path_str(&file), "dumpconfig"]);
    assert!(!ok);
    assert_eq!(
        err.trim(),
        format!(
            "Error: config file {}: unknown key `http.prot`",
            file.display()
        )
    );
    std::fs::write(&file, "mine = \"yes\"\n").unwrap();
    let (ok, _, err) = run(&["--config", path_str(&file), "dumpconfig"]);
    assert!(!ok);
    assert!(
        err.contains("key `mine`: expected true or false, got \"yes\""),
        "{err}"
    );
    // A bad value for a known key: clap names the flag and the value.
    std::fs::write(&file, "\"http.port\" = \"eighty\"\n").unwrap();
    let (ok, _, err) = run(&["--config", path_str(&file), "dumpconfig"]);
    assert!(!ok);
    assert!(
        err.contains("'eighty'") && err.contains("--http.port"),
        "{err}"
    );
}

#[test]
fn version_dumpgenesis_removedb_and_checkpoint() {
    let (ok, out, err) = run(&["version"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("commit:  ") && out.contains("profile: debug"),
        "{out}"
    );
    assert!(
        !out.contains("commit:  unknown"),
        "built in a git checkout: {out}"
    );

    // dumpgenesis prints a file that `--chain` takes back, with the same genesis hash.
    let dir = tempfile::tempdir().unwrap();
    let (ok, genesis, err) = run(&["dumpgenesis", "--chain", "dev"]);
    assert!(ok, "{err}");
    let file = dir.path().join("dev.json");
    std::fs::write(&file, &genesis).unwrap();
    let datadir = dir.path().join("data");
    let init = |chain: &str, datadir: &Path| {
        let (ok, out, err) = run(&["init", "--chain", chain, "--datadir", path_str(datadir)]);
        assert!(ok, "{err}");
        out.lines()
            .find(|l| l.starts_with("genesis hash:"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        init(path_str(&file), &datadir),
        init("dev", &dir.path().join("data2"))
    );

    // A checkpoint of a stopped node's database opens as the same chain.
    let backup = dir.path().join("backup");
    let (ok, _, err) = run(&[
        "db",
        "checkpoint",
        path_str(&backup),
        "--chain",
        "dev",
        "--datadir",
        path_str(&datadir),
    ]);
    assert!(ok, "{err}");
    assert!(backup.join("CURRENT").exists());
    let (ok, _, err) = run(&[
        "db",
        "checkpoint",
        path_str(&backup),
        "--chain",
        "dev",
        "--datadir",
        path_str(&datadir),
    ]);
    assert!(!ok);
    assert!(
        err.contains("exists: the checkpoint needs a new directory"),
        "{err}"
    );

    // removedb removes the database and keeps the rest of the datadir.
    std::fs::write(datadir.join("keep.txt"), "x").unwrap();
    let (ok, _, err) = run(&[
        "removedb",
        "--yes",
        "--chain",
        "dev",
        "--datadir",
        path_str(&datadir),
    ]);
    assert!(ok, "{err}");
    assert!(!datadir.join("db").exists());
    assert!(datadir.join("keep.txt").exists());
}

/// The Docker image's entrypoint (no Docker engine runs here, so the script is run directly
/// against the test binary): the datadir is the volume, servers listen on the container's
/// interfaces unless a flag says otherwise, and commands pass through.
#[test]
fn docker_entrypoint_sets_datadir_and_listen_addresses() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../etc/docker/entrypoint.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let entry = |args: &[&str]| {
        let out = std::process::Command::new("sh")
            .arg(script)
            .args(args)
            .env("SPECTRUM_BIN", env!("CARGO_BIN_EXE_spectrum"))
            .env("SPECTRUM_DATADIR", dir.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let dump = entry(&["--http", "dumpconfig"]);
    for line in [
        format!("datadir = \"{}\"", dir.path().display()),
        "http = true".to_owned(),
        "\"http.addr\" = \"0.0.0.0\"".to_owned(),
        "\"metrics.addr\" = \"0.0.0.0\"".to_owned(),
    ] {
        assert!(dump.lines().any(|l| l == line), "{line} in:\n{dump}");
    }
    let dump = entry(&["--http.addr", "10.1.2.3", "dumpconfig"]);
    assert!(
        dump.lines().any(|l| l == "\"http.addr\" = \"10.1.2.3\""),
        "the flag wins:\n{dump}"
    );
    assert!(entry(&["version"]).starts_with("spectrum "));
}

/// Debian's Chromium, headless, with the flags this machine needs (no sandbox as root, no
/// background connections to the closed network), a fresh profile each run.
/// The status page as a plain HTTP client gets it (`Accept: text/html`), to wait on.
fn status_html(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn chromium(profile: &Path, args: &[&str]) -> String {
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&binary).exists(),
        "the status page test needs Chromium ({binary}): apt-get install chromium (scripts/install-deps.sh does)"
    );
    let out = std::process::Command::new("timeout")
        .arg("90")
        .arg(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The status page at `/` of the HTTP RPC port, as a browser shows it: the head, peers, both
/// validators with blocks sealed, this node's role; and a screenshot of it.
fn status_page_in_headless_chromium(node: &Node, profile: &Path) {
    let url = format!("http://{}/", node.http);
    let head = node.head();
    let dom = chromium(profile, &["--dump-dom", &url]);
    let shown_head: u64 = dom
        .split("id=\"head\">#")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no head on the page:\n{dom}"));
    assert!(
        shown_head >= head,
        "the page shows #{shown_head}, the node was at #{head}"
    );
    assert!(
        dom.contains("<meta http-equiv=\"refresh\""),
        "it refreshes itself"
    );
    assert!(!dom.contains("<script"), "no JavaScript");
    assert!(dom.contains("id=\"peers\">2<"), "two peers:\n{dom}");
    assert!(dom.contains("id=\"role\">leader<"), "{dom}");
    for key in &VALIDATOR_KEYS {
        let address = address_of(key).to_checksum(None);
        let row = dom
            .split("<tr")
            .skip(1)
            .find(|r| r.contains(&address))
            .unwrap_or_else(|| panic!("no row for {address}:\n{dom}"));
        assert!(
            row.contains("<td>leader</td><td>#"),
            "{address} sealed a block: {row}"
        );
    }
    // JSON-RPC still answers POST on the same port.
    assert_eq!(
        node.result("eth_chainId", json!([])),
        json!(format!("0x{CHAIN_ID:x}"))
    );

    let shot = profile.with_extension("png");
    chromium(
        profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1100,700",
            &url,
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a screenshot of the page"
    );
}
