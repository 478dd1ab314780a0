//! The dev controls over a real chain (RocksDB in a temporary directory): blocks mined on
//! command, time travel, snapshots and resets, and the result imported by a fresh chain with
//! every rule checked.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, TxKind, U256, hex};
use secp256k1::SecretKey;
use spectrum_chain::{
    Blockchain, InsertOutcome, TribeBlockValidator,
    test_utils::{TestChain, open_store},
};
use spectrum_chainspec::{ChainSpec, dev};
use spectrum_consensus::{Clock, FixedClock, SystemClock};
use spectrum_primitives::sign_transaction;
use spectrum_storage_api::ChainReader;
use tokio::sync::broadcast;

use super::*;
use crate::{Candidate, ProducerConfig, ProducerService, ProductionMode, SealRecord};

const DEADLINE: Duration = Duration::from_secs(60);

fn secret(text: &str) -> SecretKey {
    let bytes: [u8; 32] = hex::decode(text).unwrap().try_into().unwrap();
    SecretKey::from_byte_array(bytes).unwrap()
}

/// A pool of fixed transactions that offers those the head's state has not mined yet.
struct Pool {
    chain: Arc<dyn ChainReader>,
    txs: Mutex<Vec<Candidate>>,
}

impl crate::TransactionSource for Pool {
    fn best(&self) -> Vec<Candidate> {
        let state = self.chain.latest().unwrap();
        self.txs
            .lock()
            .unwrap()
            .iter()
            .filter(|c| {
                let nonce = state.account(&c.sender).unwrap().map_or(0, |a| a.nonce);
                c.tx.tx().nonce >= nonce
            })
            .cloned()
            .collect()
    }
    fn has_pending(&self) -> bool {
        !self.best().is_empty()
    }
    fn remove_invalid(&self, hashes: &[B256]) {
        self.txs
            .lock()
            .unwrap()
            .retain(|c| !hashes.contains(&c.tx.hash()));
    }
}

/// Transfers of 1 wei from dev account 0, nonces `0..count`.
fn transfers(count: u64) -> Vec<Candidate> {
    let key = secret(dev::DEV_ACCOUNTS[0].1);
    (0..count)
        .map(|nonce| {
            let tx = TxLegacy {
                chain_id: Some(1337),
                nonce,
                gas_price: 1_000_000_000,
                gas_limit: 21_000,
                to: TxKind::Call(Address::repeat_byte(0x5a)),
                value: U256::from(1u64),
                input: Default::default(),
            };
            Candidate::recover(sign_transaction(tx, &key)).unwrap()
        })
        .collect()
}

/// A dev node's chain and producer: the chain reads the dev clock, as on `--dev`.
struct Dev {
    runtime: tokio::runtime::Runtime,
    chain: Arc<Blockchain>,
    clock: Arc<DevClock>,
    control: DevControl,
    _dir: tempfile::TempDir,
    _new_transactions: broadcast::Sender<B256>,
}

