//! The state-size dimension of `spectrum-bench import --accounts N`: the same generated blocks
//! imported on top of a genesis that already holds N funded accounts and N/100 contracts with
//! 100 storage slots each.
//!
//! The state is filled through the genesis allocation ([`filled_spec`]): one `init_genesis`
//! commit writes every account, slot and trie node at once, which is far faster than blocks of
//! transfers would be. The workload chain is generated once on the plain `dev` genesis; only
//! its state roots (and so its hashes) depend on the filler, so [`rebase`] re-executes the
//! same blocks on a database holding the filled genesis and re-roots them, without timing.
//! The filler accounts are never touched by the workload: what grows is the tries every
//! changed account and slot is hashed through, and the database those reads and writes go to.

use std::{path::Path, sync::Arc};

use alloy_primitives::{Address, B256, U256, keccak256};
use spectrum_chain::{apply_state_roots, genesis_commit};
use spectrum_chainspec::{ChainSpec, GenesisAccount};
use spectrum_execution::BlockExecutor;
use spectrum_primitives::{RecoveredBlock, SealedBlock, SealedHeader, logs_bloom, receipts_root};
use spectrum_storage::{BlockCommit, Database};

use crate::{BenchError, COINBASE, GeneratedChain, contracts::store_runtime};

/// One filler contract per this many filler accounts.
pub const ACCOUNTS_PER_CONTRACT: u64 = 100;

/// Storage slots of each filler contract.
pub const SLOTS_PER_CONTRACT: u64 = 100;

/// Balance of each filler account: one coin.
const FILLER_BALANCE_WEI: u128 = 1_000_000_000_000_000_000;

/// What [`filled_spec`] added to the genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filler {
    /// Funded accounts without code.
    pub accounts: u64,
    /// Contracts with storage.
    pub contracts: u64,
    /// Storage slots over all of them.
    pub slots: u64,
}

impl Filler {
    /// The filler for `accounts` funded accounts.
    pub fn for_accounts(accounts: u64) -> Self {
        let contracts = (accounts / ACCOUNTS_PER_CONTRACT).max(1);
        Self {
            accounts,
            contracts,
            slots: contracts.saturating_mul(SLOTS_PER_CONTRACT),
        }
    }
}

/// An address of the filler, distinct from every address the generator uses.
fn filler_address(kind: &str, index: u64) -> Address {
    let hash = keccak256(format!("spectrum-bench filler {kind} {index}"));
    Address::from_slice(&hash[12..])
}

/// `base` with `filler` added to its genesis allocation: funded plain accounts, and contracts
/// (the storage-heavy contract's code) holding [`SLOTS_PER_CONTRACT`] non-zero slots each.
pub fn filled_spec(base: &ChainSpec, filler: Filler) -> ChainSpec {
    let mut spec = base.clone();
    let alloc = &mut spec.genesis.alloc;
    for i in 0..filler.accounts {
        alloc.insert(
            filler_address("account", i),
            GenesisAccount::with_balance(U256::from(FILLER_BALANCE_WEI)),
        );
    }
    let code = alloy_primitives::Bytes::from(store_runtime());
    for i in 0..filler.contracts {
        let storage = (1..=SLOTS_PER_CONTRACT)
            .map(|slot| {
                let value = keccak256(format!("{i}/{slot}"));
                (B256::from(U256::from(slot)), value)
            })
            .collect();
        alloc.insert(
            filler_address("contract", i),
            GenesisAccount {
                balance: U256::ZERO,
                nonce: 1,
                code: code.clone(),
                storage,
            },
        );
    }
    spec
}

/// `chain`'s blocks re-executed on `spec`'s genesis (in a database in `dir`) with their state
/// roots, parent hashes and hashes recomputed. Transactions, gas and receipts stay the same:
/// the workload does not touch what `spec` adds.
pub fn rebase(
    chain: &GeneratedChain,
    spec: Arc<ChainSpec>,
    dir: &Path,
) -> Result<GeneratedChain, BenchError> {
    let db = Database::open(dir)?;
    db.init_genesis(genesis_commit(&spec)?)?;
    let executor = BlockExecutor::spectrum(spec.clone());
    let mut parent = spec.genesis_header();
    let mut total_difficulty = spec.genesis.difficulty;
    let mut blocks = Vec::with_capacity(chain.blocks.len());
    for recovered in crate::measure::recover_all(&chain.blocks)? {
        let number = recovered.block.number();
        let mut header = recovered.block.header.header().clone();
        header.parent_hash = parent.hash();
        let body = recovered.block.body.clone();
        let input = RecoveredBlock {
            block: SealedBlock {
                header: SealedHeader::new_unchecked(header.clone(), B256::ZERO),
                body: recovered.block.body,
            },
            senders: recovered.senders,
        };
        let output = executor
            .execute(&input, COINBASE, &db.latest_state())
            .map_err(|source| BenchError::Execution { number, source })?;
        if output.gas_used != header.gas_used {
            return Err(BenchError::Mismatch(format!(
                "rebased block {number} used {} gas, the original {}",
                output.gas_used, header.gas_used
            )));
        }
        let mut changes = output.changes;
        let roots = apply_state_roots(&db, &mut changes)?;
        header.state_root = roots.state_root;
        header.receipts_root = receipts_root(&output.receipts);
        header.logs_bloom = logs_bloom(&output.receipts);
        total_difficulty = total_difficulty.saturating_add(header.difficulty);
        let sealed = SealedBlock {
            header: SealedHeader::seal(header),
            body,
        };
        db.commit_block(&BlockCommit {
            block: sealed.clone(),
            receipts: output.receipts,
            total_difficulty,
            state: changes,
            trie: roots.trie,
            // Rebasing is not what is timed (the import after it is): storage reads the priors.
            priors: Default::default(),
            make_canonical_head: true,
        })?;
        parent = sealed.header.clone();
        blocks.push(sealed);
    }
    Ok(GeneratedChain {
        spec,
        blocks,
        ..chain.clone()
    })
}
