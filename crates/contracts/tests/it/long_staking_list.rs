//! A long staking list does not halt the chain (issue 13 item 4). A dev chain with our chief,
//! ChiefBase and POC contracts (every fork from block 0, leader A, signer limit 5): our block
//! producer seals blocks carrying 4,097 POC deposits (one node key each, all owned by user1),
//! then a full round of blocks more, in which the chief-update transaction of every block must
//! name the volunteer the VRF picks from POC `getNormalList()` at its parent (tribe.md §8.1).
//! Every block is imported into a second chain, over its own RocksDB, through
//! `Blockchain::insert_block` and full Tribe validation, which reads that list whole: the old
//! 4,096-entry cap on decoded lists made each such block "invalid".
//!
//! The list's only bound is the gas of the read: the reference runs the chief views through
//! its `eth_call` path with 50,000,000 gas (tribe.md §5); the test prints what reading 4,097
//! entries costs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{collections::HashMap, sync::Arc};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, TxKind, U256, b256, keccak256};
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, InsertOutcome, test_utils::TestChain};
use spectrum_chainspec::{ChainSpec, ChiefEntry, GenesisAccount};
use spectrum_contracts::{
    CHIEF_ADDRESS, CHIEF_BASE_ADDRESS, POC_ADDRESS, TribeGenesisParams, abi, tribe_genesis_alloc,
};
use spectrum_execution::BlockExecutor;
use spectrum_primitives::{SealedHeader, public_key_to_address, sign_transaction};
use spectrum_producer::{BlockProducer, BuildRequest, Candidate, ProducerError};
use spectrum_storage_api::{ChainReader, StateProviderFactory};
use spectrum_tribe_state::ChiefContracts;

const STAKERS: usize = 4_097;
/// Gas of each deposit transaction (it uses less; what is left is refunded).
const DEPOSIT_GAS: u64 = 250_000;
/// Deposits offered to the producer per block (it takes what fits in the gas limit).
const OFFERED_PER_BLOCK: usize = 200;

fn key(secret: B256) -> SecretKey {
    SecretKey::from_byte_array(secret.0).unwrap()
}

fn address(key: &SecretKey) -> Address {
    public_key_to_address(&key.public_key(secp256k1::SECP256K1))
}

/// Devnet's node A (the genesis leader) and user1, as in `twin/mod.rs`.
fn a_key() -> SecretKey {
    key(b256!(
        "507fd083b5c5af7e645e77a3a3a82708f3af304164e02612ab4b1d5b36c627c6"
    ))
}

fn user1_key() -> SecretKey {
    key(b256!(
        "21161610bc2dde673c45e36f1373df28db2396adf1d8e4b0f2c5ef6781719375"
    ))
}

fn staker_key(i: usize) -> SecretKey {
    key(keccak256(format!("long-staking-list-node-{i}")))
}

/// Devnet's rules with every fork from genesis, our contracts, A the leader, user1 funded, and
/// blocks of `gas_limit` gas (the gas-limit floor lowered to allow it).
fn spec(gas_limit: u64) -> ChainSpec {
    let params = TribeGenesisParams {
        leaders: vec![address(&a_key())],
        signer_limit: 5,
        epoch: 100_000,
        owner: address(&user1_key()),
        min_deposit: U256::from(10u64),
        withdraw_wait: 100,
        deposit_halving: 300,
    };
    let mut spec = ChainSpec::devnet();
    spec.name = "long-staking-list".to_owned();
    let tribe = &mut spec.tribe;
    tribe.sip001_block = 0;
    tribe.sip002_block = 0;
    tribe.sip003_block = 0;
    tribe.sip100_block = 0;
    tribe.sip004_block = 0;
    tribe.gas_limit_rules_from = 0;
    tribe.checkpoints.clear();
    tribe.chiefs = vec![ChiefEntry {
        version: "1.0.0".into(),
        start_block: 0,
        address: CHIEF_ADDRESS,
    }];
    tribe.chief_base = Some(CHIEF_BASE_ADDRESS);
    tribe.poc = Some(POC_ADDRESS);
    tribe.meshbox.clear();
    tribe.anmap.clear();
    tribe.bad_blocks.clear();
    let mut extra = vec![0u8; 32];
    extra.extend_from_slice(address(&a_key()).as_slice());
    extra.resize(32 + 20 + 65, 0);
    spec.genesis.extra_data = extra.into();
    spec.genesis.gas_limit = gas_limit;
    spec.tribe.sip004_min_gas_limit = spec.tribe.sip004_min_gas_limit.min(gas_limit);
    let coins = U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64));
    spec.genesis.alloc =
        std::iter::once((address(&user1_key()), GenesisAccount::with_balance(coins)))
            .chain(tribe_genesis_alloc(&params).unwrap())
            .collect();
    spec
}

