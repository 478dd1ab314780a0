//! Per-sender and global limits, and eviction of the cheapest.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::BTreeSet;

use common::*;
use spectrum_txpool::TxPool;

#[test]
fn a_full_sender_refuses_higher_nonces_but_a_gap_filler_displaces_its_last() {
    let f = fixture_with(|c| c.max_per_sender = 3);
    let k = f.funded(1);
    let sender = address(&k);
    for nonce in [1, 2, 3] {
        f.add(transfer(&k, nonce, 2 * GWEI)).unwrap();
    }
    assert_eq!(f.refusal(transfer(&k, 4, 2 * GWEI)), "txpool is full");
    assert_eq!(f.pool.status().queued, 3);
    // Nonce 0 closes the gap; nonce 3, furthest from running, leaves for it.
    f.add(transfer(&k, 0, 2 * GWEI)).unwrap();
    let content = f.pool.content();
    assert_eq!(
        content.pending[&sender].keys().copied().collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert!(content.queued.is_empty());
    // Replacing within a full sender is still allowed.
    f.add(transfer(&k, 2, 3 * GWEI)).unwrap();
    assert_eq!(f.pool.status().pending, 3);
    assert_consistent(&f.pool);
}

#[test]
fn a_full_pending_pool_evicts_the_cheapest_never_for_a_cheaper_or_equal_newcomer() {
    let f = fixture_with(|c| {
        c.max_pending = 4;
        c.max_queued = 2;
    });
    let a = f.funded(1);
    let b = f.funded(2);
    for nonce in 0..2 {
        f.add(transfer(&a, nonce, 2 * GWEI)).unwrap();
        f.add(transfer(&b, nonce, 5 * GWEI)).unwrap();
    }
    assert_eq!(f.pool.status().pending, 4);
    let c = f.funded(3);
    assert_eq!(
        f.refusal(transfer(&c, 0, 2 * GWEI)),
        "transaction underpriced"
    );
    assert_eq!(
        f.pool.status().pending,
        4,
        "nothing evicted for a refused one"
    );
    // Dearer than a's: a's last goes, so a's first stays executable.
    f.add(transfer(&c, 0, 3 * GWEI)).unwrap();
    let content = f.pool.content();
    assert_eq!(
        content.pending[&address(&a)]
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![0]
    );
    assert_eq!(content.pending[&address(&b)].len(), 2);
    // Then a's first, then c's (3 gwei) before b's (5 gwei).
    f.add(transfer(&c, 1, 4 * GWEI)).unwrap();
    assert!(!f.pool.content().pending.contains_key(&address(&a)));
    let d = f.funded(4);
    f.add(transfer(&d, 0, 6 * GWEI)).unwrap();
    let left: BTreeSet<_> = nonces(f.pool.best_transactions()).into_iter().collect();
    let expected: BTreeSet<_> = [
        (address(&b), 0),
        (address(&b), 1),
        (address(&c), 0),
        (address(&d), 0),
    ]
    .into();
    assert_eq!(
        left, expected,
        "c's nonce 1 (its tail) went before its nonce 0"
    );
    assert_consistent(&f.pool);
}

#[test]
fn a_newcomer_does_not_evict_its_own_sender() {
    let f = fixture_with(|c| {
        c.max_pending = 2;
        c.max_queued = 0;
    });
    let a = f.funded(1);
    f.add(transfer(&a, 0, 2 * GWEI)).unwrap();
    f.add(transfer(&a, 1, 2 * GWEI)).unwrap();
    // a's own cheaper transactions are not up for eviction: the run would break.
    assert_eq!(
        f.refusal(transfer(&a, 2, 9 * GWEI)),
        "transaction underpriced"
    );
    assert_eq!(f.pool.status().pending, 2);
}

#[test]
fn a_full_queue_evicts_the_cheapest_queued() {
    let f = fixture_with(|c| c.max_queued = 3);
    let keys: Vec<_> = (1..=4).map(|n| f.funded(n)).collect();
    // Nonce 1 with nothing at 0: all queued. Prices 2, 3, 4 gwei.
    for (i, k) in keys[..3].iter().enumerate() {
        f.add(transfer(k, 1, (2 + i as u128) * GWEI)).unwrap();
    }
    assert_eq!(f.pool.status().queued, 3);
    assert_eq!(
        f.refusal(transfer(&keys[3], 1, 2 * GWEI)),
        "transaction underpriced"
    );
    f.add(transfer(&keys[3], 1, 5 * GWEI)).unwrap();
    let queued = f.pool.content().queued;
    assert!(
        !queued.contains_key(&address(&keys[0])),
        "the 2 gwei one went"
    );
    assert_eq!(queued.len(), 3);
    // A pending newcomer needs no queued slot: nothing is evicted.
    f.add(transfer(&keys[0], 0, GWEI)).unwrap();
    assert_eq!(f.pool.status().queued, 3);
    assert_eq!(f.pool.status().pending, 1);
    assert_consistent(&f.pool);
}

#[test]
fn filling_a_gap_that_promotes_more_than_fits_evicts_enough_or_nothing() {
    let f = fixture_with(|c| {
        c.max_pending = 3;
        c.max_queued = 3;
    });
    let a = f.funded(1);
    let b = f.funded(2);
    // b: 2 pending at 2 gwei; a: nonces 1..=3 queued at 9 gwei.
    f.add(transfer(&b, 0, 2 * GWEI)).unwrap();
    f.add(transfer(&b, 1, 2 * GWEI)).unwrap();
    for nonce in 1..=3 {
        f.add(transfer(&a, nonce, 9 * GWEI)).unwrap();
    }
    // a's nonce 0 at 1 gwei would make 4 pending of a's: b is dearer than it, so no.
    assert_eq!(f.refusal(transfer(&a, 0, GWEI)), "transaction underpriced");
    assert_eq!(f.held(), 5);
    // At 3 gwei it outbids both of b's, but evicting them frees 2 of the 3 slots needed
    // (a's own are not taken): refused, and nothing is evicted.
    assert_eq!(
        f.refusal(transfer(&a, 0, 3 * GWEI)),
        "transaction underpriced"
    );
    assert_eq!(f.held(), 5);
    // With room for 4 pending, evicting b's two is enough.
    let f = fixture_with(|c| {
        c.max_pending = 4;
        c.max_queued = 3;
    });
    let a = f.funded(1);
    let b = f.funded(2);
    f.add(transfer(&b, 0, 2 * GWEI)).unwrap();
    f.add(transfer(&b, 1, 2 * GWEI)).unwrap();
    for nonce in 1..=3 {
        f.add(transfer(&a, nonce, 9 * GWEI)).unwrap();
    }
    f.add(transfer(&a, 0, 3 * GWEI)).unwrap();
    let status = f.pool.status();
    assert_eq!((status.pending, status.queued), (4, 0));
    assert!(!f.pool.content().pending.contains_key(&address(&b)));
    assert_consistent(&f.pool);
}

#[test]
fn the_byte_limit_evicts_the_cheapest() {
    let big = |k, price| {
        tx_with(k, 0, |t| {
            t.input = vec![0u8; 10_000].into();
            t.gas_limit = 100_000;
            t.gas_price = price;
        })
    };
    let keys: Vec<_> = (1..=4).map(key).collect();
    let prices = [2 * GWEI, 3 * GWEI, 4 * GWEI];
    let first_three: Vec<_> = keys.iter().zip(prices).map(|(k, p)| big(k, p)).collect();
    let max_bytes = first_three.iter().map(|t| alloy_rlp::encode(t).len()).sum();
    let f = fixture_with(|c| c.max_bytes = max_bytes);
    for k in &keys {
        f.state.set(address(k), 0, coins(1));
    }
    for tx in first_three {
        f.add(tx).unwrap();
    }
    assert_eq!(f.pool.size_in_bytes(), max_bytes);
    assert_eq!(
        f.refusal(big(&keys[3], 2 * GWEI)),
        "transaction underpriced"
    );
    f.add(big(&keys[3], 4 * GWEI + 1)).unwrap();
    let pending = f.pool.content().pending;
    assert!(
        !pending.contains_key(&address(&keys[0])),
        "the 2 gwei one went"
    );
    assert!(pending.contains_key(&address(&keys[3])));
    assert!(f.pool.size_in_bytes() <= max_bytes);
    assert_consistent(&f.pool);
}
