//! Why a header or block breaks a Tribe rule: one variant per rule, carrying the values involved.

use alloy_primitives::{Address, B64, B256, U256};

use crate::{seal::SealError, signers::ProviderError, vrf::VrfError};

/// A Tribe consensus rule the header or block breaks (tribe.md, chain.md §7, errata.md).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TribeError {
    /// The block hash is on the network's bad-block list (chain.md §10).
    #[error("block {hash} is on the bad-block list")]
    BadBlock {
        /// The refused block's hash.
        hash: B256,
    },
    /// `header.parentHash` is not the hash of the parent it was checked against (tribe.md §2).
    #[error("parent hash {got} is not the parent's hash {expected}")]
    ParentHashMismatch {
        /// The parent's hash.
        expected: B256,
        /// The header's `parentHash`.
        got: B256,
    },
    /// `header.number` is not `parent.number + 1` (tribe.md §2).
    #[error("block number {got} does not follow parent number {parent}")]
    InvalidNumber {
        /// The parent's number.
        parent: u64,
        /// The header's number.
        got: u64,
    },
    /// The header's time is after the local clock (tribe.md §2, `ErrFutureBlock`). The caller
    /// decides whether to hold the block until then (the reference queues blocks at most 30 s
    /// ahead).
    #[error("block time {time} is in the future (now {now})")]
    FutureBlock {
        /// The header's time.
        time: u64,
        /// The clock's time.
        now: u64,
    },
    /// The nonce is neither all zeros nor all ones (tribe.md §2).
    #[error("nonce {nonce} is neither 0x0000000000000000 nor 0xffffffffffffffff")]
    InvalidNonce {
        /// The header's nonce.
        nonce: B64,
    },
    /// extraData is shorter than the era needs: 97 bytes before SIP100 (any longer length is
    /// accepted, errata E1), 226 from SIP100 (tribe.md §2, §3).
    #[error("extraData of {len} bytes is too short: at least {min} bytes needed")]
    ExtraDataTooShort {
        /// Length of the header's extraData.
        len: usize,
        /// The era's minimum.
        min: usize,
    },
    /// The mix digest is not zero (tribe.md §2).
    #[error("mixDigest {got} is not zero")]
    NonZeroMixDigest {
        /// The header's mixDigest.
        got: B256,
    },
    /// The uncle hash is not the hash of the empty list: Tribe blocks have no uncles
    /// (tribe.md §2).
    #[error("uncle hash {uncle_hash} is not the empty-list hash: uncles are not allowed")]
    HasUncles {
        /// The header's uncle hash.
        uncle_hash: B256,
    },
    /// The block body carries uncles (tribe.md §14 step 2).
    #[error("block body carries {count} uncles: uncles are not allowed")]
    UnclesInBody {
        /// How many uncles the body has.
        count: usize,
    },
    /// `gasUsed > gasLimit` (chain.md §7).
    #[error("gas used {used} is above the gas limit {limit}")]
    GasUsedAboveLimit {
        /// The header's gasUsed.
        used: u64,
        /// The header's gasLimit.
        limit: u64,
    },
    /// `gasLimit > 2^63 − 1` (chain.md §7).
    #[error("gas limit {limit} is above the maximum {max}")]
    GasLimitTooHigh {
        /// The header's gasLimit.
        limit: u64,
        /// 2^63 − 1.
        max: u64,
    },
    /// The gas limit is under the era's floor: 5,000, or 40,000,000 from Sip004 (chain.md §7).
    #[error("gas limit {limit} is below the floor {floor}")]
    GasLimitBelowFloor {
        /// The header's gasLimit.
        limit: u64,
        /// The floor at this block.
        floor: u64,
    },
    /// The gas limit moved by `parent / 1024` or more (chain.md §7).
    #[error("gas limit {got} is not within {max_delta} (exclusive) of the parent's {parent}")]
    GasLimitBound {
        /// The parent's gasLimit.
        parent: u64,
        /// The header's gasLimit.
        got: u64,
        /// `parent / 1024`; the change must be strictly smaller.
        max_delta: u64,
    },
    /// The difficulty is outside the era's range: 1..=3 before chief 1.0.0, 1..=6 from it
    /// (tribe.md §2).
    #[error("difficulty {got} is outside {min}..={max}")]
    DifficultyOutOfRange {
        /// The header's difficulty.
        got: U256,
        /// The era's smallest difficulty.
        min: u64,
        /// The era's largest difficulty.
        max: u64,
    },
    /// The difficulty is not the one the signer's role gives (tribe.md §6).
    #[error("difficulty {got} is not the signer's {expected}")]
    WrongDifficulty {
        /// The difficulty the signer's role gives (0 when the role gives none at all, see
        /// [`crate::expected_difficulty`]).
        expected: u64,
        /// The header's difficulty.
        got: U256,
    },
    /// The block comes sooner after its parent than the rule allows: `period` before SIP002,
    /// `period − 1` from SIP002 and then the signer's role delay (tribe.md §2, §7; errata E3).
    #[error("block time {got} is before the earliest allowed {earliest}")]
    TooEarly {
        /// The parent's time plus the minimum delay.
        earliest: u64,
        /// The header's time.
        got: u64,
    },
    /// The recovered signer may not seal this block (tribe.md §7.3).
    #[error("signer {signer} may not seal this block (slot {slot:?})")]
    UnauthorisedSigner {
        /// The recovered signer.
        signer: Address,
        /// The in-turn slot `N mod sl`; `None` when the signer list is empty.
        slot: Option<u64>,
    },
    /// The coinbase is the zero address from SIP100 (tribe.md §7.2).
    #[error("coinbase is the zero address")]
    ZeroCoinbase,
    /// No chief contract governs a block that needs one (tribe.md §5, chain.md §4).
    #[error("no chief contract governs block {number}")]
    NoChief {
        /// The block number.
        number: u64,
    },
    /// Chief 1.0.0 reported no leaders (tribe.md §5: the reference panics here; we refuse the
    /// block).
    #[error("chief 1.0.0 reported an empty leader list at parent {parent}")]
    NoLeaders {
        /// The parent's hash.
        parent: B256,
    },
    /// The signer set could not be read at the parent state (tribe.md §5: the block is refused).
    #[error("signer set: {0}")]
    Provider(#[from] ProviderError),
    /// The seal is unreadable (tribe.md §2).
    #[error("seal: {0}")]
    Seal(#[from] SealError),
    /// The VRF of extraData does not verify (tribe.md §4).
    #[error("VRF: {0}")]
    Vrf(#[from] VrfError),
    /// The caller gave a sender list that does not match the transactions.
    #[error("{senders} senders given for {transactions} transactions")]
    SendersLength {
        /// Senders given.
        senders: usize,
        /// Transactions in the block.
        transactions: usize,
    },
    /// A block from number 4 on has no transactions (tribe.md §8, `ErrTribeNotAllowEmptyTxList`).
    #[error("block has no transactions: the chief-update transaction is required")]
    NoTransactions,
    /// No chief-update transaction in a block from number 4 on (tribe.md §8).
    #[error("block has no chief-update transaction")]
    MissingChiefTx,
    /// A chief-update transaction at an index other than 0 while index 0 holds none
    /// (tribe.md §8).
    #[error("chief-update transaction at index {index} instead of 0")]
    ChiefTxNotFirst {
        /// Its index.
        index: usize,
    },
    /// A second chief-update transaction besides the one at index 0 (tribe.md §8).
    #[error("second chief-update transaction at index {index}")]
    DuplicateChiefTx {
        /// Index of the second one.
        index: usize,
    },
    /// The chief-update transaction is not sent by the block's signer (tribe.md §8).
    #[error("chief-update transaction sent by {sender}, block signed by {signer}")]
    ChiefTxSender {
        /// The transaction's sender.
        sender: Address,
        /// The block's signer.
        signer: Address,
    },
    /// From SIP100 the chief-update transaction's receipt must have status 1 (tribe.md §8).
    #[error("chief-update transaction reverted (or no receipt)")]
    ChiefTxFailed,
    /// From SIP100 the chief-update transaction's volunteer must be `takeMiner(P)`
    /// (tribe.md §8, §8.1).
    #[error("chief-update volunteer {got}, expected {expected}")]
    WrongVolunteer {
        /// What `takeMiner` gives at the parent state.
        expected: Address,
        /// The transaction's argument.
        got: Address,
    },
    /// From SIP003 every transaction must be EIP-155 protected (tribe.md §14, chain.md §8).
    #[error("transaction {index} ({hash}) is not EIP-155 protected")]
    UnprotectedTransaction {
        /// Its index in the block.
        index: usize,
        /// Its hash.
        hash: B256,
    },
}
