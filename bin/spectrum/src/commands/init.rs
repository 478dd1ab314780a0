//! `spectrum init`: write the genesis block and state.

use eyre::WrapErr;
use spectrum_chainspec::ChainSpec;
use spectrum_storage::{Database, GenesisStatus};

use crate::datadir::DataDir;

pub fn run(spec: &ChainSpec, datadir: &DataDir) -> eyre::Result<()> {
    let db = super::open_initialised(spec, datadir)?;
    let header = db
        .header_by_number(0)?
        .ok_or_else(|| eyre::eyre!("genesis missing after initialisation"))?;
    println!(
        "chain:        {} (chain id {}, network id {})",
        spec.name, spec.chain_id, spec.network_id
    );
    println!("genesis hash: {}", header.hash());
    println!("state root:   {}", header.state_root);
    println!("datadir:      {}", datadir.path().display());
    Ok(())
}

/// Writes `spec`'s genesis into `db` unless it is there already; refuses a database that holds
/// another chain.
pub fn write_genesis(spec: &ChainSpec, db: &Database) -> eyre::Result<()> {
    let commit = spectrum_chain::genesis_commit(spec)?;
    let hash = commit.header.hash();
    match db
        .init_genesis(commit)
        .wrap_err("cannot initialise the datadir")?
    {
        GenesisStatus::Written => {
            tracing::info!(chain = %spec.name, genesis = %hash, "wrote genesis")
        }
        GenesisStatus::AlreadyInitialised => {
            tracing::debug!(genesis = %hash, "genesis already present")
        }
    }
    Ok(())
}
