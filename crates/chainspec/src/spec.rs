//! The typed parameter table of a network.

use alloy_primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::genesis::Genesis;

/// Ethereum forks by activation block; `None` = never. Spectrum activates Homestead through
/// Byzantium at block 0 and knows nothing later (chain.md §3); the later ones exist so the same
/// type can describe the Ethereum test vectors' networks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EthereumForks {
    /// Homestead.
    pub homestead_block: Option<u64>,
    /// EIP-150 (Tangerine Whistle).
    #[serde(rename = "eip150Block")]
    pub eip150_block: Option<u64>,
    /// EIP-155 replay protection.
    #[serde(rename = "eip155Block")]
    pub eip155_block: Option<u64>,
    /// EIP-158/161 (Spurious Dragon).
    #[serde(rename = "eip158Block")]
    pub eip158_block: Option<u64>,
    /// Byzantium.
    pub byzantium_block: Option<u64>,
    /// Constantinople (not on Spectrum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constantinople_block: Option<u64>,
    /// Petersburg (not on Spectrum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub petersburg_block: Option<u64>,
    /// Istanbul (not on Spectrum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub istanbul_block: Option<u64>,
}

/// One version of a chief contract: it governs blocks from `start_block` until the next entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChiefEntry {
    /// Contract version as the reference names it ("0.0.5", "0.0.6", "0.0.7", "1.0.0").
    pub version: String,
    /// First block it governs.
    pub start_block: u64,
    /// Its address.
    pub address: Address,
}

/// A versioned auxiliary contract (Meshbox, Anmap) with the block it starts at.
pub type ContractEntry = ChiefEntry;

/// Block reward: `initial >> ((N - sip100Block) / halvingInterval)` from SIP100 (chain.md §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RewardSchedule {
    /// Reward of the first rewarded block, in wei.
    #[serde(deserialize_with = "crate::json::u256")]
    pub initial: U256,
    /// Blocks between halvings.
    pub halving_interval: u64,
}

/// The one-time burn from the foundation account (mainnet, at chief 1.0.0; chain.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FoundationBurn {
    /// The block at whose end the burn happens.
    pub block: u64,
    /// The account burned from.
    pub address: Address,
    /// At most this many wei are burned (less if the balance is smaller).
    #[serde(deserialize_with = "crate::json::u256")]
    pub amount: U256,
}

/// Spectrum's own parameters: Tribe, SIPs, chief contracts, economics (chain.md §4-§7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TribeParams {
    /// Target seconds between blocks (the reference's 0 means 15; files say 15 explicitly).
    pub period: u64,
    /// SIP001: the chief-update transaction is gas-free.
    #[serde(rename = "sip001Block")]
    pub sip001_block: u64,
    /// SIP002: role-dependent delays, difficulty 3/2/1.
    #[serde(rename = "sip002Block")]
    pub sip002_block: u64,
    /// SIP003: only EIP-155 transactions in blocks.
    #[serde(rename = "sip003Block")]
    pub sip003_block: u64,
    /// SIP100 = chief 1.0.0: leaders, VRF, difficulty 1..6, block reward, burn.
    #[serde(rename = "sip100Block")]
    pub sip100_block: u64,
    /// Sip004: SHL/SHR/SAR, EXTCODEHASH, CREATE2, CHAINID, SELFBALANCE; 40M gas floor.
    #[serde(rename = "sip004Block")]
    pub sip004_block: u64,
    /// Chief contracts by era, ascending start block.
    pub chiefs: Vec<ChiefEntry>,
    /// ChiefBase 1.0.0 (leader list, limits).
    pub chief_base: Option<Address>,
    /// POC 1.0.0 (staking).
    pub poc: Option<Address>,
    /// Meshbox contracts (no consensus effect).
    pub meshbox: Vec<ContractEntry>,
    /// Anmap contracts (node key to wallet binding; no consensus effect).
    pub anmap: Vec<ContractEntry>,
    /// Block reward schedule from SIP100.
    pub block_reward: RewardSchedule,
    /// The foundation burn, if this network has one.
    pub foundation_burn: Option<FoundationBurn>,
    /// Minimum gas limit before Sip004.
    pub min_gas_limit: u64,
    /// Minimum gas limit from Sip004.
    #[serde(rename = "sip004MinGasLimit")]
    pub sip004_min_gas_limit: u64,
    /// Blocks refused on this network whatever their content.
    pub bad_blocks: Vec<B256>,
    /// First block to which the gas-limit floor and the parent/1024 bound apply (chain.md §7).
    /// 0 everywhere except devnet (58): the reference node's own devnet history breaks both
    /// rules in blocks 5..=57 (errata E5), and we must accept that history.
    #[serde(default)]
    pub gas_limit_rules_from: u64,
    /// Blocks every node of this network has, by number and hash: no other block may stand at
    /// such a number, and no branch may fork below the highest one the chain has reached.
    /// Devnet pins the snapshot blocks its reference node has built in (1, 2, 3 and 56, from
    /// `shared/testdata`); mainnet and testnet publish no hashes beyond their genesis.
    #[serde(default)]
    pub checkpoints: Vec<Checkpoint>,
    /// `spectrum --dev` only: blocks may carry state patches from their own signer (the
    /// `anvil_set*` methods; `spectrum_chain::dev_patch`). A chain says so explicitly
    /// (genesis/dev.json): a chain id cannot, since anyone may pick the same id, and the rule
    /// lets a signer write any state.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev_state_patches: bool,
}

