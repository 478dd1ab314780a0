//! Writing a chain, reopening the database and reading every item back.

use alloy_primitives::{B256, Bytes, U256};
use spectrum_storage::{
    BlockCommit, Database, GenesisStatus, StorageError, Table, TrieNodeWrite, TrieTable, TxLocation,
};
use spectrum_storage_api::{Account, StateChanges, StateProvider};

use crate::common::*;

#[test]
fn chain_written_in_separate_commits_reads_back_equal_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis("spectrum-test", b"one", vec![(addr(1), account(0, 1_000))]);
    let genesis_header = genesis.header.clone();

    let mut blocks = Vec::new();
    {
        let db = Database::open(dir.path()).unwrap();
        assert_eq!(
            db.init_genesis(genesis.clone()).unwrap(),
            GenesisStatus::Written
        );
        let mut parent = genesis_header.clone();
        for n in 1..=3u64 {
            let txs = (0..2).map(|i| signed_tx(n as u8, i)).collect();
            let (block, receipts) = child(&parent, txs);
            let state = StateChanges {
                accounts: vec![(addr(1), Some(account(n, 1_000 - n)))],
                wiped_storage: vec![],
                storage: vec![(addr(1), slot(n as u8), U256::from(n * 10))],
                codes: vec![(B256::repeat_byte(n as u8), Bytes::from(vec![n as u8; 4]))],
            };
            let commit = BlockCommit {
                trie: vec![TrieNodeWrite {
                    table: TrieTable::Storage,
                    key: Bytes::from(vec![n as u8; 33]),
                    value: Some(Bytes::from(vec![0xab; n as usize])),
                }],
                ..canonical(block.clone(), receipts.clone(), 1 + 2 * n, state)
            };
            db.commit_block(&commit).unwrap();
            parent = block.header.clone();
            blocks.push((block, receipts));
        }
    }

    let db = Database::open(dir.path()).unwrap();
    let (last, _) = blocks.last().unwrap();
    assert_eq!(db.head().unwrap(), Some((3, last.hash())));
    assert_eq!(db.genesis_hash().unwrap(), Some(genesis_header.hash()));
    assert_eq!(db.chain_name().unwrap().as_deref(), Some("spectrum-test"));
    assert_eq!(db.canonical_hash(0).unwrap(), Some(genesis_header.hash()));
    assert_eq!(
        db.header_by_number(0).unwrap(),
        Some(genesis_header.clone())
    );
    assert_eq!(
        db.total_difficulty(&genesis_header.hash()).unwrap(),
        Some(U256::from(1))
    );
    assert_eq!(db.receipts(&genesis_header.hash()).unwrap(), Some(vec![]));
    assert_eq!(
        db.body(&genesis_header.hash()).unwrap(),
        Some(Default::default())
    );

    for (n, (block, receipts)) in (1u64..).zip(&blocks) {
        let hash = block.hash();
        assert_eq!(db.canonical_hash(n).unwrap(), Some(hash));
        assert_eq!(db.block_number(&hash).unwrap(), Some(n));
        assert_eq!(db.header(&hash).unwrap(), Some(block.header.clone()));
        assert_eq!(
            db.header(&hash).unwrap().unwrap().hash(),
            block.header.header().hash_slow()
        );
        assert_eq!(db.header_by_number(n).unwrap(), Some(block.header.clone()));
        assert_eq!(db.body(&hash).unwrap(), Some(block.body.clone()));
        assert_eq!(db.block(&hash).unwrap(), Some(block.clone()));
        assert_eq!(db.receipts(&hash).unwrap(), Some(receipts.clone()));
        assert_eq!(
            db.total_difficulty(&hash).unwrap(),
            Some(U256::from(1 + 2 * n))
        );
        for (index, tx) in (0u32..).zip(&block.body.transactions) {
            assert_eq!(
                db.tx_location(&tx.hash()).unwrap(),
                Some(TxLocation {
                    block_number: n,
                    block_hash: hash,
                    index
                })
            );
        }
        assert_eq!(
            db.storage(&addr(1), &slot(n as u8)).unwrap(),
            U256::from(n * 10)
        );
        assert_eq!(
            db.code(&B256::repeat_byte(n as u8)).unwrap(),
            Some(Bytes::from(vec![n as u8; 4]))
        );
        assert_eq!(
            db.trie_node(TrieTable::Storage, &[n as u8; 33]).unwrap(),
            Some(Bytes::from(vec![0xab; n as usize]))
        );
    }
    assert_eq!(db.account(&addr(1)).unwrap(), Some(account(3, 997)));
    // Genesis state and trie.
    assert_eq!(db.storage(&addr(0xc0), &slot(1)).unwrap(), U256::from(77));
    assert_eq!(
        db.code(&B256::repeat_byte(0xcc)).unwrap(),
        Some(Bytes::from_static(&[0x60, 0]))
    );
    assert_eq!(
        db.trie_node(TrieTable::Account, &[]).unwrap(),
        Some(Bytes::from_static(b"genesis root node"))
    );

    // Unknown things are None, not errors.
    assert_eq!(db.header(&B256::repeat_byte(0x99)).unwrap(), None);
    assert_eq!(db.header_by_number(4).unwrap(), None);
    assert_eq!(db.tx_location(&B256::repeat_byte(0x99)).unwrap(), None);
    assert_eq!(db.account(&addr(0x99)).unwrap(), None);
    assert_eq!(db.storage(&addr(0x99), &slot(1)).unwrap(), U256::ZERO);

    // The latest state provider sees the same.
    let latest = db.latest_state();
    assert_eq!(latest.account(&addr(1)).unwrap(), Some(account(3, 997)));
    assert_eq!(latest.block_hash(2).unwrap(), Some(blocks[1].0.hash()));

    let stats = db.stats().unwrap();
    assert_eq!(stats.len(), Table::ALL.len());
    let headers = stats.iter().find(|s| s.name == "headers").unwrap();
    assert!(headers.estimated_keys >= 1, "{stats:?}");
    assert!(headers.size_bytes > 0, "{stats:?}");
    db.flush().unwrap();

    // After the flush the headers live in SST files, which the engine figures (the node's
    // compaction metrics, read through the trait) report.
    let engine = spectrum_storage_api::EngineStatsSource::engine_stats(&db).unwrap();
    assert_eq!(engine.tables.len(), Table::ALL.len());
    let headers = engine.tables.iter().find(|t| t.table == "headers").unwrap();
    assert!(headers.sst_bytes > 0, "{engine:?}");
    assert!(headers.live_data_bytes > 0, "{engine:?}");
}

