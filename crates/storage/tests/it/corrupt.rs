//! Undecodable records are reported as `StorageError::Corrupt` naming the table and key, never
//! a panic.

use spectrum_storage::{Database, StorageError, Table};
use spectrum_storage_api::{StateChanges, StateProvider};

use crate::common::*;

fn corrupt_table(err: StorageError) -> (Table, Vec<u8>) {
    match err {
        StorageError::Corrupt { table, key, .. } => (table, key.to_vec()),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn garbage_header_is_corrupt_with_its_key() {
    let (dir, db) = temp_db();
    let g = genesis("c", b"c", vec![]);
    let hash = g.header.hash();
    db.init_genesis(g).unwrap();
    drop(db);

    let mut key = 0u64.to_be_bytes().to_vec();
    key.extend_from_slice(hash.as_slice());
    raw_put(dir.path(), "headers", &key, &[0xf8, 0xff, 0x01, 0x02]);

    let db = Database::open(dir.path()).unwrap();
    let err = db.header(&hash).unwrap_err();
    let message = err.to_string();
    assert_eq!(corrupt_table(err), (Table::Headers, key.clone()));
    assert!(message.contains("headers"), "{message}");
    assert!(
        message.contains(&alloy_primitives::hex::encode(&key)),
        "{message}"
    );
    assert_eq!(
        corrupt_table(db.header_by_number(0).unwrap_err()).0,
        Table::Headers
    );
    assert_eq!(
        corrupt_table(db.block(&hash).unwrap_err()).0,
        Table::Headers
    );
}

#[test]
fn garbage_in_each_kind_of_record_is_corrupt() {
    let (dir, db) = temp_db();
    let g = genesis("c", b"c", vec![(addr(1), account(0, 1))]);
    let hash = g.header.hash();
    db.init_genesis(g).unwrap();
    let (block, receipts) = child(&db.header(&hash).unwrap().unwrap(), vec![signed_tx(1, 0)]);
    let tx_hash = block.body.transactions[0].hash();
    db.commit_block(&canonical(
        block,
        receipts,
        3,
        StateChanges {
            accounts: vec![(addr(1), Some(account(1, 1)))],
            ..Default::default()
        },
    ))
    .unwrap();
    drop(db);

    let mut history_key = addr(1).to_vec();
    history_key.extend_from_slice(&1u64.to_be_bytes());
    raw_put(dir.path(), "accounts", addr(1).as_slice(), b"\xc2\x01");
    raw_put(dir.path(), "account_history", &history_key, b"not rlp");
    raw_put(dir.path(), "canonical", &0u64.to_be_bytes(), b"short");
    raw_put(dir.path(), "tx_lookup", tx_hash.as_slice(), b"short");
    raw_put(
        dir.path(),
        "total_difficulty",
        &[&0u64.to_be_bytes()[..], hash.as_slice()].concat(),
        b"x",
    );
    raw_put(dir.path(), "meta", b"head", b"x");

    let db = Database::open(dir.path()).unwrap();
    assert_eq!(
        corrupt_table(db.account(&addr(1)).unwrap_err()).0,
        Table::Accounts
    );
    assert_eq!(
        corrupt_table(db.account_at(&addr(1), 0).unwrap_err()).0,
        Table::AccountHistory
    );
    assert_eq!(
        corrupt_table(db.canonical_hash(0).unwrap_err()).0,
        Table::Canonical
    );
    assert_eq!(
        corrupt_table(db.tx_location(&tx_hash).unwrap_err()).0,
        Table::TxLookup
    );
    assert_eq!(
        corrupt_table(db.total_difficulty(&hash).unwrap_err()).0,
        Table::TotalDifficulty
    );
    assert_eq!(corrupt_table(db.head().unwrap_err()).0, Table::Meta);
    let err = db.latest_state().account(&addr(1)).unwrap_err();
    assert!(
        err.to_string().contains("corrupt record in table accounts"),
        "{err}"
    );
}

#[test]
fn corrupt_slot_found_while_wiping_fails_the_commit_and_writes_nothing() {
    let (dir, db) = temp_db();
    let g = genesis("w", b"w", vec![(addr(1), account(0, 1))]);
    db.init_genesis(g).unwrap();
    drop(db);
    let mut key = addr(1).to_vec();
    key.extend_from_slice(&[7u8; 32]);
    raw_put(dir.path(), "storage", &key, b"\xff\xff");

    let db = Database::open(dir.path()).unwrap();
    let head = db.head().unwrap();
    let parent = db.header(&head.unwrap().1).unwrap().unwrap();
    let (block, receipts) = child(&parent, vec![]);
    let state = StateChanges {
        accounts: vec![(addr(1), Some(account(1, 1)))],
        wiped_storage: vec![addr(1)],
        ..Default::default()
    };
    let err = db
        .commit_block(&canonical(block.clone(), receipts, 3, state))
        .unwrap_err();
    assert_eq!(corrupt_table(err), (Table::Storage, key));
    assert_eq!(db.head().unwrap(), head);
    assert_eq!(db.header(&block.hash()).unwrap(), None);
    assert_eq!(db.account(&addr(1)).unwrap(), Some(account(0, 1)));
}
