//! The measurements of `spectrum-bench import`. Each times only the work named; preparing its
//! input (recovering senders for bare execution, cloning blocks, opening the database and
//! writing the genesis) happens before the clock starts.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use spectrum_chain::{
    BatchLimits, BlockValidator, Blockchain, ExecutionChecksOnly, ImportPhases, InsertOutcome,
    Phase, TribeBlockValidator, genesis_commit,
};
use spectrum_chainspec::ChainSpec;
use spectrum_execution::BlockExecutor;
use spectrum_import::ChainFileReader;
use spectrum_primitives::{RecoveredBlock, SealedBlock};
use spectrum_storage::Database;

use crate::{BenchError, COINBASE, GeneratedChain, genesis_state};

/// Blocks, transactions and gas processed in some time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measurement {
    /// Blocks processed.
    pub blocks: u64,
    /// Transactions in them.
    pub txs: u64,
    /// Gas they used.
    pub gas: u64,
    /// Time taken.
    pub elapsed: Duration,
}

impl Measurement {
    fn rate(&self, amount: f64) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { amount / secs } else { 0.0 }
    }

    /// Millions of gas per second.
    pub fn mgas_per_sec(&self) -> f64 {
        self.rate(self.gas as f64 / 1e6)
    }

    /// Blocks per second.
    pub fn blocks_per_sec(&self) -> f64 {
        self.rate(self.blocks as f64)
    }

    /// Transactions per second.
    pub fn txs_per_sec(&self) -> f64 {
        self.rate(self.txs as f64)
    }

    fn add_block(&mut self, txs: usize, gas: u64) {
        self.blocks += 1;
        self.txs += txs as u64;
        self.gas += gas;
    }
}

/// (a) Bare execution: every block's transactions through [`BlockExecutor::execute`] on an
/// in-memory state (no trie, no database). Only `execute` is timed; applying its changes to
/// the state between blocks is not.
pub fn bare_execution(chain: &GeneratedChain) -> Result<Measurement, BenchError> {
    let executor = BlockExecutor::spectrum(chain.spec.clone());
    let mut state = genesis_state(&chain.spec);
    let blocks = recover_all(&chain.blocks)?;
    let mut measurement = Measurement::default();
    for block in &blocks {
        let number = block.number();
        let started = Instant::now();
        let output = executor
            .execute(block, COINBASE, &state)
            .map_err(|source| BenchError::Execution { number, source })?;
        measurement.elapsed += started.elapsed();
        if output.gas_used != block.header().gas_used {
            return Err(BenchError::Mismatch(format!(
                "bare execution of block {number} used {} gas, the header says {}",
                output.gas_used,
                block.header().gas_used
            )));
        }
        state.apply(&output.changes);
        state.block_hashes.insert(number, block.hash());
        measurement.add_block(block.block.body.transactions.len(), output.gas_used);
    }
    Ok(measurement)
}

/// Every block with its senders, or the first sender that fails, named by block and index.
pub(crate) fn recover_all(blocks: &[SealedBlock]) -> Result<Vec<RecoveredBlock>, BenchError> {
    blocks
        .iter()
        .map(|block| {
            let number = block.number();
            block
                .clone()
                .try_recover()
                .map_err(|(index, source)| BenchError::Sender {
                    number,
                    index,
                    source,
                })
        })
        .collect()
}

/// A fresh database in `dir` holding `spec`'s genesis.
fn fresh_database(spec: &ChainSpec, dir: &Path) -> Result<Arc<Database>, BenchError> {
    let db = Database::open(dir)?;
    db.init_genesis(genesis_commit(spec)?)?;
    Ok(Arc::new(db))
}

/// What a full import run measured.
#[derive(Debug, Clone, Copy)]
pub struct ImportRun {
    /// The `insert_block` loop.
    pub import: Measurement,
    /// The final [`Database::flush`] (WAL sync and memtable flush), not included in `import`.
    pub flush: Duration,
}

/// (b) Full import: [`Blockchain::insert_block`] of every block into a fresh RocksDB in `dir`,
/// in batches prepared as `spectrum import` prepares them (header checks, sender recovery,
/// execution, receipts checks, incremental state root, atomic commit). Every block must become
/// the canonical head.
/// `state_cache_mb` is the chain's state-cache budget (the node's `--cache.state-mb`).
pub fn full_import(
    chain: &GeneratedChain,
    dir: &Path,
    state_cache_mb: usize,
) -> Result<ImportRun, BenchError> {
    let db = fresh_database(&chain.spec, dir)?;
    let blockchain = Blockchain::new(
        db.clone(),
        chain.spec.clone(),
        Arc::new(ExecutionChecksOnly),
    )
    .with_state_cache_mb(state_cache_mb);
    let import = insert_all(&blockchain, &chain.blocks)?;
    let flush_started = Instant::now();
    db.flush()?;
    let flush = flush_started.elapsed();
    let head = db.head()?.map(|(_, hash)| hash);
    let expected = chain.head().map(|h| h.hash());
    if head != expected {
        return Err(BenchError::Mismatch(format!(
            "after the import the head is {head:?}, expected {expected:?}"
        )));
    }
    Ok(ImportRun { import, flush })
}

/// Which consensus rules an import checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// [`ExecutionChecksOnly`]: what execution proves (roots, gas), no seal or signer rules.
    /// The generated chain is unsealed and needs this.
    ExecutionOnly,
    /// [`TribeBlockValidator`], as `spectrum import` runs it (seal, signers from the chief
    /// contracts at the parent state, difficulty, VRF, chief-update transaction).
    Tribe,
}

