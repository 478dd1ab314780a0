//! A long chain on the devnet genesis that the reference node can import too.
//!
//! smc's verification build imports only chains of its built-in networks (the devnet genesis,
//! the chief contracts at their fixed addresses), so the long chain extends the reference
//! five-signer chain (`shared/testdata/spectrum-devnet-multi/chain.rlp`, blocks 0..412, made by
//! smc) with blocks our own producer builds and seals with the devnet nodes' keys: node A's is
//! the key the reference publishes for the devnet, B..E's are the multi chain's
//! (`keccak256("spectrum-devnet-multi-node-X")`). Each block is sealed by whichever of the
//! five may seal it with the highest difficulty (the in-turn signer, else the slot-0 leader,
//! else the next leader), at the earliest time its role allows, and inserted into a chain with
//! the full Tribe validator before it is written: every block in the file passed our own
//! import. Most blocks hold only the chief update; every `full_every`-th is filled with
//! transfers (the first new block funds their senders from the devnet's user1).
//!
//! The timestamps grow by the role delays (2 to 6 s a block), starting at block 412's
//! (2026-11-24): a chain must end before the wall clock, or imports would hold its last blocks
//! as future blocks (in December 2026 that leaves room for about 250,000 blocks).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use secp256k1::{SECP256K1, SecretKey};
use spectrum_chain::{Blockchain, InsertOutcome, TribeBlockValidator, genesis_commit};
use spectrum_chainspec::ChainSpec;
use spectrum_import::{ChainFileReader, ChainFileWriter};
use spectrum_primitives::{SealedHeader, public_key_to_address, sign_transaction};
use spectrum_producer::{BlockProducer, BuildRequest, Candidate, ProducerError, Skipped};
use spectrum_storage::Database;
use spectrum_storage_api::StateProvider;

use crate::BenchError;

/// Node A's key: the devnet signer key the reference publishes (`contracts/chief/src/
/// chief_1.0.0.sol`, `crypto/crypto_test.go`), A = 0x9944d0cc757cd9391ee320fc17d5b6f61693f2c5.
const NODE_A_KEY: &str = "507fd083b5c5af7e645e77a3a3a82708f3af304164e02612ab4b1d5b36c627c6";

/// The devnet's funded user1 (0xbF1736a65F8bEAdD71B321BE585FD883503fDEaA).
const USER1_KEY: &str = "21161610bc2dde673c45e36f1373df28db2396adf1d8e4b0f2c5ef6781719375";

/// Gas price of the generated transfers: 1 gwei.
const GAS_PRICE: u128 = 1_000_000_000;

/// What each transfer sender receives in the funding block: 1,000 coins.
const SENDER_FUNDING_WEI: u128 = 1_000 * 1_000_000_000_000_000_000;

/// Distinct recipients of the transfers in full blocks.
const RECIPIENTS: u64 = 1_000;

/// The shape of the long chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongChainConfig {
    /// The chain file it extends (from its genesis; the devnet-multi chain).
    pub base: PathBuf,
    /// Blocks to add after the base chain's head.
    pub blocks: u64,
    /// Every this-many-th new block is full of transfers (0: none).
    pub full_every: u64,
    /// Senders of those transfers.
    pub senders: usize,
}

/// What [`generate_long_chain`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongChainSummary {
    /// Blocks in the file, the genesis included.
    pub blocks_in_file: u64,
    /// The base chain's head number.
    pub base_head: u64,
    /// The last block's number and hash.
    pub head: (u64, B256),
    /// New blocks full of transfers.
    pub full_blocks: u64,
    /// Transactions in the new blocks, chief updates included.
    pub txs: u64,
    /// Gas the new blocks used.
    pub gas: u64,
    /// New blocks per signer.
    pub sealed_by: BTreeMap<Address, u64>,
    /// The last block's timestamp.
    pub head_timestamp: u64,
    /// Building, importing and writing the new blocks.
    pub elapsed: Duration,
}

fn secret(hex_key: &str) -> Result<SecretKey, BenchError> {
    let bytes: B256 = hex_key
        .parse()
        .map_err(|e| BenchError::Config(format!("key: {e}")))?;
    SecretKey::from_byte_array(bytes.0).map_err(|e| BenchError::Config(format!("key: {e}")))
}

fn seeded(seed: &str) -> Result<SecretKey, BenchError> {
    SecretKey::from_byte_array(keccak256(seed.as_bytes()).0)
        .map_err(|e| BenchError::Config(format!("key {seed}: {e}")))
}

