//! The integration tests of `spectrum-consensus`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod fork_choice;
mod header_mutations;
mod reference_chains;
mod seal;
mod tampered;
mod validation_reference_chains;
mod vrf;
