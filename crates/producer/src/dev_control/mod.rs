//! `--dev` only (issue 19): the control channel from RPC into block production, for the
//! methods Hardhat, anvil and viem drive a dev chain with (`evm_mine`, `anvil_mine`,
//! `evm_setAutomine`, `evm_setIntervalMining`, `evm_increaseTime`,
//! `evm_setNextBlockTimestamp`, `evm_snapshot`, `evm_revert`, `anvil_reset`).
//!
//! Every block made this way is a real Tribe block: sealed by the dev validator at its slot,
//! executed and checked by `Blockchain::insert_block` like any other, so a fresh node with
//! full validation imports the dev chain. Time travel therefore moves header time forward
//! only: [`DevClock`] is the node's one clock on `--dev` (the chain's near-future rule reads
//! it too), and a requested timestamp below the earliest the rules allow is refused.
//!
//! Commands are served one at a time by the producer's own loop (`run.rs`), between blocks,
//! so a revert never races a seal.

mod clock;
mod run;
mod skip;
#[cfg(test)]
mod tests;

use std::time::Duration;

use alloy_primitives::{Address, B256};
use tokio::sync::{mpsc, oneshot};

pub use clock::DevClock;

use crate::{ProducerError, SealRecordError};

/// The most blocks one `anvil_mine` / `hardhat_mine` may ask for.
pub const MAX_BLOCKS_PER_MINE: u64 = 10_000;

/// Why a dev command failed.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// Header time moves forward only: the chain's rules refuse an earlier block.
    #[error(
        "timestamp {got} is before the earliest the next block may have ({earliest}, the head's time plus the signer's delay): header time only moves forward"
    )]
    TimestampTooEarly {
        /// The requested timestamp.
        got: u64,
        /// The earliest allowed.
        earliest: u64,
    },
    /// More blocks than [`MAX_BLOCKS_PER_MINE`].
    #[error("at most {max} blocks per call, asked for {asked}")]
    TooManyBlocks {
        /// The request.
        asked: u64,
        /// The cap.
        max: u64,
    },
    /// Our block did not become the head (it should always on `--dev`).
    #[error("the sealed block {0} did not become the head")]
    NotCanonical(B256),
    /// Building or inserting failed.
    #[error(transparent)]
    Producer(#[from] ProducerError),
    /// Rewinding the chain failed.
    #[error("rewinding the chain: {0}")]
    Chain(#[from] spectrum_chain::ChainError),
    /// The seal record could not be rewritten after a rewind.
    #[error(transparent)]
    Record(#[from] SealRecordError),
    /// A time offset left its range.
    #[error("time offset out of range")]
    Overflow,
    /// `dev_skipSlot`: no signer but the validator itself has a slot to miss: the signer
    /// list (of `slots` slots; slot 0 is the leader's, never penalised) holds no staker, or
    /// none was reached within [`MAX_SKIP_BLOCKS`] blocks.
    #[error(
        "no other signer has a slot: the signer list ({slots} slots, slot 0 the leader's) holds no staker within {MAX_SKIP_BLOCKS} blocks"
    )]
    NoOtherSigner {
        /// The signer list's length (the chief's signer limit).
        slots: usize,
    },
    /// The producer is not running (the node is stopping).
    #[error("the block producer is not running")]
    Stopped,
}

/// A block the command made: number and hash.
pub type MinedBlock = (u64, B256);

/// The most blocks `dev_skipSlot` seals while waiting for another signer's slot.
pub const MAX_SKIP_BLOCKS: u64 = 64;

/// `dev_skipSlot`'s answer: whose in-turn slot the validator sealed instead, and the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedSlot {
    /// The signer that missed its slot (the chief update stops and blacklists it in POC).
    pub signer: Address,
    /// The block sealed in its slot.
    pub number: u64,
    /// That block's hash.
    pub hash: B256,
}

/// One command and where its answer goes.
pub(crate) enum DevCommand {
    Mine {
        blocks: u64,
        interval: u64,
        timestamp: Option<u64>,
        reply: oneshot::Sender<Result<Vec<MinedBlock>, DevError>>,
    },
    SetAutomine(bool, oneshot::Sender<Result<(), DevError>>),
    Automine(oneshot::Sender<Result<bool, DevError>>),
    SetInterval(Option<Duration>, oneshot::Sender<Result<(), DevError>>),
    IncreaseTime(u64, oneshot::Sender<Result<i64, DevError>>),
    SetNextTimestamp(u64, oneshot::Sender<Result<(), DevError>>),
    Snapshot(oneshot::Sender<Result<u64, DevError>>),
    Revert(u64, oneshot::Sender<Result<bool, DevError>>),
    Reset(oneshot::Sender<Result<(), DevError>>),
    Patch(
        Vec<spectrum_chain::DevPatch>,
        oneshot::Sender<Result<MinedBlock, DevError>>,
    ),
    SkipSlot(oneshot::Sender<Result<SkippedSlot, DevError>>),
}

/// What the producer service holds when dev controls are on.
pub(crate) struct DevParts {
    pub(crate) commands: mpsc::Receiver<DevCommand>,
    pub(crate) clock: std::sync::Arc<DevClock>,
}

