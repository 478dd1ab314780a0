//! `spectrum-bench`: the benchmarks, a binary of their own (the node binary does not link
//! them). `spectrum-bench import`: bare execution against the full import, on a generated chain
//! and on a reference chain file; `spectrum-bench produce`: building and sealing a full block
//! beside importing it.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use clap::{Args, Parser, Subcommand};
use eyre::WrapErr;
use spectrum_bench::{
    ChainConfig, GeneratedChain,
    measure::{self, Measurement, Phases, Validation},
};
use spectrum_chainspec::ChainSpec;

mod cmd;

/// The reference chain timed when `--reference-chain` is not given: the shared test data
/// beside the source tree.
const DEFAULT_REFERENCE_CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/spectrum-devnet-multi/chain.rlp"
);

/// Benchmarks of spectrum-rs: block import and block production on generated chains.
#[derive(Debug, Parser)]
#[command(name = "spectrum-bench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Where the temporary databases go [default: the system's temporary directory].
    #[arg(long, global = true, value_name = "DIR")]
    datadir: Option<PathBuf>,
    /// Log level: 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace (`RUST_LOG` overrides).
    #[arg(long, global = true, default_value_t = 3)]
    verbosity: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a chain on the dev genesis, then time bare execution against the full import
    /// (execution, state root, commit into RocksDB) of the same blocks. Databases go into a
    /// temporary directory, under --datadir if given, removed afterwards.
    Import(ImportArgs),
    /// Build and seal a full block on a fresh `dev` chain (40M gas of transfers), and import
    /// the same block on a second database: the producer's time beside the import's.
    Produce {
        /// Blocks to build, each on a fresh chain.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
        rounds: u32,
    },
    /// Write a long devnet chain file: the reference five-signer chain (blocks 0..412, made by
    /// smc) extended by blocks our producer seals with the devnet nodes' keys, each imported
    /// under full Tribe validation before it is written. Both `spectrum import` and the
    /// reference node's `smc-verify` (admin_importChain) can import the file.
    LongChain(LongChainArgs),
}

#[derive(Debug, Args)]
pub(crate) struct LongChainArgs {
    /// The chain file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// New blocks after the base chain's head.
    #[arg(long, default_value_t = 10_000)]
    blocks: u64,
    /// Every N-th new block is full of transfers (40M gas); 0 for none.
    #[arg(long, default_value_t = 100)]
    full_every: u64,
    /// Senders of the transfers (funded by the devnet's user1 in the first new block).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    senders: u32,
    /// The chain file to extend [default: ../shared/testdata/spectrum-devnet-multi/chain.rlp
    /// beside the source tree].
    #[arg(long, value_name = "FILE")]
    base: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Workload blocks to generate (after the setup blocks that fund the senders).
    #[arg(long, default_value_t = 200)]
    blocks: u64,
    /// Transactions per workload block.
    #[arg(long, default_value_t = 100)]
    txs_per_block: usize,
    /// Full imports to run, each into a fresh database (more than one shows the variance).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    import_runs: u32,
    /// A reference chain file to time as well, imported on the devnet chain spec
    /// [default: ../shared/testdata/spectrum-devnet-multi/chain.rlp beside the source tree].
    #[arg(long, value_name = "FILE")]
    reference_chain: Option<PathBuf>,
    /// State-size runs instead: for each N (comma-separated, e.g. 1000,1000000), fill the
    /// genesis with N funded accounts and N/100 contracts of 100 storage slots, re-root the
    /// same generated blocks on it, and time their full import; prints Mgas/s per N and the
    /// ratio of each to the first.
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    accounts: Vec<u64>,
    /// MiB of hot state each imported chain keeps in memory between blocks (the node's
    /// `--cache.state-mb`; 0 turns it off).
    #[arg(long = "cache-state-mb", value_name = "MIB", default_value_t = spectrum_chain::DEFAULT_STATE_CACHE_MB)]
    cache_state_mb: usize,
}

