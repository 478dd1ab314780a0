//! Why a transaction was refused, in go-ethereum's words so wallets show what users know.

use spectrum_storage_api::StateError;

/// Why the pool refused a transaction. `Display` is geth's message.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Larger than the pool accepts (128 KiB).
    #[error("oversized data")]
    Oversized,
    /// Not RLP of a legacy transaction.
    #[error("rlp: {0}")]
    Decode(String),
    /// An EIP-2718 typed transaction: Spectrum has legacy transactions only.
    #[error("transaction type not supported")]
    TypedTransaction,
    /// The signature does not recover, or it is for another chain.
    #[error("invalid sender")]
    InvalidSender,
    /// Unprotected (pre-EIP-155) after SIP003.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    Unprotected,
    /// A chief-update transaction from outside the block's signer.
    #[error("chief-update transactions are made by the block's signer only")]
    ChiefUpdate,
    /// Already in the pool.
    #[error("already known")]
    AlreadyKnown,
    /// Nonce below the account's.
    #[error("nonce too low")]
    NonceTooLow,
    /// Cannot pay for gas and value.
    #[error("insufficient funds for gas * price + value")]
    InsufficientFunds,
    /// Gas below the intrinsic gas.
    #[error("intrinsic gas too low")]
    IntrinsicGas,
    /// More gas than a block holds.
    #[error("exceeds block gas limit")]
    GasLimit,
    /// Below the node's minimum gas price, or too cheap to displace anything in a full pool.
    #[error("transaction underpriced")]
    Underpriced,
    /// Same nonce as a pooled transaction without a 10% higher price.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// The sender holds as many transactions as the pool allows one account, none of them
    /// with a higher nonce than the new one.
    #[error("txpool is full")]
    SenderFull,
    /// The account state could not be read.
    #[error("state unavailable: {0}")]
    State(#[from] StateError),
}
