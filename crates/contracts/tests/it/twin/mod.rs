//! Twin chains for the behaviour test: two chains that differ only in their chief, ChiefBase
//! and POC contracts, driven block by block through the same actions by our block producer,
//! with every answer of the contracts compared after each block.
//!
//! * **reference**: the reference node's three contracts with their code and storage copied
//!   from the state of `spectrum-devnet-multi` after block 64 (imported and validated by our
//!   node), installed at their devnet addresses.
//! * **ours**: our contracts, installed by [`tribe_genesis_alloc`] with the reference's
//!   parameters (leaders [A], signer limit 5, epoch 25, owner user1, minimum deposit 10 wei,
//!   withdraw wait 100 blocks, halving every 300 blocks).
//!
//! Everything else is the same: chain id 4, period 3, every fork from block 0, user1 and user2
//! funded, A the genesis signer.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, OnceLock},
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, b256, hex, keccak256};
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, InsertOutcome, test_utils::TestChain};
use spectrum_chainspec::{ChainSpec, ChiefEntry, GenesisAccount};
use spectrum_consensus::{SignerSet, SignerSetProvider};
use spectrum_contracts::{
    CHIEF_ADDRESS, CHIEF_BASE_ADDRESS, POC_ADDRESS, TribeGenesisParams, abi, tribe_genesis_alloc,
};
use spectrum_execution::BlockExecutor;
use spectrum_import::ChainFileReader;
use spectrum_primitives::{
    ReceiptWithBloom, SealedHeader, public_key_to_address, sign_transaction,
};
use spectrum_producer::{BlockProducer, BuildRequest, Candidate, ProducerError};
use spectrum_storage_api::{ChainReader, StateProvider};
use spectrum_tribe_state::ChiefContracts;

// ---------------------------------------------------------------------------------------------
// Who takes part (testdata/spectrum-devnet-multi/README.md "Nodes", stake.py)
// ---------------------------------------------------------------------------------------------

/// A key that signs blocks (a node) or transactions (a wallet).
#[derive(Clone)]
pub struct Actor {
    /// The README's name for it.
    pub name: &'static str,
    /// Its secret key.
    pub key: SecretKey,
    /// Its address.
    pub address: Address,
}

impl Actor {
    fn from_secret(name: &'static str, secret: [u8; 32], expected: Address) -> Self {
        let key = SecretKey::from_byte_array(secret).unwrap();
        let address = public_key_to_address(&key.public_key(secp256k1::SECP256K1));
        assert_eq!(address, expected, "key of {name}");
        Self { name, key, address }
    }

    fn seeded(name: &'static str, seed: &str, expected: Address) -> Self {
        Self::from_secret(name, keccak256(seed.as_bytes()).0, expected)
    }
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Node A, the devnet's built-in signer and genesis leader. Its key is the devnet key the
/// reference publishes in `contracts/chief/src/chief_1.0.0.sol` and `crypto/crypto_test.go`.
pub fn a() -> Actor {
    Actor::from_secret(
        "A",
        b256!("507fd083b5c5af7e645e77a3a3a82708f3af304164e02612ab4b1d5b36c627c6").0,
        address!("9944d0cc757cd9391ee320fc17d5b6f61693f2c5"),
    )
}

/// Node B, a staker.
pub fn b() -> Actor {
    Actor::seeded(
        "B",
        "spectrum-devnet-multi-node-B",
        address!("01a955a76b420ced3c4ad15a27d18b8ba6bb145f"),
    )
}

/// Node C, a staker.
pub fn c() -> Actor {
    Actor::seeded(
        "C",
        "spectrum-devnet-multi-node-C",
        address!("fd32580876a31a8a6e71e6ffb712b91b8b93afaf"),
    )
}

/// Node D, a leader (appended, removed).
pub fn d() -> Actor {
    Actor::seeded(
        "D",
        "spectrum-devnet-multi-node-D",
        address!("11642c52bd942d404db61f6939019a3e95806bb3"),
    )
}

/// Node E, a staker that stops and withdraws.
pub fn e() -> Actor {
    Actor::seeded(
        "E",
        "spectrum-devnet-multi-node-E",
        address!("b466bcaab2307dcbacf092ea4c973524e4b5bb93"),
    )
}

/// user1: owner of ChiefBase (it deployed the reference's) and of B's and E's stakes.
pub fn user1() -> Actor {
    Actor::from_secret(
        "user1",
        b256!("21161610bc2dde673c45e36f1373df28db2396adf1d8e4b0f2c5ef6781719375").0,
        address!("bf1736a65f8beadd71b321be585fd883503fdeaa"),
    )
}

/// user2: owner of C's stake.
pub fn user2() -> Actor {
    Actor::from_secret(
        "user2",
        b256!("85014f716eb68f9ffc1690fe95fe16cab7b87b418b16c655b082bca6ddf462b9").0,
        address!("d3b38478f7edb9bb55270ee5389706dc9ca6d98f"),
    )
}

/// Everyone, by name.
pub struct Cast {
    /// Node A.
    pub a: Actor,
    /// Node B.
    pub b: Actor,
    /// Node C.
    pub c: Actor,
    /// Node D.
    pub d: Actor,
    /// Node E.
    pub e: Actor,
    /// user1.
    pub user1: Actor,
    /// user2.
    pub user2: Actor,
}

impl Cast {
    /// All of them.
    pub fn new() -> Self {
        Self {
            a: a(),
            b: b(),
            c: c(),
            d: d(),
            e: e(),
            user1: user1(),
            user2: user2(),
        }
    }

