//! `spectrum import` and `spectrum export` as real processes on the reference devnet chains.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use alloy_rlp::Encodable;
use spectrum_import::{ChainFileReader, ChainFileWriter};

fn testdata(name: &str) -> PathBuf {
    let file = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ))
    .join(name);
    assert!(
        file.exists(),
        "test data {} not found: ../shared/testdata must sit beside the clone",
        file.display()
    );
    file
}

fn spectrum(datadir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(args)
        .args(["--chain", "devnet", "--datadir", datadir.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .output()
        .expect("spawn spectrum")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn head(datadir: &Path) -> u64 {
    let out = spectrum(datadir, &["db", "stats"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("head: "))
        .expect("head line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn import_then_export_reproduces_the_reference_file() {
    let dir = tempfile::tempdir().unwrap();
    let chain = testdata("spectrum-devnet/chain.rlp");
    let out = spectrum(dir.path(), &["import", chain.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 220 blocks (1 already known)"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(head(dir.path()), 220);

    let exported = dir.path().join("out.rlp");
    let out = spectrum(dir.path(), &["export", exported.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(&exported).unwrap(),
        std::fs::read(&chain).unwrap(),
        "byte-identical export"
    );

    // A range, gzip-compressed, reads back as exactly those blocks.
    let part = dir.path().join("part.rlp.gz");
    let out = spectrum(
        dir.path(),
        &["export", part.to_str().unwrap(), "100", "120"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let numbers: Vec<u64> = ChainFileReader::open(&part)
        .unwrap()
        .map(|b| b.unwrap().header.number)
        .collect();
    assert_eq!(numbers, (100..=120).collect::<Vec<_>>());

    // Importing the same file again is a no-op.
    let out = spectrum(dir.path(), &["import", chain.to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("imported 0 blocks (221 already known)"),
        "{}",
        text(&out.stdout)
    );
}

/// Writes blocks `0..n` of a reference chain, then `tail` (already encoded), into `path`.
fn write_prefix_then(path: &Path, chain: &str, n: u64, tail: &[u8]) {
    let mut writer = ChainFileWriter::create(path, false).unwrap();
    for block in ChainFileReader::open(testdata(chain))
        .unwrap()
        .take(n as usize)
    {
        writer.write_block(&block.unwrap()).unwrap();
    }
    writer.finish().unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend_from_slice(tail);
    std::fs::write(path, bytes).unwrap();
}

const DEVNET_A: &str = "spectrum-devnet/chain.rlp";
const DEVNET_MULTI: &str = "spectrum-devnet-multi/chain.rlp";

fn block(chain: &str, number: u64) -> spectrum_primitives::Block {
    ChainFileReader::open(testdata(chain))
        .unwrap()
        .nth(number as usize)
        .unwrap()
        .unwrap()
}

fn multi_node_key(name: &str) -> secp256k1::SecretKey {
    let seed = format!("spectrum-devnet-multi-node-{name}");
    secp256k1::SecretKey::from_byte_array(alloy_primitives::keccak256(seed).0).unwrap()
}

/// Block 111 of the multi chain (sealed by node B, per its README) with `tamper` applied,
/// re-sealed by B so that only the tampered field is wrong.
fn tampered_111(tamper: impl FnOnce(&mut spectrum_primitives::Header)) -> Vec<u8> {
    let mut block = block(DEVNET_MULTI, 111);
    tamper(&mut block.header);
    block.header = spectrum_consensus::sign_header(block.header, &multi_node_key("B")).unwrap();
    let mut bytes = Vec::new();
    block.encode(&mut bytes);
    bytes
}

#[test]
fn corrupt_file_stops_at_the_bad_block_and_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("corrupt.rlp");
    let mut bad = Vec::new();
    block(DEVNET_A, 120).encode(&mut bad);
    bad.truncate(bad.len() - 10);
    write_prefix_then(&file, DEVNET_A, 120, &bad);
    let out = spectrum(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("block 120"), "{err}");
    assert_eq!(
        head(dir.path()),
        119,
        "everything before the bad block stays committed"
    );
}

#[test]
fn block_with_a_wrong_state_root_or_gas_is_rejected_naming_the_field_and_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tampered.rlp");
    let mut wrong_root = alloy_primitives::B256::ZERO;
    write_prefix_then(
        &file,
        DEVNET_MULTI,
        111,
        &tampered_111(|h| {
            h.state_root.0[0] ^= 1;
            wrong_root = h.state_root;
        }),
    );
    let out = spectrum(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("block 111") && err.contains("state root mismatch"),
        "{err}"
    );
    assert!(err.contains(&format!("expected {wrong_root}")), "{err}");
    assert_eq!(head(dir.path()), 110);

    write_prefix_then(&file, DEVNET_MULTI, 111, &tampered_111(|h| h.gas_used += 1));
    let out = spectrum(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("gas used"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(head(dir.path()), 110);

    // Tribe: the same block re-sealed by a key that may not seal it.
    let mut outsider = block(DEVNET_MULTI, 111);
    outsider.header =
        spectrum_consensus::sign_header(outsider.header, &multi_node_key("D")).unwrap();
    let mut bytes = Vec::new();
    outsider.encode(&mut bytes);
    write_prefix_then(&file, DEVNET_MULTI, 111, &bytes);
    let out = spectrum(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("may not seal this block"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(head(dir.path()), 110);
}

/// `kill -9` in the middle of an import leaves a database whose head is a fully committed
/// block; a second import resumes from it and verifies every later state root.
#[test]
fn kill_during_import_then_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (a, multi) = (
        testdata("spectrum-devnet/chain.rlp"),
        testdata("spectrum-devnet-multi/chain.rlp"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(["import", a.to_str().unwrap(), multi.to_str().unwrap()])
        .args([
            "--chain",
            "devnet",
            "--datadir",
            dir.path().to_str().unwrap(),
        ])
        .env("RUST_LOG", "spectrum=debug")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait (on the process's own output, not a timer) until block 150 is committed.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains("imported block") && line.contains("number=150") {
            break;
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the import was still running when killed"
    );

    let at_kill = head(dir.path());
    assert!(
        at_kill >= 150,
        "head {at_kill} is at least the block seen committed"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_spectrum"))
        .args(["import", a.to_str().unwrap(), multi.to_str().unwrap()])
        .args([
            "--chain",
            "devnet",
            "--datadir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        head(dir.path()),
        412,
        "resumed and reorganised onto the heavier chain"
    );
}

/// The safety issue's attack through `spectrum import`: after the 220-block reference chain, a
/// file holding one copy of block 1 with difficulty 2^128 (seal untouched) made the old binary
/// unwind to genesis and take the forged block as its head. Now it is
/// refused by the devnet checkpoint, and forged chief-start (63) and VRF-era (150) blocks by
/// the difficulty range, before anything is stored; the head stays at 220.
#[test]
fn forged_heavy_blocks_in_a_file_leave_the_head_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let chain = testdata(DEVNET_A);
    let out = spectrum(dir.path(), &["import", chain.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(head(dir.path()), 220);

    let file = dir.path().join("forged.rlp");
    let huge = alloy_primitives::U256::from(1u8) << 128;
    for (number, rule) in [
        (1, "is not the checkpoint".to_owned()),
        (63, format!("difficulty {huge} is outside 1..=6")),
        (150, format!("difficulty {huge} is outside 1..=6")),
    ] {
        let mut forged = block(DEVNET_A, number);
        forged.header.difficulty = huge;
        let mut bytes = Vec::new();
        forged.encode(&mut bytes);
        std::fs::write(&file, bytes).unwrap();
        let out = spectrum(dir.path(), &["import", file.to_str().unwrap()]);
        assert!(!out.status.success(), "block {number} was accepted");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("block {number}")) && err.contains(&rule),
            "block {number}: {err}"
        );
        assert_eq!(head(dir.path()), 220, "block {number} moved the head");
    }
}

// ---- the long devnet chain of `spectrum-bench long-chain` (issue 16, item 7) ----

/// A short version of the long-chain benchmark's file: the reference multi chain (0..412)
/// extended by 200 blocks our producer sealed with the five devnet nodes' keys, one in 50 full
/// of transfers, imported by `spectrum import` under full Tribe validation to the same head.
/// Keeps the generation from breaking silently (the benchmark's smc side needs the same file).
#[test]
fn a_generated_long_devnet_chain_imports_to_its_head() {
    use spectrum_bench::long_chain::{LongChainConfig, generate_long_chain};

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.rlp");
    let config = LongChainConfig {
        base: testdata("spectrum-devnet-multi/chain.rlp"),
        blocks: 200,
        full_every: 50,
        senders: 4,
    };
    let summary = generate_long_chain(&config, &dir.path().join("gen"), &file).unwrap();
    assert_eq!(summary.base_head, 412);
    assert_eq!(summary.head.0, 612);
    assert_eq!(summary.blocks_in_file, 613);
    assert_eq!(summary.full_blocks, 3, "blocks 463, 513 and 563");
    // Every block holds its chief update; the funding block 4 transfers; the full ones
    // 40M / 21,000 = 1,904 transfers each.
    assert_eq!(summary.txs, 200 + 4 + 3 * 1_904);
    assert!(
        summary.sealed_by.len() >= 3,
        "leaders and stakers take turns: {:?}",
        summary.sealed_by
    );

    let datadir = dir.path().join("node");
    let out = spectrum(&datadir, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 612 blocks (1 already known)"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(head(&datadir), 612);
    // The head is the generator's block, not merely one at that height.
    let exported = dir.path().join("tail.rlp");
    let out = spectrum(
        &datadir,
        &["export", exported.to_str().unwrap(), "612", "612"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let last = ChainFileReader::open(&exported)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .seal_slow();
    assert_eq!(last.hash(), summary.head.1);
}