fn with_address(key: SecretKey) -> (Address, SecretKey) {
    (public_key_to_address(&key.public_key(SECP256K1)), key)
}

/// The five devnet nodes' keys, A first.
fn node_keys() -> Result<Vec<(Address, SecretKey)>, BenchError> {
    let mut keys = vec![with_address(secret(NODE_A_KEY)?)];
    for node in ["B", "C", "D", "E"] {
        keys.push(with_address(seeded(&format!(
            "spectrum-devnet-multi-node-{node}"
        ))?));
    }
    Ok(keys)
}

/// The chain being extended, the producer over it and the keys that sign.
struct Extender {
    db: Arc<Database>,
    chain: Blockchain,
    producer: BlockProducer,
    nodes: Vec<(Address, SecretKey)>,
    user1: (Address, SecretKey),
    senders: Vec<(Address, SecretKey)>,
}

impl Extender {
    fn head(&self) -> Result<SealedHeader, BenchError> {
        let hash = self
            .db
            .head()?
            .map(|(_, hash)| hash)
            .ok_or_else(|| BenchError::Config("the database has no head".into()))?;
        self.db
            .header(&hash)?
            .ok_or_else(|| BenchError::Config(format!("no header for the head {hash}")))
    }

    fn nonce(&self, address: &Address) -> Result<u64, BenchError> {
        let state = self.db.latest_state();
        let account = state
            .account(address)
            .map_err(|e| BenchError::Config(format!("reading {address}: {e}")))?;
        Ok(account.map(|a| a.nonce).unwrap_or(0))
    }

    /// The node key that may seal after `parent` with the highest difficulty.
    fn signer(&self, parent: &SealedHeader) -> Result<&SecretKey, BenchError> {
        let number = parent.number.saturating_add(1);
        let mut best: Option<(u64, &SecretKey)> = None;
        for (address, key) in &self.nodes {
            match self.producer.plan(parent, *address) {
                Ok(plan) if best.is_none_or(|(d, _)| plan.difficulty > d) => {
                    best = Some((plan.difficulty, key));
                }
                Ok(_) | Err(ProducerError::NotAuthorised { .. }) => {}
                Err(e) => return Err(produce_error(number, e)),
            }
        }
        best.map(|(_, key)| key).ok_or_else(|| BenchError::Produce {
            number,
            reason: "none of the five devnet nodes may seal it".into(),
        })
    }

    fn transfer(
        &self,
        (from, key): &(Address, SecretKey),
        nonce: u64,
        to: Address,
        value: U256,
    ) -> Candidate {
        let tx = TxLegacy {
            chain_id: Some(self.producer.spec().chain_id),
            nonce,
            gas_price: GAS_PRICE,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value,
            input: Default::default(),
        };
        Candidate {
            tx: sign_transaction(tx, key),
            sender: *from,
        }
    }

    /// user1 funds every sender.
    fn funding(&self) -> Result<Vec<Candidate>, BenchError> {
        let nonce = self.nonce(&self.user1.0)?;
        Ok(self
            .senders
            .iter()
            .zip(nonce..)
            .map(|((to, _), nonce)| {
                self.transfer(&self.user1, nonce, *to, U256::from(SENDER_FUNDING_WEI))
            })
            .collect())
    }

    /// Transfers from the senders, in turn, enough to fill a block of `gas_limit`.
    fn full_block(&self, gas_limit: u64, number: u64) -> Result<Vec<Candidate>, BenchError> {
        let count = gas_limit / 21_000 + 1;
        let mut nonces = self
            .senders
            .iter()
            .map(|(address, _)| self.nonce(address))
            .collect::<Result<Vec<_>, _>>()?;
        let mut candidates = Vec::new();
        for i in 0..count {
            let slot = usize::try_from(i).unwrap_or(0) % self.senders.len();
            let to = keccak256(format!(
                "long-chain recipient {}",
                (number + i) % RECIPIENTS
            ));
            let nonce = nonces[slot];
            nonces[slot] = nonce.saturating_add(1);
            candidates.push(self.transfer(
                &self.senders[slot],
                nonce,
                Address::from_slice(&to[12..]),
                U256::from(1_000_000_000u64),
            ));
        }
        Ok(candidates)
    }

