//! The measurements of `spectrum-bench import`. Each times only the work named; preparing its
//! input (recovering senders for bare execution, cloning blocks, opening the database and
//! writing the genesis) happens before the clock starts.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use spectrum_chain::{
    BlockValidator, Blockchain, ExecutionChecksOnly, InsertOutcome, TribeBlockValidator,
    apply_state_roots, genesis_commit,
};
use spectrum_chainspec::ChainSpec;
use spectrum_execution::{BlockExecutor, verify_receipts};
use spectrum_import::ChainFileReader;
use spectrum_primitives::{RecoveredBlock, SealedBlock, keccak256, transactions_root};
use spectrum_storage::{BlockCommit, Database};

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

fn recover_all(blocks: &[SealedBlock]) -> Result<Vec<RecoveredBlock>, BenchError> {
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

/// (b) Full import: [`Blockchain::insert_block`] of every block into a fresh RocksDB in `dir`
/// (header checks, sender recovery, execution, receipts checks, incremental state root, atomic
/// commit). Every block must become the canonical head.
pub fn full_import(chain: &GeneratedChain, dir: &Path) -> Result<ImportRun, BenchError> {
    let db = fresh_database(&chain.spec, dir)?;
    let blockchain = Blockchain::new(
        db.clone(),
        chain.spec.clone(),
        Arc::new(ExecutionChecksOnly),
    );
    let blocks = chain.blocks.clone();
    let mut import = Measurement::default();
    let started = Instant::now();
    for block in blocks {
        let (number, hash, txs) = (block.number(), block.hash(), block.body.transactions.len());
        match blockchain.insert_block(block)? {
            InsertOutcome::Canonical { gas_used, .. } => import.add_block(txs, gas_used),
            outcome => {
                return Err(BenchError::NotCanonical {
                    number,
                    hash,
                    outcome: format!("{outcome:?}"),
                });
            }
        }
    }
    import.elapsed = started.elapsed();
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

/// Where the import's time goes, from [`phased_import`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    /// The whole loop (the sum of the phases).
    pub total: Measurement,
    /// Known/bad-block checks, parent, number, transactions root, ommers hash, total
    /// difficulty, head.
    pub checks: Duration,
    /// Sender recovery (secp256k1).
    pub recover: Duration,
    /// The validator's checks before and after execution, and finding the fee recipient.
    pub consensus: Duration,
    /// [`BlockExecutor::execute`] on the database's latest state.
    pub execute: Duration,
    /// Gas used, bloom and receipts root against the header.
    pub verify_receipts: Duration,
    /// [`apply_state_roots`]: storage tries, account trie, state root.
    pub state_root: Duration,
    /// [`Database::commit_block`]: building and writing the batch.
    pub commit: Duration,
    /// Trie node writes and deletions committed.
    pub trie_writes: u64,
    /// Account and storage-slot writes committed (each also writes a history entry).
    pub state_writes: u64,
}

/// The import with each phase timed: the steps `Blockchain::insert_block` takes for a block
/// that extends the head (`insert_block`, then `execute_and_commit`), re-done here in the same
/// order through the same public functions, because `spectrum-chain` times nothing itself.
/// Checked like the real import: every root must match. Blocks already in the database (a
/// chain file's genesis) are skipped.
pub fn phased_import(
    spec: &Arc<ChainSpec>,
    blocks: &[SealedBlock],
    validation: Validation,
    dir: &Path,
) -> Result<Phases, BenchError> {
    let db = fresh_database(spec, dir)?;
    let validator = validation.validator(&db, spec);
    let executor = BlockExecutor::spectrum(spec.clone());
    let blocks = blocks.to_vec();
    let mut phases = Phases::default();
    let started = Instant::now();
    for block in blocks {
        let (number, hash) = (block.number(), block.hash());
        let mut clock = Instant::now();
        let mut lap = |slot: &mut Duration| {
            let now = Instant::now();
            *slot += now - clock;
            clock = now;
        };
        let mismatch = |what: &str| BenchError::Mismatch(format!("block {number}: {what}"));

        // insert_block: known? bad? parent, number, body roots, total difficulty, head.
        if db.block_number(&hash)?.is_some() {
            if db.canonical_hash(number)? == Some(hash) {
                continue;
            }
            return Err(mismatch("known but not canonical"));
        }
        if spec.is_bad_block(&hash) {
            return Err(mismatch("on the bad-block list"));
        }
        let parent = db
            .header(&block.header.parent_hash)?
            .ok_or_else(|| mismatch("unknown parent"))?;
        if parent.number + 1 != number
            || transactions_root(&block.body.transactions) != block.header.transactions_root
            || keccak256(ommers_rlp(&block)) != block.header.ommers_hash
        {
            return Err(mismatch("number or body roots"));
        }
        let td = db
            .total_difficulty(&parent.hash())?
            .ok_or_else(|| mismatch("no parent total difficulty"))?
            + block.header.difficulty;
        if db.head()?.map(|(_, h)| h) != Some(parent.hash()) {
            return Err(mismatch("does not extend the head"));
        }
        lap(&mut phases.checks);

        // execute_and_commit
        let block = block
            .try_recover()
            .map_err(|(index, source)| BenchError::Sender {
                number,
                index,
                source,
            })?;
        lap(&mut phases.recover);

        let parent = db
            .header(&block.header().parent_hash)?
            .ok_or_else(|| mismatch("unknown parent"))?;
        validator
            .validate_block(&block.block, &parent, &block.senders)
            .map_err(|reason| mismatch(&reason.to_string()))?;
        let header = block.header().header();
        let fee_recipient = if header.beneficiary.is_zero() {
            spectrum_consensus::block_signer(header).map_err(|e| mismatch(&e.to_string()))?
        } else {
            header.beneficiary
        };
        lap(&mut phases.consensus);

        let output = executor
            .execute(&block, fee_recipient, &db.latest_state())
            .map_err(|source| BenchError::Execution { number, source })?;
        lap(&mut phases.execute);

        verify_receipts(block.header().header(), &output)
            .map_err(|source| BenchError::Execution { number, source })?;
        lap(&mut phases.verify_receipts);

        validator
            .validate_after_execution(&block.block, &parent, &output.receipts)
            .map_err(|reason| mismatch(&reason.to_string()))?;
        lap(&mut phases.consensus);

        let mut changes = output.changes;
        let roots = apply_state_roots(&db, &mut changes)?;
        if roots.state_root != block.header().state_root {
            return Err(mismatch(&format!(
                "state root {} computed, header has {}",
                roots.state_root,
                block.header().state_root
            )));
        }
        lap(&mut phases.state_root);
        phases.trie_writes += roots.trie.len() as u64;
        phases.state_writes += (changes.accounts.len() + changes.storage.len()) as u64;

        let txs = block.block.body.transactions.len();
        db.commit_block(&BlockCommit {
            block: block.block,
            receipts: output.receipts,
            total_difficulty: td,
            state: changes,
            trie: roots.trie,
            make_canonical_head: true,
        })?;
        lap(&mut phases.commit);
        phases.total.add_block(txs, output.gas_used);
    }
    phases.total.elapsed = started.elapsed();
    Ok(phases)
}

/// RLP of a block's ommers list, as the header's ommers hash covers it.
fn ommers_rlp(block: &SealedBlock) -> Vec<u8> {
    use alloy_rlp::Encodable;
    let mut out = Vec::new();
    block.body.ommers.encode(&mut out);
    out
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
) -> Result<Measurement, BenchError> {
    let db = fresh_database(spec, dir)?;
    let validator = validation.validator(&db, spec);
    let blockchain = Blockchain::new(db, spec.clone(), validator);
    let blocks = blocks.to_vec();
    let mut measurement = Measurement::default();
    let started = Instant::now();
    for block in blocks {
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
    }
    measurement.elapsed = started.elapsed();
    Ok(measurement)
}
