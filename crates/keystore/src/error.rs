//! The keystore's typed errors. Messages name the file or account and say what to do; none of
//! them ever contains key material.

use std::path::PathBuf;

use alloy_primitives::Address;

/// Why a key could not be created, stored, found or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// The MAC did not match: the password is wrong (or the ciphertext was altered, which the
    /// format cannot tell apart).
    #[error("could not decrypt key with given password (key file {path})")]
    WrongPassword { path: PathBuf },
    /// The keystore directory holds no key file.
    #[error(
        "no key in the keystore {dir}: create one with `spectrum account new` or import one with `spectrum account import`"
    )]
    NoKeys { dir: PathBuf },
    /// No key file holds the requested account.
    #[error("no key for account {address} in the keystore {dir}")]
    NoSuchAccount { address: Address, dir: PathBuf },
    /// Several keys and no account chosen.
    #[error(
        "{} keys in the keystore {dir} ({}): choose one with --unlock ADDRESS",
        .addresses.len(),
        join(.addresses)
    )]
    SeveralKeys {
        dir: PathBuf,
        addresses: Vec<Address>,
    },
    /// Several key files hold the requested account.
    #[error("several key files hold account {address}: {}", join_paths(.paths))]
    AmbiguousAccount {
        address: Address,
        paths: Vec<PathBuf>,
    },
    /// Importing a key the keystore already has.
    #[error("account already exists: {address} is in {path}")]
    AlreadyExists { address: Address, path: PathBuf },
    /// The file names one account and decrypts to another.
    #[error("key content mismatch in {path}: the file names account {named}, its key is {actual}")]
    KeyMismatch {
        path: PathBuf,
        named: Address,
        actual: Address,
    },
    /// Not a v3 key file, or one with unsupported or out-of-bounds parameters.
    #[error("malformed key file {path}: {reason}")]
    MalformedKeyFile { path: PathBuf, reason: String },
    /// A private key that is not 32 bytes long.
    #[error("wrong key length in {origin}: {got} bytes, a private key has 32")]
    WrongKeyLength { origin: String, got: usize },
    /// 32 bytes that are not a secp256k1 private key (zero, or not below the group order).
    #[error("{origin} does not hold a valid secp256k1 private key")]
    InvalidSecretKey { origin: String },
    /// A plain key that is not hexadecimal.
    #[error("{origin} is not a hex private key (64 hex digits, `0x` optional)")]
    InvalidHex { origin: String },
    /// A file larger than its bound.
    #[error("{what} {path} is larger than {max} bytes")]
    FileTooLarge {
        what: &'static str,
        path: PathBuf,
        max: u64,
    },
    /// A password file that is not UTF-8.
    #[error("password file {path} is not UTF-8 text")]
    PasswordNotUtf8 { path: PathBuf },
    /// Reading a file or directory failed.
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// Writing a file or directory failed.
    #[error("cannot write {what} {path}: {source}")]
    Write {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// Encrypting a new key file failed (the parameters are this crate's own, so this is a bug).
    #[error("cannot encrypt the key: {0}")]
    Encrypt(String),
    /// The operating system gave no randomness for a new key, salt or IV.
    #[error("no randomness from the operating system: {0}")]
    NoRandomness(String),
}

fn join(addresses: &[Address]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