    /// The wallet that owns `node`'s stake in the scenario: user2 for C, else user1 (as in
    /// the reference run).
    pub fn owner_of(&self, node: &Actor) -> &Actor {
        if node.address == self.c.address {
            &self.user2
        } else {
            &self.user1
        }
    }
}

/// The five nodes, in the order the driver tries them as block signers.
pub fn nodes() -> Vec<Actor> {
    vec![a(), b(), c(), d(), e()]
}

// ---------------------------------------------------------------------------------------------
// The reference contracts, from devnet-multi's state after block 64
// ---------------------------------------------------------------------------------------------

/// Devnet addresses of the reference's chief 1.0.0, ChiefBase and POC (genesis/devnet.json).
pub const REF_CHIEF: Address = address!("21c5dc409138205291d6a7ef2dbb1701ac02ff96");
/// Reference ChiefBase.
pub const REF_BASE: Address = address!("f096d7f8ae3cd0a85e593accac5e7bc38a756111");
/// Reference POC.
pub const REF_POC: Address = address!("48e0f07faf58bc6e713d5c6373ce4f2a8b5c359a");
/// The reference Anmap 0.0.1 on the devnet (chain.md §4, from block 6).
pub const REF_ANMAP: Address = address!("143084accd6472ad502b59c3197f9ed5f797b966");

/// The block of devnet-multi whose state we take: after SIP100 (63), before any staking (87).
const SNAPSHOT_BLOCK: u64 = 64;
/// Its hash (expected.json).
const SNAPSHOT_HASH: B256 =
    b256!("03484d7e700a75682f223ff4aaa4721e72b13201793c2a4c1587c5e36da716ac");

/// The reference chief's `blockNumber` (storage slot 4 in chief_1.0.0.sol's layout: `vsn`,
/// `base`, `_signerList`, `_nextRoundSignerList`, `blockNumber`, `signersMap`).
const REF_CHIEF_BLOCK_NUMBER_SLOT: u64 = 4;
/// The reference POC's `initBlockNumber` (slot 11 in poc_s0.5.sol's layout: `minerMap`, five
/// list/index pairs…, `owner`, `initMinDeposit`, `initBlockNumber`).
const REF_POC_INIT_BLOCK_SLOT: u64 = 11;
/// The block that deployed the reference POC (expected.json, block 51 tx 2): its
/// `initBlockNumber`.
const REF_POC_DEPLOY_BLOCK: u64 = 51;

/// The three reference accounts as genesis entries.
pub struct ReferenceContracts {
    /// (address, account) of chief, ChiefBase, POC.
    pub accounts: Vec<(Address, GenesisAccount)>,
    /// The reference Anmap (nothing bound yet at that block).
    pub anmap: GenesisAccount,
}

fn chain_file() -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/spectrum-devnet-multi/chain.rlp"
    ));
    assert!(
        path.is_file(),
        "{} not found: ../shared/testdata must sit beside the clone",
        path.display()
    );
    path
}

/// The reference contracts, imported once per test binary.
pub fn reference_contracts() -> &'static ReferenceContracts {
    static CONTRACTS: OnceLock<ReferenceContracts> = OnceLock::new();
    CONTRACTS.get_or_init(import_reference_contracts)
}

/// Imports devnet-multi up to [`SNAPSHOT_BLOCK`] under full Tribe validation and copies the
/// three contracts (code and every storage slot) out of its state.
fn import_reference_contracts() -> ReferenceContracts {
    let test = TestChain::devnet();
    let chain = test.chain.with_clock(Arc::new(|| u64::from(u32::MAX)));
    let db = chain.provider().clone();
    for block in ChainFileReader::open(chain_file()).unwrap() {
        let block = block.unwrap().seal_slow();
        if block.number() > SNAPSHOT_BLOCK {
            break;
        }
        chain.insert_block(block).unwrap();
    }
    assert_eq!(db.head().unwrap().unwrap(), (SNAPSHOT_BLOCK, SNAPSHOT_HASH));
    let state = db.latest().unwrap();
    let mut accounts: Vec<_> = [REF_CHIEF, REF_BASE, REF_POC]
        .into_iter()
        .map(|address| (address, copy_account(&*state, address)))
        .collect();
    rebase_block_numbers(&mut accounts);
    let anmap = copy_account(&*state, REF_ANMAP);
    // The deployed Anmap is the reference's `Anmap is Owned` (anmap.sol before 2019-07-18):
    // its only storage before the first bind (block 181) is the owner in slot 0, who has no
    // power over bindings.
    assert_eq!(
        anmap.storage.keys().collect::<Vec<_>>(),
        [&B256::ZERO],
        "only the owner before the first bind"
    );
    ReferenceContracts { accounts, anmap }
}

