//! [`ChainGenerator`]: a deterministic, realistic chain on top of a genesis (`dev`'s by default),
//! built by executing its transactions with [`BlockExecutor`] on a [`MemoryState`].

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B64, B256, Bytes, TxKind, U256, keccak256};
use secp256k1::{PublicKey, SECP256K1, SecretKey};
use spectrum_chainspec::{ChainSpec, dev::DEV_ACCOUNTS};
use spectrum_execution::{BlockExecutor, state_root::apply_changes_and_compute_root};
use spectrum_primitives::{
    BlockBody, EMPTY_OMMER_ROOT_HASH, Header, RecoveredBlock, SealedBlock, SealedHeader,
    TransactionSigned, TxLegacy, logs_bloom, public_key_to_address, receipts_root,
    sign_transaction, transactions_root,
};
use spectrum_storage_api::{Account, MemoryState};

use crate::{
    BenchError,
    contracts::{
        erc20_creation_code, erc20_transfer_calldata, store_calldata, store_creation_code,
    },
};

/// The generated blocks' coinbase (fees and the Tribe block reward go there).
pub const COINBASE: Address = Address::new([0xc0; 20]);

/// Length of the generated headers' extraData (Tribe's 32 vanity + 65 seal bytes), all zero:
/// the import path checks no seal yet ([`spectrum_chain::ExecutionChecksOnly`]).
pub const EXTRA_DATA_LEN: usize = 97;

/// Gas price of every generated transaction: 1 gwei.
const GAS_PRICE: u128 = 1_000_000_000;

/// What each generated sender receives from the dev accounts: 40 coins.
const SENDER_FUNDING_WEI: u128 = 40 * 1_000_000_000_000_000_000;

/// Total supply of the benchmark token, all minted to dev account 0.
const TOKEN_SUPPLY: u64 = 1_000_000_000_000;

/// Tokens each generated sender receives in the setup.
const SENDER_TOKENS: u64 = 1_000_000;

/// Gas limits per transaction kind (generous: the block's gas pool is checked against them).
const TRANSFER_GAS: u64 = 21_000;
const ERC20_GAS: u64 = 100_000;
const DEPLOY_GAS: u64 = 300_000;

/// Gas limit of a storage-heavy call writing `slots` fresh slots (20,000 per fresh SSTORE plus
/// the loop, the counter and the intrinsic cost, with room to spare).
fn store_call_gas(slots: u64) -> u64 {
    60_000 + slots * 21_000
}

/// Transaction mix of a workload block, in percent (the rest are storage-heavy calls).
const MIX_TRANSFER: u64 = 40;
const MIX_ERC20: u64 = 35;
const MIX_DEPLOY: u64 = 5;

/// Shape of the generated chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    /// Workload blocks, after the setup blocks.
    pub blocks: u64,
    /// Transactions per workload block (fewer if the block's gas limit is reached first).
    pub txs_per_block: usize,
    /// Generated senders, funded with coins and tokens by the dev accounts in the setup blocks.
    pub senders: usize,
    /// Fresh slots each storage-heavy call writes.
    pub slots_per_call: u64,
    /// Seed of the generator's choices: the same config gives the same chain.
    pub seed: u64,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            blocks: 200,
            txs_per_block: 100,
            senders: 200,
            slots_per_call: 20,
            seed: 0x5eed,
        }
    }
}

/// A generated chain: blocks 1.. on top of the spec's genesis, and what the generator intended.
#[derive(Debug, Clone)]
pub struct GeneratedChain {
    /// The chain spec (its genesis is block 0's parent state).
    pub spec: Arc<ChainSpec>,
    /// Blocks 1..=N, in order.
    pub blocks: Vec<SealedBlock>,
    /// How many of `blocks` are setup (funding, token deployment and distribution).
    pub setup_blocks: usize,
    /// The benchmark ERC20.
    pub token: Address,
    /// Every holder's intended balance of `token` after the last block.
    pub token_balances: BTreeMap<Address, U256>,
    /// Transactions in all blocks.
    pub tx_count: usize,
    /// Gas used by all blocks.
    pub gas_used: u64,
    /// Transactions per kind over the whole chain.
    pub kinds: TxKinds,
}

