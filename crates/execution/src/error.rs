//! Why a block cannot be executed, or does not match its header after execution.

use alloy_primitives::{Address, B256, Bloom};
use spectrum_primitives::GotExpected;
use spectrum_storage_api::StateError;

/// Why a transaction is not valid in its block (the block is then invalid).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The number of recovered senders differs from the number of transactions.
    #[error("{0} senders for the block's transactions")]
    SenderCount(GotExpected<usize>),
    /// An unprotected (pre-EIP-155) transaction in a block from SIP003 (chain.md §8).
    #[error("unprotected (pre-EIP-155) transaction refused from SIP003 (block {number})")]
    Unprotected {
        /// The block number.
        number: u64,
    },
    /// An EIP-155 transaction signed for another chain.
    #[error("chain id {0}")]
    ChainId(GotExpected<u64>),
    /// The transaction's nonce is not the sender's.
    #[error("nonce {0}")]
    Nonce(GotExpected<u64>),
    /// The transaction asks for more gas than the block has left.
    #[error("gas limit {gas_limit} exceeds the {available} gas left in the block")]
    BlockGasExhausted {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// Block gas limit minus the gas used by the earlier transactions.
        available: u64,
    },
    /// The gas limit does not cover the intrinsic gas.
    #[error("gas limit {gas_limit} below the intrinsic gas {intrinsic}")]
    IntrinsicGas {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The intrinsic gas it needs.
        intrinsic: u64,
    },
    /// The sender cannot pay `gas limit × gas price + value`.
    #[error("sender {sender} cannot pay gas and value")]
    InsufficientFunds {
        /// The sender.
        sender: Address,
    },
    /// Any other rule revm applies to transactions (nonce overflow, gas limit above the block's).
    #[error("{0}")]
    Other(String),
}

/// Why a block could not be executed or does not match its header.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// Transaction `index` is invalid.
    #[error("transaction {index}: {error}")]
    Transaction {
        /// Position in the block.
        index: usize,
        /// What is wrong with it.
        error: TxError,
    },
    /// Reading the parent state failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The state lacks the code of an account it lists (a corrupt state, not a bad block).
    #[error("code {0} missing from the state")]
    MissingCode(B256),
    /// The EVM failed for a reason that is neither the block's nor the state's fault.
    #[error("EVM failure in transaction {index}: {message}")]
    Evm {
        /// Position in the block.
        index: usize,
        /// revm's description.
        message: String,
    },
    /// A read-only call ran past its wall-clock budget ([`BlockExecutor::call_until`]); what it
    /// computed so far is discarded.
    ///
    /// [`BlockExecutor::call_until`]: crate::BlockExecutor::call_until
    #[error("call aborted: it ran past its time budget")]
    CallTimeout,
    /// A balance or gas sum left the range of its type.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
    /// The block needs a fork this crate does not implement (e.g. a chain without Byzantium).
    #[error("block {number}: unsupported fork configuration: {reason}")]
    UnsupportedFork {
        /// The block number.
        number: u64,
        /// What is missing.
        reason: &'static str,
    },
    /// The header's `gasUsed` differs from the executed gas.
    #[error("gas used: {0}")]
    GasUsedMismatch(GotExpected<u64>),
    /// The header's `receiptsRoot` differs from the executed receipts.
    #[error("receipts root: {0}")]
    ReceiptsRootMismatch(GotExpected<B256>),
    /// The header's `logsBloom` differs from the executed receipts.
    #[error("logs bloom: {0}")]
    LogsBloomMismatch(Box<GotExpected<Bloom>>),
    /// The header's `stateRoot` differs from the state after execution.
    #[error("state root: {0}")]
    StateRootMismatch(GotExpected<B256>),
}

impl ExecutionError {
    /// Transaction `index` is invalid because of `error`.
    pub(crate) fn tx(index: usize, error: TxError) -> Self {
        Self::Transaction { index, error }
    }
}
