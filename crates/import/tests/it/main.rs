//! The integration tests of `spectrum-import`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chain_file;
mod no_allocation_for_oversized;
