//! `spectrum-bench`, the benchmarks' own binary: its commands, and a small import run end to end
//! (what README's `spectrum-bench import` runs, on a tiny chain).

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spectrum-bench"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run spectrum-bench")
}

#[test]
fn help_lists_import_and_produce() {
    let out = bench(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(commands.contains(&"import"), "{text}");
    assert!(commands.contains(&"produce"), "{text}");
}

#[test]
fn a_small_import_run_prints_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-chain.rlp");
    let out = bench(&[
        "import",
        "--blocks",
        "1",
        "--txs-per-block",
        "4",
        "--import-runs",
        "1",
        "--reference-chain",
        missing.to_str().unwrap(),
        "--datadir",
        dir.path().to_str().unwrap(),
        "--verbosity",
        "0",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in [
        "(a) bare execution (MemoryState)",
        "(b) full import, run 1",
        "(c) import timed by phase",
        "run 1: import/bare = ",
        "where the import's time goes (run by phase):",
    ] {
        assert!(stdout.contains(row), "no row {row:?} in:\n{stdout}");
    }
    assert!(
        stdout.contains("not found: skipped (pass --reference-chain FILE)"),
        "{stdout}"
    );
}
