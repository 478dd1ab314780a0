//! Integration tests of `spectrum-storage` against real RocksDB databases in temporary
//! directories. One test binary (modules below) so that RocksDB is linked once.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chain;
mod common;
mod corrupt;
mod crash;
mod genesis;
mod history;
mod model;
mod priors;
mod provider;
mod schema;
mod unwind;
