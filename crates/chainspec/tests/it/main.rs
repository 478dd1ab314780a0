//! The integration tests of `spectrum-chainspec`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod genesis;
