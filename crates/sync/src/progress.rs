//! Sync progress: the figures `eth_syncing` reports and the periodic log line.

use std::time::{Duration, Instant};

pub use spectrum_primitives::SyncProgress;
use tracing::info;

/// Counts imported blocks and gas, and logs a progress line every `interval`.
#[derive(Debug)]
pub(crate) struct ProgressMeter {
    interval: Duration,
    started: Instant,
    last_log: Instant,
    blocks_since_log: u64,
    gas_since_log: u64,
    blocks_total: u64,
}

impl ProgressMeter {
    pub(crate) fn new(interval: Duration) -> Self {
        let now = Instant::now();
        Self {
            interval,
            started: now,
            last_log: now,
            blocks_since_log: 0,
            gas_since_log: 0,
            blocks_total: 0,
        }
    }

    /// Records imported blocks; logs when the interval has passed.
    pub(crate) fn record(&mut self, blocks: u64, gas: u64, progress: SyncProgress, peers: usize) {
        self.blocks_since_log = self.blocks_since_log.saturating_add(blocks);
        self.gas_since_log = self.gas_since_log.saturating_add(gas);
        self.blocks_total = self.blocks_total.saturating_add(blocks);
        let elapsed = self.last_log.elapsed();
        if elapsed >= self.interval {
            self.log(progress, peers, elapsed);
        }
    }

    fn log(&mut self, progress: SyncProgress, peers: usize, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64().max(1e-3);
        let blocks_per_sec = self.blocks_since_log as f64 / seconds;
        let mgas_per_sec = self.gas_since_log as f64 / seconds / 1e6;
        let remaining = progress
            .highest_block
            .saturating_sub(progress.current_block);
        let eta_secs = if blocks_per_sec > 0.0 {
            (remaining as f64 / blocks_per_sec).round()
        } else {
            f64::INFINITY
        };
        info!(
            current = progress.current_block,
            highest = progress.highest_block,
            blocks = self.blocks_since_log,
            blocks_per_sec = format!("{blocks_per_sec:.1}"),
            mgas_per_sec = format!("{mgas_per_sec:.2}"),
            eta_secs,
            peers,
            "syncing"
        );
        self.last_log = Instant::now();
        self.blocks_since_log = 0;
        self.gas_since_log = 0;
    }

    /// Logs the summary of a finished sync.
    pub(crate) fn finish(&self, progress: SyncProgress, peers: usize) {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        info!(
            head = progress.current_block,
            blocks = self.blocks_total,
            blocks_per_sec = format!("{:.1}", self.blocks_total as f64 / seconds),
            peers,
            "sync finished"
        );
    }
}
