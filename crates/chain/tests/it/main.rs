//! The integration tests of `spectrum-chain`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fork_safety;
mod import_work;
mod reference_chains;
mod state_cache;
