//! Where a node keeps its files: `<datadir>/db` holds the RocksDB database.

use std::path::{Path, PathBuf};

use spectrum_chainspec::ChainSelector;

/// The data directory of a node.
#[derive(Debug, Clone)]
pub struct DataDir(PathBuf);

impl DataDir {
    /// `--datadir` if given, else the chain's default under the home directory: `~/.spectrum`
    /// for mainnet and `~/.spectrum/<chain>` for the others, as the reference node lays them out.
    pub fn resolve(explicit: Option<&Path>, chain: &ChainSelector) -> eyre::Result<Self> {
        if let Some(path) = explicit {
            return Ok(Self(path.to_owned()));
        }
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .ok_or_else(|| eyre::eyre!("HOME is not set: pass --datadir"))?;
        let base = home.join(".spectrum");
        Ok(Self(match chain.name().as_str() {
            "mainnet" => base,
            name => base.join(name),
        }))
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The database directory.
    pub fn db(&self) -> PathBuf {
        self.0.join("db")
    }
}
