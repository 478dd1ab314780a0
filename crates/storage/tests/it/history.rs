//! Reading the state after past blocks through the history tables.

use alloy_primitives::{B256, U256};
use spectrum_primitives::SealedBlock;
use spectrum_storage::Database;
use spectrum_storage_api::{Account, StateChanges, StateProvider};

use crate::common::*;

const A: u8 = 1; // changes every other block
const B: u8 = 2; // created, deleted, re-created
const C: u8 = 0xc0; // a contract whose storage is set, zeroed and wiped

/// Genesis then four blocks:
/// 1. A nonce 1; B created with slot 1 = 11; C slot 2 = 5.
/// 2. B deleted (its storage with it); C slot 1 = 0, slot 2 = 6.
/// 3. A nonce 2; C's storage wiped, then slot 3 = 9.
/// 4. B re-created with another balance.
///
/// Returns the hashes of blocks 0 to 4.
pub fn scenario(db: &Database) -> Vec<B256> {
    let blocks = scenario_prefix(db, 4);
    let genesis_hash = db.genesis_hash().unwrap();
    genesis_hash
        .into_iter()
        .chain(blocks.iter().map(|b| b.hash()))
        .collect()
}

/// Writes the scenario's genesis and its first `count` blocks, each with two transactions.
pub fn scenario_prefix(db: &Database, count: usize) -> Vec<SealedBlock> {
    let mut g = genesis(
        "history",
        b"history",
        vec![(addr(A), account(0, 100)), (addr(C), account(1, 0))],
    );
    g.storage = vec![(addr(C), slot(1), U256::from(77))];
    let mut parent = g.header.clone();
    db.init_genesis(g).unwrap();
    let blocks = [
        StateChanges {
            accounts: vec![
                (addr(A), Some(account(1, 90))),
                (addr(B), Some(account(0, 5))),
            ],
            storage: vec![
                (addr(B), slot(1), U256::from(11)),
                (addr(C), slot(2), U256::from(5)),
            ],
            ..Default::default()
        },
        StateChanges {
            accounts: vec![(addr(B), None)],
            storage: vec![
                (addr(C), slot(1), U256::ZERO),
                (addr(C), slot(2), U256::from(6)),
            ],
            ..Default::default()
        },
        StateChanges {
            accounts: vec![(addr(A), Some(account(2, 80)))],
            wiped_storage: vec![addr(C)],
            storage: vec![(addr(C), slot(3), U256::from(9))],
            ..Default::default()
        },
        StateChanges {
            accounts: vec![(addr(B), Some(account(7, 7)))],
            ..Default::default()
        },
    ];
    let mut out = Vec::new();
    for (n, state) in (1u8..).zip(blocks).take(count) {
        let (block, receipts) = child(&parent, vec![signed_tx(n, 0), signed_tx(n, 1)]);
        db.commit_block(&canonical(
            block.clone(),
            receipts,
            1 + 2 * u64::from(n),
            state,
        ))
        .unwrap();
        parent = block.header.clone();
        out.push(block);
    }
    out
}

/// Expected account of `who` after block `n` of [`scenario`].
pub fn expected_account(who: u8, n: u64) -> Option<Account> {
    match (who, n) {
        (A, 0) => Some(account(0, 100)),
        (A, 1 | 2) => Some(account(1, 90)),
        (A, _) => Some(account(2, 80)),
        (B, 0) => None,
        (B, 1) => Some(account(0, 5)),
        (B, 2 | 3) => None,
        (B, _) => Some(account(7, 7)),
        (C, _) => Some(account(1, 0)),
        _ => None,
    }
}

/// Expected storage of `who` at `s` after block `n` of [`scenario`].
pub fn expected_storage(who: u8, s: u8, n: u64) -> U256 {
    let v = match (who, s, n) {
        (B, 1, 1) => 11,
        (C, 1, 0 | 1) => 77,
        (C, 2, 1) => 5,
        (C, 2, 2) => 6,
        (C, 3, 3..) => 9,
        _ => 0,
    };
    U256::from(v)
}

