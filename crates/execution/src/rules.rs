//! Which rules apply to a block: Spectrum's (from a [`ChainSpec`]) or plain Ethereum's (for the
//! Ethereum test vectors), resolved per block into [`BlockRules`].

use std::sync::Arc;

use alloy_primitives::{Address, U256, address};
use revm::primitives::hardfork::SpecId;
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::is_chief_update_call;
use spectrum_primitives::{TransactionSigned, TxKind};

use crate::ExecutionError;

/// One Wei-denominated ether.
const ETHER: u128 = 1_000_000_000_000_000_000;

/// The Ethereum forks of the consensus test vectors this crate can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EthereumFork {
    /// Byzantium (EIP-100/140/196/197/198/211/214/649/658).
    Byzantium,
    /// Constantinople as first scheduled: Petersburg plus EIP-1283 SSTORE net metering.
    Constantinople,
    /// Petersburg ("ConstantinopleFix"): Byzantium + EIP-145/1014/1052/1234.
    Petersburg,
    /// Istanbul: Petersburg + EIP-152/1108/1344/1884/2028/2200.
    Istanbul,
}

impl EthereumFork {
    /// The fork a test vector's `network` names, if it is one of ours.
    pub fn from_test_network(network: &str) -> Option<Self> {
        match network {
            "Byzantium" => Some(Self::Byzantium),
            "Constantinople" => Some(Self::Constantinople),
            "ConstantinopleFix" | "Petersburg" => Some(Self::Petersburg),
            "Istanbul" => Some(Self::Istanbul),
            _ => None,
        }
    }

    /// The ethash block reward of this fork (EIP-649: 3 ETH; EIP-1234: 2 ETH).
    pub fn block_reward(self) -> U256 {
        match self {
            Self::Byzantium => U256::from(3 * ETHER),
            Self::Constantinople | Self::Petersburg | Self::Istanbul => U256::from(2 * ETHER),
        }
    }

    /// The difficulty bomb delay of this fork in blocks (EIP-649: 3M; EIP-1234: 5M).
    pub fn bomb_delay(self) -> u64 {
        match self {
            Self::Byzantium => 3_000_000,
            Self::Constantinople | Self::Petersburg | Self::Istanbul => 5_000_000,
        }
    }

    fn instruction_set(self) -> InstructionSet {
        match self {
            Self::Byzantium => InstructionSet::Ethereum(SpecId::BYZANTIUM),
            Self::Constantinople => InstructionSet::Constantinople,
            Self::Petersburg => InstructionSet::Ethereum(SpecId::PETERSBURG),
            Self::Istanbul => InstructionSet::Ethereum(SpecId::ISTANBUL),
        }
    }
}

/// The rules a [`crate::BlockExecutor`] applies.
#[derive(Debug, Clone)]
pub enum ExecutionRules {
    /// Spectrum's rules for the network `ChainSpec` describes.
    Spectrum(Arc<ChainSpec>),
    /// Plain Ethereum rules of one fork from block 0, chain id 1 (the consensus test vectors).
    Ethereum(EthereumFork),
}

/// The EVM instruction set of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InstructionSet {
    /// revm's table for this spec, unchanged.
    Ethereum(SpecId),
    /// Petersburg's table with EIP-1283 SSTORE (the Constantinople test network).
    Constantinople,
    /// Spectrum's Sip004 set: Byzantium + SHL/SHR/SAR, EXTCODEHASH, CREATE2 (Petersburg's table)
    /// + CHAINID and SELFBALANCE, with Byzantium prices (chain.md §9).
    Sip004,
}

impl InstructionSet {
    /// The revm spec the EVM runs at.
    pub(crate) fn spec_id(self) -> SpecId {
        match self {
            Self::Ethereum(spec) => spec,
            Self::Constantinople | Self::Sip004 => SpecId::PETERSBURG,
        }
    }
}

