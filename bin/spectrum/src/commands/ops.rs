//! Operations commands (issue 18): `version`, `dumpgenesis`, `removedb`, `db checkpoint`.

use std::{io::BufRead, path::Path};

use eyre::WrapErr;
use spectrum_chainspec::{BUILTIN_CHAINS, ChainSelector};

use crate::datadir::DataDir;

/// `spectrum version`: what an operator pastes into a bug report.
pub fn version() -> eyre::Result<()> {
    println!("spectrum {}", env!("CARGO_PKG_VERSION"));
    println!("commit:  {}", env!("SPECTRUM_GIT_COMMIT"));
    println!("profile: {}", env!("SPECTRUM_BUILD_PROFILE"));
    println!(
        "target:  {}-{}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    Ok(())
}

/// `spectrum dumpgenesis`: the genesis JSON of the selected chain (checked first: a file
/// that does not load is refused as `--chain` would refuse it).
pub fn dumpgenesis(chain: &ChainSelector) -> eyre::Result<()> {
    chain.load().wrap_err("cannot load the chain spec")?;
    let text = match chain {
        ChainSelector::Builtin(name) => BUILTIN_CHAINS
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| (*text).to_owned())
            .ok_or_else(|| eyre::eyre!("no built-in chain {name}"))?,
        ChainSelector::File(path) => std::fs::read_to_string(path)
            .wrap_err_with(|| format!("cannot read {}", path.display()))?,
    };
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(())
}

/// `spectrum removedb`: deletes `<datadir>/db` (after a `y` on stdin unless `--yes`). The
/// keystore, node key and seal records stay.
pub fn removedb(datadir: &DataDir, yes: bool) -> eyre::Result<()> {
    let db = datadir.db();
    if !db.exists() {
        println!("no database at {}", db.display());
        return Ok(());
    }
    if !yes {
        eprint!("Remove the chain database {}? [y/N] ", db.display());
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eyre::bail!("not removed");
        }
    }
    // Opening it first refuses while a node holds the database's lock.
    drop(open_unlocked(&db)?);
    std::fs::remove_dir_all(&db).wrap_err_with(|| format!("cannot remove {}", db.display()))?;
    println!("removed {}", db.display());
    Ok(())
}

/// `spectrum db checkpoint DIR`: a consistent copy of the database (hard links on the same
/// filesystem). RocksDB lets one process open a database, so this needs the node stopped: a
/// running node holds the lock (see docs/operations.md, "Backups").
pub fn checkpoint(datadir: &DataDir, dir: &Path) -> eyre::Result<()> {
    if dir.exists() {
        eyre::bail!(
            "{} exists: the checkpoint needs a new directory",
            dir.display()
        );
    }
    let db = open_unlocked(&datadir.db())?;
    db.checkpoint(dir)?;
    println!("checkpoint written to {}", dir.display());
    Ok(())
}

fn open_unlocked(path: &Path) -> eyre::Result<spectrum_storage::Database> {
    if !path.join("CURRENT").exists() {
        eyre::bail!("no database at {}", path.display());
    }
    spectrum_storage::Database::open(path).map_err(|error| {
        let text = error.to_string();
        if text.contains("lock") {
            eyre::eyre!(
                "the database {} is in use (a running node holds its lock): stop the node first",
                path.display()
            )
        } else {
            eyre::Report::new(error)
        }
    })
}
