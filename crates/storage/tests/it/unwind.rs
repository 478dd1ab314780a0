//! Unwinding the canonical chain restores the plain state and forgets the unwound blocks'
//! history, canonical mappings and transaction lookups, in one batch.

use alloy_primitives::{Bytes, U256};
use spectrum_storage::{Database, StorageError, TrieNodeWrite, TrieTable};
use spectrum_storage_api::{StateChanges, StateProvider};

use crate::{
    common::*,
    history::{SLOTS, WHO, expected_account, expected_storage},
};

/// The history scenario's first three blocks, each with two transactions.
fn three_blocks(db: &Database) -> Vec<spectrum_primitives::SealedBlock> {
    crate::history::scenario_prefix(db, 3)
}

#[test]
fn unwind_to_1_restores_the_state_after_block_1() {
    let dir = tempfile::tempdir().unwrap();
    let blocks = {
        let db = Database::open(dir.path()).unwrap();
        let blocks = three_blocks(&db);
        // What the unwind will write, as state changes for the trie.
        let changes = db.unwind_changes(1).unwrap();
        assert_eq!(
            changes.accounts,
            vec![
                (addr(1), expected_account(1, 1)),
                (addr(2), expected_account(2, 1))
            ]
        );
        assert_eq!(
            changes.storage,
            vec![
                (addr(2), slot(1), U256::from(11)),
                (addr(0xc0), slot(1), U256::from(77)),
                (addr(0xc0), slot(2), U256::from(5)),
                (addr(0xc0), slot(3), U256::ZERO),
            ]
        );
        let trie = [TrieNodeWrite {
            table: TrieTable::Account,
            key: Bytes::from_static(&[1]),
            value: Some(Bytes::from_static(b"root at 1")),
        }];
        db.unwind_to_with_trie(1, &trie).unwrap();
        blocks
    };

    // Everything below is read after a reopen: the unwind is durable.
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(db.head().unwrap(), Some((1, blocks[0].hash())));
    for who in WHO {
        assert_eq!(
            db.account(&addr(who)).unwrap(),
            expected_account(who, 1),
            "account {who}"
        );
        for s in SLOTS {
            assert_eq!(
                db.storage(&addr(who), &slot(s)).unwrap(),
                expected_storage(who, s, 1)
            );
        }
        for n in 0..=1 {
            assert_eq!(
                db.account_at(&addr(who), n).unwrap(),
                expected_account(who, n)
            );
            for s in SLOTS {
                assert_eq!(
                    db.storage_at(&addr(who), &slot(s), n).unwrap(),
                    expected_storage(who, s, n)
                );
            }
        }
        // Above the new head reads as the new head: no history of unwound blocks remains.
        assert_eq!(
            db.account_at(&addr(who), 3).unwrap(),
            expected_account(who, 1)
        );
    }
    assert_eq!(
        db.trie_node(TrieTable::Account, &[1]).unwrap(),
        Some(Bytes::from_static(b"root at 1"))
    );

    // Block 1 stays canonical; 2 and 3 become side-chain blocks: known, not canonical, not indexed.
    assert_eq!(db.canonical_hash(1).unwrap(), Some(blocks[0].hash()));
    for tx in &blocks[0].body.transactions {
        assert!(db.tx_location(&tx.hash()).unwrap().is_some());
    }
    for block in &blocks[1..] {
        assert_eq!(db.canonical_hash(block.number()).unwrap(), None);
        assert_eq!(db.block(&block.hash()).unwrap(), Some(block.clone()));
        assert!(db.receipts(&block.hash()).unwrap().is_some());
        assert!(db.total_difficulty(&block.hash()).unwrap().is_some());
        for tx in &block.body.transactions {
            assert_eq!(db.tx_location(&tx.hash()).unwrap(), None);
        }
    }
    drop(db);
    assert_no_history_above(dir.path(), 1);
}

