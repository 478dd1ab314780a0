//! The Ethereum BlockchainTests runner: fixture format, ethash header rules, case runner.

pub mod consensus;
pub mod json;
pub mod runner;
