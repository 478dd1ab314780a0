//! RPC, the network and the producer call the pool at once.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::{
    sync::{Arc, Barrier},
    thread,
};

use alloy_primitives::B256;
use common::*;
use spectrum_txpool::{HeadUpdate, PoolError, TxPool};

#[test]
fn many_threads_adding_while_others_read_and_the_head_moves() {
    let f = Arc::new(fixture());
    let keys: Vec<_> = (0..8).map(|n| f.funded(100 + n)).collect();
    // Signed beforehand so the threads contend on the pool, not on signing.
    let batches: Vec<Vec<_>> = keys
        .iter()
        .map(|k| (0..50).map(|nonce| transfer(k, nonce, 2 * GWEI)).collect())
        .collect();
    let start = Barrier::new(batches.len() + 2);
    thread::scope(|scope| {
        for batch in &batches {
            let (f, start) = (&f, &start);
            scope.spawn(move || {
                start.wait();
                for tx in batch {
                    f.add(tx.clone()).unwrap();
                }
            });
        }
        // A producer reading the best transactions and a node moving the head meanwhile.
        let (f, start) = (&f, &start);
        scope.spawn(move || {
            start.wait();
            for _ in 0..50 {
                let best: Vec<_> = f.pool.best_transactions().collect();
                assert!(best.len() <= 400);
                let _ = f.pool.content();
            }
        });
        scope.spawn(move || {
            start.wait();
            for number in 1..=50 {
                f.pool.on_head_update(HeadUpdate {
                    number,
                    gas_limit: GAS_LIMIT,
                    ..Default::default()
                });
            }
        });
    });
    assert_eq!(f.pool.status().pending, 400);
    assert_eq!(f.pool.best_transactions().count(), 400);
    for k in &keys {
        assert_eq!(f.pool.pending_nonce(&address(k)), Some(50));
    }
    assert_consistent(&f.pool);
}

#[test]
fn the_same_transaction_from_many_threads_is_admitted_once() {
    let f = fixture();
    let k = f.funded(1);
    let tx = transfer(&k, 0, 2 * GWEI);
    let start = Barrier::new(8);
    let results: Vec<Result<B256, PoolError>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (f, tx, start) = (&f, tx.clone(), &start);
                scope.spawn(move || {
                    start.wait();
                    f.add(tx)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, PoolError::AlreadyKnown))
    );
    assert_eq!(f.pool.status().pending, 1);
    assert_eq!(f.pool.size_in_bytes(), alloy_rlp::encode(&tx).len());
}

#[test]
fn competing_replacements_leave_one_transaction_per_nonce() {
    let f = fixture();
    let k = f.funded(1);
    // Prices 2, 3, ... 9 gwei: each is a valid replacement of the ones before it.
    let txs: Vec<_> = (2..10u128).map(|p| transfer(&k, 0, p * GWEI)).collect();
    let start = Barrier::new(txs.len());
    thread::scope(|scope| {
        for tx in &txs {
            let (f, start) = (&f, &start);
            scope.spawn(move || {
                start.wait();
                let _ = f.add(tx.clone());
            });
        }
    });
    assert_eq!(f.held(), 1);
    let held = f.pool.best_transactions().next().unwrap();
    assert_eq!(f.pool.size_in_bytes(), held.encoded_len);
    assert_consistent(&f.pool);
}
