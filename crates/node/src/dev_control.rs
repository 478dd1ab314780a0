//! `--dev`: RPC's dev controls ([`spectrum_rpc::DevControlApi`]) forwarded to the block
//! producer's control channel, the producer's errors sorted into RPC's kinds.

use std::time::Duration;

use spectrum_producer::{DevControl, DevError};
use spectrum_rpc::{DevControlApi, DevControlError, DevFuture, DevMinedBlock, DevSkippedSlot};

/// The producer's dev-control handle as RPC sees it.
pub(crate) struct ProducerDevControl(pub(crate) DevControl);

/// Whose fault: the request's (a bad argument, a rule), or the node's.
fn sort(error: DevError) -> DevControlError {
    match error {
        DevError::TooManyBlocks { .. } => DevControlError::InvalidParam(error.to_string()),
        DevError::TimestampTooEarly { .. }
        | DevError::NoOtherSigner { .. }
        | DevError::Overflow
        | DevError::Producer(_) => DevControlError::Refused(error.to_string()),
        DevError::NotCanonical(_)
        | DevError::Chain(_)
        | DevError::Record(_)
        | DevError::Stopped => DevControlError::Internal(error.to_string()),
    }
}

/// Boxes the producer's future with its error sorted.
fn forward<'a, T: 'a>(
    answer: impl std::future::Future<Output = Result<T, DevError>> + Send + 'a,
) -> DevFuture<'a, T> {
    Box::pin(async move { answer.await.map_err(sort) })
}

impl DevControlApi for ProducerDevControl {
    fn mine(
        &self,
        blocks: u64,
        interval: u64,
        timestamp: Option<u64>,
    ) -> DevFuture<'_, Vec<DevMinedBlock>> {
        forward(self.0.mine(blocks, interval, timestamp))
    }
    fn set_automine(&self, on: bool) -> DevFuture<'_, ()> {
        forward(self.0.set_automine(on))
    }
    fn automine(&self) -> DevFuture<'_, bool> {
        forward(self.0.automine())
    }
    fn set_interval(&self, every: Option<Duration>) -> DevFuture<'_, ()> {
        forward(self.0.set_interval(every))
    }
    fn increase_time(&self, seconds: u64) -> DevFuture<'_, i64> {
        forward(self.0.increase_time(seconds))
    }
    fn set_next_timestamp(&self, timestamp: u64) -> DevFuture<'_, ()> {
        forward(self.0.set_next_timestamp(timestamp))
    }
    fn snapshot(&self) -> DevFuture<'_, u64> {
        forward(self.0.snapshot())
    }
    fn revert(&self, id: u64) -> DevFuture<'_, bool> {
        forward(self.0.revert(id))
    }
    fn reset(&self) -> DevFuture<'_, ()> {
        forward(self.0.reset())
    }
    fn patch(&self, patches: Vec<spectrum_chain::DevPatch>) -> DevFuture<'_, DevMinedBlock> {
        forward(self.0.patch(patches))
    }
    fn skip_slot(&self) -> DevFuture<'_, DevSkippedSlot> {
        let answer = self.0.skip_slot();
        forward(async move {
            let skipped = answer.await?;
            Ok(DevSkippedSlot {
                signer: skipped.signer,
                number: skipped.number,
                hash: skipped.hash,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_sorted_by_fault() {
        assert_eq!(
            sort(DevError::TooManyBlocks { asked: 2, max: 1 }),
            DevControlError::InvalidParam("at most 1 blocks per call, asked for 2".into())
        );
        assert!(matches!(
            sort(DevError::TimestampTooEarly {
                got: 1,
                earliest: 2
            }),
            DevControlError::Refused(_)
        ));
        assert_eq!(
            sort(DevError::Stopped),
            DevControlError::Internal("the block producer is not running".into())
        );
    }
}