fn main() {
    let cli = Cli::parse();
    init_logging(cli.verbosity);
    let result = match &cli.command {
        Command::Import(args) => import(cli.datadir.as_deref(), args),
        Command::Produce { rounds } => produce(cli.datadir.as_deref(), *rounds),
        Command::LongChain(args) => cmd::long_chain::run(cli.datadir.as_deref(), args),
    };
    if let Err(error) = result {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0 => "off",
        1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn import(datadir: Option<&Path>, args: &ImportArgs) -> eyre::Result<()> {
    let work = work_dir(datadir)?;
    if !args.accounts.is_empty() {
        return cmd::state_size::run(work.path(), args);
    }

    let config = ChainConfig {
        blocks: args.blocks,
        txs_per_block: args.txs_per_block,
        ..ChainConfig::default()
    };
    tracing::info!(?config, "generating the chain (not timed)");
    let started = Instant::now();
    let chain = GeneratedChain::generate(config.clone())?;
    let generation = started.elapsed();
    let kinds = chain.kinds;
    println!(
        "chain: {} blocks ({} setup + {} workload, {} txs/block asked), {} txs ({} transfers, \
         {} ERC20 transfers, {} deployments, {} storage calls of {} fresh slots), {:.1} Mgas; \
         {} senders; generated in {:.1}s",
        chain.blocks.len(),
        chain.setup_blocks,
        args.blocks,
        args.txs_per_block,
        chain.tx_count,
        kinds.transfers,
        kinds.erc20,
        kinds.deploys,
        kinds.storage,
        config.slots_per_call,
        chain.gas_used as f64 / 1e6,
        config.senders,
        generation.as_secs_f64(),
    );
    println!("databases in {}", work.path().display());
    println!();
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9}",
        "", "time (s)", "Mgas/s", "blocks/s", "txs/s"
    );

    tracing::info!("bare execution");
    let bare = measure::bare_execution(&chain)?;
    print_row("(a) bare execution (MemoryState)", &bare);

    let mut imports = Vec::new();
    for run in 1..=args.import_runs {
        tracing::info!(run, "full import");
        let result = measure::full_import(
            &chain,
            &work.path().join(format!("import-{run}")),
            args.cache_state_mb,
        )?;
        print_row(&format!("(b) full import, run {run}"), &result.import);
        imports.push(result);
    }

    tracing::info!("import by phase");
    let phases = measure::phased_import(
        &chain.spec,
        &chain.blocks,
        Validation::ExecutionOnly,
        &work.path().join("phases"),
        args.cache_state_mb,
    )?;
    print_row("(c) import timed by phase", &phases.total);

    println!();
    for (i, run) in imports.iter().enumerate() {
        println!(
            "run {}: import/bare = {:.3} (Mgas/s ratio); flush after the import {:.3}s",
            i + 1,
            ratio(&run.import, &bare),
            run.flush.as_secs_f64()
        );
    }
    println!(
        "phased run: import/bare = {:.3}",
        ratio(&phases.total, &bare)
    );
    print_phases(&phases);

    println!();
    let reference = args
        .reference_chain
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_REFERENCE_CHAIN));
    if reference.is_file() {
        tracing::info!(file = %reference.display(), "reference chain import");
        let spec = Arc::new(ChainSpec::devnet());
        let blocks = measure::read_chain_file(&reference)
            .wrap_err_with(|| format!("cannot read {}", reference.display()))?;
        let mut rows = Vec::new();
        for (label, validation, dir) in [
            (
                "(d) reference, Tribe validation",
                Validation::Tribe,
                "ref-tribe",
            ),
            (
                "(d) reference, execution checks",
                Validation::ExecutionOnly,
                "ref-exec",
            ),
        ] {
            let m = measure::import_blocks(
                &spec,
                &blocks,
                validation,
                &work.path().join(dir),
                args.cache_state_mb,
            )
            .wrap_err_with(|| format!("importing {}", reference.display()))?;
            rows.push((label, m));
        }
        let phases = measure::phased_import(
            &spec,
            &blocks,
            Validation::Tribe,
            &work.path().join("ref-phases"),
            args.cache_state_mb,
        )?;
        let first = rows.first().map(|(_, m)| *m).unwrap_or_default();
        println!(
            "reference chain {} (devnet spec): {} blocks after the genesis, {} txs, {:.3} Mgas",
            reference.display(),
            first.blocks,
            first.txs,
            first.gas as f64 / 1e6
        );
        for (label, m) in &rows {
            print_row(label, m);
        }
        print_row("(d) reference, Tribe, by phase", &phases.total);
        print_phases(&phases);
    } else {
        println!(
            "reference chain {} not found: skipped (pass --reference-chain FILE)",
            reference.display()
        );
    }
    Ok(())
}

