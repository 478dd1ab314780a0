//! Pool maintenance: the chain's head changes, followed by `maintain_pool`, keep the pool in
//! step (mined out, reorged-out back in unless the new branch mined them too).

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use alloy_primitives::{B256, Bytes};
use common::*;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{CanonicalChange, Header, SealedHeader, TransactionSigned};
use spectrum_txpool::{
    CanonicalBlocks, Pool, PoolConfig, TxOrigin, TxPool, head_update, maintain_pool,
};
use tokio::sync::broadcast;

/// Blocks in memory: each header's transactions, and a head.
#[derive(Default)]
struct MemoryChain {
    bodies: Mutex<HashMap<B256, Vec<TransactionSigned>>>,
    head: Mutex<Option<SealedHeader>>,
}

impl MemoryChain {
    /// Stores a block `number` on branch `branch` holding `txs`, and makes it the head.
    fn block(&self, number: u64, branch: u8, txs: Vec<TransactionSigned>) -> SealedHeader {
        let header = SealedHeader::seal(Header {
            number,
            gas_limit: GAS_LIMIT,
            extra_data: Bytes::from(vec![branch]),
            ..Default::default()
        });
        self.bodies.lock().unwrap().insert(header.hash(), txs);
        *self.head.lock().unwrap() = Some(header.clone());
        header
    }
}

impl CanonicalBlocks for MemoryChain {
    fn head_header(&self) -> Option<SealedHeader> {
        self.head.lock().unwrap().clone()
    }

    fn block_transactions(&self, hash: &B256) -> Vec<TransactionSigned> {
        self.bodies
            .lock()
            .unwrap()
            .get(hash)
            .cloned()
            .unwrap_or_default()
    }
}

fn shared_pool() -> (Arc<SharedState>, Arc<Pool>) {
    let spec = ChainSpec::dev();
    let state = Arc::new(SharedState::default());
    let pool = Pool::new(
        PoolConfig::for_chain(&spec),
        Arc::new(spec),
        state.clone(),
        0,
        GAS_LIMIT,
    );
    (state, Arc::new(pool))
}

/// Runs maintenance over `changes` until they are all applied (the channel then closes).
async fn maintain(chain: &Arc<MemoryChain>, pool: &Arc<Pool>, changes: Vec<CanonicalChange>) {
    let (sender, receiver) = broadcast::channel(16);
    let task = tokio::spawn(maintain_pool(chain.clone(), receiver, pool.clone()));
    for change in changes {
        sender.send(Arc::new(change)).unwrap();
    }
    drop(sender);
    task.await
        .expect("maintenance ends when the chain's channel closes");
}

#[test]
fn a_reorg_update_reinjects_only_what_the_new_branch_did_not_mine() {
    let chain = MemoryChain::default();
    let k = key(1);
    let (a, b) = (transfer(&k, 0, 2 * GWEI), transfer(&k, 1, 2 * GWEI));
    let old = chain.block(1, 0, vec![a.clone(), b.clone()]);
    let new = chain.block(1, 1, vec![a.clone()]);
    let update = head_update(
        &chain,
        &CanonicalChange {
            removed: vec![old],
            added: vec![new],
        },
    );
    assert_eq!(update.number, 1);
    assert_eq!(update.gas_limit, GAS_LIMIT);
    assert_eq!(update.mined, vec![a.hash()]);
    assert_eq!(update.reinject, vec![b]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_follows_a_block_then_a_reorg() {
    let chain = Arc::new(MemoryChain::default());
    let (state, pool) = shared_pool();
    let k = key(1);
    state.set(address(&k), 0, coins(100));
    let txs: Vec<TransactionSigned> = (0..3).map(|n| transfer(&k, n, 2 * GWEI)).collect();
    for tx in &txs {
        pool.add_transaction(tx.clone(), TxOrigin::Local).unwrap();
    }

    // Block 1 of branch 0 mines nonces 0 and 1: only nonce 2 stays.
    let old = chain.block(1, 0, txs[..2].to_vec());
    state.set(address(&k), 2, coins(99));
    maintain(
        &chain,
        &pool,
        vec![CanonicalChange {
            removed: Vec::new(),
            added: vec![old.clone()],
        }],
    )
    .await;
    assert!(pool.get(&txs[0].hash()).is_none());
    assert!(pool.get(&txs[1].hash()).is_none());
    assert_eq!(pool.status().pending, 1);

    // Branch 1 replaces it with a block mining nonce 0 only: nonce 1 comes back, nonce 0
    // does not (mined again), and nonce 2 is pending behind it.
    let new = chain.block(1, 1, txs[..1].to_vec());
    state.set(address(&k), 1, coins(99));
    maintain(
        &chain,
        &pool,
        vec![CanonicalChange {
            removed: vec![old],
            added: vec![new],
        }],
    )
    .await;
    assert!(
        pool.get(&txs[0].hash()).is_none(),
        "mined on the new branch"
    );
    assert!(pool.get(&txs[1].hash()).is_some(), "reorged out: back in");
    assert!(pool.get(&txs[2].hash()).is_some());
    assert_eq!(pool.status().pending, 2);
    assert_consistent(&pool);
}
