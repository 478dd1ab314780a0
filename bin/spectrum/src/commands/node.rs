//! Running the node (no subcommand).

use eyre::WrapErr;
use spectrum_chainspec::ChainSpec;

use crate::{cli::Cli, datadir::DataDir};

pub fn run(spec: ChainSpec, datadir: Option<DataDir>, cli: &Cli) -> eyre::Result<()> {
    // `--dev` without --datadir runs in a temporary directory removed at exit.
    let temp;
    let datadir = match datadir {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new().prefix("spectrum-dev-").tempdir()?;
            DataDir::resolve(
                Some(temp.path()),
                &spectrum_chainspec::ChainSelector::Builtin("dev"),
            )?
        }
    };
    let db = super::open_initialised(&spec, &datadir)?;
    let (number, hash) = db
        .head()?
        .ok_or_else(|| eyre::eyre!("the database has no head"))?;
    tracing::info!(
        chain = %spec.name,
        chain_id = spec.chain_id,
        head = number,
        %hash,
        datadir = %datadir.path().display(),
        "node started"
    );
    if cli.dev || cli.rpc.http || cli.rpc.ws {
        tracing::warn!(
            "JSON-RPC, networking and block production are not in this build yet: the node only holds its database"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(shutdown_signal())
        .wrap_err("waiting for a shutdown signal")?;
    tracing::info!("shutting down");
    drop(db);
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}
