//! The networks built into the binary, and `--chain` selection.

use std::{path::PathBuf, str::FromStr};

use crate::{ChainSpec, ChainSpecError};

/// The built-in networks: name and genesis file text (the files of `genesis/`).
pub const BUILTIN_CHAINS: [(&str, &str); 4] = [
    ("mainnet", include_str!("../../../genesis/mainnet.json")),
    ("testnet", include_str!("../../../genesis/testnet.json")),
    ("devnet", include_str!("../../../genesis/devnet.json")),
    ("dev", include_str!("../../../genesis/dev.json")),
];

/// What `--chain` names: a built-in network or a genesis file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainSelector {
    /// One of [`BUILTIN_CHAINS`].
    Builtin(&'static str),
    /// A genesis JSON file.
    File(PathBuf),
}

impl FromStr for ChainSelector {
    type Err = ChainSpecError;

    /// A built-in name wins; anything else must be an existing file.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((name, _)) = BUILTIN_CHAINS.iter().find(|(name, _)| *name == s) {
            return Ok(Self::Builtin(name));
        }
        let path = PathBuf::from(s);
        if path.is_file() {
            Ok(Self::File(path))
        } else {
            Err(ChainSpecError::UnknownChain(s.to_owned()))
        }
    }
}

impl ChainSelector {
    /// Loads the chain spec.
    pub fn load(&self) -> Result<ChainSpec, ChainSpecError> {
        match self {
            Self::Builtin(name) => ChainSpec::builtin(name),
            Self::File(path) => ChainSpec::from_file(path),
        }
    }

    /// A short name for directory names and logs.
    pub fn name(&self) -> String {
        match self {
            Self::Builtin(name) => (*name).to_owned(),
            Self::File(path) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

impl ChainSpec {
    /// A built-in network by name.
    pub fn builtin(name: &str) -> Result<Self, ChainSpecError> {
        let (name, text) = BUILTIN_CHAINS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ChainSpecError::UnknownChain(name.to_owned()))?;
        Self::from_json(name, text)
    }

    /// Spectrum mainnet (chain id 20180430).
    #[allow(
        clippy::expect_used,
        reason = "embedded at build time and parsed by the tests"
    )]
    pub fn mainnet() -> Self {
        Self::builtin("mainnet").expect("the built-in mainnet genesis is valid (tested)")
    }

    /// Spectrum testnet (chain id 2022).
    #[allow(
        clippy::expect_used,
        reason = "embedded at build time and parsed by the tests"
    )]
    pub fn testnet() -> Self {
        Self::builtin("testnet").expect("the built-in testnet genesis is valid (tested)")
    }

    /// Spectrum devnet (chain id 4).
    #[allow(
        clippy::expect_used,
        reason = "embedded at build time and parsed by the tests"
    )]
    pub fn devnet() -> Self {
        Self::builtin("devnet").expect("the built-in devnet genesis is valid (tested)")
    }

    /// The local development chain of `spectrum --dev` (chain id 1337).
    #[allow(
        clippy::expect_used,
        reason = "embedded at build time and parsed by the tests"
    )]
    pub fn dev() -> Self {
        Self::builtin("dev").expect("the built-in dev genesis is valid (tested)")
    }
}