pub const WHO: [u8; 4] = [A, B, C, 0x77];
pub const SLOTS: [u8; 4] = [1, 2, 3, 4];

#[test]
fn reads_at_each_block_return_that_blocks_values() {
    let (_dir, db) = temp_db();
    scenario(&db);
    for n in 0..=4u64 {
        let state = db.state_at(n).unwrap();
        for who in WHO {
            let address = addr(who);
            assert_eq!(
                db.account_at(&address, n).unwrap(),
                expected_account(who, n),
                "{who} at {n}"
            );
            assert_eq!(
                state.account(&address).unwrap(),
                expected_account(who, n),
                "{who} at {n}"
            );
            for s in SLOTS {
                let expected = expected_storage(who, s, n);
                assert_eq!(
                    db.storage_at(&address, &slot(s), n).unwrap(),
                    expected,
                    "{who}/{s} at {n}"
                );
                assert_eq!(
                    state.storage(&address, &slot(s)).unwrap(),
                    expected,
                    "{who}/{s} at {n}"
                );
            }
        }
    }
    // The plain state is the state after the head, and blocks beyond it read as the head.
    for who in WHO {
        assert_eq!(db.account(&addr(who)).unwrap(), expected_account(who, 4));
        assert_eq!(
            db.account_at(&addr(who), u64::MAX).unwrap(),
            expected_account(who, 4)
        );
        for s in SLOTS {
            assert_eq!(
                db.storage(&addr(who), &slot(s)).unwrap(),
                expected_storage(who, s, 4)
            );
            assert_eq!(
                db.storage_at(&addr(who), &slot(s), 99).unwrap(),
                expected_storage(who, s, 4)
            );
        }
    }
}

#[test]
fn historical_block_hash_stops_at_its_block() {
    let (_dir, db) = temp_db();
    let hashes = scenario(&db);
    let state = db.state_at(2).unwrap();
    assert_eq!(state.block_number(), 2);
    assert_eq!(state.block_hash(0).unwrap(), Some(hashes[0]));
    assert_eq!(state.block_hash(2).unwrap(), Some(hashes[2]));
    assert_eq!(state.block_hash(3).unwrap(), None);
    assert_eq!(db.latest_state().block_hash(4).unwrap(), Some(hashes[4]));
}

#[test]
fn state_views_are_snapshots() {
    let (_dir, db) = temp_db();
    db.init_genesis(genesis("snap", b"snap", vec![(addr(1), account(0, 1))]))
        .unwrap();
    let latest = db.latest_state();
    let at_genesis = db.state_at(0).unwrap();
    commit_state(
        &db,
        StateChanges {
            accounts: vec![(addr(1), Some(account(1, 1)))],
            ..Default::default()
        },
    );
    assert_eq!(
        latest.account(&addr(1)).unwrap(),
        Some(account(0, 1)),
        "latest view is frozen"
    );
    assert_eq!(at_genesis.account(&addr(1)).unwrap(), Some(account(0, 1)));
    assert_eq!(db.account(&addr(1)).unwrap(), Some(account(1, 1)));
    assert_eq!(db.account_at(&addr(1), 0).unwrap(), Some(account(0, 1)));
}

#[test]
fn unchanged_writes_leave_no_history() {
    let (_dir, db) = temp_db();
    db.init_genesis(genesis("noop", b"noop", vec![(addr(1), account(0, 1))]))
        .unwrap();
    // Re-writing the same account and a zero to an unset slot change nothing.
    commit_state(
        &db,
        StateChanges {
            accounts: vec![(addr(1), Some(account(0, 1)))],
            storage: vec![(addr(1), slot(1), U256::ZERO)],
            ..Default::default()
        },
    );
    let changes = db.unwind_changes(0).unwrap();
    assert_eq!(changes, StateChanges::default());
    assert_eq!(db.account_at(&addr(1), 0).unwrap(), Some(account(0, 1)));
}
