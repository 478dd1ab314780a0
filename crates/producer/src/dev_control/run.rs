//! The dev producer's loop: automine, interval mining and the idle block as before `--dev`
//! had controls, plus the commands of [`super::DevControl`], served between blocks.

use std::{collections::BTreeMap, time::Duration};

use alloy_primitives::B256;
use spectrum_consensus::Clock;
use tokio::{sync::broadcast, time::Instant};

use super::{DevCommand, DevError, DevParts, MinedBlock};
use crate::{ProducerError, ProducerService, ProductionMode};

/// The most snapshots kept; past it the oldest is dropped (a client that snapshots in a loop
/// must not grow the node's memory).
const MAX_SNAPSHOTS: usize = 10_000;

/// After a failed automatic block, wait this long before the next attempt.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// When blocks come without being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mining {
    /// A block as soon as a transaction is pending, one transaction per block.
    automine: bool,
    /// A block at least this often (`--dev.period`, `evm_setIntervalMining`).
    interval: Option<Duration>,
    /// With automine and no interval: an empty block after this long without one.
    idle: Option<Duration>,
}

impl Mining {
    fn from_mode(mode: ProductionMode) -> Self {
        match mode {
            ProductionMode::OnDemand { idle } => Self {
                automine: true,
                interval: None,
                idle: Some(idle),
            },
            ProductionMode::Interval(every) => Self {
                automine: false,
                interval: Some(every),
                idle: None,
            },
            ProductionMode::Slots => Self {
                automine: false,
                interval: None,
                idle: None,
            },
        }
    }

    /// How long after `last_block` the next automatic block is due (`None`: never).
    fn due_after(&self, pending: bool) -> Option<Duration> {
        if self.automine && pending {
            return Some(Duration::ZERO);
        }
        match (self.interval, self.automine) {
            (Some(every), _) => Some(every),
            (None, true) => self.idle,
            (None, false) => None,
        }
    }
}

/// What `evm_snapshot` remembers.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    number: u64,
    hash: B256,
    clock_offset: i64,
}

/// The loop's own state.
pub(super) struct DevState {
    mining: Mining,
    /// `evm_setNextBlockTimestamp`: the next block's time.
    next_timestamp: Option<u64>,
    snapshots: BTreeMap<u64, Snapshot>,
    next_snapshot: u64,
}

impl ProducerService {
    /// The `--dev` loop (see the module docs).
    pub(crate) async fn run_dev(
        self,
        mut dev: DevParts,
        mut new_transactions: broadcast::Receiver<B256>,
    ) {
        tracing::info!(mode = ?self.config.mode, "dev block production started (dev controls on)");
        let mut state = DevState {
            mining: Mining::from_mode(self.config.mode),
            next_timestamp: None,
            snapshots: BTreeMap::new(),
            next_snapshot: 1,
        };
        let mut last_block = Instant::now();
        let mut retry_at = Instant::now();
        let (mut commands_open, mut transactions_open) = (true, true);
        loop {
            let pending = state.mining.automine && self.transactions.has_pending();
            let due = state
                .mining
                .due_after(pending)
                .and_then(|after| last_block.checked_add(after))
                .map(|at| at.max(retry_at));
            tokio::select! {
                command = dev.commands.recv(), if commands_open => match command {
                    Some(command) => {
                        if self.serve(&dev, &mut state, command).await {
                            last_block = Instant::now();
                        }
                    }
                    None => commands_open = false,
                },
                () = sleep_until(due), if due.is_some() => {
                    let max_transactions = if pending { 1 } else { usize::MAX };
                    match self.mine_one(&dev, &mut state, None, max_transactions, Vec::new()).await {
                        Ok(_) => last_block = Instant::now(),
                        Err(error) => {
                            tracing::warn!(%error, "could not produce a dev block");
                            retry_at = Instant::now() + RETRY_AFTER_FAILURE;
                        }
                    }
                }
                received = new_transactions.recv(), if transactions_open && state.mining.automine => {
                    if matches!(received, Err(broadcast::error::RecvError::Closed)) {
                        transactions_open = false;
                    }
                }
            }
        }
    }