#[test]
fn side_chain_block_is_known_but_not_canonical() {
    let (_dir, db) = temp_db();
    let genesis = genesis("side", b"side", vec![]);
    let genesis_header = genesis.header.clone();
    db.init_genesis(genesis).unwrap();
    let (main, main_receipts) = child(&genesis_header, vec![signed_tx(1, 0)]);
    db.commit_block(&canonical(
        main.clone(),
        main_receipts,
        3,
        StateChanges::default(),
    ))
    .unwrap();

    let (side, side_receipts) = child(&genesis_header, vec![signed_tx(2, 0)]);
    let commit = BlockCommit {
        make_canonical_head: false,
        ..canonical(
            side.clone(),
            side_receipts.clone(),
            3,
            StateChanges::default(),
        )
    };
    db.commit_block(&commit).unwrap();

    assert_eq!(db.head().unwrap(), Some((1, main.hash())));
    assert_eq!(db.canonical_hash(1).unwrap(), Some(main.hash()));
    assert_eq!(db.block(&side.hash()).unwrap(), Some(side.clone()));
    assert_eq!(db.receipts(&side.hash()).unwrap(), Some(side_receipts));
    let side_tx = side.body.transactions[0].hash();
    assert_eq!(
        db.tx_location(&side_tx).unwrap(),
        None,
        "side-chain transactions are not indexed"
    );

    // A side block may not carry state.
    let with_state = BlockCommit {
        make_canonical_head: false,
        state: StateChanges {
            accounts: vec![(addr(5), None)],
            ..Default::default()
        },
        ..canonical(side.clone(), vec![], 3, StateChanges::default())
    };
    assert!(matches!(
        db.commit_block(&with_state),
        Err(StorageError::InvalidCommit { number: 1, .. })
    ));
}

#[test]
fn canonical_commit_must_extend_the_head() {
    let (_dir, db) = temp_db();
    let genesis = genesis("extend", b"extend", vec![]);
    let genesis_header = genesis.header.clone();

    // No genesis yet.
    let (b1, r1) = child(&genesis_header, vec![]);
    assert!(matches!(
        db.commit_block(&canonical(
            b1.clone(),
            r1.clone(),
            3,
            StateChanges::default()
        )),
        Err(StorageError::NotInitialised)
    ));

    db.init_genesis(genesis).unwrap();
    let (b2, r2) = child(&b1.header, vec![]);
    let err = db
        .commit_block(&canonical(b2, r2, 5, StateChanges::default()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::NotChildOfHead {
                number: 2,
                head_number: 0,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        db.head().unwrap(),
        Some((0, genesis_header.hash())),
        "nothing written"
    );
    assert_eq!(db.header(&b1.hash()).unwrap(), None);

    // Receipts must match transactions.
    let (b1tx, _) = child(&genesis_header, vec![signed_tx(3, 0)]);
    let err = db
        .commit_block(&canonical(b1tx, vec![], 3, StateChanges::default()))
        .unwrap_err();
    assert!(
        matches!(err, StorageError::InvalidCommit { number: 1, .. }),
        "{err}"
    );

    db.commit_block(&canonical(b1.clone(), r1, 3, StateChanges::default()))
        .unwrap();
    assert_eq!(db.head().unwrap(), Some((1, b1.hash())));
}

#[test]
fn state_provider_reports_values_not_errors_for_absent_state() {
    let (_dir, db) = temp_db();
    db.init_genesis(genesis("sp", b"sp", vec![(addr(1), Account::default())]))
        .unwrap();
    let state = db.state_at(0).unwrap();
    assert_eq!(state.account(&addr(1)).unwrap(), Some(Account::default()));
    assert_eq!(state.account(&addr(2)).unwrap(), None);
    assert_eq!(state.storage(&addr(2), &slot(2)).unwrap(), U256::ZERO);
    assert_eq!(state.code(&B256::ZERO).unwrap(), None);
    assert!(matches!(
        db.state_at(1),
        Err(StorageError::AboveHead {
            requested: 1,
            head: 0
        })
    ));
}

#[test]
fn database_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Database>();

    let (_dir, db) = temp_db();
    db.init_genesis(genesis("threads", b"threads", vec![]))
        .unwrap();
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            for _ in 0..200 {
                let (number, hash) = db.head().unwrap().unwrap();
                assert_eq!(db.canonical_hash(number).unwrap(), Some(hash));
            }
        });
        for n in 1..=20u64 {
            commit_state(
                &db,
                StateChanges {
                    accounts: vec![(addr(1), Some(account(n, 0)))],
                    ..Default::default()
                },
            );
        }
        reader.join().unwrap();
    });
    assert_eq!(db.head().unwrap().map(|(n, _)| n), Some(20));
}
