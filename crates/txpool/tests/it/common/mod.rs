//! What every pool test needs: a shared `MemoryState` the test can change, keys, signed
//! transfers, and a consistency check of the pool's views.

#![allow(dead_code)] // each test file uses its own part

use std::{
    collections::BTreeMap,
    sync::{
        Arc, RwLock, RwLockReadGuard,
        atomic::{AtomicBool, Ordering},
    },
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use secp256k1::SecretKey;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{TransactionSigned, public_key_to_address, sign_transaction};
use spectrum_storage_api::{Account, MemoryState, StateError, StateProvider};
use spectrum_txpool::{Pool, PoolConfig, PoolError, StateSource, TxOrigin, TxPool};

pub const GWEI: u128 = 1_000_000_000;
pub const GAS_LIMIT: u64 = 40_000_000;

/// A `MemoryState` the test updates between calls, as blocks would; `failing` makes every
/// read fail, as a broken database would.
#[derive(Default)]
pub struct SharedState {
    state: RwLock<MemoryState>,
    pub failing: AtomicBool,
}

/// A read lock on the shared state (no copy per transaction).
struct View<'a>(RwLockReadGuard<'a, MemoryState>);

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

impl StateSource for SharedState {
    fn latest(&self) -> Result<Box<dyn StateProvider + '_>, StateError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StateError("the disk is gone".into()));
        }
        Ok(Box::new(View(self.state.read().unwrap())))
    }
}

impl SharedState {
    pub fn set(&self, address: Address, nonce: u64, balance: U256) {
        let account = Account {
            nonce,
            balance,
            ..Default::default()
        };
        self.state
            .write()
            .unwrap()
            .accounts
            .insert(address, account);
    }
}

pub struct Fixture {
    pub state: Arc<SharedState>,
    pub pool: Pool,
}

impl Fixture {
    pub fn add(&self, tx: TransactionSigned) -> Result<B256, PoolError> {
        self.pool.add_transaction(tx, TxOrigin::Local)
    }

    /// The refusal's message (what a wallet shows).
    pub fn refusal(&self, tx: TransactionSigned) -> String {
        match self.add(tx) {
            Ok(hash) => panic!("{hash} was admitted"),
            Err(error) => error.to_string(),
        }
    }

    /// A key whose account holds 100 coins at nonce 0.
    pub fn funded(&self, n: u64) -> SecretKey {
        let k = key(n);
        self.state.set(address(&k), 0, coins(100));
        k
    }

    pub fn held(&self) -> usize {
        let status = self.pool.status();
        status.pending + status.queued
    }
}

pub fn fixture_on(spec: ChainSpec, head: u64, config: impl FnOnce(&mut PoolConfig)) -> Fixture {
    let mut cfg = PoolConfig::for_chain(&spec);
    config(&mut cfg);
    let state = Arc::new(SharedState::default());
    let pool = Pool::new(cfg, Arc::new(spec), state.clone(), head, GAS_LIMIT);
    Fixture { state, pool }
}

pub fn fixture_with(config: impl FnOnce(&mut PoolConfig)) -> Fixture {
    fixture_on(ChainSpec::dev(), 0, config)
}

pub fn fixture() -> Fixture {
    fixture_with(|_| {})
}

pub fn key(n: u64) -> SecretKey {
    SecretKey::from_byte_array(keccak256(n.to_be_bytes()).0).unwrap()
}

pub fn address(key: &SecretKey) -> Address {
    public_key_to_address(&key.public_key(secp256k1::SECP256K1))
}

pub fn coins(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// A 1-wei transfer at 2 gwei on chain 1337, changed by `f`, signed by `key`.
pub fn tx_with(key: &SecretKey, nonce: u64, f: impl FnOnce(&mut TxLegacy)) -> TransactionSigned {
    let mut tx = TxLegacy {
        chain_id: Some(1337),
        nonce,
        gas_price: 2 * GWEI,
        gas_limit: 21_000,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(1u64),
        input: Bytes::new(),
    };
    f(&mut tx);
    sign_transaction(tx, key)
}

pub fn transfer(key: &SecretKey, nonce: u64, gas_price: u128) -> TransactionSigned {
    tx_with(key, nonce, |t| t.gas_price = gas_price)
}

/// `(sender, nonce)` of each transaction, in the order given.
pub fn nonces(
    txs: impl IntoIterator<Item = Arc<spectrum_txpool::PooledTx>>,
) -> Vec<(Address, u64)> {
    txs.into_iter().map(|t| (t.sender, t.nonce())).collect()
}

/// The pool's views agree: `status` counts what `content` lists, every pending run is
/// gap-free and ahead of every queued nonce of its sender, `best_transactions` yields exactly
/// the pending ones with each sender's in nonce order, and `get` finds all of them.
pub fn assert_consistent(pool: &Pool) {
    let status = pool.status();
    let content = pool.content();
    let count =
        |side: &spectrum_txpool::TxsBySender| side.values().map(BTreeMap::len).sum::<usize>();
    assert_eq!(status.pending, count(&content.pending), "pending count");
    assert_eq!(status.queued, count(&content.queued), "queued count");
    for (sender, run) in &content.pending {
        let nonces: Vec<u64> = run.keys().copied().collect();
        let first = nonces[0];
        assert!(
            nonces
                .iter()
                .enumerate()
                .all(|(i, n)| *n == first + i as u64),
            "{sender}'s pending run has a gap: {nonces:?}"
        );
        assert_eq!(
            pool.pending_nonce(sender),
            Some(first + nonces.len() as u64)
        );
        if let Some(queued) = content.queued.get(sender) {
            let last = *nonces.last().unwrap();
            assert!(
                queued.keys().all(|n| *n > last + 1),
                "{sender} queued next to its run"
            );
        }
    }
    let mut last_nonce: BTreeMap<Address, u64> = BTreeMap::new();
    let mut offered = 0;
    for tx in pool.best_transactions() {
        assert!(content.pending[&tx.sender].contains_key(&tx.nonce()));
        if let Some(previous) = last_nonce.insert(tx.sender, tx.nonce()) {
            assert_eq!(tx.nonce(), previous + 1, "best order within a sender");
        }
        offered += 1;
    }
    assert_eq!(
        offered, status.pending,
        "best offers every pending transaction"
    );
    for side in [&content.pending, &content.queued] {
        for tx in side.values().flat_map(BTreeMap::values) {
            assert_eq!(pool.get(&tx.hash).as_ref(), Some(tx));
        }
    }
    assert!(status.pending <= pool.config().max_pending);
    assert!(status.queued <= pool.config().max_queued);
    assert!(pool.size_in_bytes() <= pool.config().max_bytes);
}