/// Spectrum's chief contracts as the EVM sees them (chain.md §4, §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChiefRules {
    /// Every chief contract of the network, whatever its era (`params.IsChiefAddress`).
    chiefs: Vec<Address>,
    /// `(caller, callee)` pairs that also run unmetered (`params.IsChiefCalled`).
    called_pairs: Vec<(Address, Address)>,
}

/// The `chief 1.0.0 → ChiefBase` and `ChiefBase → POC` pairs of the reference's built-in
/// networks. The reference checks these for every network at once, whichever one it runs
/// (`params.chiefCalledMap`, chain.md §9 "for any network's configured addresses").
const BUILTIN_CHIEF_CALLED: [(Address, Address); 6] = [
    // mainnet
    (
        address!("890eb8566550e7337c7788ff971a3996860c51b5"),
        address!("e1c749f45ee14180853e552d3349cc58972cd082"),
    ),
    (
        address!("e1c749f45ee14180853e552d3349cc58972cd082"),
        address!("b9b4ece952c8005f009801e5ec78e116f528c1d0"),
    ),
    // testnet
    (
        address!("754ff9bdc93c66ff235b7aaadcaeecdd63442657"),
        address!("a44b4ff09825f8c21fc4ad7faa125a0d6238d0fd"),
    ),
    (
        address!("a44b4ff09825f8c21fc4ad7faa125a0d6238d0fd"),
        address!("32bcf7d3b48a7ceaa1b45199cb94098d0b3b3112"),
    ),
    // devnet
    (
        address!("21c5dc409138205291d6a7ef2dbb1701ac02ff96"),
        address!("f096d7f8ae3cd0a85e593accac5e7bc38a756111"),
    ),
    (
        address!("f096d7f8ae3cd0a85e593accac5e7bc38a756111"),
        address!("48e0f07faf58bc6e713d5c6373ce4f2a8b5c359a"),
    ),
];

impl ChiefRules {
    fn new(spec: &ChainSpec) -> Self {
        let chiefs = spec
            .tribe
            .chiefs
            .iter()
            .map(|c| c.address)
            .filter(|a| !a.is_zero())
            .collect();
        let mut called_pairs = BUILTIN_CHIEF_CALLED.to_vec();
        // A network of our own (a genesis file) gets its own pairs too.
        let chief100 = spec.tribe.chiefs.iter().find(|c| c.version == "1.0.0");
        if let (Some(chief100), Some(base)) = (chief100, spec.tribe.chief_base) {
            called_pairs.push((chief100.address, base));
            if let Some(poc) = spec.tribe.poc {
                called_pairs.push((base, poc));
            }
        }
        called_pairs.sort_unstable();
        called_pairs.dedup();
        Self {
            chiefs,
            called_pairs,
        }
    }

    /// Whether `address` is any chief contract of the network (`params.IsChiefAddress`; the
    /// zero address never is).
    pub(crate) fn is_chief(&self, address: &Address) -> bool {
        self.chiefs.contains(address)
    }

    /// Whether a frame of `callee` started by `caller` runs without gas metering, unless the
    /// caller is still being constructed (chain.md §9).
    pub(crate) fn unmetered(&self, caller: &Address, callee: &Address) -> bool {
        self.is_chief(callee) || self.called_pairs.contains(&(*caller, *callee))
    }
}

/// Spectrum-only per-block facts.
#[derive(Debug, Clone)]
pub(crate) struct SpectrumBlock {
    /// The chief contracts.
    pub(crate) chief: Arc<ChiefRules>,
    /// SIP001 judged at the chain head, i.e. the parent (chain.md §11): the chief-update
    /// transaction is gas-free.
    pub(crate) sip001_at_head: bool,
    /// SIP003 at this block: unprotected transactions make the block invalid (chain.md §8).
    pub(crate) sip003: bool,
}

