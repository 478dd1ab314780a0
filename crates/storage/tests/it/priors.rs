//! History entries from the prior values a commit carries (`BlockCommit::priors`, what
//! execution read of the parent state): the same bytes as when the database reads them, and
//! no read for a value the commit carried.

use std::{collections::BTreeMap, path::Path};

use alloy_primitives::{Address, U256};
use spectrum_storage::{Database, Table};
use spectrum_storage_api::{PriorState, StateChanges};

use crate::common::*;

const A: u8 = 1;
const B: u8 = 2;
const C: u8 = 0xc0;

/// Block 1: A and B (new) change, C's slot 1 is written with its own value (a no-op), slot 2
/// set. Block 2: B deleted (its slot with it), C's slots change. Block 3: C's storage wiped,
/// then slot 3 written. Block 4: B re-created, A written unchanged.
fn blocks() -> Vec<StateChanges> {
    vec![
        StateChanges {
            accounts: vec![
                (addr(A), Some(account(1, 90))),
                (addr(B), Some(account(0, 5))),
            ],
            storage: vec![
                (addr(B), slot(1), U256::from(11)),
                (addr(C), slot(1), U256::from(77)),
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
            accounts: vec![
                (addr(A), Some(account(2, 80))),
                (addr(B), Some(account(7, 7))),
            ],
            ..Default::default()
        },
    ]
}

/// The parent values of everything `changes` writes, read from the head (what execution would
/// have read), the `n`th of them (counting accounts, then slots) kept when `keep(n)`.
fn priors_of(db: &Database, changes: &StateChanges, keep: impl Fn(usize) -> bool) -> PriorState {
    let mut priors = PriorState::default();
    let mut n = 0;
    for (address, _) in &changes.accounts {
        if keep(n) {
            priors
                .accounts
                .insert(*address, db.account(address).unwrap());
        }
        n += 1;
    }
    for (address, slot, _) in &changes.storage {
        if keep(n) {
            priors
                .storage
                .insert((*address, *slot), db.storage(address, slot).unwrap());
        }
        n += 1;
    }
    priors
}

/// Writes the genesis and [`blocks`], each commit carrying the priors `keep` selects; returns
/// how many prior values were not carried (outside wiped or deleted accounts, whose slots the
/// commit scans).
fn write_chain(db: &Database, keep: impl Fn(usize) -> bool + Copy) -> u64 {
    let mut g = genesis(
        "priors",
        b"priors",
        vec![(addr(A), account(0, 100)), (addr(C), account(1, 0))],
    );
    g.storage = vec![(addr(C), slot(1), U256::from(77))];
    let mut parent = g.header.clone();
    db.init_genesis(g).unwrap();
    let mut missing = 0;
    for (n, state) in (1u8..).zip(blocks()) {
        let priors = priors_of(db, &state, keep);
        let scanned = |address: &Address| {
            state.wiped_storage.contains(address) || state.accounts.contains(&(*address, None))
        };
        missing += state
            .accounts
            .iter()
            .filter(|(address, _)| !priors.accounts.contains_key(address))
            .count() as u64;
        missing += state
            .storage
            .iter()
            .filter(|(address, slot, _)| {
                !scanned(address) && !priors.storage.contains_key(&(*address, *slot))
            })
            .count() as u64;
        let (block, receipts) = child(&parent, vec![signed_tx(n, 0)]);
        let mut commit = canonical(block.clone(), receipts, 1 + 2 * u64::from(n), state);
        commit.priors = priors;
        db.commit_block(&commit).unwrap();
        parent = block.header.clone();
    }
    missing
}

/// Every table's entries by table name.
type Tables = BTreeMap<&'static str, Vec<(Box<[u8]>, Box<[u8]>)>>;

/// Every entry of every table, read with RocksDB directly (the database must be closed).
pub fn dump(path: &Path) -> Tables {
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), path).unwrap();
    let db = rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), path, names, false)
        .unwrap();
    Table::ALL
        .iter()
        .map(|table| {
            let cf = db.cf_handle(table.name()).unwrap();
            let entries = db
                .iterator_cf(cf, rocksdb::IteratorMode::Start)
                .map(Result::unwrap)
                .collect();
            (table.name(), entries)
        })
        .collect()
}

/// Commits carrying all, some or none of their priors write the same bytes to every table;
/// the database reads exactly the priors a commit did not carry.
#[test]
fn carried_priors_write_the_history_a_read_writes() {
    let (read_dir, read_db) = temp_db();
    let missing_all = write_chain(&read_db, |_| false);
    assert_eq!(
        missing_all, 11,
        "the scenario's changes outside wiped accounts"
    );
    assert_eq!(read_db.prior_reads(), missing_all);

    let (carried_dir, carried_db) = temp_db();
    assert_eq!(write_chain(&carried_db, |_| true), 0);
    assert_eq!(
        carried_db.prior_reads(),
        0,
        "every prior was carried: nothing is read"
    );

    let (half_dir, half_db) = temp_db();
    let missing_half = write_chain(&half_db, |n| n % 2 == 0);
    assert!(missing_half > 0 && missing_half < missing_all);
    assert_eq!(half_db.prior_reads(), missing_half);

    drop((read_db, carried_db, half_db));
    let read = dump(read_dir.path());
    assert!(!read["account_history"].is_empty() && !read["storage_history"].is_empty());
    assert_eq!(dump(carried_dir.path()), read);
    assert_eq!(dump(half_dir.path()), read);
}

/// The slots of a wiped account come from the scan of its stored slots, whatever a commit
/// carries for them: a carried value would not say which other slots the account held.
#[test]
fn a_wiped_accounts_slots_come_from_the_scan_not_the_priors() {
    let (_dir, db) = temp_db();
    write_chain(&db, |_| true);
    // Block 5 wipes C again: slot 3 (9) is stored. The priors lie about slot 3 and carry
    // a slot 4 that is not there.
    let head = db.header_by_number(4).unwrap().unwrap();
    let (block, receipts) = child(&head, vec![signed_tx(5, 0)]);
    let mut commit = canonical(
        block,
        receipts,
        11,
        StateChanges {
            wiped_storage: vec![addr(C)],
            storage: vec![(addr(C), slot(4), U256::from(1))],
            ..Default::default()
        },
    );
    commit
        .priors
        .storage
        .insert((addr(C), slot(3)), U256::from(1234));
    commit
        .priors
        .storage
        .insert((addr(C), slot(4)), U256::from(5678));
    let reads = db.prior_reads();
    db.commit_block(&commit).unwrap();
    assert_eq!(
        db.prior_reads(),
        reads,
        "a wiped account's slots are not read one by one"
    );
    assert_eq!(db.storage_at(&addr(C), &slot(3), 4).unwrap(), U256::from(9));
    assert_eq!(db.storage_at(&addr(C), &slot(4), 4).unwrap(), U256::ZERO);
    assert_eq!(db.storage_at(&addr(C), &slot(3), 5).unwrap(), U256::ZERO);
    assert_eq!(db.storage_at(&addr(C), &slot(4), 5).unwrap(), U256::from(1));
}