/// Every address that can key a mapping of the three contracts up to block 64.
fn mapping_keys() -> Vec<Address> {
    let mut keys: Vec<Address> = nodes().iter().map(|n| n.address).collect();
    keys.extend([user1().address, user2().address, Address::ZERO]);
    keys.extend([REF_CHIEF, REF_BASE, REF_POC]);
    keys
}

/// An account with its code and storage. Storage is keyed by slot preimage in a genesis, but
/// the state trie only knows hashed slots: we read every slot the Solidity layouts of the
/// three contracts can use (plain slots, array elements, mapping entries and their struct
/// fields for every address involved) and check that the slots found rebuild the account's
/// storage root, so that no slot was missed.
fn copy_account(state: &dyn StateProvider, address: Address) -> GenesisAccount {
    let account = state.account(&address).unwrap().unwrap();
    let code = state.code(&account.code_hash).unwrap().unwrap();
    let mut candidates = Vec::new();
    for base in 0u64..32 {
        let slot = U256::from(base);
        candidates.push(slot);
        let array = U256::from_be_bytes(keccak256(B256::from(slot)).0);
        candidates.extend((0u64..16).map(|i| array + U256::from(i)));
        for key in mapping_keys() {
            let mut preimage = [0u8; 64];
            preimage[12..32].copy_from_slice(key.as_slice());
            preimage[32..].copy_from_slice(&slot.to_be_bytes::<32>());
            let entry = U256::from_be_bytes(keccak256(preimage).0);
            candidates.extend((0u64..3).map(|field| entry + U256::from(field)));
        }
    }
    let storage: BTreeMap<B256, B256> = candidates
        .into_iter()
        .map(B256::from)
        .filter_map(|slot| {
            let value = state.storage(&address, &slot).unwrap();
            (!value.is_zero()).then(|| (slot, B256::from(value)))
        })
        .collect();
    let copied = GenesisAccount {
        balance: account.balance,
        nonce: account.nonce,
        code,
        storage,
    };
    assert_eq!(
        copied.storage_root(),
        account.storage_root,
        "{address}: the slots read do not rebuild the storage root (a slot was missed)"
    );
    copied
}

