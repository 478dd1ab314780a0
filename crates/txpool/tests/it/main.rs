//! The integration tests of `spectrum-txpool`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod concurrency;
mod flood;
mod head_updates;
mod limits;
mod maintain;
mod ordering;
mod validation;
