//! Where import's time goes, timed inside the real import code.
//!
//! Every block that is executed on the head passes through the same phases; each lap is
//! recorded twice: in the metrics registry (`spectrum_chain_import_seconds{phase}`), and in
//! totals this chain keeps ([`crate::Blockchain::import_phases`]) so that `spectrum-bench`
//! prints what the node itself measured instead of re-implementing the steps.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// How many phases there are.
pub const PHASES: usize = 8;

/// One step of importing a block onto the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Known/bad-block checks, parent, number, transactions root, ommers hash, total
    /// difficulty, head.
    Checks,
    /// Sender recovery (secp256k1), over every core.
    Recover,
    /// The consensus rules before and after execution, and the fee recipient.
    Validate,
    /// The EVM over the parent's state.
    Execute,
    /// Gas used, bloom and receipts root against the header.
    Receipts,
    /// Storage tries, account trie and the state root.
    StateRoot,
    /// Building and writing the block's batch.
    Commit,
    /// [`crate::Blockchain::prepare_blocks`]: a batch's senders, seals and VRF proofs over
    /// every core, ahead of its in-order import (wall time, all threads together).
    Prepare,
}

impl Phase {
    /// Every phase, in the order a block passes through them (a batch's preparation, which
    /// comes before, last).
    pub const ALL: [Self; PHASES] = [
        Self::Checks,
        Self::Recover,
        Self::Validate,
        Self::Execute,
        Self::Receipts,
        Self::StateRoot,
        Self::Commit,
        Self::Prepare,
    ];

    /// Its metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Checks => "checks",
            Self::Recover => "recover",
            Self::Validate => "validate",
            Self::Execute => "execute",
            Self::Receipts => "receipts",
            Self::StateRoot => "state_root",
            Self::Commit => "commit",
            Self::Prepare => "prepare",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What the chain's imports took so far, phase by phase (a snapshot of running totals; the
/// difference of two snapshots times what happened between them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportPhases {
    /// Time per phase, indexed as [`Phase::ALL`].
    pub time: [Duration; PHASES],
    /// Blocks executed and committed on the head.
    pub blocks: u64,
    /// Account and storage-slot writes committed (each also writes a history entry).
    pub state_writes: u64,
    /// Trie node writes and deletions committed.
    pub trie_writes: u64,
}

impl ImportPhases {
    /// The time spent in `phase`.
    pub fn of(&self, phase: Phase) -> Duration {
        self.time.get(phase.index()).copied().unwrap_or_default()
    }

    /// The sum of every phase.
    pub fn total(&self) -> Duration {
        self.time.iter().sum()
    }

    /// What happened between `earlier` and this snapshot.
    pub fn since(&self, earlier: &Self) -> Self {
        let mut time = [Duration::ZERO; PHASES];
        for (slot, (now, before)) in time.iter_mut().zip(self.time.iter().zip(&earlier.time)) {
            *slot = now.saturating_sub(*before);
        }
        Self {
            time,
            blocks: self.blocks.saturating_sub(earlier.blocks),
            state_writes: self.state_writes.saturating_sub(earlier.state_writes),
            trie_writes: self.trie_writes.saturating_sub(earlier.trie_writes),
        }
    }
}

/// Running totals, shared by every import of one chain.
#[derive(Debug, Default)]
pub(crate) struct PhaseTotals {
    nanos: [AtomicU64; PHASES],
    blocks: AtomicU64,
    state_writes: AtomicU64,
    trie_writes: AtomicU64,
}

impl PhaseTotals {
    /// Starts timing a block's import.
    pub(crate) fn start(&self) -> PhaseClock<'_> {
        PhaseClock {
            totals: self,
            last: Instant::now(),
        }
    }

    /// Counts a committed block and its writes.
    pub(crate) fn committed(&self, state_writes: usize, trie_writes: usize) {
        let add = |counter: &AtomicU64, n: usize| {
            counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
        };
        add(&self.blocks, 1);
        add(&self.state_writes, state_writes);
        add(&self.trie_writes, trie_writes);
    }

    /// The totals so far.
    pub(crate) fn snapshot(&self) -> ImportPhases {
        let mut time = [Duration::ZERO; PHASES];
        for (slot, nanos) in time.iter_mut().zip(&self.nanos) {
            *slot = Duration::from_nanos(nanos.load(Ordering::Relaxed));
        }
        ImportPhases {
            time,
            blocks: self.blocks.load(Ordering::Relaxed),
            state_writes: self.state_writes.load(Ordering::Relaxed),
            trie_writes: self.trie_writes.load(Ordering::Relaxed),
        }
    }
}

/// Times consecutive phases of one block: each [`PhaseClock::lap`] charges the time since
/// the previous lap to a phase.
#[derive(Debug)]
pub(crate) struct PhaseClock<'a> {
    totals: &'a PhaseTotals,
    last: Instant,
}

impl PhaseClock<'_> {
    /// Charges the time since the last lap to `phase`.
    pub(crate) fn lap(&mut self, phase: Phase) {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        spectrum_metrics::import_phase(phase.label(), elapsed);
        if let Some(total) = self.totals.nanos.get(phase.index()) {
            let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
            total.fetch_add(nanos, Ordering::Relaxed);
        }
    }
}