/// A temporary directory for the databases, under `datadir` if given; removed on drop.
fn work_dir(datadir: Option<&Path>) -> eyre::Result<tempfile::TempDir> {
    match datadir {
        Some(parent) => {
            std::fs::create_dir_all(parent)
                .wrap_err_with(|| format!("cannot create {}", parent.display()))?;
            tempfile::Builder::new().prefix("bench-").tempdir_in(parent)
        }
        None => tempfile::Builder::new().prefix("spectrum-bench-").tempdir(),
    }
    .wrap_err("cannot create the benchmark's directory")
}

fn ratio(import: &Measurement, bare: &Measurement) -> f64 {
    let bare = bare.mgas_per_sec();
    if bare > 0.0 {
        import.mgas_per_sec() / bare
    } else {
        0.0
    }
}

fn print_row(label: &str, m: &Measurement) {
    println!(
        "{label:<34} {:>9.3} {:>9.1} {:>9.1} {:>9.0}",
        m.elapsed.as_secs_f64(),
        m.mgas_per_sec(),
        m.blocks_per_sec(),
        m.txs_per_sec()
    );
}

fn print_phases(phases: &Phases) {
    let total = phases.total.elapsed.as_secs_f64();
    let blocks = phases.total.blocks.max(1) as f64;
    let row = |name: &str, d: Duration| {
        let secs = d.as_secs_f64();
        let share = if total > 0.0 {
            100.0 * secs / total
        } else {
            0.0
        };
        println!(
            "  {name:<48} {secs:>8.3}s {share:>5.1}%  {:>8.3} ms/block",
            1e3 * secs / blocks
        );
    };
    println!("where the import's time goes (run by phase):");
    row("checks (known, parent, tx root, TD, head)", phases.checks);
    row(
        "sender recovery (blocks not prepared ahead)",
        phases.recover,
    );
    row(
        "consensus validation (validator, fee recipient)",
        phases.consensus,
    );
    row("execution on the database state", phases.execute);
    row(
        "receipts checks (gas, bloom, receipts root)",
        phases.verify_receipts,
    );
    row(
        "state root (storage tries, account trie)",
        phases.state_root,
    );
    row("commit (batch build and write)", phases.commit);
    row(
        "preparation ahead, on another thread (overlaps)",
        phases.prepare,
    );
    println!(
        "  per block: {:.0} account/slot writes, {:.0} trie node writes",
        phases.state_writes as f64 / blocks,
        phases.trie_writes as f64 / blocks
    );
}

/// `spectrum-bench produce`: building and sealing a full block beside importing it.
fn produce(datadir: Option<&Path>, rounds: u32) -> eyre::Result<()> {
    let work = match datadir {
        Some(parent) => tempfile::Builder::new().prefix("bench-").tempdir_in(parent),
        None => tempfile::Builder::new().prefix("spectrum-bench-").tempdir(),
    }
    .wrap_err("cannot create the benchmark's directory")?;
    let rounds = usize::try_from(rounds)?;
    let results = spectrum_bench::produce::measure_full_block(work.path(), rounds)?;
    for (i, m) in results.iter().enumerate() {
        println!(
            "block {}: {} txs, {:.1} Mgas: build+seal {:.1} ms ({:.0} tx/s), import {:.1} ms, build/import {:.2}",
            i + 1,
            m.txs,
            m.gas as f64 / 1e6,
            m.build.as_secs_f64() * 1e3,
            m.txs as f64 / m.build.as_secs_f64(),
            m.insert.as_secs_f64() * 1e3,
            m.build.as_secs_f64() / m.insert.as_secs_f64()
        );
    }
    let mut builds: Vec<f64> = results
        .iter()
        .map(|m| m.build.as_secs_f64() * 1e3)
        .collect();
    builds.sort_by(f64::total_cmp);
    if let Some(median) = builds.get(builds.len() / 2) {
        println!("median build+seal of a full block: {median:.1} ms");
    }
    Ok(())
}
