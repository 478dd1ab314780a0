//! `Database` behind the provider traits: state snapshots answer state, header and total
//! difficulty of one version; by hash and by number agree with the history reads; side-chain
//! and future blocks have no state; trie nodes are the head's only.

use alloy_primitives::{B256, Bytes, U256};
use spectrum_storage::Database;
use spectrum_storage_api::{
    BlockCommit, ChainInfo, ProviderError, StateChanges, StateProviderFactory, StateSnapshot,
    TrieTable,
};

use crate::{
    common::*,
    history::{SLOTS, WHO, expected_account, expected_storage, scenario},
};

/// Every value a snapshot serves, read through the trait object the node holds.
fn assert_state_is_block(state: &dyn StateSnapshot, n: u64) {
    for who in WHO {
        assert_eq!(
            state.account(&addr(who)).unwrap(),
            expected_account(who, n),
            "{who} at {n}"
        );
        for s in SLOTS {
            assert_eq!(
                state.storage(&addr(who), &slot(s)).unwrap(),
                expected_storage(who, s, n),
                "{who}/{s} at {n}"
            );
        }
    }
}

#[test]
fn snapshots_by_number_and_by_hash_read_each_blocks_state() {
    let (_dir, db) = temp_db();
    let hashes = scenario(&db);
    let provider: &dyn StateProviderFactory = &db;
    for (n, hash) in (0..=4u64).zip(&hashes) {
        for state in [
            provider.by_number(n).unwrap(),
            provider.by_hash(hash).unwrap(),
        ] {
            assert_eq!((state.number(), state.hash()), (n, *hash));
            assert_eq!(state.header().unwrap().hash(), *hash);
            assert_eq!(
                Some(state.total_difficulty().unwrap()),
                db.total_difficulty(hash).unwrap()
            );
            assert_state_is_block(&*state, n);
        }
    }
    let latest = provider.latest().unwrap();
    assert_eq!(latest.number(), 4);
    assert_state_is_block(&*latest, 4);
}

/// The race of `rpc/src/state.rs` before the seam: a head header read after the state could
/// belong to a block committed in between. A snapshot's header, TD and state are one version.
#[test]
fn a_snapshots_header_and_state_do_not_move_with_a_commit() {
    let (_dir, db) = temp_db();
    db.init_genesis(genesis("race", b"race", vec![(addr(1), account(0, 1))]))
        .unwrap();
    let genesis_hash = db.genesis_hash().unwrap().unwrap();
    let latest = StateProviderFactory::latest(&db).unwrap();
    let next = commit_state(
        &db,
        StateChanges {
            accounts: vec![(addr(1), Some(account(1, 1)))],
            ..Default::default()
        },
    );
    assert_eq!(latest.header().unwrap().hash(), genesis_hash);
    assert_eq!(latest.total_difficulty().unwrap(), U256::from(1));
    assert_eq!(latest.account(&addr(1)).unwrap(), Some(account(0, 1)));
    let now = StateProviderFactory::latest(&db).unwrap();
    assert_eq!(now.header().unwrap().hash(), next.hash());
    assert_eq!(now.account(&addr(1)).unwrap(), Some(account(1, 1)));
    let head = db.head_total_difficulty().unwrap().unwrap();
    assert_eq!((head.number, head.hash), (1, next.hash()));
    assert_eq!(head.total_difficulty, U256::from(2));
}

#[test]
fn side_unknown_and_future_blocks_have_no_state() {
    let (_dir, db) = temp_db();
    let g = genesis("side", b"side", vec![]);
    let genesis_header = g.header.clone();
    db.init_genesis(g).unwrap();
    let (side, receipts) = child(&genesis_header, vec![signed_tx(2, 0)]);
    let side_hash = side.hash();
    db.commit_block(&BlockCommit {
        make_canonical_head: false,
        ..canonical(side, receipts, 3, StateChanges::default())
    })
    .unwrap();
    assert!(matches!(
        db.by_hash(&side_hash).err(),
        Some(ProviderError::StateUnavailable(hash)) if hash == side_hash
    ));
    let unknown = B256::repeat_byte(0x5a);
    assert!(matches!(
        db.by_hash(&unknown).err(),
        Some(ProviderError::StateUnavailable(hash)) if hash == unknown
    ));
    assert!(matches!(
        db.by_number(1).err(),
        Some(ProviderError::AboveHead {
            requested: 1,
            head: 0
        })
    ));
}

#[test]
fn trie_nodes_are_served_for_the_head_only() {
    let (_dir, db) = temp_db();
    scenario(&db);
    let latest = StateProviderFactory::latest(&db).unwrap();
    assert_eq!(
        latest.trie_node(TrieTable::Account, &[]).unwrap(),
        Some(Bytes::from_static(b"genesis root node"))
    );
    assert!(latest.storage_trie_keys(&B256::ZERO).unwrap().is_empty());
    let past = db.by_number(2).unwrap();
    assert!(matches!(
        past.trie_node(TrieTable::Account, &[]),
        Err(ProviderError::TrieUnavailable(2))
    ));
    assert!(matches!(
        past.storage_trie_keys(&B256::ZERO),
        Err(ProviderError::TrieUnavailable(2))
    ));
}

/// An uninitialised database has no state to open.
#[test]
fn an_empty_database_has_no_latest_state() {
    let (_dir, db): (_, Database) = temp_db();
    assert!(matches!(
        StateProviderFactory::latest(&db).err(),
        Some(ProviderError::NotInitialised)
    ));
    assert_eq!(db.head_total_difficulty().unwrap(), None);
}

/// `walk_accounts` (`anvil_dumpState`): every account of the head with its storage, in
/// address order; past either bound a typed error, not a partial answer; the head only.
#[test]
fn the_head_state_walks_within_bounds() {
    let (_dir, db) = temp_db();
    db.init_genesis(genesis(
        "walk",
        b"walk",
        vec![(addr(3), account(0, 3)), (addr(1), account(0, 1))],
    ))
    .unwrap();
    commit_state(
        &db,
        StateChanges {
            accounts: vec![(addr(2), Some(account(1, 2)))],
            storage: vec![(addr(2), slot(9), U256::from(5))],
            ..Default::default()
        },
    );
    let latest = StateProviderFactory::latest(&db).unwrap();
    let walked = latest.walk_accounts(10, 1 << 20).unwrap();
    let order: Vec<_> = walked.iter().map(|a| a.address).collect();
    assert_eq!(order, vec![addr(1), addr(2), addr(3)]);
    assert_eq!(walked[1].account, account(1, 2));
    assert_eq!(walked[1].storage, vec![(slot(9), U256::from(5))]);
    assert!(walked[0].storage.is_empty() && walked[0].code.is_empty());
    assert!(matches!(
        latest.walk_accounts(2, 1 << 20),
        Err(ProviderError::WalkTooLarge {
            max_accounts: 2,
            ..
        })
    ));
    assert!(matches!(
        latest.walk_accounts(10, 100),
        Err(ProviderError::WalkTooLarge { max_bytes: 100, .. })
    ));
    assert!(matches!(
        db.by_number(0).unwrap().walk_accounts(10, 1 << 20),
        Err(ProviderError::TrieUnavailable(0))
    ));
}