/// Reads the history and change-set tables with RocksDB directly: no entry of a block above
/// `head` may remain.
fn assert_no_history_above(path: &std::path::Path, head: u64) {
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), path).unwrap();
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), path, names).unwrap();
    for cf in ["account_history", "storage_history", "block_changes"] {
        for item in db.iterator_cf(db.cf_handle(cf).unwrap(), rocksdb::IteratorMode::Start) {
            let (key, _) = item.unwrap();
            let number = u64::from_be_bytes(key[key.len() - 8..].try_into().unwrap());
            assert!(
                number <= head,
                "{cf} still holds an entry of block {number}"
            );
        }
    }
}

#[test]
fn a_fork_can_be_committed_after_unwinding() {
    let (_dir, db) = temp_db();
    let blocks = three_blocks(&db);
    db.unwind_to(1).unwrap();

    // The old chain's block 3 changed A and wiped C (whose slot 2 the old block 2 set); the
    // fork changes A in block 2 and leaves C alone. Reads at block 2 must see the fork, not
    // the old chain's history.
    let (fork2, receipts) = child(&blocks[0].header, vec![signed_tx(9, 0)]);
    db.commit_block(&canonical(
        fork2.clone(),
        receipts,
        5,
        StateChanges {
            accounts: vec![
                (addr(1), Some(account(5, 5))),
                (addr(9), Some(account(1, 1))),
            ],
            ..Default::default()
        },
    ))
    .unwrap();
    let (fork3, receipts) = child(&fork2.header, vec![]);
    db.commit_block(&canonical(
        fork3.clone(),
        receipts,
        7,
        StateChanges {
            accounts: vec![(addr(9), Some(account(2, 2)))],
            ..Default::default()
        },
    ))
    .unwrap();

    assert_eq!(db.head().unwrap(), Some((3, fork3.hash())));
    assert_eq!(db.account_at(&addr(1), 1).unwrap(), expected_account(1, 1));
    assert_eq!(db.account_at(&addr(1), 2).unwrap(), Some(account(5, 5)));
    assert_eq!(db.account_at(&addr(1), 3).unwrap(), Some(account(5, 5)));
    assert_eq!(db.account_at(&addr(9), 1).unwrap(), None);
    assert_eq!(db.account_at(&addr(9), 2).unwrap(), Some(account(1, 1)));
    assert_eq!(db.account_at(&addr(9), 3).unwrap(), Some(account(2, 2)));
    assert_eq!(
        db.account_at(&addr(2), 2).unwrap(),
        expected_account(2, 1),
        "B survives on the fork"
    );
    for n in 1..=3 {
        assert_eq!(
            db.storage_at(&addr(0xc0), &slot(2), n).unwrap(),
            U256::from(5),
            "at {n}"
        );
        assert_eq!(
            db.storage_at(&addr(0xc0), &slot(1), n).unwrap(),
            U256::from(77),
            "at {n}"
        );
    }
    let state = db.state_at(2).unwrap();
    assert_eq!(state.block_hash(2).unwrap(), Some(fork2.hash()));
    assert_eq!(
        db.tx_location(&fork2.body.transactions[0].hash())
            .unwrap()
            .unwrap()
            .block_hash,
        fork2.hash()
    );
}

#[test]
fn unwind_bounds() {
    let (_dir, db) = temp_db();
    assert!(matches!(db.unwind_to(0), Err(StorageError::NotInitialised)));
    let blocks = three_blocks(&db);
    assert!(matches!(
        db.unwind_to(4),
        Err(StorageError::AboveHead {
            requested: 4,
            head: 3
        })
    ));
    db.unwind_to(3).unwrap();
    assert_eq!(db.head().unwrap(), Some((3, blocks[2].hash())));
    db.unwind_to(0).unwrap();
    for who in WHO {
        assert_eq!(db.account(&addr(who)).unwrap(), expected_account(who, 0));
        for s in SLOTS {
            assert_eq!(
                db.storage(&addr(who), &slot(s)).unwrap(),
                expected_storage(who, s, 0)
            );
        }
    }
    assert_eq!(db.head().unwrap().map(|(n, _)| n), Some(0));
}
