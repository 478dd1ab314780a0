//! Upkeep when the canonical head moves, and removal of transactions that failed.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::atomic::Ordering;

use alloy_primitives::{B256, U256};
use common::*;
use spectrum_txpool::{HeadUpdate, TxPool};

fn head(number: u64, mined: Vec<B256>) -> HeadUpdate {
    HeadUpdate {
        number,
        gas_limit: GAS_LIMIT,
        mined,
        reinject: Vec::new(),
    }
}

#[test]
fn mined_transactions_leave_and_the_rest_stay_pending() {
    let f = fixture();
    let k = f.funded(1);
    let mined = f.add(transfer(&k, 0, 2 * GWEI)).unwrap();
    let next = f.add(transfer(&k, 1, 2 * GWEI)).unwrap();
    f.state.set(address(&k), 1, coins(99));
    f.pool.on_head_update(head(1, vec![mined]));
    assert!(f.pool.get(&mined).is_none());
    assert!(f.pool.get(&next).is_some());
    assert_eq!(f.pool.status().pending, 1);
    assert_eq!(f.pool.pending_nonce(&address(&k)), Some(2));
    assert_consistent(&f.pool);
}

#[test]
fn nonces_below_the_account_s_are_dropped_even_if_not_reported_mined() {
    let f = fixture();
    let k = f.funded(1);
    for nonce in 0..4 {
        f.add(transfer(&k, nonce, 2 * GWEI)).unwrap();
    }
    // Another node's block used nonces 0..=2 with other transactions.
    f.state.set(address(&k), 3, coins(99));
    f.pool.on_head_update(head(1, Vec::new()));
    let content = f.pool.content();
    assert_eq!(
        content.pending[&address(&k)]
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![3]
    );
    assert_consistent(&f.pool);
}

#[test]
fn unpayable_transactions_are_dropped_and_later_ones_queue() {
    let f = fixture();
    let k = f.funded(1);
    f.add(transfer(&k, 0, 2 * GWEI)).unwrap();
    let dear = f.add(tx_with(&k, 1, |t| t.value = coins(50))).unwrap();
    f.add(transfer(&k, 2, 2 * GWEI)).unwrap();
    // The account spent most of its coins elsewhere: nonce 1 can no longer pay.
    f.state.set(address(&k), 0, coins(10));
    f.pool.on_head_update(head(1, Vec::new()));
    assert!(f.pool.get(&dear).is_none());
    let status = f.pool.status();
    assert_eq!(
        (status.pending, status.queued),
        (1, 1),
        "nonce 2 waits behind the gap"
    );
    assert_consistent(&f.pool);
}

#[test]
fn a_lower_gas_limit_drops_what_no_longer_fits() {
    let f = fixture();
    let k = f.funded(1);
    let big = f.add(tx_with(&k, 0, |t| t.gas_limit = 30_000_000)).unwrap();
    let mut update = head(1, Vec::new());
    update.gas_limit = 29_999_999;
    f.pool.on_head_update(update);
    assert!(f.pool.get(&big).is_none());
    // And new ones are checked against the new limit.
    assert_eq!(
        f.refusal(tx_with(&k, 0, |t| t.gas_limit = 30_000_000)),
        "exceeds block gas limit"
    );
}

#[test]
fn reorged_out_transactions_return() {
    let f = fixture();
    let k = f.funded(1);
    let a = transfer(&k, 0, 2 * GWEI);
    let b = transfer(&k, 1, 2 * GWEI);
    f.add(a.clone()).unwrap();
    f.add(b.clone()).unwrap();
    // Block 1 mines both.
    f.state.set(address(&k), 2, coins(99));
    f.pool.on_head_update(head(1, vec![a.hash(), b.hash()]));
    assert_eq!(f.held(), 0);
    // A reorg replaces block 1 with one without them: the account is back at nonce 0.
    let mut events = f.pool.subscribe_pending();
    f.state.set(address(&k), 0, coins(100));
    let mut update = head(1, Vec::new());
    // Re-injection order is the old block's; the pool copes with any.
    update.reinject = vec![b.clone(), a.clone()];
    f.pool.on_head_update(update);
    assert_eq!(f.pool.status().pending, 2);
    assert_eq!(
        nonces(f.pool.best_transactions()),
        vec![(address(&k), 0), (address(&k), 1)]
    );
    let announced: Vec<B256> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert_eq!(announced.len(), 2);
    assert_consistent(&f.pool);
}

