//! The state-cache budget of the chains the import benchmarks build (`import
//! --cache-state-mb`, the node's `--cache.state-mb`): set once from the command line, read by
//! every import the bench runs, so that the measuring functions keep their signatures.

use std::sync::atomic::{AtomicUsize, Ordering};

static STATE_CACHE_MB: AtomicUsize = AtomicUsize::new(spectrum_chain::DEFAULT_STATE_CACHE_MB);

/// Sets the budget, in MiB, of the chains built from now on (0 turns their cache off).
pub fn set_state_cache_mb(mb: usize) {
    STATE_CACHE_MB.store(mb, Ordering::Relaxed);
}

/// The budget, in MiB, of the chains the benchmarks build.
pub fn state_cache_mb() -> usize {
    STATE_CACHE_MB.load(Ordering::Relaxed)
}
