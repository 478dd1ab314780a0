//! Spectrum's networks as data: one typed parameter table per network, the genesis files that
//! carry them, and the genesis block and state they define.
//!
//! **Owns:** [`ChainSpec`] (chain id, network id, Ethereum and Spectrum fork blocks, chief
//! contracts by era, Tribe period, rewards, the foundation burn, gas-limit floors, bad blocks),
//! parsing genesis JSON files with errors that name the file and field, and computing the
//! genesis header and state root.
//!
//! **Must not touch:** the database, the EVM or consensus checks. Other crates ask a
//! `ChainSpec` *which rules apply at block N*; they decide what the rules mean.
//!
//! The reference node selects Spectrum's fork numbers through environment variables and Go
//! constants; here every network is one JSON file in `genesis/` (built in for `mainnet`,
//! `testnet`, `devnet` and `dev`), and `--chain <path>` reads any other with the same schema.

mod alloc_rlp;
mod builtin;
pub mod dev;
mod error;
mod genesis;
mod json;
mod spec;

pub use alloc_rlp::decode_alloc_rlp;
pub use builtin::{BUILTIN_CHAINS, ChainSelector};
pub use error::{ChainSpecError, SpecFieldError};
pub use genesis::{Genesis, GenesisAccount};
pub use spec::{
    ChainSpec, Checkpoint, ChiefEntry, ContractEntry, EthereumForks, FoundationBurn,
    RewardSchedule, TribeParams,
};