impl Dev {
    fn start(mode: ProductionMode, txs: Vec<Candidate>) -> Dev {
        let dir = tempfile::tempdir().unwrap();
        let spec = Arc::new(ChainSpec::dev());
        let store = open_store(&dir.path().join("db"), &spec);
        let clock = Arc::new(DevClock::new(Arc::new(SystemClock)));
        let validator =
            TribeBlockValidator::new(store.clone(), spec.clone()).with_clock(clock.clone());
        let chain =
            Arc::new(Blockchain::new(store, spec, Arc::new(validator)).with_clock(clock.clone()));
        let pool = Arc::new(Pool {
            chain: chain.provider().clone(),
            txs: Mutex::new(txs),
        });
        let record = SealRecord::open(&dir.path().join("last-sealed")).unwrap();
        let (service, _produced) = ProducerService::new(
            chain.clone(),
            pool,
            ProducerConfig {
                key: secret(dev::DEV_VALIDATOR_KEY),
                coinbase: None,
                mode,
                record: Arc::new(record),
            },
        );
        let (service, control) = service.with_dev_control(clock.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (new_transactions, pending) = broadcast::channel(16);
        runtime.spawn(service.run(pending));
        Dev {
            runtime,
            chain,
            clock,
            control,
            _dir: dir,
            _new_transactions: new_transactions,
        }
    }

    fn head(&self) -> (u64, B256) {
        self.chain.provider().head().unwrap().unwrap()
    }

    fn block(&self, number: u64) -> spectrum_primitives::SealedBlock {
        let db = self.chain.provider();
        let hash = db.canonical_hash(number).unwrap().unwrap();
        db.block(&hash).unwrap().unwrap()
    }

    fn time(&self, number: u64) -> u64 {
        self.chain
            .provider()
            .header_by_number(number)
            .unwrap()
            .unwrap()
            .timestamp
    }

    /// Imports our canonical blocks 1..=head into a fresh chain with every rule and a clock
    /// at the dev clock's time: all must become canonical, ending on our head.
    fn reimport(&self) {
        let fresh = TestChain::new(ChainSpec::dev());
        let clock: Arc<dyn Clock> = Arc::new(FixedClock(self.clock.now()));
        let validator = TribeBlockValidator::new(fresh.store.clone(), fresh.spec.clone())
            .with_clock(clock.clone());
        let chain = Blockchain::new(fresh.store.clone(), fresh.spec.clone(), Arc::new(validator))
            .with_clock(clock);
        let (head, hash) = self.head();
        for number in 1..=head {
            let outcome = chain.insert_block(self.block(number)).unwrap();
            assert!(
                matches!(outcome, InsertOutcome::Canonical { .. }),
                "block {number}: {outcome:?}"
            );
        }
        assert_eq!(chain.provider().head().unwrap(), Some((head, hash)));
    }
}

/// Mode with nothing automatic: interval mining once an hour.
const MANUAL: ProductionMode = ProductionMode::Interval(Duration::from_secs(3600));

#[test]
fn time_travel_moves_header_time_forward_only_and_the_chain_reimports() {
    let dev = Dev::start(MANUAL, transfers(1));
    let control = dev.control.clone();
    dev.runtime.block_on(async {
        let mined = control.mine(1, 0, None).await.unwrap();
        assert_eq!(mined.len(), 1);
        assert_eq!(mined[0], dev.head());
        let t1 = dev.time(1);

        assert_eq!(control.increase_time(3600).await.unwrap(), 3600);
        control.mine(1, 0, None).await.unwrap();
        let t2 = dev.time(2);
        assert!(t2 >= t1 + 3600, "{t2} after {t1} + 1h");

        // Before the head's time: the rules would refuse the block, so the command does.
        match control.set_next_timestamp(t2 - 1).await {
            Err(DevError::TimestampTooEarly { got, earliest }) => {
                assert_eq!((got, earliest), (t2 - 1, t2))
            }
            other => panic!("{other:?}"),
        }
        control.set_next_timestamp(t2 + 100).await.unwrap();
        control.mine(1, 0, None).await.unwrap();
        assert_eq!(dev.time(3), t2 + 100);
        assert!(dev.clock.now() >= t2 + 100, "the clock follows the block");

        // anvil_mine(3, 10) and evm_mine(timestamp).
        control.mine(3, 10, None).await.unwrap();
        assert_eq!(
            (dev.time(5), dev.time(6)),
            (dev.time(4) + 10, dev.time(4) + 20)
        );
        control.mine(1, 0, Some(dev.time(6) + 7)).await.unwrap();
        assert_eq!(dev.time(7), dev.time(6) + 7);
        match control.mine(1, 0, Some(dev.time(7) - 1)).await {
            Err(DevError::TimestampTooEarly { .. }) => {}
            other => panic!("{other:?}"),
        }
        match control.mine(MAX_BLOCKS_PER_MINE + 1, 0, None).await {
            Err(DevError::TooManyBlocks { asked, max }) => {
                assert_eq!((asked, max), (MAX_BLOCKS_PER_MINE + 1, MAX_BLOCKS_PER_MINE))
            }
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(dev.head().0, 7);
    // The transfer went into block 1.
    let block = dev.block(1);
    assert_eq!(
        block.body.transactions.len(),
        2,
        "chief update + the transfer"
    );
    dev.reimport();
}

#[test]
fn revert_and_reset_rewind_the_chain_and_sealing_goes_on() {
    let dev = Dev::start(MANUAL, Vec::new());
    let control = dev.control.clone();
    dev.runtime.block_on(async {
        control.mine(2, 0, None).await.unwrap();
        let at_two = dev.head();
        let offset = dev.clock.offset();
        let id = control.snapshot().await.unwrap();
        assert_eq!(id, 1);
        control.increase_time(1000).await.unwrap();
        control.mine(3, 0, None).await.unwrap();
        let later = control.snapshot().await.unwrap();
        assert_eq!(dev.head().0, 5);

        assert!(control.revert(id).await.unwrap());
        assert_eq!(dev.head(), at_two);
        assert_eq!(dev.clock.offset(), offset, "the clock goes back too");
        assert!(
            !control.revert(id).await.unwrap(),
            "a snapshot is used once"
        );
        assert!(
            !control.revert(later).await.unwrap(),
            "later ones go with it"
        );
        assert!(!control.revert(99).await.unwrap());

        // The seal record went back with the chain: heights 3.. are sealed again.
        control.mine(2, 0, None).await.unwrap();
        assert_eq!(dev.head().0, 4);
        dev.reimport();

        control.reset().await.unwrap();
        assert_eq!(dev.head().0, 0);
        assert_eq!(dev.clock.offset(), 0);
        control.mine(1, 0, None).await.unwrap();
        assert_eq!(dev.head().0, 1);
    });
    dev.reimport();
}

#[test]
fn automine_seals_one_block_per_transaction_and_can_be_switched_off() {
    let idle = ProductionMode::OnDemand {
        idle: Duration::from_secs(3600),
    };
    let dev = Dev::start(idle, transfers(3));
    let control = dev.control.clone();
    let deadline = std::time::Instant::now() + DEADLINE;
    while dev.head().0 < 3 {
        assert!(std::time::Instant::now() < deadline, "three blocks in time");
        std::thread::sleep(Duration::from_millis(20));
    }
    for number in 1..=3 {
        let block = dev.block(number);
        assert_eq!(block.body.transactions.len(), 2, "block {number}");
    }
    dev.runtime.block_on(async {
        assert!(control.automine().await.unwrap());
        control.set_automine(false).await.unwrap();
        assert!(!control.automine().await.unwrap());
        control.set_interval(None).await.unwrap();
        control.mine(1, 0, None).await.unwrap();
    });
    assert_eq!(dev.head().0, 4, "no block came by itself");
}

#[test]
fn state_patches_ride_in_real_blocks_that_a_fresh_chain_reimports() {
    use spectrum_chain::DevPatch;
    let dev = Dev::start(MANUAL, Vec::new());
    let control = dev.control.clone();
    let who = Address::repeat_byte(0x42);
    let funded: Address = dev::DEV_ACCOUNTS[3].0.parse().unwrap();
    let code = alloy_primitives::Bytes::from_static(&[
        0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
    ]);
    let slot = B256::with_last_byte(7);
    dev.runtime.block_on(async {
        // The very first block may carry a patch (the validator's account is created in it).
        let (number, hash) = control
            .patch(vec![DevPatch::Balance(who, U256::from(123u64))])
            .await
            .unwrap();
        assert_eq!((number, hash), dev.head());
        control
            .patch(vec![
                DevPatch::Nonce(funded, 9),
                DevPatch::Balance(funded, U256::ZERO),
                DevPatch::Code(who, code.clone()),
                DevPatch::Storage(who, slot, U256::from(5u64)),
            ])
            .await
            .unwrap();
        // The validator's own account (its nonce moved with the patch transactions).
        control.mine(1, 0, None).await.unwrap();
    });
    let state = dev.chain.provider().latest().unwrap();
    let account = state.account(&who).unwrap().unwrap();
    assert_eq!(account.balance, U256::from(123u64));
    assert_eq!(account.code_hash, alloy_primitives::keccak256(&code));
    assert_eq!(state.code(&account.code_hash).unwrap().unwrap(), code);
    assert_eq!(state.storage(&who, &slot).unwrap(), U256::from(5u64));
    let funded_account = state.account(&funded).unwrap().unwrap();
    assert_eq!(
        (funded_account.nonce, funded_account.balance),
        (9, U256::ZERO)
    );
    drop(state);
    dev.reimport();
}
