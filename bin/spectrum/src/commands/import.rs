//! `spectrum import FILE...`: blocks from geth-format chain files into the database.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use eyre::WrapErr;
use spectrum_chain::{BatchLimits, Blockchain, InsertOutcome, TribeBlockValidator};
use spectrum_chainspec::ChainSpec;
use spectrum_import::ChainFileReader;
use spectrum_primitives::Block;

use crate::datadir::DataDir;

/// Totals of one import run.
#[derive(Debug, Default)]
struct Totals {
    imported: u64,
    known: u64,
    gas: u64,
}

pub fn run(
    spec: ChainSpec,
    datadir: &DataDir,
    files: &[PathBuf],
    max_reorg_depth: u64,
    state_cache_mb: usize,
) -> eyre::Result<()> {
    let db = Arc::new(super::open_initialised(&spec, datadir)?);
    // Every block passes Tribe's rules (seal, signer set from the chief contracts at the
    // parent state, difficulty, delays, VRF, chief-update transaction) and execution's checks.
    let spec = Arc::new(spec);
    let validator = Arc::new(TribeBlockValidator::new(db.clone(), spec.clone()));
    // Heavier branches in a file are followed as from the network: header-checked at the
    // fork parent's state before they count, no deeper than `max_reorg_depth`.
    let chain = Blockchain::new(db.clone(), spec, validator)
        .with_max_reorg_depth(max_reorg_depth)
        .with_state_cache_mb(state_cache_mb);
    let started = Instant::now();
    let mut totals = Totals::default();
    for file in files {
        import_file(&chain, file, &mut totals)?;
    }
    db.flush()?;
    let secs = started.elapsed().as_secs_f64();
    let head = db.head()?.map(|(n, _)| n).unwrap_or_default();
    println!(
        "imported {} blocks ({} already known) in {:.2}s: {:.1} blocks/s, {:.2} Mgas/s; head {}",
        totals.imported,
        totals.known,
        secs,
        rate(totals.imported as f64, secs),
        rate(totals.gas as f64 / 1e6, secs),
        head
    );
    Ok(())
}

fn rate(amount: f64, secs: f64) -> f64 {
    if secs > 0.0 { amount / secs } else { 0.0 }
}

/// Reads `file` and imports its blocks: one thread reads and prepares the next batch
/// ([`Blockchain::insert_prepared_stream`]: senders, seals and VRF proofs over every core)
/// while this one inserts the current batch in order.
fn import_file(chain: &Blockchain, file: &PathBuf, totals: &mut Totals) -> eyre::Result<()> {
    let size = std::fs::metadata(file)
        .wrap_err_with(|| format!("cannot read {}", file.display()))?
        .len();
    let mut reader = ChainFileReader::open(file)?;
    let gzip = reader.is_gzip();
    // Bytes of the file read so far, by the reading thread, for the ETA (ahead of the import
    // by at most two batches).
    let bytes_read = AtomicU64::new(0);
    let blocks = std::iter::from_fn(|| {
        let next = reader.next();
        bytes_read.store(reader.bytes_read(), Ordering::Relaxed);
        // A read error ends the file after the blocks read before it are imported.
        Some(next?.map(Block::seal_slow).map_err(eyre::Report::from))
    });
    let mut progress = Progress {
        started: Instant::now(),
        last_log: Instant::now(),
        blocks: 0,
        gas: 0,
    };
    tracing::info!(file = %file.display(), "importing");
    chain.insert_prepared_stream(blocks, BatchLimits::default(), |block| {
        let number = insert(chain, block, totals, &mut progress)?;
        if progress.last_log.elapsed().as_secs() >= 5 {
            progress.last_log = Instant::now();
            log_progress(
                progress.started,
                progress.blocks,
                progress.gas,
                number,
                (!gzip).then(|| (bytes_read.load(Ordering::Relaxed), size)),
            );
        }
        Ok(())
    })?;
    totals.imported = totals.imported.saturating_add(progress.blocks);
    totals.gas = totals.gas.saturating_add(progress.gas);
    Ok(())
}

/// Blocks and gas imported from one file so far, and when progress was last logged.
struct Progress {
    started: Instant,
    last_log: Instant,
    blocks: u64,
    gas: u64,
}

/// Inserts one block, counting it; returns its number.
fn insert(
    chain: &Blockchain,
    block: spectrum_primitives::SealedBlock,
    totals: &mut Totals,
    progress: &mut Progress,
) -> eyre::Result<u64> {
    let (number, hash) = (block.number(), block.hash());
    match chain
        .insert_block(block)
        .wrap_err_with(|| format!("block {number} {hash} rejected"))?
    {
        InsertOutcome::AlreadyKnown => totals.known = totals.known.saturating_add(1),
        InsertOutcome::Canonical { gas_used, .. } => {
            tracing::debug!(number, %hash, gas_used, "imported block");
            progress.blocks = progress.blocks.saturating_add(1);
            progress.gas = progress.gas.saturating_add(gas_used);
        }
        outcome => {
            tracing::debug!(number, %hash, ?outcome, "imported side-chain block");
            progress.blocks = progress.blocks.saturating_add(1);
        }
    }
    Ok(number)
}

/// One progress line: blocks, rates and, for plain files, the ETA from the bytes left.
fn log_progress(started: Instant, blocks: u64, gas: u64, number: u64, bytes: Option<(u64, u64)>) {
    let secs = started.elapsed().as_secs_f64();
    let eta = bytes
        .filter(|(done, _)| *done > 0)
        .map(|(done, total)| {
            format!(
                "{:.0}s",
                secs * total.saturating_sub(done) as f64 / done as f64
            )
        })
        .unwrap_or_else(|| "unknown".to_owned());
    tracing::info!(
        number,
        blocks,
        blocks_per_sec = format!("{:.1}", rate(blocks as f64, secs)),
        mgas_per_sec = format!("{:.2}", rate(gas as f64 / 1e6, secs)),
        eta,
        "import progress"
    );
}