/// A chain over its own temporary RocksDB.
struct Node {
    _dir: tempfile::TempDir,
    db: Arc<dyn ChainReader>,
    chain: Blockchain,
    reads: ChiefContracts,
}

impl Node {
    fn new(spec: &Arc<ChainSpec>) -> Self {
        let TestChain { chain, dir, .. } = TestChain::with_spec(spec.clone());
        let chain = chain.with_clock(Arc::new(|| u64::from(u32::MAX)));
        let db = chain.provider().clone();
        Self {
            _dir: dir,
            reads: ChiefContracts::new(db.clone(), spec.clone()),
            db,
            chain,
        }
    }

    fn head(&self) -> SealedHeader {
        let (_, hash) = self.db.head().unwrap().unwrap();
        self.db.header(&hash).unwrap().unwrap()
    }
}

/// The producing node and the node that imports its blocks, with every key that may seal.
struct Network {
    spec: Arc<ChainSpec>,
    producer_node: Node,
    producer: BlockProducer,
    importer: Node,
    keys: HashMap<Address, SecretKey>,
}

impl Network {
    /// Seals the next block with `transactions` (the producer takes what fits, in order) by
    /// whoever may seal it with the highest difficulty among the signers and leaders, and
    /// imports it into both chains. Returns how many of `transactions` it took and the
    /// volunteer its chief update names.
    fn seal(&self, transactions: &[Candidate]) -> (usize, Address) {
        let head = self.producer_node.head();
        let number = head.number + 1;
        let status = self.producer_node.reads.status(&head).unwrap();
        let candidates = status
            .signers
            .iter()
            .chain(status.leaders.iter().flatten())
            .filter_map(|who| self.keys.get(who).map(|key| (*who, key)));
        let (_, signer) = candidates
            .filter_map(|(who, key)| match self.producer.plan(&head, who) {
                Ok(plan) => Some((plan.difficulty, key)),
                Err(ProducerError::NotAuthorised { .. }) => None,
                Err(other) => panic!("block {number}: planning {who}: {other}"),
            })
            .max_by_key(|(difficulty, _)| *difficulty)
            .unwrap_or_else(|| panic!("block {number}: nobody may seal"));
        let built = self
            .producer
            .build(BuildRequest {
                parent: head.hash(),
                key: signer,
                coinbase: None,
                timestamp: None,
                transactions: transactions.to_vec(),
            })
            .unwrap_or_else(|e| panic!("building block {number}: {e}"));
        assert!(
            built
                .executed
                .output
                .receipts
                .iter()
                .all(|r| r.receipt.status.coerce_status()),
            "block {number}: a transaction failed"
        );
        for (node, what) in [
            (&self.producer_node, "producer"),
            (&self.importer, "importer"),
        ] {
            let outcome = node
                .chain
                .insert_block(built.block.clone())
                .unwrap_or_else(|e| panic!("{what} refused block {number}: {e}"));
            assert!(
                matches!(outcome, InsertOutcome::Canonical { number: n, .. } if n == number),
                "{what}: block {number}: {outcome:?}"
            );
        }
        let chief_tx = &built.block.body.transactions[0].tx().input;
        let volunteer = Address::from_slice(&chief_tx[16..36]);
        (built.block.body.transactions.len() - 1, volunteer)
    }
}

fn deposits(spec: &ChainSpec) -> (Vec<Candidate>, Vec<(Address, SecretKey)>) {
    let owner = user1_key();
    let stakers: Vec<(Address, SecretKey)> = (0..STAKERS)
        .map(|i| {
            let key = staker_key(i);
            (address(&key), key)
        })
        .collect();
    let txs = stakers
        .iter()
        .enumerate()
        .map(|(nonce, (_, key))| {
            let tx = TxLegacy {
                chain_id: Some(spec.chain_id),
                nonce: nonce as u64,
                gas_price: 1_000_000_000,
                gas_limit: DEPOSIT_GAS,
                to: TxKind::Call(POC_ADDRESS),
                value: U256::from(10u64),
                input: abi::poc_deposit(key, address(&owner)),
            };
            Candidate::recover(sign_transaction(tx, &owner)).unwrap()
        })
        .collect();
    (txs, stakers)
}

