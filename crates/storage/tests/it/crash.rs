//! Durability: commits that returned `Ok` survive the process dying without any shutdown
//! (no flush, no destructors), because every batch is in the write-ahead log before
//! `commit_block` returns.

use std::process::Command;

use alloy_primitives::U256;
use spectrum_storage::Database;
use spectrum_storage_api::StateChanges;

use crate::common::*;

const CHILD_DIR: &str = "SPECTRUM_STORAGE_CRASH_TEST_DIR";
const BLOCKS: u64 = 5;

fn changes(n: u64) -> StateChanges {
    StateChanges {
        accounts: vec![(addr(1), Some(account(n, 0)))],
        storage: vec![(addr(1), slot(n as u8), U256::from(n))],
        ..Default::default()
    }
}

#[test]
fn commits_survive_the_process_aborting() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        // Child: commit, then die the hard way.
        let db = Database::open(std::path::Path::new(&dir)).unwrap();
        db.init_genesis(genesis("crash", b"crash", vec![(addr(1), account(0, 0))]))
            .unwrap();
        for n in 1..=BLOCKS {
            commit_state(&db, changes(n));
        }
        std::process::abort();
    }

    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::commits_survive_the_process_aborting",
            "--nocapture",
        ])
        .env(CHILD_DIR, dir.path())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have aborted");

    let db = Database::open(dir.path()).unwrap();
    assert_eq!(db.head().unwrap().map(|(n, _)| n), Some(BLOCKS));
    assert_eq!(db.account(&addr(1)).unwrap(), Some(account(BLOCKS, 0)));
    for n in 1..=BLOCKS {
        assert_eq!(db.account_at(&addr(1), n).unwrap(), Some(account(n, 0)));
        assert_eq!(db.storage(&addr(1), &slot(n as u8)).unwrap(), U256::from(n));
        assert!(db.canonical_hash(n).unwrap().is_some());
    }
}
