//! `spectrum import FILE...`: blocks from geth-format chain files into the database.

use std::{path::PathBuf, sync::Arc, time::Instant};

use eyre::WrapErr;
use spectrum_chain::{Blockchain, InsertOutcome, TribeBlockValidator};
use spectrum_chainspec::ChainSpec;
use spectrum_import::ChainFileReader;

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
) -> eyre::Result<()> {
    let db = Arc::new(super::open_initialised(&spec, datadir)?);
    // Every block passes Tribe's rules (seal, signer set from the chief contracts at the
    // parent state, difficulty, delays, VRF, chief-update transaction) and execution's checks.
    let spec = Arc::new(spec);
    let validator = Arc::new(TribeBlockValidator::new(db.clone(), spec.clone()));
    // Heavier branches in a file are followed as from the network: header-checked at the
    // fork parent's state before they count, no deeper than `max_reorg_depth`.
    let chain = Blockchain::new(db.clone(), spec, validator).with_max_reorg_depth(max_reorg_depth);
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

fn import_file(chain: &Blockchain, file: &PathBuf, totals: &mut Totals) -> eyre::Result<()> {
    let size = std::fs::metadata(file)
        .wrap_err_with(|| format!("cannot read {}", file.display()))?
        .len();
    let mut reader = ChainFileReader::open(file)?;
    let gzip = reader.is_gzip();
    let started = Instant::now();
    let mut last_log = started;
    let (mut blocks, mut gas) = (0u64, 0u64);
    tracing::info!(file = %file.display(), "importing");
    while let Some(block) = reader.next() {
        let block = block?.seal_slow();
        let (number, hash) = (block.number(), block.hash());
        match chain
            .insert_block(block)
            .wrap_err_with(|| format!("block {number} {hash} rejected"))?
        {
            InsertOutcome::AlreadyKnown => totals.known = totals.known.saturating_add(1),
            InsertOutcome::Canonical { gas_used, .. } => {
                tracing::debug!(number, %hash, gas_used, "imported block");
                blocks = blocks.saturating_add(1);
                gas = gas.saturating_add(gas_used);
            }
            outcome => {
                tracing::debug!(number, %hash, ?outcome, "imported side-chain block");
                blocks = blocks.saturating_add(1);
            }
        }
        if last_log.elapsed().as_secs() >= 5 {
            last_log = Instant::now();
            log_progress(
                started,
                blocks,
                gas,
                number,
                (!gzip).then_some((reader.bytes_read(), size)),
            );
        }
    }
    totals.imported = totals.imported.saturating_add(blocks);
    totals.gas = totals.gas.saturating_add(gas);
    Ok(())
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
