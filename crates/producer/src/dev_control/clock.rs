//! The dev chain's clock: another clock plus an offset that `evm_increaseTime` and
//! `evm_setNextBlockTimestamp` move.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use spectrum_consensus::Clock;

use super::DevError;

/// A clock `offset` seconds from `base` (the system clock in the node).
pub struct DevClock {
    base: Arc<dyn Clock>,
    offset: AtomicI64,
}

impl std::fmt::Debug for DevClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevClock")
            .field("offset", &self.offset())
            .finish_non_exhaustive()
    }
}

impl DevClock {
    /// `base` with no offset.
    pub fn new(base: Arc<dyn Clock>) -> Self {
        Self {
            base,
            offset: AtomicI64::new(0),
        }
    }

    /// Seconds added to the base clock.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::SeqCst)
    }

    /// Sets the offset.
    pub fn set_offset(&self, offset: i64) {
        self.offset.store(offset, Ordering::SeqCst);
    }

    /// Moves the clock `seconds` forward; the new offset.
    pub fn advance(&self, seconds: u64) -> Result<i64, DevError> {
        let seconds = i64::try_from(seconds).map_err(|_| DevError::Overflow)?;
        let offset = self
            .offset()
            .checked_add(seconds)
            .ok_or(DevError::Overflow)?;
        self.set_offset(offset);
        Ok(offset)
    }

    /// Sets the offset so that the clock reads `now` at this moment.
    pub fn set_now(&self, now: u64) -> Result<(), DevError> {
        let now = i64::try_from(now).map_err(|_| DevError::Overflow)?;
        let base = i64::try_from(self.base.now()).map_err(|_| DevError::Overflow)?;
        self.set_offset(now.checked_sub(base).ok_or(DevError::Overflow)?);
        Ok(())
    }
}

impl Clock for DevClock {
    fn now(&self) -> u64 {
        let base = self.base.now();
        let offset = self.offset();
        if offset >= 0 {
            base.saturating_add(offset.unsigned_abs())
        } else {
            base.saturating_sub(offset.unsigned_abs())
        }
    }
}

#[cfg(test)]
mod tests {
    use spectrum_consensus::FixedClock;

    use super::*;

    #[test]
    fn the_offset_moves_the_clock_both_ways_without_wrapping() {
        let clock = DevClock::new(Arc::new(FixedClock(1_000)));
        assert_eq!(clock.now(), 1_000);
        assert_eq!(clock.advance(60).unwrap(), 60);
        assert_eq!(clock.now(), 1_060);
        clock.set_now(900).unwrap();
        assert_eq!((clock.offset(), clock.now()), (-100, 900));
        clock.set_offset(i64::MIN);
        assert_eq!(clock.now(), 0, "saturates at zero");
        assert!(matches!(clock.advance(u64::MAX), Err(DevError::Overflow)));
    }
}
