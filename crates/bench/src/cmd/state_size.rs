//! `spectrum-bench import --accounts N,...`: the same blocks' full import on genesis states
//! of different sizes.

use std::{path::Path, sync::Arc, time::Instant};

use eyre::WrapErr;
use spectrum_bench::{
    ChainConfig, GeneratedChain,
    measure::{self, Measurement, Validation},
    state_size::{Filler, filled_spec, rebase},
};
use spectrum_chainspec::ChainSpec;

use crate::{ImportArgs, print_phases, print_row};

/// Generates the chain once on the plain `dev` genesis, then for each N re-roots it on a
/// genesis filled with N accounts and times its full import `import_runs` times.
pub(crate) fn run(work: &Path, args: &ImportArgs) -> eyre::Result<()> {
    let config = ChainConfig {
        blocks: args.blocks,
        txs_per_block: args.txs_per_block,
        ..ChainConfig::default()
    };
    let started = Instant::now();
    let chain = GeneratedChain::generate(config)?;
    println!(
        "chain: {} blocks ({} setup), {} txs, {:.1} Mgas; generated in {:.1}s",
        chain.blocks.len(),
        chain.setup_blocks,
        chain.tx_count,
        chain.gas_used as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    println!("databases in {}", work.display());
    let mut results: Vec<(u64, Vec<Measurement>)> = Vec::new();
    for &n in &args.accounts {
        let filler = Filler::for_accounts(n);
        let started = Instant::now();
        let spec = Arc::new(filled_spec(&ChainSpec::dev(), filler));
        let dir = work.join(format!("accounts-{n}"));
        let rebased = rebase(&chain, spec, &dir.join("rebase"))
            .wrap_err_with(|| format!("re-rooting the chain on {n} accounts"))?;
        println!();
        println!(
            "state: {} funded accounts + {} contracts with {} slots in the genesis; filled and \
             re-rooted in {:.1}s (not timed)",
            filler.accounts,
            filler.contracts,
            filler.slots,
            started.elapsed().as_secs_f64()
        );
        println!(
            "{:<34} {:>9} {:>9} {:>9} {:>9}",
            "", "time (s)", "Mgas/s", "blocks/s", "txs/s"
        );
        let mut runs = Vec::new();
        for run in 1..=args.import_runs {
            let result = measure::full_import(
                &rebased,
                &dir.join(format!("import-{run}")),
                args.cache_state_mb,
            )?;
            print_row(&format!("full import, N={n}, run {run}"), &result.import);
            runs.push(result.import);
        }
        let phases = measure::phased_import(
            &rebased.spec,
            &rebased.blocks,
            Validation::ExecutionOnly,
            &dir.join("phases"),
            args.cache_state_mb,
        )?;
        print_row(&format!("import by phase, N={n}"), &phases.total);
        print_phases(&phases);
        std::fs::remove_dir_all(&dir).ok();
        results.push((n, runs));
    }
    println!();
    let best = |runs: &[Measurement]| runs.iter().map(|m| m.mgas_per_sec()).fold(0.0, f64::max);
    if let Some((first_n, first)) = results.first() {
        let base = best(first);
        for (n, runs) in &results {
            let each: Vec<String> = runs
                .iter()
                .map(|m| format!("{:.1}", m.mgas_per_sec()))
                .collect();
            let ratio = if base > 0.0 { best(runs) / base } else { 0.0 };
            println!(
                "N={n}: import Mgas/s per run {}; best {:.1}; best / best at N={first_n}: {ratio:.3}",
                each.join(", "),
                best(runs)
            );
        }
    }
    Ok(())
}
