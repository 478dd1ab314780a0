//! One module per command.

mod account;
mod db;
mod export;
mod genesis;
mod import;
mod init;
mod node;
mod ops;
pub mod validator;

use eyre::WrapErr;
use spectrum_chainspec::{ChainSelector, ChainSpec};

use crate::{
    cli::{Cli, Command, DbCommand, GenesisCommand},
    datadir::DataDir,
};

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> eyre::Result<()> {
    // Commands that need no chain spec or datadir.
    match &cli.command {
        Some(Command::Version) => return ops::version(),
        Some(Command::Dumpgenesis) => return ops::dumpgenesis(&cli.global.chain),
        Some(Command::Dumpconfig) => return Ok(()), // printed by main, which has the matches
        _ => {}
    }
    let chain = if cli.dev {
        ChainSelector::Builtin("dev")
    } else {
        cli.global.chain.clone()
    };
    // Load and check the chain spec before touching the datadir: a bad genesis file writes
    // nothing.
    let spec = match cli.produce.dev_signer_limit {
        // clap's `requires = "dev"` holds the flag to --dev.
        Some(limit) if limit != 1 => spectrum_contracts::dev_chain_with_signer_limit(limit)
            .wrap_err_with(|| format!("the dev chain with signer limit {limit}"))?,
        _ => chain.load().wrap_err("cannot load the chain spec")?,
    };
    let datadir = match (&cli.global.datadir, cli.dev) {
        (None, true) => None,
        (explicit, _) => Some(DataDir::resolve(explicit.as_deref(), &chain)?),
    };
    match cli.command {
        Some(Command::Init) => init::run(&spec, &require(datadir, "init")?),
        Some(Command::Import { files }) => import::run(
            spec,
            &require(datadir, "import")?,
            &files,
            cli.global.max_reorg_depth,
            cli.global.cache_state_mb,
        ),
        Some(Command::Export(args)) => export::run(&spec, &require(datadir, "export")?, &args),
        Some(Command::Db {
            command: DbCommand::Stats,
        }) => db::stats(&spec, &require(datadir, "db stats")?),
        Some(Command::Genesis {
            command: GenesisCommand::New(args),
        }) => genesis::new(&args),
        Some(Command::Account { command }) => account::run(
            &require(datadir, "account")?,
            &command,
            cli.validator_key.password.as_deref(),
        ),
        Some(Command::Validator(args)) => validator::run(
            &spec,
            datadir.as_ref(),
            &args,
            cli.validator_key.password.as_deref(),
        ),
        Some(Command::Db {
            command: DbCommand::Checkpoint { dir },
        }) => ops::checkpoint(&require(datadir, "db checkpoint")?, &dir),
        Some(Command::Removedb { yes }) => ops::removedb(&require(datadir, "removedb")?, yes),
        Some(Command::Version | Command::Dumpgenesis | Command::Dumpconfig) => Ok(()),
        None => node::run(spec, datadir, &cli),
    }
}

fn require(datadir: Option<DataDir>, command: &str) -> eyre::Result<DataDir> {
    datadir.ok_or_else(|| eyre::eyre!("`{command}` with --dev needs --datadir"))
}

/// Opens the datadir's database and makes sure it holds `spec`'s chain, initialising it on
/// first use.
pub(crate) fn open_initialised(
    spec: &ChainSpec,
    datadir: &DataDir,
) -> eyre::Result<spectrum_storage::Database> {
    std::fs::create_dir_all(datadir.path())
        .wrap_err_with(|| format!("cannot create datadir {}", datadir.path().display()))?;
    let db = spectrum_storage::Database::open(&datadir.db())
        .wrap_err_with(|| format!("cannot open the database in {}", datadir.path().display()))?;
    init::write_genesis(spec, &db)?;
    Ok(db)
}
