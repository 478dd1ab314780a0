//! `spectrum-bench long-chain`: writes the long devnet chain file.

use std::path::{Path, PathBuf};

use eyre::WrapErr;
use spectrum_bench::long_chain::{LongChainConfig, generate_long_chain};

use crate::{LongChainArgs, work_dir};

/// The base chain when `--base` is not given: the shared test data beside the source tree.
const DEFAULT_BASE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/spectrum-devnet-multi/chain.rlp"
);

pub(crate) fn run(datadir: Option<&Path>, args: &LongChainArgs) -> eyre::Result<()> {
    let work = work_dir(datadir)?;
    let config = LongChainConfig {
        base: args
            .base
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_BASE)),
        blocks: args.blocks,
        full_every: args.full_every,
        senders: usize::try_from(args.senders)?,
    };
    let summary = generate_long_chain(&config, &work.path().join("db"), &args.out)
        .wrap_err_with(|| format!("generating {}", args.out.display()))?;
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "wrote {}: {} blocks (0..={}), {} new after {}: {} full of transfers, {} txs, {:.1} Mgas; \
         head {} {} at time {}; built, imported and written in {:.1}s ({:.0} blocks/s)",
        args.out.display(),
        summary.blocks_in_file,
        summary.head.0,
        summary.head.0.saturating_sub(summary.base_head),
        summary.base_head,
        summary.full_blocks,
        summary.txs,
        summary.gas as f64 / 1e6,
        summary.head.0,
        summary.head.1,
        summary.head_timestamp,
        secs,
        if secs > 0.0 {
            summary.head.0.saturating_sub(summary.base_head) as f64 / secs
        } else {
            0.0
        }
    );
    for (signer, blocks) in &summary.sealed_by {
        println!("  sealed by {signer}: {blocks}");
    }
    Ok(())
}
