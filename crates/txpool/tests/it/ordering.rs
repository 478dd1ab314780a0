//! Pending and queued by nonce, replacement, and the order blocks take transactions in.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use alloy_primitives::{B256, U256};
use common::*;
use spectrum_txpool::TxPool;

#[test]
fn a_gap_queues_later_nonces_and_filling_it_promotes_them() {
    let f = fixture();
    let k = f.funded(1);
    let sender = address(&k);
    let mut events = f.pool.subscribe_pending();
    let first = f.add(transfer(&k, 0, 2 * GWEI)).unwrap();
    f.add(transfer(&k, 2, 2 * GWEI)).unwrap();
    f.add(transfer(&k, 3, 2 * GWEI)).unwrap();
    let status = f.pool.status();
    assert_eq!((status.pending, status.queued), (1, 2));
    let content = f.pool.content();
    assert_eq!(
        content.queued[&sender].keys().copied().collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(f.pool.pending_nonce(&sender), Some(1));
    assert_eq!(nonces(f.pool.best_transactions()), vec![(sender, 0)]);
    assert_eq!(
        events.try_recv().unwrap(),
        first,
        "only the executable one is announced"
    );
    assert!(events.try_recv().is_err());
    assert_consistent(&f.pool);

    let filler = transfer(&k, 1, 2 * GWEI);
    f.add(filler.clone()).unwrap();
    let status = f.pool.status();
    assert_eq!((status.pending, status.queued), (4, 0));
    assert_eq!(f.pool.pending_nonce(&sender), Some(4));
    let promoted: Vec<B256> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert_eq!(promoted.len(), 3, "the filler and the two it unblocked");
    assert_eq!(promoted[0], filler.hash());
    assert_consistent(&f.pool);
}

#[test]
fn pending_nonce_is_none_without_transactions_and_the_account_s_next_with_only_queued() {
    let f = fixture();
    let k = key(1);
    f.state.set(address(&k), 7, coins(1));
    assert_eq!(f.pool.pending_nonce(&address(&k)), None);
    f.add(transfer(&k, 9, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.pending_nonce(&address(&k)), Some(7));
    f.add(transfer(&k, 7, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.pending_nonce(&address(&k)), Some(8));
}

#[test]
fn replacement_needs_a_ten_percent_bump() {
    let f = fixture();
    let k = f.funded(1);
    let first = f.add(transfer(&k, 0, 10 * GWEI)).unwrap();
    let with = |price, value: u64| {
        tx_with(&k, 0, |t| {
            t.gas_price = price;
            t.value = U256::from(value);
        })
    };
    assert_eq!(
        f.refusal(with(11 * GWEI - 1, 2)),
        "replacement transaction underpriced"
    );
    assert_eq!(
        f.refusal(with(10 * GWEI, 2)),
        "replacement transaction underpriced"
    );
    // Exactly 10% more replaces.
    let second = f.add(with(11 * GWEI, 2)).unwrap();
    assert!(f.pool.get(&first).is_none());
    assert_eq!(
        f.pool.get(&second).unwrap().gas_price(),
        U256::from(11 * GWEI)
    );
    assert_eq!(f.pool.status().pending, 1);
    assert_eq!(
        f.pool.size_in_bytes(),
        f.pool.get(&second).unwrap().encoded_len
    );
    assert_consistent(&f.pool);
}

#[test]
fn a_replacement_must_be_strictly_dearer_even_where_ten_percent_rounds_to_nothing() {
    let f = fixture_with(|c| c.min_gas_price = U256::ZERO);
    let k = f.funded(1);
    f.add(transfer(&k, 0, 5)).unwrap();
    // 5 × 110 / 100 rounds down to 5.
    assert_eq!(
        f.refusal(tx_with(&k, 0, |t| {
            t.gas_price = 5;
            t.value = U256::from(2u64);
        })),
        "replacement transaction underpriced"
    );
    f.add(tx_with(&k, 0, |t| t.gas_price = 6)).unwrap();
    assert_eq!(f.held(), 1);
}

#[test]
fn a_queued_transaction_can_be_replaced_and_stays_queued() {
    let f = fixture();
    let k = f.funded(1);
    let cheap = f.add(transfer(&k, 3, 2 * GWEI)).unwrap();
    let dear = f.add(transfer(&k, 3, 5 * GWEI)).unwrap();
    assert!(f.pool.get(&cheap).is_none());
    assert_eq!(f.pool.status().queued, 1);
    assert!(f.pool.content().queued[&address(&k)][&3].hash == dear);
    assert_consistent(&f.pool);
}

#[test]
fn best_transactions_go_by_price_each_sender_in_nonce_order() {
    let f = fixture();
    let a = f.funded(1);
    let b = f.funded(2);
    f.add(transfer(&a, 0, 2 * GWEI)).unwrap();
    f.add(transfer(&a, 1, 9 * GWEI)).unwrap();
    f.add(transfer(&b, 0, 5 * GWEI)).unwrap();
    f.add(transfer(&b, 1, 3 * GWEI)).unwrap();
    f.add(transfer(&b, 3, 50 * GWEI)).unwrap(); // queued: never offered
    assert_eq!(
        nonces(f.pool.best_transactions()),
        vec![
            (address(&b), 0),
            (address(&b), 1),
            (address(&a), 0),
            (address(&a), 1)
        ],
        "a's dear nonce 1 waits behind its cheap nonce 0"
    );
    assert_consistent(&f.pool);
}

#[test]
fn at_equal_prices_the_older_goes_first() {
    let f = fixture();
    let keys: Vec<_> = (1..=5).map(|n| f.funded(n)).collect();
    for k in keys.iter().rev() {
        f.add(transfer(k, 0, 3 * GWEI)).unwrap();
    }
    let order: Vec<_> = nonces(f.pool.best_transactions());
    let expected: Vec<_> = keys.iter().rev().map(|k| (address(k), 0)).collect();
    assert_eq!(order, expected);
}

#[test]
fn mark_invalid_skips_the_rest_of_a_sender() {
    let f = fixture();
    let a = f.funded(1);
    let b = f.funded(2);
    for nonce in 0..3 {
        f.add(transfer(&a, nonce, 9 * GWEI)).unwrap();
        f.add(transfer(&b, nonce, 4 * GWEI)).unwrap();
    }
    let mut best = f.pool.best_transactions();
    assert_eq!(best.size_hint(), (0, Some(6)));
    let first = best.next().unwrap();
    assert_eq!((first.sender, first.nonce()), (address(&a), 0));
    // a's nonce 0 failed in the block: its nonces 1 and 2 cannot run.
    best.mark_invalid(&address(&a));
    assert_eq!(
        nonces(best),
        vec![(address(&b), 0), (address(&b), 1), (address(&b), 2)]
    );
    // The iterator is a snapshot: the pool still holds everything until told otherwise.
    assert_eq!(f.pool.status().pending, 6);
}

#[test]
fn the_validator_s_own_transactions_follow_its_chief_update() {
    let k = key(7);
    let f = fixture_with(|c| c.reserved_nonce_senders = vec![address(&k)]);
    f.state.set(address(&k), 3, coins(10));
    // Nonce 3 goes to the chief-update transaction of our next block: a wallet is told 4.
    assert_eq!(f.pool.pending_nonce(&address(&k)), Some(4));
    assert_eq!(f.refusal(transfer(&k, 3, 2 * GWEI)), "nonce too low");
    f.add(transfer(&k, 4, 2 * GWEI)).unwrap();
    f.add(transfer(&k, 5, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.status().pending, 2);
    assert_eq!(f.pool.pending_nonce(&address(&k)), Some(6));
    assert_eq!(
        nonces(f.pool.best_transactions()),
        vec![(address(&k), 4), (address(&k), 5)]
    );
    // Anyone else starts at the state nonce.
    let other = key(8);
    f.state.set(address(&other), 3, coins(10));
    assert_eq!(f.pool.pending_nonce(&address(&other)), None);
    f.add(transfer(&other, 3, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.status().pending, 3);
}
