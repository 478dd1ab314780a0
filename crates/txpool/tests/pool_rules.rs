//! Every pool rule, with the error a wallet would show.

use std::sync::{Arc, RwLock};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use secp256k1::SecretKey;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{TransactionSigned, public_key_to_address, sign_transaction};
use spectrum_storage_api::{Account, MemoryState, StateError, StateProvider};
use spectrum_txpool::{
    HeadUpdate, Pool, PoolConfig, PoolError, StateSource, TxOrigin, TxPool, intrinsic_gas,
};

const GWEI: u128 = 1_000_000_000;
const GAS_LIMIT: u64 = 40_000_000;

#[derive(Default)]
struct SharedState(RwLock<MemoryState>);

/// A read lock on the shared state (no copy per transaction).
struct Guard<'a>(std::sync::RwLockReadGuard<'a, MemoryState>);

impl StateProvider for Guard<'_> {
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
        Ok(Box::new(Guard(self.0.read().unwrap())))
    }
}

impl SharedState {
    fn set(&self, address: Address, nonce: u64, balance: U256) {
        self.0.write().unwrap().accounts.insert(
            address,
            Account {
                nonce,
                balance,
                ..Default::default()
            },
        );
    }
}

struct Fixture {
    state: Arc<SharedState>,
    pool: Pool,
}

