//! Chain files: reading and writing geth's export format (concatenated RLP blocks, plain or
//! gzip-compressed), so blocks can be moved between spectrum-rs and the reference node `smc`
//! (`smc export` / `smc import`).
//!
//! **Owns:** the byte stream of a chain file. [`chain_file::ChainFileReader`] turns a file into
//! [`Block`](spectrum_primitives::Block)s one at a time, each bounded by
//! [`Limits`](spectrum_primitives::Limits) and decoded by `spectrum-primitives`' bounded
//! decoders; [`chain_file::ChainFileWriter`] writes blocks back in the same format. Every failure
//! names the block's index in the file and its byte offset.
//!
//! **Must not touch:** validation, execution or storage. A block read here is only *well
//! formed*: whether it is valid (seal, roots, state) is decided by the consensus and execution
//! crates, and whether it is stored by the storage crate. This crate never looks at the chain
//! the blocks belong to.
//!
//! How a block passes through: `smc export` file → [`chain_file::ChainFileReader`] (RLP list
//! header read, size checked against the limit, exactly that many bytes read, `Block::decode_bounded`)
//! → the caller (the import command), which seals, validates, executes and stores it.

// Bytes here come from files of unknown origin: a panic on bad input would be a crash an attacker
// can trigger, so the non-test code must not contain any way to panic.
// `unwrap`, `expect` and `panic!` are denied workspace-wide (Cargo.toml `[workspace.lints]`);
// indexing, slicing and unchecked arithmetic are denied here, where the code is audited for them.
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

pub mod chain_file;

pub use chain_file::{ChainFileError, ChainFileReader, ChainFileWriter};
