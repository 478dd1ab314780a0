use std::path::PathBuf;

/// A field of a genesis file that is missing, malformed or inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct SpecFieldError {
    /// The JSON path of the field, for example `alloc.0xab….balance` or `config.tribe.chiefs[1]`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl SpecFieldError {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Why a chain spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ChainSpecError {
    /// The file could not be read.
    #[error("cannot read chain spec {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a valid genesis file.
    #[error("invalid chain spec {origin}: {error}")]
    Invalid {
        /// The file name, or the built-in network's name.
        origin: String,
        /// The field and what is wrong with it.
        error: SpecFieldError,
    },
    /// `--chain` named neither a built-in network nor an existing file.
    #[error(
        "unknown chain `{0}`: expected mainnet, testnet, devnet, dev or the path of a genesis JSON file"
    )]
    UnknownChain(String),
}