impl GeneratedChain {
    /// Generates a chain of `config`'s shape on the `dev` genesis.
    pub fn generate(config: ChainConfig) -> Result<Self, BenchError> {
        ChainGenerator::new(Arc::new(ChainSpec::dev()), config)?.generate()
    }

    /// The last block's header.
    pub fn head(&self) -> Option<&SealedHeader> {
        self.blocks.last().map(|b| &b.header)
    }
}

/// Transaction counts per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxKinds {
    /// Plain value transfers.
    pub transfers: usize,
    /// ERC20 `transfer` calls.
    pub erc20: usize,
    /// Contract creations.
    pub deploys: usize,
    /// Storage-heavy calls.
    pub storage: usize,
}

/// A signing key and its next nonce.
#[derive(Debug, Clone)]
struct Key {
    secret: SecretKey,
    address: Address,
    nonce: u64,
}

impl Key {
    fn new(secret: SecretKey) -> Self {
        let address = public_key_to_address(&PublicKey::from_secret_key(SECP256K1, &secret));
        Self {
            secret,
            address,
            nonce: 0,
        }
    }
}

/// Who signs a transaction.
#[derive(Debug, Clone, Copy)]
enum Signer {
    Dev(usize),
    Sender(usize),
}

/// A signed transaction waiting for its block.
struct Planned {
    tx: TransactionSigned,
    sender: Address,
}

/// splitmix64: small, fast and deterministic.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn index(&mut self, len: usize) -> usize {
        // usize ↔ u64 is lossless on every supported target.
        self.below(len as u64) as usize
    }
}

/// Builds blocks on top of a genesis by executing them on an in-memory state.
///
/// Setup blocks come first: dev account 0 deploys the benchmark ERC20 (whole supply to itself),
/// dev account 1 the first storage-heavy contract, the ten dev accounts fund
/// [`ChainConfig::senders`] generated keys with coins and dev account 0 sends each of them
/// tokens (packed into as few blocks as the gas limit allows: one or two). Then each workload
/// block holds, chosen by a seeded generator from the funded senders: 40% plain transfers (half
/// to fresh addresses), 35% ERC20 transfers (30% to fresh holders), 5% contract creations (an
/// ERC20 or a storage-heavy contract) and 20% storage-heavy calls writing
/// [`ChainConfig::slots_per_call`] fresh slots to one of the storage contracts.
pub struct ChainGenerator {
    spec: Arc<ChainSpec>,
    config: ChainConfig,
    executor: BlockExecutor,
    state: MemoryState,
    parent: SealedHeader,
    rng: Rng,
    dev: Vec<Key>,
    senders: Vec<Key>,
    token: Address,
    token_balances: BTreeMap<Address, U256>,
    store_contracts: Vec<Address>,
    fresh_addresses: u64,
    blocks: Vec<SealedBlock>,
    tx_count: usize,
    gas_used: u64,
    kinds: TxKinds,
}

