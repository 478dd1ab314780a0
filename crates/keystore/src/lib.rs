//! Validator keys: the node key (Tribe block signer and p2p identity) at rest and in memory.
//!
//! **Owns:** geth-compatible v3 keystore files (Web3 Secret Storage: scrypt or pbkdf2 KDF,
//! aes-128-ctr, keccak-256 MAC) in `<datadir>/keystore/`, named as geth names them
//! (`UTC--<timestamp>--<address hex>`), written with mode 0600 in a 0700 directory; the
//! in-memory [`ValidatorKey`], whose `Debug` never shows the secret; password files; and the
//! [`KeySource`] the node loads its key from (keystore + password file, or an explicit plain hex
//! key, which logs a warning).
//!
//! **Must not touch:** signing, consensus, networking or the command line. This crate hands out
//! a [`ValidatorKey`]; what is signed with it is decided elsewhere.
//!
//! Every file read is bounded in size, every KDF parameter taken from a file is bounded in
//! memory and work, and every failure is a typed [`KeystoreError`] whose message says what to
//! do: bad input never panics. Keys only reach the disk encrypted.
//!
//! The crate implements the format itself on RustCrypto's scrypt, pbkdf2 and aes rather than
//! using `eth-keystore` 0.5, which fixes scrypt at n = 8192 (neither geth's standard nor light
//! parameters), names files by UUID, writes them with default permissions, reads them unbounded
//! and panics on a short IV or derived key from the file.

mod error;
mod key;
mod source;
mod store;
mod v3;

pub use error::KeystoreError;
pub use key::ValidatorKey;
pub use source::{KeySource, load_validator_key, read_password_file, read_plain_key_file};
pub use store::{Keystore, decrypt_key_file, key_file_name, keystore_dir};
pub use v3::ScryptParams;

/// Size bound of a v3 key file (geth's are about 500 bytes).
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// Size bound of a password file.
pub const MAX_PASSWORD_FILE_BYTES: u64 = 64 * 1024;
/// Size bound of a plain hex key file (64 hex digits, a `0x` and whitespace fit many times).
pub const MAX_PLAIN_KEY_FILE_BYTES: u64 = 1024;
