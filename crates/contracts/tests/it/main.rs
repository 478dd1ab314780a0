//! The integration tests of `spectrum-contracts`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod anmap;
mod behaviour;
mod long_staking_list;
mod twin;
