//! The integration tests of `spectrum-network`, one test binary (one link) for all of them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod gossip_scoring;
mod network;
