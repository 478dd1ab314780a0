//! The `spectrum` command, run as a real process.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::Path, process::Command};

fn spectrum(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("spawn spectrum")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn init(chain: &str, datadir: &Path) -> std::process::Output {
    spectrum(&[
        "init",
        "--chain",
        chain,
        "--datadir",
        datadir.to_str().unwrap(),
    ])
}

/// `spectrum init` prints the genesis hashes and state roots of spec/chain.md §2.
#[test]
fn init_prints_the_reference_genesis_of_each_network() {
    let cases = [
        (
            "mainnet",
            "0xa8ab5ecb308dd061e6baa8c8a04a62b3e35fae7aae1393921f8d52deac2c5712",
            "0x83c4c375f7e906789a78fc79de9a59b741e455450017ac6ec19f8f355aac71c5",
        ),
        (
            "testnet",
            "0x464dfae7a2e140e76376f732c6be542880064d0a9b8350ceb2259b811827e7c6",
            "0xbb8db5737b8d2cb9a749d17ceccfab471cafd920d87832493388ee7c68826521",
        ),
        (
            "devnet",
            "0xe11f21ee330cfb50c3f31d9b792df2fb5e196739d562e642416974f339aa4304",
            "0xc7649c0b33acd04e33e22e02f5cc93b04ec68c0660e55760b7cfc9af5dcba5e0",
        ),
    ];
    for (chain, hash, root) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = init(chain, dir.path());
        assert!(out.status.success(), "{chain}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains(&format!("genesis hash: {hash}")),
            "{chain}: {text}"
        );
        assert!(
            text.contains(&format!("state root:   {root}")),
            "{chain}: {text}"
        );
        // A second init of the same chain is a no-op that prints the same.
        let again = init(chain, dir.path());
        assert!(again.status.success());
        assert_eq!(stdout(&again), text);
    }
}

/// A datadir initialised for one chain refuses another, naming both genesis hashes.
#[test]
fn datadir_of_one_chain_refuses_another() {
    let dir = tempfile::tempdir().unwrap();
    assert!(init("devnet", dir.path()).status.success());
    let out = init("mainnet", dir.path());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("0xe11f21ee330cfb50c3f31d9b792df2fb5e196739d562e642416974f339aa4304"),
        "{err}"
    );
    assert!(
        err.contains("0xa8ab5ecb308dd061e6baa8c8a04a62b3e35fae7aae1393921f8d52deac2c5712"),
        "{err}"
    );
    // and the database still holds devnet
    let stats = spectrum(&[
        "db",
        "stats",
        "--chain",
        "devnet",
        "--datadir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(stats.status.success(), "{}", stderr(&stats));
    assert!(
        stdout(&stats).contains("head: 0 0xe11f21ee"),
        "{}",
        stdout(&stats)
    );
}

/// A bad genesis file is reported with file and field, and nothing is written.
#[test]
fn bad_genesis_file_names_file_and_field_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let devnet = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../genesis/devnet.json"
    ))
    .unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&devnet).unwrap();
    json["alloc"] = serde_json::json!({ "0x2222222222222222222222222222222222222222": { "balance": format!("0x1{}", "0".repeat(64)) } });
    let file = dir.path().join("custom.json");
    std::fs::write(&file, json.to_string()).unwrap();
    let datadir = dir.path().join("data");
    let out = init(file.to_str().unwrap(), &datadir);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("custom.json"), "{err}");
    assert!(
        err.contains("alloc.0x2222222222222222222222222222222222222222.balance"),
        "{err}"
    );
    assert!(
        !datadir.exists(),
        "nothing may be written for a bad genesis"
    );
}

/// A custom genesis file works like a built-in network.
#[test]
fn custom_genesis_file_initialises() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("private.json");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../genesis/devnet.json"),
        &file,
    )
    .unwrap();
    let out = init(file.to_str().unwrap(), &dir.path().join("data"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0xe11f21ee330cfb50c3f31d9b792df2fb5e196739d562e642416974f339aa4304")
    );
}

#[test]
fn unknown_flags_and_bad_values_fail_with_one_clear_line() {
    for args in [
        &["--no-such-flag"][..],
        &["--http.port", "70000"],
        &["--chain", "nowhere"],
        &["--verbosity", "9"],
        &["--http.addr", "localhost:1"],
    ] {
        let out = spectrum(args);
        assert!(!out.status.success(), "{args:?} must fail");
        let err = stderr(&out);
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("error:"), "{args:?}: {err}");
    }
    let out = spectrum(&["--chain", "nowhere"]);
    assert!(stderr(&out).contains("unknown chain `nowhere`"));
}

#[test]
fn help_lists_commands_and_flags() {
    let out = spectrum(&["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    // Commands: the first word of a line in the "Commands:" section, not a substring anywhere
    // (`db` would match "debug").
    let commands: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for command in ["init", "import", "export", "db", "genesis", "account"] {
        assert!(
            commands.contains(&command),
            "--help lists no command {command}: {commands:?}\n{text}"
        );
    }
    assert!(
        !commands.contains(&"bench"),
        "the benchmarks are their own binary, spectrum-bench, not linked into the node: {commands:?}"
    );
    // Flags: whole tokens, so `--dev` is not satisfied by `--dev.period`.
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=')
        .collect();
    for flag in [
        "--chain",
        "--datadir",
        "--http.addr",
        "--ws.port",
        "--dev",
        "--bootnodes",
    ] {
        assert!(tokens.contains(&flag), "--help lacks {flag}: {text}");
    }
}

#[test]
fn db_stats_without_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = spectrum(&["db", "stats", "--datadir", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("run `spectrum init` first"),
        "{}",
        stderr(&out)
    );
}

/// `spectrum --dev` starts on chain 1337 in a temporary datadir, reports itself, and shuts down
/// cleanly on SIGTERM, removing the temporary datadir.
#[test]
fn dev_node_starts_and_stops_on_sigterm() {
    use std::{
        io::{BufRead, BufReader},
        sync::mpsc,
        time::{Duration, Instant},
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(["--dev", "--http.port", "0", "--ws.port", "0"])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn spectrum --dev");
    // stderr is read on its own thread so every wait below has a deadline.
    let (tx, lines) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let next_line = |what: &str| {
        let left = deadline.saturating_duration_since(Instant::now());
        lines
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no {what} within 60 s: {e}"))
    };
    let started = loop {
        let line = next_line("'node started' line");
        if line.contains("node started") {
            break line;
        }
    };
    assert!(
        started.contains("chain=dev") && started.contains("chain_id=1337"),
        "{started}"
    );
    let datadir = started
        .split_whitespace()
        .find_map(|w| w.strip_prefix("datadir="))
        .expect("datadir in the start line")
        .to_owned();
    assert!(Path::new(&datadir).join("db").is_dir());
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("spectrum --dev did not exit within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    // The process has exited, so its stderr is closed: the reader thread ends the channel.
    let rest: Vec<String> = lines.iter().collect();
    assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
    assert!(
        !Path::new(&datadir).exists(),
        "the temporary datadir is removed"
    );
}