    /// Builds the next block with `transactions`, imports it with the Tribe validator.
    fn seal_next(
        &self,
        transactions: Vec<Candidate>,
    ) -> Result<spectrum_producer::BuiltBlock, BenchError> {
        let parent = self.head()?;
        let number = parent.number.saturating_add(1);
        let key = self.signer(&parent)?;
        let built = self
            .producer
            .build(BuildRequest {
                parent: parent.hash(),
                key,
                coinbase: None,
                timestamp: None,
                transactions,
            })
            .map_err(|e| produce_error(number, e))?;
        if let Some(Skipped::Invalid { hash, reason }) = built
            .skipped
            .iter()
            .find(|s| matches!(s, Skipped::Invalid { .. }))
        {
            return Err(BenchError::Produce {
                number,
                reason: format!("transaction {hash} left out: {reason}"),
            });
        }
        match self.chain.insert_block(built.block.clone())? {
            InsertOutcome::Canonical { .. } => Ok(built),
            outcome => Err(BenchError::NotCanonical {
                number,
                hash: built.block.hash(),
                outcome: format!("{outcome:?}"),
            }),
        }
    }
}

fn produce_error(number: u64, error: ProducerError) -> BenchError {
    BenchError::Produce {
        number,
        reason: error.to_string(),
    }
}

/// Writes `config.base`'s blocks and then `config.blocks` new ones to the chain file `out`,
/// building them on a devnet database in `dir` (see the module's documentation).
pub fn generate_long_chain(
    config: &LongChainConfig,
    dir: &Path,
    out: &Path,
) -> Result<LongChainSummary, BenchError> {
    if config.senders == 0 {
        return Err(BenchError::Config("at least one sender is needed".into()));
    }
    let spec = Arc::new(ChainSpec::devnet());
    let db = Arc::new(Database::open(dir)?);
    db.init_genesis(genesis_commit(&spec)?)?;
    let validator = Arc::new(TribeBlockValidator::new(db.clone(), spec.clone()));
    let chain = Blockchain::new(db.clone(), spec.clone(), validator);
    let mut writer = ChainFileWriter::create(out, false)?;
    for block in ChainFileReader::open(&config.base)? {
        let block = block?;
        writer.write_block(&block)?;
        let sealed = block.seal_slow();
        let (number, hash) = (sealed.number(), sealed.hash());
        match chain.insert_block(sealed)? {
            InsertOutcome::AlreadyKnown | InsertOutcome::Canonical { .. } => {}
            outcome => {
                return Err(BenchError::NotCanonical {
                    number,
                    hash,
                    outcome: format!("{outcome:?}"),
                });
            }
        }
    }
    let senders = (0..config.senders)
        .map(|i| seeded(&format!("spectrum-bench long-chain sender {i}")).map(with_address))
        .collect::<Result<Vec<_>, _>>()?;
    let extender = Extender {
        producer: BlockProducer::new(db.clone(), spec.clone()),
        db,
        chain,
        nodes: node_keys()?,
        user1: with_address(secret(USER1_KEY)?),
        senders,
    };
    let base_head = extender.head()?.number;
    let mut summary = LongChainSummary {
        blocks_in_file: 0,
        base_head,
        head: (base_head, B256::ZERO),
        full_blocks: 0,
        txs: 0,
        gas: 0,
        sealed_by: BTreeMap::new(),
        head_timestamp: 0,
        elapsed: Duration::ZERO,
    };
    let started = Instant::now();
    for i in 0..config.blocks {
        let number = base_head.saturating_add(i).saturating_add(1);
        let full = config.full_every > 0 && i > 0 && i % config.full_every == 0;
        let transactions = if i == 0 {
            extender.funding()?
        } else if full {
            let gas_limit = extender.head()?.gas_limit;
            extender.full_block(gas_limit, number)?
        } else {
            Vec::new()
        };
        let built = extender.seal_next(transactions)?;
        if full {
            summary.full_blocks += 1;
        }
        let block = built.block;
        let txs = u64::try_from(block.body.transactions.len()).unwrap_or(u64::MAX);
        summary.txs = summary.txs.saturating_add(txs);
        summary.gas = summary.gas.saturating_add(block.header.gas_used);
        *summary.sealed_by.entry(built.plan.signer).or_default() += 1;
        summary.head = (block.number(), block.hash());
        summary.head_timestamp = block.header.timestamp;
        writer.write_block(&block.unseal())?;
    }
    summary.elapsed = started.elapsed();
    summary.blocks_in_file = writer.finish()?;
    Ok(summary)
}
