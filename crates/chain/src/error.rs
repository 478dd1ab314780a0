use alloy_primitives::{B256, Bloom};
use spectrum_consensus::{ProviderError, TribeError};
use spectrum_execution::ExecutionError;
use spectrum_primitives::GotExpected;

/// Why a block was not imported. Nothing of it was written.
///
/// Two kinds, told apart by [`ChainError::is_invalid_block`]: **the block is invalid** (a
/// consensus rule, the body against the header, execution against the header: the sender of
/// the block is at fault and the block may be remembered as bad), and **we could not decide**
/// (our database, a read of our own state, an internal limit, a block that is merely early,
/// a parent we lack or a fork we refuse to follow): nobody is at fault and the block may be
/// tried again later. Only the first kind may ever penalise a peer.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    // ---- dev state patches (issue 19) ----
    /// A dev-chain block's state patch transaction carries no valid patch (`dev_patch.rs`).
    #[error("block {number} {hash}: {source}")]
    DevPatch {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// What is wrong.
        source: crate::DevPatchError,
    },
    /// The parent is not in the database.
    #[error("block {number} {hash}: unknown parent {parent}")]
    UnknownParent {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The missing parent.
        parent: B256,
    },
    /// Timestamp more than `MAX_FUTURE_SECS` ahead of the local clock (the reference's
    /// `ErrFutureBlock` beyond its 30 s queue).
    #[error("block {number} {hash}: timestamp {time} is too far ahead of the local clock {now}")]
    FutureBlock {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// Its timestamp.
        time: u64,
        /// The local clock.
        now: u64,
    },
    /// Timestamp ahead of the local clock by no more than the allowed drift, but the queue of
    /// such blocks is full: not the block's fault.
    #[error("block {number} {hash}: near-future block not held, the queue is full")]
    FutureQueueFull {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
    },
    /// On the network's bad-block list.
    #[error("block {number} {hash} is on the bad-block list")]
    BadBlock {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
    },
    /// Refused before as invalid: remembered, not validated again.
    #[error("block {number} {hash} was refused before as invalid")]
    KnownBad {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
    },
    /// Built on a block refused as invalid. The block itself was never judged (a peer may
    /// relay it honestly before executing its parent), so this is not the block's fault.
    #[error("block {number} {hash} descends from the refused block {ancestor}")]
    BadAncestor {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The refused ancestor.
        ancestor: B256,
    },
    /// Another block than the network's checkpoint at this number.
    #[error("block {number} {hash} is not the checkpoint {expected}")]
    CheckpointMismatch {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The checkpoint's hash.
        expected: B256,
    },
    /// Its branch leaves the canonical chain below a checkpoint the chain has passed.
    #[error("block {number} {hash} forks at {fork_point}, below the checkpoint at {checkpoint}")]
    BelowCheckpoint {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The last canonical block of its branch.
        fork_point: u64,
        /// The checkpoint.
        checkpoint: u64,
    },
    /// Its branch leaves the canonical chain more than the allowed reorg depth below the head:
    /// we do not follow it (an honest peer may be on such a fork; it is not its fault).
    #[error(
        "block {number} {hash} forks at {fork_point}, more than {max_depth} blocks below the head {head}"
    )]
    ReorgTooDeep {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The last canonical block of its branch (or the deepest block looked at).
        fork_point: u64,
        /// The head's number.
        head: u64,
        /// The allowed depth.
        max_depth: u64,
    },
    /// The block's branch was heavier, but an earlier block of the branch failed when it was
    /// executed: the old chain was restored. The failing block is remembered as bad; the block
    /// inserted passed its own checks, so this is not its sender's fault.
    #[error(
        "block {number} {hash}: its branch failed at block {failed_number} {failed_hash}: {source}"
    )]
    BranchFailed {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The branch block that failed.
        failed_number: u64,
        /// Its hash.
        failed_hash: B256,
        /// Why it failed.
        source: Box<ChainError>,
    },
    /// Number is not parent + 1.
    #[error("wrong block number: {0}")]
    WrongNumber(GotExpected<u64>),
    /// The consensus rules refuse the block (or could not be applied: see
    /// [`ChainError::is_invalid_block`] for which [`TribeError`]s are the block's fault).
    #[error("block {number} {hash}: {source}")]
    Invalid {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// The rule and its values (boxed: the largest variant, and errors travel by value).
        source: Box<TribeError>,
    },
    /// The body's transactions do not hash to the header's root.
    #[error("transactions root mismatch: {0}")]
    TransactionsRoot(GotExpected<B256>),
    /// The body's uncles do not hash to the header's.
    #[error("uncle hash mismatch: {0}")]
    OmmersHash(GotExpected<B256>),
    /// A transaction's signature yields no sender.
    #[error("block {number}: transaction {index} has an invalid signature: {source}")]
    Sender {
        /// The block's number.
        number: u64,
        /// The transaction's index.
        index: usize,
        /// Why.
        source: spectrum_primitives::SignatureError,
    },
    /// Execution failed or disagrees with the header (gas used, receipts root, bloom).
    #[error("block {number} {hash}: {source}")]
    Execution {
        /// The block's number.
        number: u64,
        /// Its hash.
        hash: B256,
        /// What failed.
        source: spectrum_execution::ExecutionError,
    },
    /// Restoring the state of block `number` while unwinding gave another root than the
    /// stored header's: our trie and history disagree (never the fault of a block).
    #[error("unwinding to block {number}: restored state root mismatch: {mismatch}")]
    UnwindStateRoot {
        /// The block unwound to.
        number: u64,
        /// Restored vs stored header.
        mismatch: GotExpected<B256>,
    },
    /// A block came with its execution outcome (our producer's) that is not this block's or
    /// disagrees with it (`crate::built`).
    #[error("block {number} {hash}: carried execution outcome: {field} mismatch: {mismatch}")]
    CarriedOutcome {
        /// The block's number.
        number: u64,
        /// The block's hash.
        hash: B256,
        /// What disagreed.
        field: crate::CarriedField,
        /// Outcome vs block (an address as a 32-byte word).
        mismatch: GotExpected<B256>,
    },
    /// The state root after execution differs from the header's.
    #[error("block {number}: state root mismatch: {mismatch}")]
    StateRoot {
        /// The block's number.
        number: u64,
        /// Computed vs header.
        mismatch: GotExpected<B256>,
    },
    /// The logs bloom differs from the header's.
    #[error("block {number}: logs bloom mismatch")]
    Bloom {
        /// The block's number.
        number: u64,
        /// Computed vs header.
        mismatch: Box<GotExpected<Bloom>>,
    },
    /// A number outgrew its type (total difficulty, block number).
    #[error("{0} overflows")]
    Overflow(&'static str),
    /// The database has no head (not initialised).
    #[error("the database has no head: initialise it with a genesis first")]
    NoHead,
    /// A stored block has no total difficulty.
    #[error("no total difficulty stored for block {0}")]
    MissingTotalDifficulty(B256),
    /// A canonical block the chain needs has no canonical mapping.
    #[error("no canonical block {0}")]
    MissingCanonical(u64),
    /// A block the chain needs is missing from the database.
    #[error("block {0} is missing from the database")]
    MissingBlock(B256),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] spectrum_storage_api::ProviderError),
    /// Reading state failed.
    #[error(transparent)]
    State(#[from] spectrum_storage_api::StateError),
    /// The trie's stored nodes are broken or unreadable.
    #[error("state trie: {0}")]
    Trie(#[from] spectrum_trie::TrieError),
}

impl ChainError {
    /// Whether the block itself is invalid (its sender is at fault), as opposed to our failure
    /// or a block we merely cannot take now. Only `true` may penalise the peer that sent it,
    /// and only then is the block remembered as bad.
    pub fn is_invalid_block(&self) -> bool {
        match self {
            Self::BadBlock { .. }
            | Self::KnownBad { .. }
            | Self::CheckpointMismatch { .. }
            | Self::BelowCheckpoint { .. }
            | Self::FutureBlock { .. }
            | Self::WrongNumber(_)
            | Self::TransactionsRoot(_)
            | Self::OmmersHash(_)
            | Self::Sender { .. }
            | Self::StateRoot { .. }
            | Self::Bloom { .. }
            // Total difficulty and block number only overflow on what the block claims.
            | Self::Overflow(_) => true,
            Self::Invalid { source, .. } => tribe_error_is_invalid(source),
            Self::Execution { source, .. } => execution_error_is_invalid(source),
            Self::DevPatch { source, .. } => !matches!(source, crate::DevPatchError::State(_)),
            Self::UnknownParent { .. }
            | Self::BadAncestor { .. }
            | Self::ReorgTooDeep { .. }
            | Self::BranchFailed { .. }
            | Self::FutureQueueFull { .. }
            | Self::UnwindStateRoot { .. }
            // Our own build's fault, not the block's sender's.
            | Self::CarriedOutcome { .. }
            | Self::NoHead
            | Self::MissingTotalDifficulty(_)
            | Self::MissingCanonical(_)
            | Self::MissingBlock(_)
            | Self::Storage(_)
            | Self::State(_)
            | Self::Trie(_) => false,
        }
    }
}

/// Whether a Tribe verdict is about the block. Not so: a read of our own state failing (the
/// signer set, the volunteer lists; tribe.md §5 refuses the block, but the fault is ours),
/// the consensus clock (the chain decides about near-future blocks), or a sender list the
/// caller got wrong.
fn tribe_error_is_invalid(error: &TribeError) -> bool {
    !matches!(
        error,
        TribeError::Provider(ProviderError::MissingState { .. } | ProviderError::CallFailed { .. })
            | TribeError::FutureBlock { .. }
            | TribeError::SendersLength { .. }
    )
}

/// Whether an execution failure is about the block: an invalid transaction or a result that
/// differs from the header. Not so: reading our state, missing code, an EVM failure, our own
/// arithmetic limits (the reference computes balances with big integers) or a fork we lack.
fn execution_error_is_invalid(error: &ExecutionError) -> bool {
    match error {
        ExecutionError::Transaction { .. }
        | ExecutionError::GasUsedMismatch(_)
        | ExecutionError::ReceiptsRootMismatch(_)
        | ExecutionError::LogsBloomMismatch(_)
        | ExecutionError::StateRootMismatch(_) => true,
        ExecutionError::State(_)
        | ExecutionError::MissingCode(_)
        | ExecutionError::Evm { .. }
        | ExecutionError::CallTimeout
        | ExecutionError::Overflow(_)
        | ExecutionError::UnsupportedFork { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::Address;
    use spectrum_execution::TxError;

    use super::*;

    fn invalid(source: TribeError) -> ChainError {
        ChainError::Invalid {
            number: 9,
            hash: B256::ZERO,
            source: Box::new(source),
        }
    }

    fn execution(source: ExecutionError) -> ChainError {
        ChainError::Execution {
            number: 9,
            hash: B256::ZERO,
            source,
        }
    }

    /// Broken rules are the block's fault.
    #[test]
    fn broken_rules_are_invalid_blocks() {
        let rules = [
            invalid(TribeError::UnauthorisedSigner {
                signer: Address::ZERO,
                slot: Some(1),
            }),
            invalid(TribeError::DifficultyOutOfRange {
                got: alloy_primitives::U256::MAX,
                min: 1,
                max: 6,
            }),
            execution(ExecutionError::Transaction {
                index: 1,
                error: TxError::Unprotected { number: 9 },
            }),
            execution(ExecutionError::GasUsedMismatch(GotExpected::new(1, 2))),
            ChainError::StateRoot {
                number: 9,
                mismatch: GotExpected::new(B256::ZERO, B256::repeat_byte(1)),
            },
            ChainError::CheckpointMismatch {
                number: 1,
                hash: B256::ZERO,
                expected: B256::repeat_byte(1),
            },
            ChainError::KnownBad {
                number: 1,
                hash: B256::ZERO,
            },
        ];
        for error in rules {
            assert!(error.is_invalid_block(), "{error}");
        }
    }

    /// Item 5 of the safety issue: failing reads of our own state, our database, a block that
    /// is merely early or a fork we refuse to follow are nobody's fault (the old code had only
    /// `Invalid { reason: String }`, which sync classed as the peer's fault whatever the cause).
    #[test]
    fn our_failures_are_not_invalid_blocks() {
        let ours = [
            invalid(TribeError::Provider(ProviderError::CallFailed {
                version: "1.0.0".to_owned(),
                address: Address::ZERO,
                call: "getNormalList()".to_owned(),
                number: 8,
                reason: "list longer than any chief contract returns".to_owned(),
            })),
            invalid(TribeError::Provider(ProviderError::MissingState {
                number: 8,
                hash: B256::ZERO,
            })),
            invalid(TribeError::FutureBlock { time: 10, now: 9 }),
            execution(ExecutionError::MissingCode(B256::ZERO)),
            execution(ExecutionError::Overflow("balance")),
            ChainError::UnwindStateRoot {
                number: 9,
                mismatch: GotExpected::new(B256::ZERO, B256::repeat_byte(1)),
            },
            ChainError::FutureQueueFull {
                number: 9,
                hash: B256::ZERO,
            },
            ChainError::UnknownParent {
                number: 9,
                hash: B256::ZERO,
                parent: B256::ZERO,
            },
            ChainError::ReorgTooDeep {
                number: 9,
                hash: B256::ZERO,
                fork_point: 1,
                head: 2000,
                max_depth: 1024,
            },
            ChainError::BadAncestor {
                number: 9,
                hash: B256::ZERO,
                ancestor: B256::ZERO,
            },
            ChainError::MissingBlock(B256::ZERO),
            ChainError::NoHead,
        ];
        for error in ours {
            assert!(!error.is_invalid_block(), "{error}");
        }
    }
}
