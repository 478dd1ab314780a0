//! `spectrum export FILE [FIRST LAST]`: canonical blocks to a geth-format chain file.

use std::time::Instant;

use spectrum_chainspec::ChainSpec;
use spectrum_import::ChainFileWriter;

use crate::{cli::ExportArgs, datadir::DataDir, progress::Progress};

pub fn run(spec: &ChainSpec, datadir: &DataDir, args: &ExportArgs) -> eyre::Result<()> {
    let db = super::open_initialised(spec, datadir)?;
    let (head, _) = db
        .head()?
        .ok_or_else(|| eyre::eyre!("the database has no head"))?;
    let first = args.first.unwrap_or(0);
    let last = args.last.unwrap_or(head);
    if first > last || last > head {
        eyre::bail!("cannot export blocks {first}..={last}: the head is {head}");
    }
    let gzip = args.file.extension().is_some_and(|e| e == "gz");
    let mut writer = ChainFileWriter::create(&args.file, gzip)?;
    let started = Instant::now();
    let mut progress = Progress::new("blocks exported", (last - first).saturating_add(1));
    for number in first..=last {
        let hash = db
            .canonical_hash(number)?
            .ok_or_else(|| eyre::eyre!("no canonical block {number}"))?;
        let block = db
            .block(&hash)?
            .ok_or_else(|| eyre::eyre!("block {number} {hash} is missing"))?;
        writer.write_block(&block.unseal())?;
        progress.tick();
    }
    writer.finish()?;
    let count = (last - first).saturating_add(1);
    tracing::info!(blocks = count, elapsed = ?started.elapsed(), file = %args.file.display(), "export done");
    println!(
        "exported blocks {first}..={last} ({count}) to {}",
        args.file.display()
    );
    Ok(())
}
