//! A small generated chain through the real import path into RocksDB: every block canonical,
//! every receipt a success, the token balances in storage as the generator intended, and a
//! block with one transaction removed rejected without touching the database.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use alloy_primitives::{B256, U256};
use spectrum_bench::{
    ChainConfig, GeneratedChain,
    contracts::{TRANSFER_TOPIC, erc20_balance_slot},
    measure,
};
use spectrum_chain::{Blockchain, ChainError, ExecutionChecksOnly, InsertOutcome, genesis_commit};
use spectrum_primitives::{SealedBlock, SealedHeader, transactions_root};
use spectrum_storage::Database;

fn small_chain() -> GeneratedChain {
    GeneratedChain::generate(ChainConfig {
        blocks: 5,
        txs_per_block: 20,
        senders: 20,
        slots_per_call: 5,
        seed: 7,
    })
    .unwrap()
}

fn node(chain: &GeneratedChain) -> (tempfile::TempDir, Arc<Database>, Blockchain) {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open(&dir.path().join("db")).unwrap());
    db.init_genesis(genesis_commit(&chain.spec).unwrap())
        .unwrap();
    let blockchain = Blockchain::new(
        db.clone(),
        chain.spec.clone(),
        Arc::new(ExecutionChecksOnly),
    );
    (dir, db, blockchain)
}

/// `block` without its transaction `index`; its header's transactions root fixed up or not.
fn without_tx(block: &SealedBlock, index: usize, fix_tx_root: bool) -> SealedBlock {
    let mut body = block.body.clone();
    body.transactions.remove(index);
    let mut header = block.header.header().clone();
    if fix_tx_root {
        header.transactions_root = transactions_root(&body.transactions);
    }
    SealedBlock {
        header: SealedHeader::seal(header),
        body,
    }
}

#[test]
fn generated_chain_imports_and_matches_the_generator() {
    let chain = small_chain();
    assert_eq!(chain.blocks.len(), chain.setup_blocks + 5);
    assert!(chain.kinds.transfers > 0 && chain.kinds.erc20 > 0);
    assert!(
        chain.kinds.deploys > 2 && chain.kinds.storage > 0,
        "{:?}",
        chain.kinds
    );
    // Deterministic: the same config gives the same chain.
    assert_eq!(small_chain().head(), chain.head());

    let (_dir, db, blockchain) = node(&chain);
    let mut parent = chain.spec.genesis_header();
    let mut erc20_logs = 0;
    for block in &chain.blocks {
        assert_eq!(block.header.parent_hash, parent.hash());
        assert_eq!(block.header.timestamp, parent.timestamp + 1);
        assert_eq!(block.header.gas_limit, parent.gas_limit);
        assert_eq!(block.header.extra_data.len(), 97);
        assert!(!block.header.beneficiary.is_zero());
        let outcome = blockchain.insert_block(block.clone()).unwrap();
        assert_eq!(
            outcome,
            InsertOutcome::Canonical {
                number: block.number(),
                gas_used: block.header.gas_used
            }
        );
        let receipts = db.receipts(&block.hash()).unwrap().unwrap();
        assert_eq!(receipts.len(), block.body.transactions.len());
        for (i, receipt) in receipts.iter().enumerate() {
            assert!(
                receipt.receipt.status.coerce_status(),
                "block {} tx {i} failed",
                block.number()
            );
            erc20_logs += receipt
                .receipt
                .logs
                .iter()
                .filter(|log| {
                    log.address == chain.token && log.topics().first() == Some(&TRANSFER_TOPIC)
                })
                .count();
        }
        parent = block.header.clone();
    }
    assert_eq!(db.head().unwrap(), Some((parent.number, parent.hash())));
    // One Transfer log per token transfer (setup distribution included).
    assert!(erc20_logs > chain.setup_blocks);

    // Every intended holder's balance is in the token's storage, and they add up to the supply.
    let mut total = U256::ZERO;
    for (holder, balance) in &chain.token_balances {
        let stored = db
            .storage(&chain.token, &erc20_balance_slot(*holder))
            .unwrap();
        assert_eq!(stored, *balance, "token balance of {holder}");
        total += stored;
    }
    assert_eq!(total, U256::from(1_000_000_000_000u64));
    assert!(chain.token_balances.len() > 20);
}

#[test]
fn block_with_a_transaction_removed_is_rejected() {
    let chain = small_chain();
    let (_dir, db, blockchain) = node(&chain);
    let target = chain.setup_blocks + 2;
    for block in &chain.blocks[..target] {
        blockchain.insert_block(block.clone()).unwrap();
    }
    let head = db.head().unwrap();
    let good = &chain.blocks[target];

    // Header unchanged (so the same hash as the real block): the transactions root no longer
    // matches the body.
    let bad = without_tx(good, 3, false);
    assert_eq!(bad.hash(), good.hash());
    let error = blockchain.insert_block(bad).unwrap_err();
    assert!(matches!(error, ChainError::TransactionsRoot(_)), "{error}");
    // Transactions root fixed up: execution disagrees with the header (gas used first).
    let bad = without_tx(good, 3, true);
    let error = blockchain.insert_block(bad.clone()).unwrap_err();
    assert!(matches!(error, ChainError::Execution { .. }), "{error}");
    assert_eq!(db.head().unwrap(), head, "a rejected block moved the head");
    assert_eq!(db.block_number(&bad.hash()).unwrap(), None);

    // The real block and the rest still import.
    for block in &chain.blocks[target..] {
        assert!(matches!(
            blockchain.insert_block(block.clone()).unwrap(),
            InsertOutcome::Canonical { .. }
        ));
    }
    assert_eq!(
        db.head().unwrap().map(|(_, hash)| hash),
        chain.head().map(|h| h.hash())
    );
}

#[test]
fn measurements_run_on_a_small_chain() {
    let chain = small_chain();
    let bare = measure::bare_execution(&chain).unwrap();
    assert_eq!(bare.blocks, chain.blocks.len() as u64);
    assert_eq!(bare.gas, chain.gas_used);
    assert_eq!(bare.txs, chain.tx_count as u64);
    let dir = tempfile::tempdir().unwrap();
    let run = measure::full_import(
        &chain,
        &dir.path().join("a"),
        spectrum_chain::DEFAULT_STATE_CACHE_MB,
    )
    .unwrap();
    assert_eq!(run.import.gas, chain.gas_used);
    let phases = measure::phased_import(
        &chain.spec,
        &chain.blocks,
        measure::Validation::ExecutionOnly,
        &dir.path().join("b"),
        spectrum_chain::DEFAULT_STATE_CACHE_MB,
    )
    .unwrap();
    assert_eq!(phases.total.gas, chain.gas_used);
    assert_ne!(chain.head().map(|h| h.state_root), Some(B256::ZERO));
}
