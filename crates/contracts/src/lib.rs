//! Our own Tribe contracts for the chains we create (`dev` and private networks): a chief with
//! chief 1.0.0's behaviour, ChiefBase (epoch, signer limit, leaders, owner), POC (staking) and
//! Anmap (node key to wallet binding: where a validator's rewards go), written from the
//! behaviour in tribe.md §9 and §11 with the reference's ABI, so that new chains run the same
//! Tribe paths as mainnet.
//!
//! **Owns:** the compiled contracts (`contracts/out/`, rebuilt by `contracts/build.sh` from
//! `contracts/src/`), their installation into a genesis allocation
//! ([`tribe_genesis_alloc`]: the constructors run in revm, the resulting code and storage are
//! placed at fixed addresses), and the ABI ([`abi`]): encoders for the calls operators make,
//! selectors and bounded decoders of the views the node reads.
//!
//! **Must not touch:** the node's execution, consensus or storage. The engine reads these
//! contracts like any chief, through `spectrum-tribe-state`'s `ChiefContracts`, which decodes
//! their answers with this crate's [`abi`] (the one ABI module of the Tribe contracts).

pub mod abi;
mod dev_chain;
mod install;

use alloy_primitives::{Address, U256, address};

pub use dev_chain::dev_chain_with_signer_limit;
pub use install::{ContractsError, tribe_genesis_alloc};

/// Creation code of our chief (hex, from `contracts/out/Chief.bin`).
pub const CHIEF_CREATION_HEX: &str = include_str!("../../../contracts/out/Chief.bin");
/// Creation code of ChiefBase.
pub const CHIEF_BASE_CREATION_HEX: &str = include_str!("../../../contracts/out/ChiefBase.bin");
/// Creation code of POC.
pub const POC_CREATION_HEX: &str = include_str!("../../../contracts/out/Poc.bin");
/// Creation code of Anmap.
pub const ANMAP_CREATION_HEX: &str = include_str!("../../../contracts/out/Anmap.bin");

/// Where our chains hold the chief.
pub const CHIEF_ADDRESS: Address = address!("5ec7000000000000000000000000000000000001");
/// Where our chains hold ChiefBase.
pub const CHIEF_BASE_ADDRESS: Address = address!("5ec7000000000000000000000000000000000002");
/// Where our chains hold POC.
pub const POC_ADDRESS: Address = address!("5ec7000000000000000000000000000000000003");
/// Where our chains hold Anmap.
pub const ANMAP_ADDRESS: Address = address!("5ec7000000000000000000000000000000000004");

/// The chief version our contract behaves as.
pub const CHIEF_VERSION: &str = "1.0.0";
/// The Anmap version our contract behaves as (the reference's only one; the chain spec's
/// `anmap` entries name it).
pub const ANMAP_VERSION: &str = "0.0.1";

/// The parameters a new chain's contracts start with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TribeGenesisParams {
    /// The leaders (1 to 5); the first holds slot 0 of the first round.
    pub leaders: Vec<Address>,
    /// Slots per round: slot 0 for a leader, the others for VRF-picked stakers.
    pub signer_limit: u64,
    /// Blocks per epoch: the POC blacklist is emptied at every multiple.
    pub epoch: u64,
    /// Who manages leaders (ChiefBase owner).
    pub owner: Address,
    /// The initial minimum stake in wei.
    pub min_deposit: U256,
    /// Blocks between `stop` and `withdraw`.
    pub withdraw_wait: u64,
    /// Blocks per halving of the minimum stake (at most three halvings).
    pub deposit_halving: u64,
}