/// A block every node of a network has (see [`TribeParams::checkpoints`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
}

/// Everything that defines a network: its identity, fork schedule, Tribe parameters and genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSpec {
    /// Short name ("mainnet", "devnet", ... or the file's `name`).
    pub name: String,
    /// EIP-155 chain id (`eth_chainId`, CHAINID).
    pub chain_id: u64,
    /// p2p network id (`net_version`): 1 on mainnet, as the reference.
    pub network_id: u64,
    /// Ethereum forks.
    pub ethereum: EthereumForks,
    /// Spectrum's parameters.
    pub tribe: TribeParams,
    /// The genesis block's header fields and allocation.
    pub genesis: Genesis,
}

fn active(fork: u64, number: u64) -> bool {
    number >= fork
}

impl ChainSpec {
    /// Whether SIP001 (gas-free chief-update transaction) applies at `number`.
    pub fn is_sip001(&self, number: u64) -> bool {
        active(self.tribe.sip001_block, number)
    }

    /// Whether SIP002 (role delays, difficulty 3/2/1) applies at `number`.
    pub fn is_sip002(&self, number: u64) -> bool {
        active(self.tribe.sip002_block, number)
    }

    /// Whether SIP003 (EIP-155 only) applies at `number`.
    pub fn is_sip003(&self, number: u64) -> bool {
        active(self.tribe.sip003_block, number)
    }

    /// Whether chief 1.0.0 rules (SIP100) apply at `number`.
    pub fn is_sip100(&self, number: u64) -> bool {
        active(self.tribe.sip100_block, number)
    }

    /// Whether the Sip004 EVM and gas floor apply at `number`.
    pub fn is_sip004(&self, number: u64) -> bool {
        active(self.tribe.sip004_block, number)
    }

    /// The chief contract governing block `number`: the entry with the largest start block
    /// not above it (chain.md §4), or `None` before the first.
    pub fn chief_at(&self, number: u64) -> Option<&ChiefEntry> {
        self.tribe
            .chiefs
            .iter()
            .rev()
            .find(|c| c.start_block <= number)
    }

    /// Whether `address` is any of this network's chief contracts (chain.md §4: EVM and fee
    /// rules treat every listed chief address alike, whatever the era).
    pub fn is_chief_address(&self, address: &Address) -> bool {
        self.tribe.chiefs.iter().any(|c| &c.address == address)
    }

    /// The minimum gas limit of block `number` (chain.md §7).
    pub fn min_gas_limit(&self, number: u64) -> u64 {
        if self.is_sip004(number) {
            self.tribe.sip004_min_gas_limit
        } else {
            self.tribe.min_gas_limit
        }
    }

    /// The reward credited to the coinbase of block `number` (chain.md §6): none before
    /// SIP100, then the initial reward halved every `halving_interval` blocks.
    pub fn block_reward(&self, number: u64) -> U256 {
        let Some(since) = number.checked_sub(self.tribe.sip100_block) else {
            return U256::ZERO;
        };
        let halvings = since
            .checked_div(self.tribe.block_reward.halving_interval)
            .unwrap_or(0);
        match usize::try_from(halvings) {
            Ok(h) if h < 256 => self.tribe.block_reward.initial >> h,
            _ => U256::ZERO,
        }
    }

    /// The foundation burn if it happens at block `number`.
    pub fn foundation_burn_at(&self, number: u64) -> Option<&FoundationBurn> {
        self.tribe
            .foundation_burn
            .as_ref()
            .filter(|b| b.block == number)
    }

    /// The hash pinned at `number` by [`TribeParams::checkpoints`], if any.
    pub fn checkpoint_at(&self, number: u64) -> Option<B256> {
        self.tribe
            .checkpoints
            .iter()
            .find(|c| c.number == number)
            .map(|c| c.hash)
    }

    /// The highest checkpoint number not above `number`, if any.
    pub fn last_checkpoint_at_or_below(&self, number: u64) -> Option<u64> {
        self.tribe
            .checkpoints
            .iter()
            .map(|c| c.number)
            .filter(|n| *n <= number)
            .max()
    }

    /// Whether `hash` is on the network's bad-block list.
    pub fn is_bad_block(&self, hash: &B256) -> bool {
        self.tribe.bad_blocks.contains(hash)
    }

    /// The Tribe period in seconds.
    pub fn period(&self) -> u64 {
        self.tribe.period
    }
}