    /// Serves one command; true if it sealed a block.
    async fn serve(&self, dev: &DevParts, state: &mut DevState, command: DevCommand) -> bool {
        match command {
            DevCommand::Mine {
                blocks,
                interval,
                timestamp,
                reply,
            } => {
                let mined = self.mine(dev, state, blocks, interval, timestamp).await;
                let sealed = mined.as_ref().is_ok_and(|m| !m.is_empty());
                let _ = reply.send(mined);
                return sealed;
            }
            DevCommand::SetAutomine(on, reply) => {
                state.mining.automine = on;
                let _ = reply.send(Ok(()));
            }
            DevCommand::Automine(reply) => {
                let _ = reply.send(Ok(state.mining.automine));
            }
            DevCommand::SetInterval(every, reply) => {
                state.mining.interval = every;
                let _ = reply.send(Ok(()));
            }
            DevCommand::IncreaseTime(seconds, reply) => {
                let _ = reply.send(dev.clock.advance(seconds));
            }
            DevCommand::SetNextTimestamp(timestamp, reply) => {
                let result = self.earliest().and_then(|earliest| {
                    check_not_before(timestamp, earliest)?;
                    state.next_timestamp = Some(timestamp);
                    Ok(())
                });
                let _ = reply.send(result);
            }
            DevCommand::Snapshot(reply) => {
                let _ = reply.send(self.snapshot(dev, state));
            }
            DevCommand::Revert(id, reply) => {
                let _ = reply.send(self.revert(dev, state, id));
            }
            DevCommand::Reset(reply) => {
                let _ = reply.send(self.reset(dev, state));
            }
            DevCommand::Patch(patches, reply) => {
                let result = match self.patch_transaction(&patches) {
                    Ok(tx) => self
                        .mine_one(dev, state, None, 0, vec![tx])
                        .await
                        .map(|(number, hash, _)| (number, hash)),
                    Err(error) => Err(error),
                };
                let sealed = result.is_ok();
                let _ = reply.send(result);
                return sealed;
            }
            DevCommand::SkipSlot(reply) => {
                let result = self.skip_slot(dev, state).await;
                let sealed = result.is_ok();
                let _ = reply.send(result);
                return sealed;
            }
        }
        false
    }

    /// `blocks` blocks, `interval` seconds apart after the first (0: by the clock).
    async fn mine(
        &self,
        dev: &DevParts,
        state: &mut DevState,
        blocks: u64,
        interval: u64,
        timestamp: Option<u64>,
    ) -> Result<Vec<MinedBlock>, DevError> {
        let mut mined = Vec::new();
        let mut at = timestamp;
        for _ in 0..blocks {
            let (number, hash, time) = self
                .mine_one(dev, state, at, usize::MAX, Vec::new())
                .await?;
            mined.push((number, hash));
            at = match interval {
                0 => None,
                step => Some(time.checked_add(step).ok_or(DevError::Overflow)?),
            };
        }
        Ok(mined)
    }

    /// One block: at `at`, else at the timestamp set for the next block, else by the clock
    /// (never before the earliest the rules allow). A block stamped ahead of the clock moves
    /// the clock to it, so that the chain does not hold it as a future block.
    pub(super) async fn mine_one(
        &self,
        dev: &DevParts,
        state: &mut DevState,
        at: Option<u64>,
        max_transactions: usize,
        first: Vec<crate::Candidate>,
    ) -> Result<(u64, B256, u64), DevError> {
        let plan = self.current_plan()?;
        let timestamp = match at.or(state.next_timestamp) {
            Some(timestamp) => {
                check_not_before(timestamp, plan.earliest)?;
                dev.clock.set_now(timestamp)?;
                timestamp
            }
            None => {
                let timestamp = plan.earliest.max(dev.clock.now());
                if timestamp > dev.clock.now() {
                    dev.clock.set_now(timestamp)?;
                }
                timestamp
            }
        };
        let sealed = self.seal_at(plan, timestamp, max_transactions, first).await;
        if !matches!(sealed, Ok(Some(_))) {
            // The record was written before the insert failed: on --dev, a block that never
            // became ours must not stop sealing at its height.
            self.realign_record()?;
        }
        let block = sealed?.ok_or(DevError::NotCanonical(B256::ZERO))?;
        state.next_timestamp = None;
        Ok((block.number(), block.hash(), timestamp))
    }