/// The reference contracts remember two block numbers of devnet-multi: the chief's last
/// `update` (64) and the block POC was deployed in (51, the base of the minimum deposit's
/// halving). We re-base both onto the twin chains' genesis, as if the contracts had been
/// deployed in it, as ours are; otherwise POC's `block.number - initBlockNumber` would wrap
/// below block 51 (Solidity 0.5 has no overflow check) and its minimum deposit would be a
/// different function of the block number than with the same parameters at genesis.
fn rebase_block_numbers(accounts: &mut [(Address, GenesisAccount)]) {
    for (address, account) in accounts.iter_mut() {
        let (slot, was) = match *address {
            REF_CHIEF => (REF_CHIEF_BLOCK_NUMBER_SLOT, SNAPSHOT_BLOCK),
            REF_POC => (REF_POC_INIT_BLOCK_SLOT, REF_POC_DEPLOY_BLOCK),
            _ => continue,
        };
        let slot = B256::from(U256::from(slot));
        assert_eq!(
            account.storage.remove(&slot),
            Some(B256::from(U256::from(was))),
            "{address}: slot {slot} is not the block number the layout says"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The two chains
// ---------------------------------------------------------------------------------------------

/// Where one chain holds its three contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contracts {
    /// Chief 1.0.0.
    pub chief: Address,
    /// ChiefBase.
    pub base: Address,
    /// POC.
    pub poc: Address,
}

/// Which of the three contracts a call or log is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The chief.
    Chief,
    /// ChiefBase.
    Base,
    /// POC.
    Poc,
}

impl Contracts {
    fn address(&self, target: Target) -> Address {
        match target {
            Target::Chief => self.chief,
            Target::Base => self.base,
            Target::Poc => self.poc,
        }
    }

    fn target(&self, address: Address) -> Option<Target> {
        [Target::Chief, Target::Base, Target::Poc]
            .into_iter()
            .find(|t| self.address(*t) == address)
    }
}

/// POC's `withdrawWaitNumber` on devnet-multi (read from its state; not stated in its README).
pub const WITHDRAW_WAIT: u64 = 100;
/// POC's `depositHalveLimitNumber` on devnet-multi (read from its state).
pub const DEPOSIT_HALVING: u64 = 300;

/// The parameters the reference contracts hold (checked at genesis by comparing every view).
pub fn reference_params() -> TribeGenesisParams {
    TribeGenesisParams {
        leaders: vec![a().address],
        signer_limit: 5,
        epoch: 25,
        owner: user1().address,
        min_deposit: U256::from(10u64),
        withdraw_wait: WITHDRAW_WAIT,
        deposit_halving: DEPOSIT_HALVING,
    }
}

/// Each wallet's genesis balance: 1,000 coins.
fn wallet_balance() -> U256 {
    U256::from(1_000u64) * U256::from(10u64).pow(U256::from(18u64))
}

/// Devnet's rules with every fork from genesis, A as the genesis signer, and `contracts`.
fn twin_spec(name: &str, at: Contracts, contracts: Vec<(Address, GenesisAccount)>) -> ChainSpec {
    let mut spec = ChainSpec::devnet();
    spec.name = name.to_owned();
    let tribe = &mut spec.tribe;
    tribe.sip001_block = 0;
    tribe.sip002_block = 0;
    tribe.sip003_block = 0;
    tribe.sip100_block = 0;
    tribe.sip004_block = 0;
    tribe.gas_limit_rules_from = 0;
    // Another chain than devnet: devnet's pinned blocks are not its blocks.
    tribe.checkpoints.clear();
    tribe.chiefs = vec![ChiefEntry {
        version: "1.0.0".into(),
        start_block: 0,
        address: at.chief,
    }];
    tribe.chief_base = Some(at.base);
    tribe.poc = Some(at.poc);
    tribe.meshbox.clear();
    tribe.anmap.clear();
    tribe.bad_blocks.clear();
    let mut extra = vec![0u8; 32];
    extra.extend_from_slice(a().address.as_slice());
    extra.resize(32 + 20 + 65, 0);
    spec.genesis.extra_data = extra.into();
    spec.genesis.gas_limit = 40_000_000;
    spec.genesis.alloc = [user1().address, user2().address]
        .into_iter()
        .map(|wallet| (wallet, GenesisAccount::with_balance(wallet_balance())))
        .chain(contracts)
        .collect();
    spec
}

/// One of the twin chains: a node with its database, chain and block producer.
pub struct Side {
    /// "reference" or "ours".
    pub label: &'static str,
    _dir: tempfile::TempDir,
    /// The chain data.
    pub db: Arc<dyn ChainReader>,
    spec: Arc<ChainSpec>,
    chain: Blockchain,
    producer: BlockProducer,
    executor: BlockExecutor,
    reads: ChiefContracts,
    /// Its contracts.
    pub contracts: Contracts,
}

impl Side {
    fn new(label: &'static str, spec: ChainSpec, contracts: Contracts) -> Self {
        let TestChain {
            chain, spec, dir, ..
        } = TestChain::new(spec);
        let chain = chain.with_clock(Arc::new(|| u64::from(u32::MAX)));
        let db = chain.provider().clone();
        Self {
            label,
            _dir: dir,
            producer: BlockProducer::new(db.clone(), spec.clone()),
            executor: BlockExecutor::spectrum(spec.clone()),
            reads: ChiefContracts::new(db.clone(), spec.clone()),
            chain,
            db,
            spec,
            contracts,
        }
    }

    /// The head header.
    pub fn head(&self) -> SealedHeader {
        let (_, hash) = self.db.head().unwrap().unwrap();
        self.db.header(&hash).unwrap().unwrap()
    }

    /// A read-only call at the head's state; `None` if it reverted.
    pub fn call(&self, target: Target, data: Bytes) -> Option<Bytes> {
        let head = self.head();
        let outcome = self
            .executor
            .call(
                head.header(),
                &*self.db.latest().unwrap(),
                Address::ZERO,
                self.contracts.address(target),
                data,
            )
            .unwrap();
        outcome.success.then_some(outcome.output)
    }

    /// A call that must succeed.
    pub fn view(&self, target: Target, signature: &str, words: &[[u8; 32]]) -> Bytes {
        self.call(target, abi::call(signature, words))
            .unwrap_or_else(|| panic!("{}: {signature} reverted", self.label))
    }

    fn nonce(&self, address: Address) -> u64 {
        self.db
            .latest()
            .unwrap()
            .account(&address)
            .unwrap()
            .map_or(0, |a| a.nonce)
    }

    /// The balance of `address` at the head.
    pub fn balance(&self, address: Address) -> U256 {
        self.db
            .latest()
            .unwrap()
            .account(&address)
            .unwrap()
            .map_or(U256::ZERO, |a| a.balance)
    }

    fn chief_entry(&self) -> ChiefEntry {
        self.spec.tribe.chiefs[0].clone()
    }

    /// The signer set the engine reads at the head (getStatus, takeLeaderList).
    pub fn signer_set(&self) -> SignerSet {
        self.reads
            .signer_set(&self.head(), &self.chief_entry())
            .unwrap()
    }

    /// The roles each node could seal the next block in: (difficulty, delay) or refused.
    fn plans(&self) -> Vec<(&'static str, Option<(u64, u64)>)> {
        let head = self.head();
        nodes()
            .into_iter()
            .map(|node| match self.producer.plan(&head, node.address) {
                Ok(plan) => (node.name, Some((plan.difficulty, plan.delay))),
                Err(ProducerError::NotAuthorised { .. }) => (node.name, None),
                Err(other) => panic!("{}: planning {}: {other}", self.label, node.name),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions the scenario sends
// ---------------------------------------------------------------------------------------------

/// Whether a transaction must succeed or revert (on both chains).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Receipt status 1.
    Success,
    /// Receipt status 0.
    Revert,
}

/// A user transaction to one of the contracts.
#[derive(Debug, Clone)]
pub struct Action {
    /// What it is, for messages.
    pub label: String,
    /// The sender.
    pub from: Actor,
    /// The contract.
    pub to: Target,
    /// Calldata.
    pub data: Bytes,
    /// Value in wei.
    pub value: U256,
    /// Its outcome.
    pub expect: Expect,
}

impl Action {
    /// POC `deposit` for `node` from `owner` with `value` wei.
    pub fn deposit(node: &Actor, owner: &Actor, value: u64, expect: Expect) -> Self {
        Self {
            label: format!(
                "deposit({}) from {} with {value} wei",
                node.name, owner.name
            ),
            from: owner.clone(),
            to: Target::Poc,
            data: abi::poc_deposit(&node.key, owner.address),
            value: U256::from(value),
            expect,
        }
    }

    /// POC `stop`/`start`/`withdraw`/`withdrawSurplus` of `node` sent by `from`.
    pub fn poc(call: abi::PocNodeCall, node: &Actor, from: &Actor, expect: Expect) -> Self {
        Self {
            label: format!("{call:?}({}) from {}", node.name, from.name),
            from: from.clone(),
            to: Target::Poc,
            data: abi::poc_node_call(call, node.address),
            value: U256::ZERO,
            expect,
        }
    }

    /// ChiefBase `appendLeader(who)` sent by `from`.
    pub fn append_leader(who: Address, from: &Actor, expect: Expect) -> Self {
        Self {
            label: format!("appendLeader({who}) from {}", from.name),
            from: from.clone(),
            to: Target::Base,
            data: abi::append_leader(who),
            value: U256::ZERO,
            expect,
        }
    }

    /// ChiefBase `removeLeader(who)` sent by `from`.
    pub fn remove_leader(who: Address, from: &Actor, expect: Expect) -> Self {
        Self {
            label: format!("removeLeader({who}) from {}", from.name),
            from: from.clone(),
            to: Target::Base,
            data: abi::remove_leader(who),
            value: U256::ZERO,
            expect,
        }
    }
}

/// What the driver did for one block.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// Its number.
    pub number: u64,
    /// Who sealed it.
    pub signer: &'static str,
    /// Its difficulty.
    pub difficulty: u64,
    /// The volunteer its chief-update transaction named.
    pub volunteer: Address,
    /// Who held this block's slot in the signer list it was sealed under (zero: empty).
    pub slot_owner: Address,
    /// The receipt status of each action.
    pub statuses: Vec<bool>,
}

// ---------------------------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------------------------

/// The two chains, moved in step.
pub struct Twins {
    /// The reference contracts' chain.
    pub reference: Side,
    /// Our contracts' chain.
    pub ours: Side,
    /// Every block sealed so far.
    pub history: Vec<Sealed>,
}

/// Gas limit of the scenario's transactions: ample for both implementations.
const ACTION_GAS: u64 = 1_000_000;
/// Their gas price: 1 gwei.
const ACTION_GAS_PRICE: u128 = 1_000_000_000;

impl Twins {
    /// Both chains at genesis, already compared.
    pub fn new() -> Self {
        let reference_at = Contracts {
            chief: REF_CHIEF,
            base: REF_BASE,
            poc: REF_POC,
        };
        let ours_at = Contracts {
            chief: CHIEF_ADDRESS,
            base: CHIEF_BASE_ADDRESS,
            poc: POC_ADDRESS,
        };
        let ours_alloc = tribe_genesis_alloc(&reference_params()).unwrap();
        let twins = Self {
            reference: Side::new(
                "reference",
                twin_spec(
                    "twin-reference",
                    reference_at,
                    reference_contracts().accounts.clone(),
                ),
                reference_at,
            ),
            ours: Side::new("ours", twin_spec("twin-ours", ours_at, ours_alloc), ours_at),
            history: Vec::new(),
        };
        twins.compare_views();
        twins
    }

    /// The next block's number.
    pub fn next_number(&self) -> u64 {
        self.reference.head().number + 1
    }

    /// Seals the next block on both chains. The signer is the node, not in `down`, with the
    /// highest difficulty for this block (the one whose block the network would take); both
    /// chains must agree on every node's role. `actions` go in after the chief update, in
    /// order. Both blocks must pass our verifier; afterwards both chains' contracts must
    /// answer alike.
    pub fn seal(&mut self, down: &[&Actor], actions: &[Action]) -> Sealed {
        let number = self.next_number();
        let plans = self.reference.plans();
        assert_eq!(
            plans,
            self.ours.plans(),
            "block {number}: the nodes' roles differ between the chains"
        );
        let signers = self.signers();
        let slot_owner = signers[(number % signers.len() as u64) as usize];
        let down: Vec<Address> = down.iter().map(|n| n.address).collect();
        let signer = nodes()
            .into_iter()
            .zip(&plans)
            .filter(|(node, _)| !down.contains(&node.address))
            .filter_map(|(node, (_, plan))| plan.map(|(difficulty, _)| (difficulty, node)))
            .max_by_key(|(difficulty, _)| *difficulty)
            .map(|(_, node)| node)
            .unwrap_or_else(|| panic!("block {number}: no node that is up may seal: {plans:?}"));

        let built: Vec<_> = [&self.reference, &self.ours]
            .into_iter()
            .map(|side| build_and_insert(side, &signer, actions))
            .collect();
        let [
            (reference_block, reference_receipts),
            (our_block, our_receipts),
        ] = <[_; 2]>::try_from(built).unwrap();
        let header = &reference_block.header;
        let ours = &our_block.header;
        assert_eq!(
            (
                header.number,
                header.difficulty,
                header.timestamp,
                header.beneficiary
            ),
            (
                ours.number,
                ours.difficulty,
                ours.timestamp,
                ours.beneficiary
            ),
            "block {number}: headers differ"
        );
        assert_eq!(
            header.extra_data.get(..32),
            ours.extra_data.get(..32),
            "block {number}: VRF outputs differ"
        );
        let chief_tx = |block: &spectrum_primitives::SealedBlock| {
            block.body.transactions[0].tx().input.clone()
        };
        assert_eq!(
            chief_tx(&reference_block),
            chief_tx(&our_block),
            "block {number}: the chief updates name different volunteers"
        );
        let statuses = self.compare_receipts(number, actions, &reference_receipts, &our_receipts);
        let sealed = Sealed {
            number,
            signer: signer.name,
            difficulty: header.difficulty.to::<u64>(),
            volunteer: Address::from_slice(&chief_tx(&reference_block)[16..36]),
            slot_owner,
            statuses,
        };
        println!(
            "block {number:>3}: {} d{} volunteer {} signers {:?} actions {:?}",
            sealed.signer,
            sealed.difficulty,
            short(sealed.volunteer),
            self.signers().iter().map(|s| short(*s)).collect::<Vec<_>>(),
            actions
                .iter()
                .zip(&sealed.statuses)
                .map(|(a, s)| format!("{} -> {s}", a.label))
                .collect::<Vec<_>>()
        );
        self.compare_views();
        self.history.push(sealed.clone());
        sealed
    }

    /// Seals blocks with everyone in `down` offline and no transactions until `done` holds
    /// after a block, at most `max` blocks; fails if it never does.
    pub fn seal_until(
        &mut self,
        down: &[&Actor],
        max: usize,
        what: &str,
        done: impl Fn(&Twins) -> bool,
    ) {
        for _ in 0..max {
            if done(self) {
                return;
            }
            self.seal(down, &[]);
        }
        assert!(done(self), "{what}: not reached within {max} blocks");
    }

    /// Receipt statuses and logs must be the same on both chains, the chief update must
    /// succeed, and each action must end as it expects. Returns the actions' statuses.
    fn compare_receipts(
        &self,
        number: u64,
        actions: &[Action],
        reference: &[ReceiptWithBloom],
        ours: &[ReceiptWithBloom],
    ) -> Vec<bool> {
        assert_eq!(
            reference.len(),
            actions.len() + 1,
            "block {number}: receipts"
        );
        assert_eq!(ours.len(), reference.len(), "block {number}: receipts");
        for (index, (r, o)) in reference.iter().zip(ours).enumerate() {
            let what = match index {
                0 => "the chief update".to_owned(),
                i => actions[i - 1].label.clone(),
            };
            let (r_ok, o_ok) = (
                r.receipt.status.coerce_status(),
                o.receipt.status.coerce_status(),
            );
            assert_eq!(
                r_ok, o_ok,
                "block {number}: {what}: status reference {r_ok}, ours {o_ok}"
            );
            let logs = |side: &Side, receipt: &ReceiptWithBloom| -> Vec<_> {
                receipt
                    .receipt
                    .logs
                    .iter()
                    .map(|log| {
                        let target = side.contracts.target(log.address).unwrap_or_else(|| {
                            panic!("{}: log from {} in {what}", side.label, log.address)
                        });
                        (target, log.data.topics().to_vec(), log.data.data.clone())
                    })
                    .collect()
            };
            assert_eq!(
                logs(&self.reference, r),
                logs(&self.ours, o),
                "block {number}: {what}: logs differ"
            );
        }
        assert!(
            reference[0].receipt.status.coerce_status(),
            "block {number}: chief update failed"
        );
        actions
            .iter()
            .zip(&reference[1..])
            .map(|(action, receipt)| {
                let ok = receipt.receipt.status.coerce_status();
                assert_eq!(
                    ok,
                    action.expect == Expect::Success,
                    "block {number}: {} was expected to end {:?}",
                    action.label,
                    action.expect
                );
                ok
            })
            .collect()
    }

    /// Every view the engine, the RPC and the scenario read, on both chains.
    pub fn compare_views(&self) {
        let number = self.reference.head().number;
        assert_eq!(
            self.reference.signer_set(),
            self.ours.signer_set(),
            "after block {number}: the engine's signer set differs"
        );
        let reference = chief_status(&self.reference);
        let ours = chief_status(&self.ours);
        assert_eq!(
            reference.comparable(),
            ours.comparable(),
            "after block {number}: chief getStatus() differs"
        );
        for (target, signature, words) in views() {
            let r = self.reference.call(target, abi::call(signature, &words));
            let o = self.ours.call(target, abi::call(signature, &words));
            assert_eq!(
                r.as_ref().map(hex::encode),
                o.as_ref().map(hex::encode),
                "after block {number}: {target:?} {signature} {:?} differs (reference, ours)",
                words.iter().map(hex::encode).collect::<Vec<_>>()
            );
            assert!(r.is_some(), "after block {number}: {signature} reverted");
        }
        assert_eq!(
            self.reference.balance(self.reference.contracts.poc),
            self.ours.balance(self.ours.contracts.poc),
            "after block {number}: the stake POC holds differs"
        );
    }

    // Reads, on the reference chain (compare_views keeps ours equal).

    /// Chief signer list at the head.
    pub fn signers(&self) -> Vec<Address> {
        chief_status(&self.reference).signers
    }

    /// Chief next-round list at the head.
    pub fn volunteers(&self) -> Vec<Address> {
        address_array(
            &self.reference.view(Target::Chief, "getVolunteers()", &[]),
            0,
        )
    }

    /// ChiefBase leaders at the head.
    pub fn leaders(&self) -> Vec<Address> {
        address_array(
            &self.reference.view(Target::Base, "takeLeaderList()", &[]),
            0,
        )
    }

    /// A POC list (`getNormalList()`, `getStopList()`, `getBlackList()`) at the head.
    pub fn poc_list(&self, signature: &str) -> Vec<Address> {
        address_array(&self.reference.view(Target::Poc, signature, &[]), 0)
    }

    /// POC `minerStatus(node)`: (amount, stop block, owner).
    pub fn miner_status(&self, node: &Actor) -> (U256, u64, Address) {
        let out = self.reference.view(
            Target::Poc,
            "minerStatus(address)",
            &[abi::word_address(node.address)],
        );
        (
            word(&out, 0),
            word(&out, 1).to::<u64>(),
            Address::from_slice(&out[76..96]),
        )
    }

    /// POC `minDepositAmount()` at the head.
    pub fn min_deposit(&self) -> u64 {
        word(
            &self.reference.view(Target::Poc, "minDepositAmount()", &[]),
            0,
        )
        .to::<u64>()
    }
}

/// Builds the block on `side`'s head sealed by `signer` with `actions`, inserts it through
/// the chain (our verifier) and returns it with its receipts.
fn build_and_insert(
    side: &Side,
    signer: &Actor,
    actions: &[Action],
) -> (spectrum_primitives::SealedBlock, Vec<ReceiptWithBloom>) {
    let mut nonces: BTreeMap<Address, u64> = BTreeMap::new();
    let transactions = actions
        .iter()
        .map(|action| {
            let sender = action.from.address;
            let nonce = nonces.entry(sender).or_insert_with(|| side.nonce(sender));
            let tx = TxLegacy {
                chain_id: Some(side.spec.chain_id),
                nonce: *nonce,
                gas_price: ACTION_GAS_PRICE,
                gas_limit: ACTION_GAS,
                to: TxKind::Call(side.contracts.address(action.to)),
                value: action.value,
                input: action.data.clone(),
            };
            *nonce += 1;
            Candidate::recover(sign_transaction(tx, &action.from.key)).unwrap()
        })
        .collect();
    let head = side.head();
    let built = side
        .producer
        .build(BuildRequest {
            parent: head.hash(),
            key: &signer.key,
            coinbase: None,
            timestamp: None,
            transactions,
        })
        .unwrap_or_else(|e| panic!("{}: building block {}: {e}", side.label, head.number + 1));
    assert!(
        built.skipped.is_empty(),
        "{}: block {}: transactions left out: {:?}",
        side.label,
        head.number + 1,
        built.skipped
    );
    let outcome = side
        .chain
        .insert_block(built.block.clone())
        .unwrap_or_else(|e| panic!("{}: our verifier refused our block: {e}", side.label));
    assert!(
        matches!(outcome, InsertOutcome::Canonical { number, .. } if number == head.number + 1),
        "{}: {outcome:?}",
        side.label
    );
    (built.block, built.executed.output.receipts)
}

/// The views compared after every block, beyond getStatus() (decoded) and the engine's
/// signer set: every list and number the engine, tribe_* RPC and owners read, raw bytes.
fn views() -> Vec<(Target, &'static str, Vec<[u8; 32]>)> {
    let mut views = vec![
        (Target::Chief, "getVolunteers()", vec![]),
        (Target::Chief, "getNextRoundSignerList()", vec![]),
        (Target::Chief, "getEpoch()", vec![]),
        (Target::Chief, "getSignerLimit()", vec![]),
        (Target::Chief, "getVolunteerLimit()", vec![]),
        (Target::Chief, "version()", vec![]),
        (Target::Base, "takeLeaderList()", vec![]),
        (Target::Base, "takeLeaderLimit()", vec![]),
        (Target::Base, "takeSignerLimit()", vec![]),
        (Target::Base, "takeEpoch()", vec![]),
        (Target::Base, "takeVolunteerLimit()", vec![]),
        (Target::Base, "takeOwner()", vec![]),
        (Target::Base, "pocGetBlackList()", vec![]),
        (Target::Poc, "getNormalList()", vec![]),
        (Target::Poc, "getStopList()", vec![]),
        (Target::Poc, "getBlackList()", vec![]),
        (Target::Poc, "getLockList()", vec![]),
        (Target::Poc, "getAll()", vec![]),
        (Target::Poc, "minDepositAmount()", vec![]),
        (Target::Poc, "initMinDeposit()", vec![]),
        (Target::Poc, "initBlockNumber()", vec![]),
        (Target::Poc, "withdrawWaitNumber()", vec![]),
        (Target::Poc, "depositHalveLimitNumber()", vec![]),
    ];
    for node in nodes() {
        let word = abi::word_address(node.address);
        views.push((Target::Base, "isLeader(address)", vec![word]));
        views.push((Target::Poc, "minerStatus(address)", vec![word]));
    }
    views
}

// ---------------------------------------------------------------------------------------------
// ABI decoding of answers (test data: panics on malformed answers are failures)
// ---------------------------------------------------------------------------------------------

/// Head word `i` of an ABI answer.
pub fn word(data: &[u8], i: usize) -> U256 {
    U256::from_be_slice(&data[i * 32..(i + 1) * 32])
}

fn array_words(data: &[u8], head_word: usize) -> Vec<U256> {
    let offset = word(data, head_word).to::<usize>();
    let len = U256::from_be_slice(&data[offset..offset + 32]).to::<usize>();
    (0..len)
        .map(|k| {
            let at = offset + 32 + k * 32;
            U256::from_be_slice(&data[at..at + 32])
        })
        .collect()
}

/// The `address[]` whose offset is head word `head_word`.
pub fn address_array(data: &[u8], head_word: usize) -> Vec<Address> {
    array_words(data, head_word)
        .into_iter()
        .map(|w| Address::from_slice(&w.to_be_bytes::<32>()[12..]))
        .collect()
}

/// Chief `getStatus()` decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChiefStatus {
    /// signerList.
    pub signers: Vec<Address>,
    /// blackList (POC's).
    pub black_list: Vec<Address>,
    /// scoreList.
    pub scores: Vec<U256>,
    /// numberList.
    pub numbers: Vec<U256>,
    /// totalVolunteer.
    pub total_volunteer: U256,
    /// number: the block of the last update.
    pub number: U256,
}

impl ChiefStatus {
    /// Everything but the values of numberList, of which only "non-zero where a signer sits"
    /// is compared: the reference stores 1 for every signer, ours the block it joined + 1
    /// (nothing reads these values; tribe_getStatus does not show them).
    pub fn comparable(&self) -> (Vec<Address>, Vec<Address>, Vec<U256>, Vec<bool>, U256, U256) {
        (
            self.signers.clone(),
            self.black_list.clone(),
            self.scores.clone(),
            self.numbers.iter().map(|n| !n.is_zero()).collect(),
            self.total_volunteer,
            self.number,
        )
    }
}

/// `getStatus()` on a side.
pub fn chief_status(side: &Side) -> ChiefStatus {
    let out = side.view(Target::Chief, "getStatus()", &[]);
    ChiefStatus {
        signers: address_array(&out, 0),
        black_list: address_array(&out, 1),
        scores: array_words(&out, 2),
        numbers: array_words(&out, 3),
        total_volunteer: word(&out, 4),
        number: word(&out, 5),
    }
}

/// The first bytes of an address, for the block log.
pub fn short(address: Address) -> String {
    if address.is_zero() {
        return "0".into();
    }
    for node in nodes().into_iter().chain([user1(), user2()]) {
        if node.address == address {
            return node.name.into();
        }
    }
    hex::encode(&address[..3])
}