#[test]
fn reinjected_transactions_already_mined_on_the_new_branch_stay_out() {
    let f = fixture();
    let k = f.funded(1);
    let a = transfer(&k, 0, 2 * GWEI);
    // The new branch mined it too: the account is past it.
    f.state.set(address(&k), 1, coins(99));
    let mut update = head(2, vec![a.hash()]);
    update.reinject = vec![a];
    f.pool.on_head_update(update);
    assert_eq!(f.held(), 0);
}

#[test]
fn the_account_catching_up_promotes_queued_ones() {
    let f = fixture();
    let k = f.funded(1);
    let queued = f.add(transfer(&k, 2, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.status().queued, 1);
    let mut events = f.pool.subscribe_pending();
    // Nonces 0 and 1 were mined from another node's pool.
    f.state.set(address(&k), 2, coins(99));
    f.pool.on_head_update(head(1, Vec::new()));
    assert_eq!(f.pool.status().pending, 1);
    assert_eq!(events.try_recv().unwrap(), queued);
    assert_consistent(&f.pool);
}

#[test]
fn head_updates_keep_the_limits_when_promotions_overflow() {
    let f = fixture_with(|c| {
        c.max_pending = 3;
        c.max_queued = 10;
    });
    let a = f.funded(1);
    let b = f.funded(2);
    f.add(transfer(&b, 0, 9 * GWEI)).unwrap();
    for nonce in 1..=4 {
        f.add(transfer(&a, nonce, (2 + nonce as u128) * GWEI))
            .unwrap();
    }
    assert_eq!(f.pool.status().queued, 4);
    // a's nonce 0 was mined elsewhere: its four become executable, one more than fits.
    f.state.set(address(&a), 1, coins(99));
    f.pool.on_head_update(head(1, Vec::new()));
    let status = f.pool.status();
    assert_eq!((status.pending, status.queued), (3, 0));
    // Each eviction takes the cheapest tail: a's nonce 4, then its nonce 3; b's dearer one
    // stays.
    let left = nonces(f.pool.best_transactions());
    assert_eq!(
        left,
        vec![(address(&b), 0), (address(&a), 1), (address(&a), 2)]
    );
    assert_consistent(&f.pool);
}

#[test]
fn remove_drops_a_failed_transaction_and_queues_the_sender_s_later_ones() {
    let f = fixture();
    let k = f.funded(1);
    let hashes: Vec<B256> = (0..3)
        .map(|nonce| f.add(transfer(&k, nonce, 2 * GWEI)).unwrap())
        .collect();
    f.pool.remove(&[hashes[1], B256::repeat_byte(9)]);
    assert!(f.pool.get(&hashes[1]).is_none());
    let status = f.pool.status();
    assert_eq!((status.pending, status.queued), (1, 1));
    assert_eq!(
        f.pool.size_in_bytes(),
        f.pool.get(&hashes[0]).unwrap().encoded_len * 2
    );
    f.pool.remove(&hashes);
    assert_eq!(f.held(), 0);
    assert_eq!(f.pool.size_in_bytes(), 0);
    assert_eq!(f.pool.pending_nonce(&address(&k)), None);
    assert_consistent(&f.pool);
}

#[test]
fn an_unreadable_state_refuses_new_ones_and_keeps_the_pool_as_it_was() {
    let f = fixture();
    let k = f.funded(1);
    let mined = f.add(transfer(&k, 0, 2 * GWEI)).unwrap();
    let kept = f.add(transfer(&k, 1, 2 * GWEI)).unwrap();
    f.state.failing.store(true, Ordering::SeqCst);
    let refusal = f.refusal(transfer(&k, 2, 2 * GWEI));
    assert!(refusal.starts_with("state unavailable"), "{refusal}");
    // Without the state, upkeep removes what it was told was mined and nothing else.
    f.state.set(address(&k), 0, U256::ZERO);
    f.pool.on_head_update(head(1, vec![mined]));
    assert!(f.pool.get(&mined).is_none());
    assert!(f.pool.get(&kept).is_some());
    // Readable again: the next update drops the now unpayable one.
    f.state.failing.store(false, Ordering::SeqCst);
    f.pool.on_head_update(head(2, Vec::new()));
    assert_eq!(f.held(), 0);
}
