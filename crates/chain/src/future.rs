//! Blocks from the near future (tribe.md §2: the reference queues blocks up to 30 s ahead of the
//! local clock instead of rejecting them). They wait here, in memory, until their time.

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use spectrum_primitives::SealedBlock;

/// How far ahead of the local clock a block may be and still be held rather than refused.
pub const MAX_FUTURE_SECS: u64 = 30;

/// At most this many blocks wait at once; more are refused (a peer cannot fill memory).
const MAX_HELD: usize = 256;

/// The local clock in Unix seconds.
pub type Clock = Box<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Box::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// Blocks held until their timestamp, by timestamp.
#[derive(Default)]
pub(crate) struct FutureBlocks {
    held: Mutex<BTreeMap<(u64, alloy_primitives::B256), SealedBlock>>,
}

impl FutureBlocks {
    /// Holds `block`; `false` if the queue is full.
    pub(crate) fn hold(&self, block: SealedBlock) -> bool {
        let Ok(mut held) = self.held.lock() else {
            return false;
        };
        if held.len() >= MAX_HELD {
            return false;
        }
        held.insert((block.header.timestamp, block.hash()), block);
        true
    }

    /// Takes every held block whose time has come, oldest first.
    pub(crate) fn take_due(&self, now: u64) -> Vec<SealedBlock> {
        let Ok(mut held) = self.held.lock() else {
            return Vec::new();
        };
        let later = held.split_off(&(now.saturating_add(1), alloy_primitives::B256::ZERO));
        std::mem::replace(&mut *held, later).into_values().collect()
    }

    /// How many blocks wait.
    pub(crate) fn len(&self) -> usize {
        self.held.lock().map_or(0, |h| h.len())
    }
}
