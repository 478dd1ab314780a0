//! The edge between the dev-control methods (`dev_controls`) and whatever mines the dev chain:
//! RPC asks through [`DevControlApi`], and the node implements it by forwarding to its block
//! producer, so this crate never names the producer. Plain types in and out; failures come
//! back as [`DevControlError`], already sorted by who is at fault.

use std::{future::Future, pin::Pin, time::Duration};

use alloy_primitives::{Address, B256};
use spectrum_chain::DevPatch;

/// A block a command made: number and hash.
pub type DevMinedBlock = (u64, B256);

/// `dev_skipSlot`'s answer: the signer that missed its slot, and the block sealed in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevSkippedSlot {
    /// The signer whose in-turn slot the validator sealed.
    pub signer: Address,
    /// The block's number.
    pub number: u64,
    /// The block's hash.
    pub hash: B256,
}

/// An answer to come (boxed so the trait stays object-safe).
pub type DevFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DevControlError>> + Send + 'a>>;

/// Why a dev command failed, by whose fault: the JSON-RPC error code follows from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevControlError {
    /// The request's first argument is out of range (-32602), e.g. too many blocks at once.
    #[error("{0}")]
    InvalidParam(String),
    /// The chain's rules refuse the request (-32000), e.g. a timestamp in the past.
    #[error("{0}")]
    Refused(String),
    /// The node failed (-32603), e.g. the producer has stopped.
    #[error("{0}")]
    Internal(String),
}

/// The dev chain's controls (`--dev` only); see `dev_controls` for the methods over each.
pub trait DevControlApi: Send + Sync {
    /// Seals `blocks` blocks now: the first at `timestamp` (or the next-block timestamp set,
    /// or the clock), each next one `interval` seconds after the previous (0: by the clock).
    fn mine(
        &self,
        blocks: u64,
        interval: u64,
        timestamp: Option<u64>,
    ) -> DevFuture<'_, Vec<DevMinedBlock>>;
    /// Automine on (a block per arriving transaction) or off.
    fn set_automine(&self, on: bool) -> DevFuture<'_, ()>;
    /// Whether automine is on.
    fn automine(&self) -> DevFuture<'_, bool>;
    /// A block every `every` (`None`: interval mining off).
    fn set_interval(&self, every: Option<Duration>) -> DevFuture<'_, ()>;
    /// Moves the clock `seconds` forward; answers the total offset from the system clock.
    fn increase_time(&self, seconds: u64) -> DevFuture<'_, i64>;
    /// The next block gets `timestamp`.
    fn set_next_timestamp(&self, timestamp: u64) -> DevFuture<'_, ()>;
    /// Remembers the head and the clock; the snapshot's id, from 1.
    fn snapshot(&self) -> DevFuture<'_, u64>;
    /// Back to snapshot `id`; false if there is no such snapshot.
    fn revert(&self, id: u64) -> DevFuture<'_, bool>;
    /// Back to genesis.
    fn reset(&self) -> DevFuture<'_, ()>;
    /// Applies `patches` in a block sealed now (`spectrum_chain::dev_patch`).
    fn patch(&self, patches: Vec<DevPatch>) -> DevFuture<'_, DevMinedBlock>;
    /// Seals blocks until one falls in another signer's in-turn slot, sealed by the
    /// validator instead: that signer misses it (and is blacklisted by the chief update).
    fn skip_slot(&self) -> DevFuture<'_, DevSkippedSlot>;
}
