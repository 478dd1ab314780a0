//! Progress lines for long operations: count, rate and ETA, at most every few seconds.

use std::time::{Duration, Instant};

/// Logs `done/total`, items per second and the time left, throttled to one line per interval.
pub struct Progress {
    what: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    last_log: Instant,
    interval: Duration,
}

impl Progress {
    /// Starts tracking `total` items of `what` ("blocks").
    pub fn new(what: &'static str, total: u64) -> Self {
        let now = Instant::now();
        Self {
            what,
            total,
            done: 0,
            started: now,
            last_log: now,
            interval: Duration::from_secs(5),
        }
    }

    /// Records one more finished item, logging if the interval has passed.
    pub fn tick(&mut self) {
        self.done = self.done.saturating_add(1);
        if self.last_log.elapsed() >= self.interval {
            self.last_log = Instant::now();
            self.log();
        }
    }

    fn log(&self) {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        };
        let left = self.total.saturating_sub(self.done);
        let eta = if rate > 0.0 {
            Duration::from_secs_f64(left as f64 / rate)
        } else {
            Duration::ZERO
        };
        tracing::info!(
            what = self.what,
            done = self.done,
            total = self.total,
            rate = format!("{rate:.1}/s"),
            eta = ?Duration::from_secs(eta.as_secs()),
            "progress"
        );
    }
}