fn fixture_with(config: impl FnOnce(&mut PoolConfig)) -> Fixture {
    let spec = Arc::new(ChainSpec::dev());
    let mut cfg = PoolConfig::for_chain(&spec);
    config(&mut cfg);
    let state = Arc::new(SharedState::default());
    let pool = Pool::new(cfg, spec, state.clone(), 0, GAS_LIMIT);
    Fixture { state, pool }
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

fn key(n: u64) -> SecretKey {
    SecretKey::from_byte_array(keccak256(n.to_be_bytes()).0).unwrap()
}

fn address(key: &SecretKey) -> Address {
    public_key_to_address(&key.public_key(secp256k1::SECP256K1))
}

fn coins(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

fn tx_with(key: &SecretKey, nonce: u64, f: impl FnOnce(&mut TxLegacy)) -> TransactionSigned {
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

fn transfer(key: &SecretKey, nonce: u64, gas_price: u128) -> TransactionSigned {
    tx_with(key, nonce, |t| t.gas_price = gas_price)
}

fn funded(f: &Fixture, n: u64) -> SecretKey {
    let k = key(n);
    f.state.set(address(&k), 0, coins(100));
    k
}

fn add(f: &Fixture, tx: TransactionSigned) -> Result<B256, PoolError> {
    f.pool.add_transaction(tx, TxOrigin::Local)
}

fn error(f: &Fixture, tx: TransactionSigned) -> String {
    add(f, tx).unwrap_err().to_string()
}

#[test]
fn a_valid_transfer_is_pending_and_listed() {
    let f = fixture();
    let k = funded(&f, 1);
    let mut events = f.pool.subscribe_pending();
    let hash = add(&f, transfer(&k, 0, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.status().pending, 1);
    assert_eq!(f.pool.get(&hash).unwrap().sender, address(&k));
    assert_eq!(f.pool.pending_nonce(&address(&k)), Some(1));
    assert_eq!(events.try_recv().unwrap(), hash);
    assert_eq!(error(&f, transfer(&k, 0, 2 * GWEI)), "already known");
}

#[test]
fn geth_errors_for_each_rule() {
    let f = fixture();
    let k = funded(&f, 1);
    f.state.set(address(&k), 5, coins(1));
    assert_eq!(error(&f, transfer(&k, 4, 2 * GWEI)), "nonce too low");
    assert_eq!(
        error(&f, tx_with(&k, 5, |t| t.value = coins(2))),
        "insufficient funds for gas * price + value"
    );
    assert_eq!(
        error(&f, tx_with(&k, 5, |t| t.gas_limit = 20_999)),
        "intrinsic gas too low"
    );
    // 68 gas per non-zero byte on top of 21,000.
    assert_eq!(
        error(
            &f,
            tx_with(&k, 5, |t| {
                t.input = vec![1u8; 10].into();
                t.gas_limit = 21_679;
            })
        ),
        "intrinsic gas too low"
    );
    assert_eq!(
        error(&f, tx_with(&k, 5, |t| t.gas_limit = GAS_LIMIT + 1)),
        "exceeds block gas limit"
    );
    assert_eq!(
        error(&f, transfer(&k, 5, GWEI - 1)),
        "transaction underpriced"
    );
    assert_eq!(
        error(&f, tx_with(&k, 5, |t| t.chain_id = Some(1))),
        "invalid sender"
    );
    assert_eq!(
        error(&f, tx_with(&k, 5, |t| t.chain_id = None)),
        "only replay-protected (EIP-155) transactions allowed over RPC"
    );
    assert_eq!(
        error(
            &f,
            tx_with(&k, 5, |t| t.input = vec![1u8; 130 * 1024].into())
        ),
        "oversized data"
    );
    assert_eq!(f.pool.status().pending + f.pool.status().queued, 0);
}

#[test]
fn raw_input_typed_garbage_and_bad_signatures() {
    let f = fixture();
    let k = funded(&f, 1);
    let err = |raw: &[u8]| {
        f.pool
            .add_raw(raw, TxOrigin::Local)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(err(&[0x02, 0xc0]), "transaction type not supported");
    assert!(err(&[0xf8, 0xff, 0x00]).starts_with("rlp:"));
    assert_eq!(err(&vec![0xc0; 200 * 1024]), "oversized data");
    // A signature with an s above n/2 (EIP-2) does not recover a sender.
    let tx = transfer(&k, 0, 2 * GWEI);
    let mut raw = alloy_rlp::encode(&tx);
    let len = raw.len();
    raw[len - 32..].copy_from_slice(&[0xff; 32]);
    assert!(matches!(
        f.pool.add_raw(&raw, TxOrigin::Local),
        Err(PoolError::InvalidSender | PoolError::Decode(_))
    ));
    let ok = f
        .pool
        .add_raw(&alloy_rlp::encode(&tx), TxOrigin::Local)
        .unwrap();
    assert_eq!(ok, tx.hash());
}

#[test]
fn chief_update_transactions_from_outside_are_refused() {
    let f = fixture();
    let k = funded(&f, 1);
    let chief = ChainSpec::dev().tribe.chiefs[0].address;
    let mut data = vec![0x1c, 0x1b, 0x87, 0x72];
    data.extend_from_slice(&[0u8; 32]);
    let tx = tx_with(&k, 0, |t| {
        t.to = TxKind::Call(chief);
        t.input = data.into();
        t.gas_limit = 100_000;
    });
    assert_eq!(
        error(&f, tx),
        "chief-update transactions are made by the block's signer only"
    );
}

#[test]
fn gaps_queue_and_filling_them_promotes() {
    let f = fixture();
    let k = funded(&f, 1);
    add(&f, transfer(&k, 0, 2 * GWEI)).unwrap();
    add(&f, transfer(&k, 2, 2 * GWEI)).unwrap();
    add(&f, transfer(&k, 3, 2 * GWEI)).unwrap();
    let status = f.pool.status();
    assert_eq!((status.pending, status.queued), (1, 2));
    let content = f.pool.content();
    assert_eq!(
        content.queued[&address(&k)]
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    let mut events = f.pool.subscribe_pending();
    add(&f, transfer(&k, 1, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.status().pending, 4);
    assert_eq!(f.pool.pending_nonce(&address(&k)), Some(4));
    let promoted: Vec<B256> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert_eq!(promoted.len(), 3, "the filler and the two it unblocked");
}

#[test]
fn replacement_needs_a_ten_percent_bump() {
    let f = fixture();
    let k = funded(&f, 1);
    let first = add(&f, transfer(&k, 0, 10 * GWEI)).unwrap();
    assert_eq!(
        error(
            &f,
            tx_with(&k, 0, |t| {
                t.gas_price = 10 * GWEI + GWEI - 1;
                t.value = U256::from(2u64);
            })
        ),
        "replacement transaction underpriced"
    );
    let second = add(
        &f,
        tx_with(&k, 0, |t| {
            t.gas_price = 11 * GWEI;
            t.value = U256::from(2u64);
        }),
    )
    .unwrap();
    assert!(f.pool.get(&first).is_none());
    assert!(f.pool.get(&second).is_some());
    assert_eq!(f.pool.status().pending, 1);
}

#[test]
fn best_transactions_by_price_then_nonce() {
    let f = fixture();
    let a = funded(&f, 1);
    let b = funded(&f, 2);
    add(&f, transfer(&a, 0, 2 * GWEI)).unwrap();
    add(&f, transfer(&a, 1, 9 * GWEI)).unwrap();
    add(&f, transfer(&b, 0, 5 * GWEI)).unwrap();
    add(&f, transfer(&b, 2, 50 * GWEI)).unwrap(); // queued: never offered
    let order: Vec<(Address, u64)> = f
        .pool
        .best_transactions()
        .iter()
        .map(|t| (t.sender, t.tx.tx().nonce))
        .collect();
    assert_eq!(
        order,
        vec![(address(&b), 0), (address(&a), 0), (address(&a), 1)],
        "a's dear nonce 1 waits behind its cheap nonce 0"
    );
}

#[test]
fn per_sender_and_global_limits_evict_the_cheapest() {
    let f = fixture_with(|c| {
        c.max_per_sender = 3;
        c.max_transactions = 4;
    });
    let a = funded(&f, 1);
    for nonce in 0..3 {
        add(&f, transfer(&a, nonce, 2 * GWEI)).unwrap();
    }
    assert_eq!(error(&f, transfer(&a, 3, 2 * GWEI)), "txpool is full");
    let b = funded(&f, 2);
    add(&f, transfer(&b, 0, 3 * GWEI)).unwrap();
    // Full: a cheaper-or-equal newcomer is refused, a dearer one evicts a's last.
    let c = funded(&f, 3);
    assert_eq!(
        error(&f, transfer(&c, 0, 2 * GWEI)),
        "transaction underpriced"
    );
    add(&f, transfer(&c, 0, 4 * GWEI)).unwrap();
    let content = f.pool.content();
    assert_eq!(
        content.pending[&address(&a)].len(),
        2,
        "a's nonce 2 was evicted"
    );
    assert_eq!(f.pool.status().pending, 4);
}

#[test]
fn head_updates_remove_mined_drop_stale_and_reinject() {
    let f = fixture();
    let k = funded(&f, 1);
    let mined = transfer(&k, 0, 2 * GWEI);
    let next = transfer(&k, 1, 2 * GWEI);
    add(&f, mined.clone()).unwrap();
    add(&f, next.clone()).unwrap();
    // Block 1 mines nonce 0.
    f.state.set(address(&k), 1, coins(99));
    f.pool.on_head_update(HeadUpdate {
        number: 1,
        gas_limit: GAS_LIMIT,
        mined: vec![mined.hash()],
        reinject: vec![],
    });
    assert!(f.pool.get(&mined.hash()).is_none());
    assert_eq!(f.pool.status().pending, 1);
    // A reorg drops block 1: the account is back at nonce 0 and the mined one returns.
    f.state.set(address(&k), 0, coins(100));
    f.pool.on_head_update(HeadUpdate {
        number: 1,
        gas_limit: GAS_LIMIT,
        mined: vec![],
        reinject: vec![mined.clone()],
    });
    assert_eq!(f.pool.status().pending, 2);
    // The account moved on elsewhere (nonce 2) and lost its funds: both are stale.
    f.state.set(address(&k), 2, U256::ZERO);
    f.pool.on_head_update(HeadUpdate {
        number: 2,
        gas_limit: GAS_LIMIT,
        ..Default::default()
    });
    assert_eq!(f.pool.status().pending + f.pool.status().queued, 0);
}

#[test]
fn the_validator_s_own_transactions_follow_its_chief_update() {
    let k = key(7);
    let f = fixture_with(|c| c.reserved_nonce_senders = vec![address(&k)]);
    f.state.set(address(&k), 3, coins(10));
    // Nonce 3 goes to the chief update of our next block.
    assert_eq!(error(&f, transfer(&k, 3, 2 * GWEI)), "nonce too low");
    add(&f, transfer(&k, 4, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.status().pending, 1);
    assert_eq!(f.pool.pending_nonce(&address(&k)), Some(5));
}

#[test]
fn intrinsic_gas_counts_data_and_creation() {
    let k = key(1);
    let create = tx_with(&k, 0, |t| {
        t.to = TxKind::Create;
        t.input = vec![0, 1, 0].into();
    });
    assert_eq!(intrinsic_gas(&create), Some(53_000 + 4 + 68 + 4));
}

#[test]
fn concurrent_adds_from_many_threads() {
    let f = Arc::new(fixture());
    let keys: Vec<SecretKey> = (0..8).map(|n| funded(&f, 100 + n)).collect();
    std::thread::scope(|scope| {
        for k in &keys {
            let f = f.clone();
            scope.spawn(move || {
                for nonce in 0..20 {
                    add(&f, transfer(k, nonce, 2 * GWEI)).unwrap();
                }
            });
        }
    });
    assert_eq!(f.pool.status().pending, 160);
    assert_eq!(f.pool.best_transactions().len(), 160);
}

#[test]
fn a_flood_of_100k_transactions_stays_within_the_limits() {
    let f = fixture();
    let senders: Vec<SecretKey> = (0..2_000).map(|n| funded(&f, 10_000 + n)).collect();
    let mut accepted = 0usize;
    let mut refused = 0usize;
    for round in 0..50u64 {
        for (i, k) in senders.iter().enumerate() {
            // Prices rise with i so later senders displace earlier ones once full.
            let price = 2 * GWEI + (i as u128) * 1_000;
            match add(&f, transfer(k, round, price)) {
                Ok(_) => accepted += 1,
                Err(PoolError::Underpriced | PoolError::SenderFull) => refused += 1,
                Err(other) => panic!("unexpected: {other}"),
            }
        }
    }
    assert_eq!(accepted + refused, 100_000);
    let status = f.pool.status();
    let held = status.pending + status.queued;
    assert!(held <= f.pool.config().max_transactions, "{held} held");
    assert!(f.pool.size_in_bytes() <= f.pool.config().max_bytes);
    // Still serving: a dear transaction from a fresh sender gets in.
    let fresh = funded(&f, 1);
    add(&f, transfer(&fresh, 0, 100 * GWEI)).unwrap();
    println!(
        "flood: {accepted} accepted, {refused} refused, {held} held in {} bytes",
        f.pool.size_in_bytes()
    );
}
