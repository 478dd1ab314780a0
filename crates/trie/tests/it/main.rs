//! The integration tests of `spectrum-trie`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod corrupt;
mod edge_cases;
mod large;
mod oracle;
mod touched;