impl Validation {
    fn validator(self, db: &Arc<Database>, spec: &Arc<ChainSpec>) -> Arc<dyn BlockValidator> {
        match self {
            Self::ExecutionOnly => Arc::new(ExecutionChecksOnly),
            Self::Tribe => Arc::new(TribeBlockValidator::new(db.clone(), spec.clone())),
        }
    }
}

/// Where the import's time goes, from [`phased_import`]: the phase timings
/// [`Blockchain::import_phases`] recorded inside the chain's own import code.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    /// The whole `insert_block` loop (the phases plus what lies between them).
    pub total: Measurement,
    /// Known/bad-block checks, parent, number, transactions root, ommers hash, total
    /// difficulty, head.
    pub checks: Duration,
    /// Sender recovery on the import thread (secp256k1, over every core) for blocks whose
    /// senders were not prepared ahead.
    pub recover: Duration,
    /// The batch preparation (senders, seals and VRF proofs of a batch over every core), on
    /// the preparing thread beside the import: overlaps the other phases.
    pub prepare: Duration,
    /// The validator's checks before and after execution, and finding the fee recipient.
    pub consensus: Duration,
    /// [`BlockExecutor::execute`] on the database's latest state.
    pub execute: Duration,
    /// Gas used, bloom and receipts root against the header.
    pub verify_receipts: Duration,
    /// The state root: storage tries, account trie.
    pub state_root: Duration,
    /// [`Database::commit_block`]: building and writing the batch.
    pub commit: Duration,
    /// Trie node writes and deletions committed.
    pub trie_writes: u64,
    /// Account and storage-slot writes committed (each also writes a history entry).
    pub state_writes: u64,
}

impl Phases {
    fn from_chain(total: Measurement, phases: &ImportPhases) -> Self {
        Self {
            total,
            checks: phases.of(Phase::Checks),
            recover: phases.of(Phase::Recover),
            prepare: phases.of(Phase::Prepare),
            consensus: phases.of(Phase::Validate),
            execute: phases.of(Phase::Execute),
            verify_receipts: phases.of(Phase::Receipts),
            state_root: phases.of(Phase::StateRoot),
            commit: phases.of(Phase::Commit),
            trie_writes: phases.trie_writes,
            state_writes: phases.state_writes,
        }
    }
}

/// The import of `blocks` through [`Blockchain::insert_block`] into a fresh database in `dir`,
/// with the time of each phase as the chain's import code measured it
/// ([`Blockchain::import_phases`]), so that these figures cannot drift from what the node
/// does. Every block must become the canonical head; blocks already known (a chain file's
/// genesis) are skipped.
pub fn phased_import(
    spec: &Arc<ChainSpec>,
    blocks: &[SealedBlock],
    validation: Validation,
    dir: &Path,
    state_cache_mb: usize,
) -> Result<Phases, BenchError> {
    let db = fresh_database(spec, dir)?;
    let validator = validation.validator(&db, spec);
    let blockchain =
        Blockchain::new(db, spec.clone(), validator).with_state_cache_mb(state_cache_mb);
    let before = blockchain.import_phases();
    let total = insert_all(&blockchain, blocks)?;
    let phases = blockchain.import_phases().since(&before);
    Ok(Phases::from_chain(total, &phases))
}

/// Inserts `blocks` in order as `spectrum import` does ([`Blockchain::insert_prepared_stream`]
/// with the default batch limits: the next batch prepared on another thread while the current
/// one is inserted), timing the whole loop; each must become the canonical head or be already
/// known.
fn insert_all(blockchain: &Blockchain, blocks: &[SealedBlock]) -> Result<Measurement, BenchError> {
    let mut measurement = Measurement::default();
    let started = Instant::now();
    blockchain.insert_prepared_stream(
        blocks.iter().cloned().map(Ok),
        BatchLimits::default(),
        |block| insert_one(blockchain, block, &mut measurement),
    )?;
    measurement.elapsed = started.elapsed();
    Ok(measurement)
}

fn insert_one(
    blockchain: &Blockchain,
    block: SealedBlock,
    measurement: &mut Measurement,
) -> Result<(), BenchError> {
    let (number, hash, txs) = (block.number(), block.hash(), block.body.transactions.len());
    match blockchain.insert_block(block)? {
        InsertOutcome::AlreadyKnown => {}
        InsertOutcome::Canonical { gas_used, .. } => measurement.add_block(txs, gas_used),
        outcome => {
            return Err(BenchError::NotCanonical {
                number,
                hash,
                outcome: format!("{outcome:?}"),
            });
        }
    }
    Ok(())
}

/// Every block of a geth-format chain file, sealed.
pub fn read_chain_file(file: &Path) -> Result<Vec<SealedBlock>, BenchError> {
    Ok(ChainFileReader::open(file)?
        .map(|block| block.map(|b| b.seal_slow()))
        .collect::<Result<Vec<_>, _>>()?)
}

/// The import of `blocks` (a chain file's, say) through [`Blockchain::insert_block`] into a
/// fresh database in `dir` holding `spec`'s genesis; only the `insert_block` loop is timed.
/// Blocks already known (the genesis) are skipped and not counted; every other block must
/// become the canonical head.
pub fn import_blocks(
    spec: &Arc<ChainSpec>,
    blocks: &[SealedBlock],
    validation: Validation,
    dir: &Path,
    state_cache_mb: usize,
) -> Result<Measurement, BenchError> {
    let db = fresh_database(spec, dir)?;
    let validator = validation.validator(&db, spec);
    let blockchain =
        Blockchain::new(db, spec.clone(), validator).with_state_cache_mb(state_cache_mb);
    insert_all(&blockchain, blocks)
}