/// The RPC's end of the channel (cheap to clone).
#[derive(Debug, Clone)]
pub struct DevControl {
    commands: mpsc::Sender<DevCommand>,
    clock: std::sync::Arc<DevClock>,
}

impl std::fmt::Debug for DevCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevCommand")
    }
}

impl DevControl {
    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, DevError>>) -> DevCommand,
    ) -> Result<T, DevError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| DevError::Stopped)?;
        answer.await.map_err(|_| DevError::Stopped)?
    }

    /// Seals `blocks` blocks now (`evm_mine`, `anvil_mine`): the first at `timestamp` (or
    /// the next-block timestamp set, or the clock), each next one `interval` seconds after
    /// the previous (0: by the clock). The clock follows the last block's time.
    pub async fn mine(
        &self,
        blocks: u64,
        interval: u64,
        timestamp: Option<u64>,
    ) -> Result<Vec<MinedBlock>, DevError> {
        if blocks > MAX_BLOCKS_PER_MINE {
            return Err(DevError::TooManyBlocks {
                asked: blocks,
                max: MAX_BLOCKS_PER_MINE,
            });
        }
        self.ask(|reply| DevCommand::Mine {
            blocks,
            interval,
            timestamp,
            reply,
        })
        .await
    }

    /// Automine on: a block for each transaction as it arrives; off: blocks only on
    /// `mine` or the mining interval.
    pub async fn set_automine(&self, on: bool) -> Result<(), DevError> {
        self.ask(|reply| DevCommand::SetAutomine(on, reply)).await
    }

    /// Whether automine is on.
    pub async fn automine(&self) -> Result<bool, DevError> {
        self.ask(DevCommand::Automine).await
    }

    /// A block every `every` (`None`: interval mining off).
    pub async fn set_interval(&self, every: Option<Duration>) -> Result<(), DevError> {
        self.ask(|reply| DevCommand::SetInterval(every, reply))
            .await
    }

    /// Moves the clock `seconds` forward; the total offset from the system clock.
    pub async fn increase_time(&self, seconds: u64) -> Result<i64, DevError> {
        self.ask(|reply| DevCommand::IncreaseTime(seconds, reply))
            .await
    }

    /// The next block gets `timestamp` (refused if the rules would refuse it).
    pub async fn set_next_timestamp(&self, timestamp: u64) -> Result<(), DevError> {
        self.ask(|reply| DevCommand::SetNextTimestamp(timestamp, reply))
            .await
    }

    /// Remembers the head (and the clock); the snapshot's id, from 1.
    pub async fn snapshot(&self) -> Result<u64, DevError> {
        self.ask(DevCommand::Snapshot).await
    }

    /// Back to snapshot `id`: the head and the clock it remembered; it and later snapshots
    /// are used up. False if there is no such snapshot (or its block left the chain).
    pub async fn revert(&self, id: u64) -> Result<bool, DevError> {
        self.ask(|reply| DevCommand::Revert(id, reply)).await
    }

    /// Back to genesis, the clock to the system's, every snapshot dropped.
    pub async fn reset(&self) -> Result<(), DevError> {
        self.ask(DevCommand::Reset).await
    }

    /// Applies `patches` (`anvil_setBalance`, `setCode`, `setNonce`, `setStorageAt`) in a
    /// block sealed now, which carries them in a transaction from the validator to
    /// `spectrum_chain::DEV_PATCH_ADDRESS` and nothing from the pool (see
    /// `spectrum_chain::dev_patch`).
    pub async fn patch(
        &self,
        patches: Vec<spectrum_chain::DevPatch>,
    ) -> Result<MinedBlock, DevError> {
        self.ask(|reply| DevCommand::Patch(patches, reply)).await
    }

    /// `dev_skipSlot`: seals blocks (at most [`MAX_SKIP_BLOCKS`]) until one falls in the
    /// in-turn slot of a signer other than the validator, and seals that one too, by the
    /// validator in its leader role at that role's delay: the signer misses its slot, so the
    /// block's chief update stops and blacklists it in POC as on mainnet (tribe.md §9).
    pub async fn skip_slot(&self) -> Result<SkippedSlot, DevError> {
        self.ask(DevCommand::SkipSlot).await
    }

    /// The clock the chain and the producer read on `--dev` (unix seconds).
    pub fn now(&self) -> u64 {
        spectrum_consensus::Clock::now(self.clock.as_ref())
    }
}

impl crate::ProducerService {
    /// Turns the dev controls on (`--dev`): the returned handle sends commands that this
    /// service serves between blocks; `clock` must be the chain's clock. The service's mode
    /// gives the start: `OnDemand` = automine (and its idle block), `Interval` = interval
    /// mining.
    pub fn with_dev_control(mut self, clock: std::sync::Arc<DevClock>) -> (Self, DevControl) {
        let (sender, commands) = mpsc::channel(64);
        self.dev = Some(DevParts {
            commands,
            clock: clock.clone(),
        });
        let control = DevControl {
            commands: sender,
            clock,
        };
        (self, control)
    }
}
