//! The integration tests of `spectrum-primitives`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
mod reference_chains;
mod typed_errors;
