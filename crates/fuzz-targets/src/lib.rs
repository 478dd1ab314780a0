//! Fuzz target bodies: one `pub fn <target>(data: &[u8])` per decoder of input from outside
//! the node, each calling the real public decoder and panicking only if a property fails: no
//! decoder may panic, and a decoded value must encode back to what was read (byte for byte for
//! the RLP types: a non-canonical encoding accepted would give the same block or transaction a
//! second hash).
//!
//! **Owns:** the target bodies ([`TARGETS`] lists them by name). The cargo-fuzz crate in
//! `fuzz/` (not a workspace member: it needs nightly) only calls them; `tests/corpus.rs`
//! replays the committed seed corpus `fuzz/corpus/<target>/` through them on stable Rust.
//!
//! **Must not touch:** the decoders themselves; a finding is fixed in the crate that owns the
//! decoder.

// A target panics exactly when a property fails: that is how the fuzzer reports a finding.
#![allow(clippy::expect_used, clippy::panic)]

mod p2p;
mod rlp;
mod text;

pub use p2p::{p2p_gossip, p2p_request, p2p_response};
pub use rlp::{block, header, receipt, transaction};
#[cfg(feature = "rpc")]
pub use text::rpc_params;
pub use text::{chain_file, genesis_json, keystore_json};

/// A target: its name (the cargo-fuzz binary and corpus directory) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("block", block),
    ("header", header),
    ("transaction", transaction),
    ("receipt", receipt),
    ("p2p_request", p2p_request),
    ("p2p_response", p2p_response),
    ("p2p_gossip", p2p_gossip),
    #[cfg(feature = "rpc")]
    ("rpc_params", rpc_params),
    ("chain_file", chain_file),
    ("genesis_json", genesis_json),
    ("keystore_json", keystore_json),
];