impl ChainGenerator {
    /// A generator over `spec`'s genesis. The spec must fund the ten dev accounts
    /// ([`DEV_ACCOUNTS`]), as `dev` does.
    pub fn new(spec: Arc<ChainSpec>, config: ChainConfig) -> Result<Self, BenchError> {
        if config.senders == 0 {
            return Err(BenchError::Config("at least one sender is needed".into()));
        }
        let dev = DEV_ACCOUNTS
            .iter()
            .map(|(address, key)| {
                let bytes: B256 = key
                    .parse()
                    .map_err(|e| BenchError::Config(format!("dev key: {e}")))?;
                let secret = SecretKey::from_byte_array(bytes.0)
                    .map_err(|e| BenchError::Config(format!("dev key: {e}")))?;
                let key = Key::new(secret);
                let expected: Address = address
                    .parse()
                    .map_err(|e| BenchError::Config(format!("dev address: {e}")))?;
                if key.address != expected {
                    return Err(BenchError::Config(format!(
                        "dev key does not match {expected}"
                    )));
                }
                Ok(key)
            })
            .collect::<Result<Vec<_>, BenchError>>()?;
        let state = genesis_state(&spec);
        for key in &dev {
            if state
                .accounts
                .get(&key.address)
                .is_none_or(|a| a.balance.is_zero())
            {
                return Err(BenchError::Config(format!(
                    "the genesis of {} does not fund dev account {}",
                    spec.name, key.address
                )));
            }
        }
        let senders = (0..config.senders)
            .map(|i| {
                let seed = keccak256(format!("spectrum-bench sender {i}"));
                SecretKey::from_byte_array(seed.0)
                    .map(Key::new)
                    .map_err(|e| BenchError::Config(format!("sender key {i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            executor: BlockExecutor::spectrum(spec.clone()),
            parent: spec.genesis_header(),
            rng: Rng(config.seed),
            spec,
            config,
            state,
            dev,
            senders,
            token: Address::ZERO,
            token_balances: BTreeMap::new(),
            store_contracts: Vec::new(),
            fresh_addresses: 0,
            blocks: Vec::new(),
            tx_count: 0,
            gas_used: 0,
            kinds: TxKinds::default(),
        })
    }

    /// Generates the setup blocks, then the workload blocks.
    pub fn generate(mut self) -> Result<GeneratedChain, BenchError> {
        let setup = self.setup_transactions();
        let mut pending = setup.into_iter().peekable();
        while pending.peek().is_some() {
            let mut block = Vec::new();
            let mut budget = self.parent.gas_limit;
            while let Some((planned, gas)) = pending.next_if(|(_, gas)| *gas <= budget) {
                budget -= gas;
                block.push(planned);
            }
            if block.is_empty() {
                return Err(BenchError::Config(
                    "a setup transaction does not fit in a block".into(),
                ));
            }
            self.build_block(block)?;
        }
        let setup_blocks = self.blocks.len();
        for _ in 0..self.config.blocks {
            let txs = self.workload_transactions();
            self.build_block(txs)?;
        }
        Ok(GeneratedChain {
            spec: self.spec,
            blocks: self.blocks,
            setup_blocks,
            token: self.token,
            token_balances: self.token_balances,
            tx_count: self.tx_count,
            gas_used: self.gas_used,
            kinds: self.kinds,
        })
    }

    fn key_mut(&mut self, signer: Signer) -> &mut Key {
        match signer {
            Signer::Dev(i) => &mut self.dev[i],
            Signer::Sender(i) => &mut self.senders[i],
        }
    }

    /// Signs the signer's next transaction; returns it and the nonce it used.
    fn sign(
        &mut self,
        signer: Signer,
        to: TxKind,
        value: U256,
        input: Bytes,
        gas_limit: u64,
    ) -> (Planned, u64) {
        let chain_id = self.spec.chain_id;
        let key = self.key_mut(signer);
        let nonce = key.nonce;
        key.nonce += 1;
        let tx = TxLegacy {
            chain_id: Some(chain_id),
            nonce,
            gas_price: GAS_PRICE,
            gas_limit,
            to,
            value,
            input,
        };
        let planned = Planned {
            tx: sign_transaction(tx, &key.secret),
            sender: key.address,
        };
        (planned, nonce)
    }

    fn address(&self, signer: Signer) -> Address {
        match signer {
            Signer::Dev(i) => self.dev[i].address,
            Signer::Sender(i) => self.senders[i].address,
        }
    }

    /// An address no one has used yet.
    fn fresh_address(&mut self) -> Address {
        self.fresh_addresses += 1;
        let hash = keccak256(format!("spectrum-bench fresh {}", self.fresh_addresses));
        Address::from_slice(&hash[12..])
    }

    fn deploy(&mut self, signer: Signer, code: Bytes) -> (Planned, Address) {
        let (planned, nonce) = self.sign(signer, TxKind::Create, U256::ZERO, code, DEPLOY_GAS);
        self.kinds.deploys += 1;
        let address = planned.sender.create(nonce);
        (planned, address)
    }

    /// An ERC20 transfer of `wanted` tokens, or of all the sender holds if that is less (the
    /// token would revert an overdraft).
    fn token_transfer(&mut self, signer: Signer, to: Address, wanted: U256) -> Planned {
        let from = self.address(signer);
        let from_balance = self.token_balances.entry(from).or_default();
        let amount = wanted.min(*from_balance);
        *from_balance -= amount;
        *self.token_balances.entry(to).or_default() += amount;
        self.kinds.erc20 += 1;
        let input = erc20_transfer_calldata(to, amount);
        self.sign(
            signer,
            TxKind::Call(self.token),
            U256::ZERO,
            input,
            ERC20_GAS,
        )
        .0
    }

    fn transfer(&mut self, signer: Signer, to: Address, value: U256) -> Planned {
        self.kinds.transfers += 1;
        self.sign(signer, TxKind::Call(to), value, Bytes::new(), TRANSFER_GAS)
            .0
    }

    /// The setup transactions, in order, each with its gas limit.
    fn setup_transactions(&mut self) -> Vec<(Planned, u64)> {
        let mut txs = Vec::new();
        let (planned, token) = self.deploy(
            Signer::Dev(0),
            erc20_creation_code(U256::from(TOKEN_SUPPLY)),
        );
        self.token = token;
        self.token_balances
            .insert(self.dev[0].address, U256::from(TOKEN_SUPPLY));
        txs.push((planned, DEPLOY_GAS));
        let (planned, store) = self.deploy(Signer::Dev(1), store_creation_code());
        self.store_contracts.push(store);
        txs.push((planned, DEPLOY_GAS));
        for i in 0..self.senders.len() {
            let to = self.senders[i].address;
            let planned = self.transfer(
                Signer::Dev(i % self.dev.len()),
                to,
                U256::from(SENDER_FUNDING_WEI),
            );
            txs.push((planned, TRANSFER_GAS));
        }
        for i in 0..self.senders.len() {
            let to = self.senders[i].address;
            let planned = self.token_transfer(Signer::Dev(0), to, U256::from(SENDER_TOKENS));
            txs.push((planned, ERC20_GAS));
        }
        txs
    }

    /// One workload block's transactions: the mix, until `txs_per_block` or the gas limit.
    fn workload_transactions(&mut self) -> Vec<Planned> {
        let mut txs = Vec::with_capacity(self.config.txs_per_block);
        let mut budget = self.parent.gas_limit;
        let store_gas = store_call_gas(self.config.slots_per_call);
        while txs.len() < self.config.txs_per_block {
            let roll = self.rng.below(100);
            let gas = if roll < MIX_TRANSFER {
                TRANSFER_GAS
            } else if roll < MIX_TRANSFER + MIX_ERC20 {
                ERC20_GAS
            } else if roll < MIX_TRANSFER + MIX_ERC20 + MIX_DEPLOY {
                DEPLOY_GAS
            } else {
                store_gas
            };
            if gas > budget {
                break;
            }
            budget -= gas;
            let sender = self.rng.index(self.senders.len());
            let signer = Signer::Sender(sender);
            let planned = if roll < MIX_TRANSFER {
                let to = if self.rng.below(2) == 0 {
                    self.fresh_address()
                } else {
                    self.senders[self.rng.index(self.senders.len())].address
                };
                let value = U256::from(1 + self.rng.below(1_000_000_000_000_000));
                self.transfer(signer, to, value)
            } else if roll < MIX_TRANSFER + MIX_ERC20 {
                let to = if self.rng.below(10) < 3 {
                    self.fresh_address()
                } else {
                    self.senders[self.rng.index(self.senders.len())].address
                };
                let amount = U256::from(1 + self.rng.below(1_000));
                self.token_transfer(signer, to, amount)
            } else if roll < MIX_TRANSFER + MIX_ERC20 + MIX_DEPLOY {
                if self.rng.below(2) == 0 {
                    // Another token, all of it to its deployer (not tracked).
                    let supply = U256::from(1 + self.rng.below(1 << 40));
                    self.deploy(signer, erc20_creation_code(supply)).0
                } else {
                    let (planned, store) = self.deploy(signer, store_creation_code());
                    self.store_contracts.push(store);
                    planned
                }
            } else {
                let target = self.store_contracts[self.rng.index(self.store_contracts.len())];
                self.kinds.storage += 1;
                self.sign(
                    signer,
                    TxKind::Call(target),
                    U256::ZERO,
                    store_calldata(self.config.slots_per_call),
                    store_gas,
                )
                .0
            };
            txs.push(planned);
        }
        txs
    }

    /// Executes `txs` on the head state, fills in the header and appends the block.
    fn build_block(&mut self, txs: Vec<Planned>) -> Result<(), BenchError> {
        let number = self.parent.number + 1;
        let (transactions, senders): (Vec<_>, Vec<_>) =
            txs.into_iter().map(|p| (p.tx, p.sender)).unzip();
        let mut header = Header {
            parent_hash: self.parent.hash(),
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: COINBASE,
            transactions_root: transactions_root(&transactions),
            difficulty: U256::from(1),
            number,
            gas_limit: self.parent.gas_limit,
            timestamp: self.parent.timestamp + 1,
            extra_data: Bytes::from(vec![0u8; EXTRA_DATA_LEN]),
            mix_hash: B256::ZERO,
            nonce: B64::ZERO,
            ..Default::default()
        };
        // Execution reads only the number, timestamp, gas limit and difficulty of the header.
        let block = RecoveredBlock {
            block: SealedBlock {
                header: SealedHeader::new_unchecked(header.clone(), B256::ZERO),
                body: BlockBody {
                    transactions,
                    ommers: Vec::new(),
                },
            },
            senders,
        };
        let output = self
            .executor
            .execute(&block, COINBASE, &self.state)
            .map_err(|source| BenchError::Generate { number, source })?;
        if let Some(index) = output
            .receipts
            .iter()
            .position(|r| !r.receipt.status.coerce_status())
        {
            return Err(BenchError::FailedTransaction { number, index });
        }
        let mut changes = output.changes;
        header.state_root = apply_changes_and_compute_root(&mut self.state, &mut changes);
        header.gas_used = output.gas_used;
        header.receipts_root = receipts_root(&output.receipts);
        header.logs_bloom = logs_bloom(&output.receipts);
        let sealed = SealedBlock {
            header: SealedHeader::seal(header),
            body: block.block.body,
        };
        self.state.block_hashes.insert(number, sealed.hash());
        self.tx_count += sealed.body.transactions.len();
        self.gas_used += output.gas_used;
        self.parent = sealed.header.clone();
        self.blocks.push(sealed);
        Ok(())
    }
}

/// The genesis allocation of `spec` as a [`MemoryState`] (with the genesis block hash).
pub fn genesis_state(spec: &ChainSpec) -> MemoryState {
    let mut state = MemoryState::default();
    for (address, genesis) in &spec.genesis.alloc {
        let trie = genesis.trie_account();
        state.accounts.insert(
            *address,
            Account {
                nonce: trie.nonce,
                balance: trie.balance,
                storage_root: trie.storage_root,
                code_hash: trie.code_hash,
            },
        );
        let slots: BTreeMap<_, _> = genesis.storage_slots().collect();
        if !slots.is_empty() {
            state.storage.insert(*address, slots);
        }
        if !genesis.code.is_empty() {
            state.codes.insert(trie.code_hash, genesis.code.clone());
        }
    }
    state.block_hashes.insert(0, spec.genesis_header().hash());
    state
}
