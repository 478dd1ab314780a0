//! Pool insert throughput: pre-signed transfers from many senders into a fresh pool, state in
//! a `MemoryState`. Run: `cargo bench -p spectrum-txpool --bench insert`.
//!
//! Each element is one whole admission: signature recovery, the state read, the checks and
//! the bookkeeping. `within_limits` fills an empty pool (no eviction); `evicting` admits
//! dearer transactions into a pool already full of cheap ones, each evicting one;
//! `signature_recovery` recovers the same senders and nothing else, the floor of any
//! admission.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{hint::black_box, sync::Arc};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use secp256k1::SecretKey;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{TransactionSigned, public_key_to_address, sign_transaction};
use spectrum_storage_api::{Account, MemoryState, StateError, StateProvider};
use spectrum_txpool::{Pool, PoolConfig, StateSource, TxOrigin, TxPool};

const SENDERS: u64 = 1024;
const PER_SENDER: u64 = 4;
const GWEI: u128 = 1_000_000_000;

/// The state the pool reads: a `MemoryState` behind a borrowed view.
struct Memory(MemoryState);
struct View<'a>(&'a MemoryState);

impl StateProvider for View<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.0.account(address)
    }
    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        self.0.storage(address, slot)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        self.0.code(code_hash)
    }
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        self.0.block_hash(number)
    }
}

impl StateSource for Memory {
    fn latest(&self) -> Result<Box<dyn StateProvider + '_>, StateError> {
        Ok(Box::new(View(&self.0)))
    }
}

fn key(n: u64) -> SecretKey {
    SecretKey::from_byte_array(keccak256(n.to_be_bytes()).0).expect("a valid key")
}

fn transfer(key: &SecretKey, nonce: u64, gas_price: u128) -> TransactionSigned {
    let tx = TxLegacy {
        chain_id: Some(1337),
        nonce,
        gas_price,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(1u64),
        input: Bytes::new(),
    };
    sign_transaction(tx, key)
}

/// Funded senders and their transfers, nonce-ordered per sender, senders interleaved.
fn workload(first_key: u64, gas_price: u128) -> (MemoryState, Vec<TransactionSigned>) {
    let keys: Vec<SecretKey> = (first_key..first_key + SENDERS).map(key).collect();
    let mut state = MemoryState::default();
    for k in &keys {
        let address = public_key_to_address(&k.public_key(secp256k1::SECP256K1));
        let account = Account {
            balance: U256::from(10u64).pow(U256::from(21u64)),
            ..Default::default()
        };
        state.accounts.insert(address, account);
    }
    let txs = (0..PER_SENDER)
        .flat_map(|nonce| keys.iter().map(move |k| transfer(k, nonce, gas_price)))
        .collect();
    (state, txs)
}

fn pool(state: MemoryState) -> Pool {
    let spec = Arc::new(ChainSpec::dev());
    let config = PoolConfig::for_chain(&spec);
    Pool::new(config, spec, Arc::new(Memory(state)), 0, 40_000_000)
}

fn insert_all(pool: &Pool, txs: Vec<TransactionSigned>) {
    for tx in txs {
        black_box(pool.add_transaction(tx, TxOrigin::External)).expect("admitted");
    }
}

fn within_limits(c: &mut Criterion) {
    let (state, txs) = workload(0, 2 * GWEI);
    let count = txs.len() as u64;
    let mut group = c.benchmark_group("pool_insert");
    group.throughput(Throughput::Elements(count));
    group.sample_size(10);
    group.bench_function("within_limits", |b| {
        b.iter_batched(
            || (pool(state.clone()), txs.clone()),
            |(pool, txs)| {
                insert_all(&pool, txs);
                pool
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn evicting(c: &mut Criterion) {
    let (mut state, cheap) = workload(0, 2 * GWEI);
    let (dear_state, dear) = workload(SENDERS, 3 * GWEI);
    state.accounts.extend(dear_state.accounts);
    let count = dear.len() as u64;
    let mut group = c.benchmark_group("pool_insert");
    group.throughput(Throughput::Elements(count));
    group.sample_size(10);
    group.bench_function("evicting", |b| {
        b.iter_batched(
            || {
                // 4096 cheap pending transactions fill the pending limit.
                let pool = pool(state.clone());
                insert_all(&pool, cheap.clone());
                (pool, dear.clone())
            },
            |(pool, txs)| {
                insert_all(&pool, txs);
                pool
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn signature_recovery(c: &mut Criterion) {
    let (_, txs) = workload(0, 2 * GWEI);
    let mut group = c.benchmark_group("pool_insert");
    group.throughput(Throughput::Elements(txs.len() as u64));
    group.sample_size(10);
    group.bench_function("signature_recovery", |b| {
        b.iter(|| {
            for tx in &txs {
                black_box(tx.recover_sender()).expect("recoverable");
            }
        });
    });
    group.finish();
}

criterion_group!(benches, within_limits, evicting, signature_recovery);
criterion_main!(benches);
