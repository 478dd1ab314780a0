//! The integration tests of `spectrum-execution`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ethereum;
mod ethereum_tests;
mod spectrum_devnet;