    /// The validator's transaction carrying `patches`: after its chief-update transaction
    /// (hence the state nonce + 1), gas price 0 (it needs no balance), gas for its input.
    fn patch_transaction(
        &self,
        patches: &[spectrum_chain::DevPatch],
    ) -> Result<crate::Candidate, DevError> {
        let state = self
            .chain
            .provider()
            .latest()
            .map_err(ProducerError::from)?;
        let nonce = state
            .account(&self.signer)
            .map_err(|e| ProducerError::Storage(spectrum_storage_api::ProviderError::Backend(e.0)))?
            .map_or(0, |a| a.nonce)
            .checked_add(1)
            .ok_or(DevError::Overflow)?;
        let input = spectrum_chain::encode_dev_patches(patches);
        // 68 gas per input byte is the most any byte costs (Homestead to Istanbul).
        let gas_limit = u64::try_from(input.len())
            .ok()
            .and_then(|len| len.checked_mul(68))
            .and_then(|gas| gas.checked_add(21_000))
            .ok_or(DevError::Overflow)?;
        let tx = alloy_consensus::TxLegacy {
            chain_id: Some(self.chain.spec().chain_id),
            nonce,
            gas_price: 0,
            gas_limit,
            to: alloy_primitives::TxKind::Call(spectrum_chain::DEV_PATCH_ADDRESS),
            value: alloy_primitives::U256::ZERO,
            input,
        };
        let signed = spectrum_primitives::sign_transaction(tx, &self.config.key);
        Ok(crate::Candidate {
            tx: signed,
            sender: self.signer,
        })
    }

    /// Lowers the seal record to the head when it is above it (a sealed block that failed
    /// to insert).
    fn realign_record(&self) -> Result<(), DevError> {
        let (number, hash) = self.head()?;
        if self.config.record.last().is_some_and(|l| l.number > number) {
            self.config.record.rewind_for_dev(number, hash)?;
        }
        Ok(())
    }

    /// The earliest timestamp of the next block.
    fn earliest(&self) -> Result<u64, DevError> {
        Ok(self.current_plan()?.earliest)
    }

    fn head(&self) -> Result<(u64, B256), DevError> {
        self.chain
            .provider()
            .head()
            .map_err(ProducerError::from)?
            .ok_or(DevError::Producer(ProducerError::UnknownParent(B256::ZERO)))
    }

    fn snapshot(&self, dev: &DevParts, state: &mut DevState) -> Result<u64, DevError> {
        let (number, hash) = self.head()?;
        let id = state.next_snapshot;
        state.next_snapshot = id.checked_add(1).ok_or(DevError::Overflow)?;
        if state.snapshots.len() >= MAX_SNAPSHOTS {
            state.snapshots.pop_first();
        }
        state.snapshots.insert(
            id,
            Snapshot {
                number,
                hash,
                clock_offset: dev.clock.offset(),
            },
        );
        Ok(id)
    }

    /// Hardhat's rule: reverting to a snapshot uses it and every later one up.
    fn revert(&self, dev: &DevParts, state: &mut DevState, id: u64) -> Result<bool, DevError> {
        let Some(snapshot) = state.snapshots.get(&id).copied() else {
            return Ok(false);
        };
        let _later = state.snapshots.split_off(&id);
        let canonical = self
            .chain
            .provider()
            .canonical_hash(snapshot.number)
            .map_err(ProducerError::from)?;
        if canonical != Some(snapshot.hash) {
            return Ok(false);
        }
        self.rewind(dev, state, snapshot.number, snapshot.hash)?;
        dev.clock.set_offset(snapshot.clock_offset);
        Ok(true)
    }

    fn reset(&self, dev: &DevParts, state: &mut DevState) -> Result<(), DevError> {
        let genesis = self
            .chain
            .provider()
            .canonical_hash(0)
            .map_err(ProducerError::from)?
            .ok_or(DevError::Producer(ProducerError::UnknownParent(B256::ZERO)))?;
        self.rewind(dev, state, 0, genesis)?;
        state.snapshots.clear();
        dev.clock.set_offset(0);
        Ok(())
    }

    /// The head back to `number` (`hash`), and the seal record with it: on `--dev` sealing
    /// again at the heights thrown away is the point (see `SealRecord::rewind_for_dev`).
    fn rewind(
        &self,
        _dev: &DevParts,
        state: &mut DevState,
        number: u64,
        hash: B256,
    ) -> Result<(), DevError> {
        self.chain.rewind_to(number)?;
        self.config.record.rewind_for_dev(number, hash)?;
        state.next_timestamp = None;
        tracing::info!(number, %hash, "dev chain rewound");
        Ok(())
    }
}

fn check_not_before(timestamp: u64, earliest: u64) -> Result<(), DevError> {
    if timestamp < earliest {
        return Err(DevError::TimestampTooEarly {
            got: timestamp,
            earliest,
        });
    }
    Ok(())
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
