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
        Self::start_on(ChainSpec::dev(), mode, txs)
    }

    fn start_on(spec: ChainSpec, mode: ProductionMode, txs: Vec<Candidate>) -> Dev {
        let dir = tempfile::tempdir().unwrap();
        let spec = Arc::new(spec);
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
    /// A fresh chain with full validation on `spec` (a fresh database).
    fn fresh_chain(&self, spec: ChainSpec) -> Blockchain {
        let fresh = TestChain::new(spec);
        let clock: Arc<dyn Clock> = Arc::new(FixedClock(self.clock.now()));
        let validator = TribeBlockValidator::new(fresh.store.clone(), fresh.spec.clone())
            .with_clock(clock.clone());
        Blockchain::new(fresh.store.clone(), fresh.spec.clone(), Arc::new(validator))
            .with_clock(clock)
    }

    fn reimport(&self) {
        let chain = self.fresh_chain(ChainSpec::clone(self.chain.spec()));
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
    // The same blocks where the chain spec does not enable the rule (the same genesis, chain id
    // 1337): the patch transaction is a plain call, so the patched state root is refused.
    let mut plain = ChainSpec::clone(dev.chain.spec());
    plain.tribe.dev_state_patches = false;
    let error = dev
        .fresh_chain(plain)
        .insert_block(dev.block(1))
        .unwrap_err();
    assert!(
        matches!(
            error,
            spectrum_chain::ChainError::StateRoot { number: 1, .. }
        ),
        "{error:?}"
    );
}

/// The dev chain with the chief contracts installed for `signer_limit` slots per round
/// (`genesis/dev.json` has 1: every block is the validator's own slot, so nobody can miss one),
/// exactly as `spectrum --dev --dev.signer-limit` makes it.
fn dev_spec_with_signer_limit(signer_limit: u64) -> ChainSpec {
    spectrum_contracts::dev_chain_with_signer_limit(signer_limit).unwrap()
}

/// Dev account 1 stakes the node of `node_key` in POC with the dev POC's 1-coin minimum.
fn deposit(node_key: &SecretKey) -> Candidate {
    let (owner, key) = dev::DEV_ACCOUNTS[1];
    let tx = TxLegacy {
        chain_id: Some(1337),
        nonce: 0,
        gas_price: 1_000_000_000,
        gas_limit: 500_000,
        to: TxKind::Call(ChainSpec::dev().tribe.poc.unwrap()),
        value: U256::from(1_000_000_000_000_000_000u128),
        input: spectrum_contracts::abi::poc_deposit(node_key, owner.parse().unwrap()),
    };
    Candidate::recover(sign_transaction(tx, &secret(key))).unwrap()
}

impl Dev {
    fn head_header(&self) -> spectrum_primitives::SealedHeader {
        let db = self.chain.provider();
        db.header(&self.head().1).unwrap().unwrap()
    }

    fn chief(&self) -> spectrum_tribe_state::ChiefContracts {
        spectrum_tribe_state::ChiefContracts::new(
            self.chain.provider().clone(),
            self.chain.spec().clone(),
        )
    }

    /// `node`'s POC entry at the head: (stop block, blacklisted).
    fn poc_entry(&self, node: Address) -> (U256, bool) {
        let poc = self
            .chief()
            .poc_status(&self.head_header())
            .unwrap()
            .unwrap();
        let i = poc.miners.iter().position(|m| *m == node).unwrap();
        (poc.blocks[i], poc.black_status[i] == U256::from(1u64))
    }
}

/// With only the validator in the signer list there is no slot to skip: refused at once,
/// nothing sealed.
#[test]
fn skip_slot_without_another_signer_is_refused() {
    let dev = Dev::start(MANUAL, Vec::new());
    let control = dev.control.clone();
    dev.runtime.block_on(control.mine(2, 0, None)).unwrap();
    let error = dev.runtime.block_on(control.skip_slot()).unwrap_err();
    assert!(
        matches!(error, DevError::NoOtherSigner { slots: 1 }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "no other signer has a slot: the signer list (1 slots, slot 0 the leader's) holds no staker within 64 blocks"
    );
    assert_eq!(dev.head().0, 2);
}

/// A staked node the VRF picks into the signer list misses its slot when `skip_slot` has the
/// validator seal it (at the leader's delay): the chief update stops and blacklists it in
/// POC, it leaves the signer list, and a fresh chain imports every block with every rule.
#[test]
fn skip_slot_blacklists_a_staked_signer_and_the_chain_reimports() {
    let node_key = secret("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
    let node =
        spectrum_primitives::public_key_to_address(&node_key.public_key(secp256k1::SECP256K1));
    let dev = Dev::start_on(
        dev_spec_with_signer_limit(3),
        MANUAL,
        vec![deposit(&node_key)],
    );
    let control = dev.control.clone();
    // Mine until the VRF has picked the node into the signer list (one round as a volunteer,
    // then the next round's list).
    let mut blocks = 0;
    while !dev
        .chief()
        .status(&dev.head_header())
        .unwrap()
        .signers
        .contains(&node)
    {
        assert!(
            blocks < 64,
            "{node} never became a signer: {:?} {:?}",
            dev.chief().poc_status(&dev.head_header()),
            dev.chief().status(&dev.head_header())
        );
        dev.runtime.block_on(control.mine(1, 0, None)).unwrap();
        blocks += 1;
    }
    assert_eq!(
        dev.poc_entry(node),
        (U256::ZERO, false),
        "running, not blacklisted"
    );

    let before = dev.head_header();
    let skipped = dev.runtime.block_on(control.skip_slot()).unwrap();
    assert_eq!(skipped.signer, node);
    assert_eq!((skipped.number, skipped.hash), dev.head());
    // The block is the validator's, in the node's slot, at the leader's delay or later.
    let set = dev
        .chief()
        .status(&dev.block(skipped.number - 1).header.clone())
        .unwrap();
    let slot = usize::try_from(skipped.number % set.signers.len() as u64).unwrap();
    assert_eq!(set.signers[slot], node, "{set:?}");
    let missed = dev
        .chief()
        .missed_slot(
            &dev.block(skipped.number - 1).header.clone(),
            &dev.block(skipped.number).header.clone(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(missed.in_turn, node);
    assert_eq!(
        missed.sealed_by,
        dev::DEV_VALIDATOR_ADDRESS.parse::<Address>().unwrap()
    );
    assert!(dev.time(skipped.number) > before.timestamp);

    // Penalised as on mainnet: stopped at that block and blacklisted, out of the list.
    let (stop_block, blacklisted) = dev.poc_entry(node);
    assert!(
        stop_block > U256::ZERO && blacklisted,
        "{stop_block} {blacklisted}"
    );
    let status = dev.chief().status(&dev.head_header()).unwrap();
    assert!(!status.signers.contains(&node), "{status:?}");
    assert!(status.black_list.contains(&node), "{status:?}");
    // And with nobody left to skip, the next call is refused.
    assert!(matches!(
        dev.runtime.block_on(control.skip_slot()),
        Err(DevError::NoOtherSigner { slots: 3 })
    ));
    dev.reimport();
}