impl Network {
    fn new(spec: ChainSpec, keys: HashMap<Address, SecretKey>) -> Self {
        let spec = Arc::new(spec);
        let producer_node = Node::new(&spec);
        Self {
            producer: BlockProducer::new(producer_node.db.clone(), spec.clone()),
            producer_node,
            importer: Node::new(&spec),
            keys,
            spec,
        }
    }

    /// Seals blocks with the deposits, as many per block as the gas limit takes; returns how
    /// many blocks that took.
    fn deposit_all(&self, mut pending: Vec<Candidate>) -> usize {
        let mut blocks = 0;
        while !pending.is_empty() {
            let offered = pending.len().min(OFFERED_PER_BLOCK);
            let (taken, _) = self.seal(&pending[..offered]);
            assert!(taken > 0, "no deposit fitted in a block");
            pending.drain(..taken);
            blocks += 1;
        }
        blocks
    }

    /// POC `getNormalList()` as the importer's Tribe validation reads it at its head, and
    /// what reading it costs in gas.
    fn normal_list(&self) -> (Vec<Address>, u64) {
        let head = self.importer.head();
        let chief = self.spec.tribe.chiefs[0].clone();
        let normal = self.importer.reads.normal_list(&head, &chief).unwrap();
        let request = spectrum_execution::CallRequest {
            from: Address::ZERO,
            to: Some(POC_ADDRESS),
            gas_limit: 100_000_000,
            gas_price: 0,
            value: U256::ZERO,
            data: abi::call("getNormalList()", &[]),
        };
        let read = BlockExecutor::spectrum(self.spec.clone())
            .call_with(
                head.header(),
                &*self.importer.db.latest().unwrap(),
                &request,
            )
            .unwrap();
        assert!(read.success);
        (normal, read.gas_used)
    }

    /// Seals `count` blocks without transactions; returns the volunteers their chief updates
    /// name.
    fn seal_empty(&self, count: usize) -> Vec<Address> {
        let first = self.importer.head().number;
        let picked = (0..count).map(|_| self.seal(&[]).1).collect();
        let imported = self.importer.head();
        assert_eq!(imported.number, first + count as u64);
        assert_eq!(imported.hash(), self.producer_node.head().hash());
        picked
    }
}

fn all_keys(stakers: Vec<(Address, SecretKey)>) -> HashMap<Address, SecretKey> {
    let mut keys: HashMap<Address, SecretKey> = stakers.into_iter().collect();
    keys.insert(address(&a_key()), a_key());
    keys
}

#[test]
fn blocks_keep_coming_with_4097_stakers() {
    let spec = spec(40_000_000);
    let (pending, stakers) = deposits(&spec);
    let net = Network::new(spec, all_keys(stakers));
    let blocks = net.deposit_all(pending);
    let (normal, gas) = net.normal_list();
    assert_eq!(
        normal.len(),
        STAKERS,
        "POC getNormalList() after the deposits"
    );
    println!(
        "{STAKERS} deposits in {blocks} blocks; getNormalList() of {STAKERS} entries costs {gas} gas"
    );
    // A round and more of honest blocks: each one's chief update names a volunteer picked
    // from the whole list, checked by the importer against the list it reads itself.
    let picked = net.seal_empty(12);
    assert!(
        picked.iter().any(|v| normal.contains(v)),
        "no volunteer picked from the staking list: {picked:?}"
    );
}

/// The read is bounded by gas as in the reference, which gives the chief views 50,000,000 gas
/// whatever the block holds (tribe.md §5), not by the block's gas limit: on a chain of
/// 2,000,000-gas blocks, a staking list that costs more than that to read must not stop the
/// chain (every node would fail to read it, every block would be refused or never built).
#[test]
fn a_staking_list_costing_more_gas_than_a_block_holds_is_still_read() {
    let gas_limit = 2_000_000;
    let spec = spec(gas_limit);
    let (pending, stakers) = deposits(&spec);
    let net = Network::new(spec, all_keys(stakers));
    let blocks = net.deposit_all(pending);
    let (normal, gas) = net.normal_list();
    assert_eq!(normal.len(), STAKERS);
    assert!(
        gas > gas_limit,
        "reading {STAKERS} entries costs only {gas} gas"
    );
    println!("{STAKERS} deposits in {blocks} blocks of {gas_limit} gas; reading them: {gas} gas");
    let picked = net.seal_empty(6);
    assert!(
        picked.iter().any(|v| normal.contains(v)),
        "no volunteer picked from the staking list: {picked:?}"
    );
}
