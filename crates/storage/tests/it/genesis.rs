//! Genesis: written once, idempotent for the same block, refused for another.

use alloy_primitives::U256;
use spectrum_storage::{Database, GenesisStatus, StorageError};

use crate::common::*;

#[test]
fn same_genesis_twice_is_idempotent() {
    let (dir, db) = temp_db();
    let g = genesis("mainnet", b"main", vec![(addr(1), account(0, 5))]);
    assert_eq!(db.init_genesis(g.clone()).unwrap(), GenesisStatus::Written);
    assert_eq!(
        db.init_genesis(g.clone()).unwrap(),
        GenesisStatus::AlreadyInitialised
    );
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(
        db.init_genesis(g.clone()).unwrap(),
        GenesisStatus::AlreadyInitialised
    );
    assert_eq!(db.head().unwrap(), Some((0, g.header.hash())));
    assert_eq!(
        db.total_difficulty(&g.header.hash()).unwrap(),
        Some(U256::from(1))
    );
    assert_eq!(db.account(&addr(1)).unwrap(), Some(account(0, 5)));
}

#[test]
fn other_genesis_is_refused_naming_both_chains_and_writes_nothing() {
    let (_dir, db) = temp_db();
    let main = genesis("mainnet", b"main", vec![(addr(1), account(0, 5))]);
    let test = genesis("testnet", b"test", vec![(addr(2), account(0, 9))]);
    db.init_genesis(main.clone()).unwrap();

    let err = db.init_genesis(test.clone()).unwrap_err();
    match &err {
        StorageError::GenesisMismatch {
            stored,
            requested,
            stored_chain,
            requested_chain,
        } => {
            assert_eq!(*stored, main.header.hash());
            assert_eq!(*requested, test.header.hash());
            assert_eq!(stored_chain, "mainnet");
            assert_eq!(requested_chain, "testnet");
        }
        other => panic!("expected GenesisMismatch, got {other:?}"),
    }
    let message = err.to_string();
    for part in [
        "mainnet".to_owned(),
        "testnet".to_owned(),
        main.header.hash().to_string(),
        test.header.hash().to_string(),
    ] {
        assert!(message.contains(&part), "{message:?} lacks {part}");
    }

    assert_eq!(db.genesis_hash().unwrap(), Some(main.header.hash()));
    assert_eq!(db.chain_name().unwrap().as_deref(), Some("mainnet"));
    assert_eq!(db.head().unwrap(), Some((0, main.header.hash())));
    assert_eq!(db.header(&test.header.hash()).unwrap(), None);
    assert_eq!(db.account(&addr(2)).unwrap(), None);
}

#[test]
fn genesis_must_be_block_zero() {
    let (_dir, db) = temp_db();
    let g = genesis("x", b"x", vec![]);
    let (block, _) = child(&g.header, vec![]);
    let not_zero = spectrum_storage::GenesisCommit {
        header: block.header,
        ..g
    };
    assert!(matches!(
        db.init_genesis(not_zero),
        Err(StorageError::InvalidCommit { number: 1, .. })
    ));
    assert_eq!(db.head().unwrap(), None);
}