/// The rules of one block.
#[derive(Debug, Clone)]
pub(crate) struct BlockRules {
    /// The EVM instruction set.
    pub(crate) instructions: InstructionSet,
    /// EIP-155 chain id (CHAINID, transaction signatures).
    pub(crate) chain_id: u64,
    /// Whether each transaction's gas limit must fit in the gas the block has left. On Spectrum
    /// the reference only takes gas from the block's pool under SIP001 (judged at the head,
    /// chain.md §11), so before it the pool is not checked.
    pub(crate) gas_pool: bool,
    /// `Some` under Spectrum's rules.
    pub(crate) spectrum: Option<SpectrumBlock>,
}

impl BlockRules {
    /// Whether `tx` is the Tribe chief-update transaction, gas-free under SIP001 (chain.md §6:
    /// to any chief address, selector `0x1c1b8772`, SIP001 judged at the head, §11).
    pub(crate) fn is_chief_update(&self, tx: &TransactionSigned) -> bool {
        let Some(spectrum) = &self.spectrum else {
            return false;
        };
        spectrum.sip001_at_head && is_chief_update_call(tx, |to| spectrum.chief.is_chief(to))
    }

    /// Whether the fee of `tx` goes back to its sender instead of the block's beneficiary:
    /// transactions to any chief address are free (chain.md §6).
    pub(crate) fn fee_to_sender(&self, tx: &TransactionSigned) -> bool {
        match (&self.spectrum, tx.tx().to) {
            (Some(spectrum), TxKind::Call(to)) => spectrum.chief.is_chief(&to),
            _ => false,
        }
    }
}

/// Rules cached per executor: the chief table is built once.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedRules {
    rules: ExecutionRules,
    chief: Option<Arc<ChiefRules>>,
}

impl ResolvedRules {
    pub(crate) fn new(rules: ExecutionRules) -> Self {
        let chief = match &rules {
            ExecutionRules::Spectrum(spec) => Some(Arc::new(ChiefRules::new(spec))),
            ExecutionRules::Ethereum(_) => None,
        };
        Self { rules, chief }
    }

    pub(crate) fn rules(&self) -> &ExecutionRules {
        &self.rules
    }

    /// The rules of block `number`.
    pub(crate) fn at(&self, number: u64) -> Result<BlockRules, ExecutionError> {
        match (&self.rules, &self.chief) {
            (ExecutionRules::Ethereum(fork), _) => Ok(BlockRules {
                instructions: fork.instruction_set(),
                chain_id: 1,
                gas_pool: true,
                spectrum: None,
            }),
            (ExecutionRules::Spectrum(spec), Some(chief)) => {
                let active = |fork: Option<u64>| fork.is_some_and(|b| b <= number);
                // Spectrum activates Homestead through Byzantium at block 0 (chain.md §3); the
                // EVM here starts at Byzantium.
                if !active(spec.ethereum.byzantium_block) || !active(spec.ethereum.eip158_block) {
                    return Err(ExecutionError::UnsupportedFork {
                        number,
                        reason: "Spectrum execution needs Byzantium and EIP-158 active",
                    });
                }
                // chain.md §9: the Sip004 instruction set from the Sip004 block.
                let instructions = if spec.is_sip004(number) {
                    InstructionSet::Sip004
                } else {
                    InstructionSet::Ethereum(SpecId::BYZANTIUM)
                };
                // chain.md §11: `ApplyTransaction` judges SIP001 by the chain head, which is
                // the parent during import.
                let head = number.saturating_sub(1);
                Ok(BlockRules {
                    instructions,
                    chain_id: spec.chain_id,
                    gas_pool: spec.is_sip001(head),
                    spectrum: Some(SpectrumBlock {
                        chief: chief.clone(),
                        sip001_at_head: spec.is_sip001(head),
                        sip003: spec.is_sip003(number),
                    }),
                })
            }
            (ExecutionRules::Spectrum(_), None) => Err(ExecutionError::UnsupportedFork {
                number,
                reason: "chief table missing",
            }),
        }
    }
}
