//! A 100,000-transaction flood, with the heap measured by a counting allocator. Its own test
//! binary, with one test, so nothing else allocates while it measures.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicUsize, Ordering},
};

use alloy_primitives::U256;
use common::*;
use spectrum_txpool::{PoolError, TxPool};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc` is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc` is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// 100,000 transactions from 5,000 senders, 20 each, at rising prices, a quarter of them
/// behind nonce gaps: the pool keeps to its limits, stays consistent, holds the dearest and
/// keeps serving.
#[test]
fn a_flood_of_100k_transactions_stays_within_the_limits() {
    let f = fixture();
    let config = f.pool.config().clone();
    let senders: Vec<_> = (0..5_000).map(|n| f.funded(10_000 + n)).collect();
    let before = LIVE.load(Ordering::SeqCst);
    let (mut accepted, mut refused) = (0usize, 0usize);
    for round in 0..20u64 {
        for (i, k) in senders.iter().enumerate() {
            // Every fourth sender skips nonce 0: its transactions can only queue.
            let nonce = if i % 4 == 0 { round + 1 } else { round };
            let price = 2 * GWEI + (i as u128 * 20 + round as u128) * 1_000;
            match f.add(transfer(k, nonce, price)) {
                Ok(_) => accepted += 1,
                Err(PoolError::Underpriced | PoolError::SenderFull) => refused += 1,
                Err(other) => panic!("unexpected refusal: {other}"),
            }
        }
    }
    assert_eq!(accepted + refused, 100_000);
    let measured = LIVE.load(Ordering::SeqCst).saturating_sub(before);
    let status = f.pool.status();
    assert_eq!(status.pending, config.max_pending, "pending is full");
    assert_eq!(status.queued, config.max_queued, "queued is full");
    assert_consistent(&f.pool);
    let estimated = f.pool.estimated_memory();
    // The heap grew by what the pool holds (and the test's own few values): the estimate
    // covers it within a factor of two, and both stay small.
    assert!(measured < 8 * 1024 * 1024, "{measured} bytes measured");
    assert!(
        measured / 2 < estimated && estimated < measured * 2,
        "estimated {estimated} bytes, measured {measured}"
    );
    // The dearest survived.
    let floor = f
        .pool
        .best_transactions()
        .map(|t| t.gas_price())
        .min()
        .unwrap();
    let median_sender_price = U256::from(2 * GWEI + 2_500 * 20 * 1_000);
    assert!(
        floor > median_sender_price,
        "the cheaper half of the senders was evicted"
    );
    // Still serving: a dear transaction from a fresh sender gets in, a cheap one does not.
    let fresh = f.funded(1);
    f.add(transfer(&fresh, 0, 100 * GWEI)).unwrap();
    let poor = f.funded(2);
    assert_eq!(
        f.refusal(transfer(&poor, 0, 2 * GWEI)),
        "transaction underpriced"
    );
    assert_consistent(&f.pool);
    println!(
        "flood: {accepted} accepted, {refused} refused; holds {} pending + {} queued, \
         {} bytes encoded; heap {measured} bytes measured, {estimated} estimated",
        status.pending,
        status.queued,
        f.pool.size_in_bytes()
    );
}
