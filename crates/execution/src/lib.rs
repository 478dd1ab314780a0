//! Block execution on revm under Spectrum's EVM rules (or plain Ethereum rules, for the
//! Ethereum consensus test vectors).
//!
//! **Owns:** turning a [`RecoveredBlock`](spectrum_primitives::RecoveredBlock) and the state after
//! its parent into receipts, gas used and [`StateChanges`](spectrum_storage_api::StateChanges)
//! ([`BlockExecutor`]); the post-execution checks against the header ([`verify_receipts`],
//! [`verify_state_root`]); Spectrum's EVM deltas (chain.md §6-§9, §11, errata): the Sip004
//! instruction set, the chief gas exemption with its per-EVM-instance flag, free transactions to
//! chief addresses, the gas-free chief-update transaction, SIP003's ban on unprotected
//! transactions, the Tribe block reward and the foundation burn; and an in-memory state-root
//! computation ([`state_root`]) for tests and the test vectors.
//!
//! **Must not touch:** storage (it reads state only through a `StateProvider` and hands back
//! changes; committing them is `spectrum-storage`'s job), consensus (header rules, Tribe seal
//! and signer rules, difficulty, uncles, fork choice: the caller validates the header and
//! recovers the block's author before executing; of `spectrum-consensus` it uses only the one
//! definition of the chief-update predicate, `is_chief_update_call`), networking. revm stays behind this crate: no
//! revm type appears in its public API.
//!
//! How a block passes through:
//! 1. [`BlockExecutor::execute`] resolves the rules of the block's number (instruction set,
//!    chain id, Spectrum's SIP flags, some judged at the parent, chain.md §11) and checks what
//!    needs no state (chain id, SIP003).
//! 2. Each transaction runs on revm over an overlay of the parent state: our handler
//!    (`handler.rs`) applies geth 1.8's and Spectrum's fee rules, our EVM wrapper (`evm.rs`,
//!    `chief.rs`) runs chief frames without gas metering. Its changes are committed into the
//!    overlay with EIP-158/161 semantics and its receipt is built.
//! 3. Block rewards (ethash, or Tribe's reward and burn) are applied to the overlay, which then
//!    becomes the block's `StateChanges`.
//! 4. The caller checks the receipts against the header, computes the state root (here
//!    [`state_root::apply_changes_and_compute_root`] for an in-memory state; a database-backed
//!    trie elsewhere) and checks it.
//!
//! See `README.md` in this crate for how each Spectrum delta is built on revm.

mod call;
mod call_diff;
mod chief;
mod code_cache;
mod db;
mod deadline;
mod error;
mod evm;
mod executor;
mod handler;
mod inspect;
mod instructions;
mod rewards;
mod rules;
pub mod state_root;
mod trace;

pub use call::{CallOutcome, CallRequest};
pub use call_diff::ChangedAccount;
pub use code_cache::CODE_CACHE_BYTES;
pub use error::{ExecutionError, TxError};
pub use executor::{
    BlockBuilder, BlockExecutionOutput, BlockExecutor, block_executions_on_this_thread,
    verify_receipts, verify_state_root,
};
pub use rules::{EthereumFork, ExecutionRules};
pub use trace::{GethDebugTracingOptions, GethTrace, MAX_TRACE_BYTES, TraceError};

#[cfg(test)]
mod tests;
