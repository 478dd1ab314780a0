//! The integration tests of `spectrum-bench`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod contracts;
mod generated_chain;
mod priors;
