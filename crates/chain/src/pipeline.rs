//! Importing a long stream of blocks (a chain file, a benchmark) with the next batch prepared
//! while the current one is inserted.
//!
//! [`Blockchain::prepare_blocks`] spreads one batch's sender recovery and seal/VRF checks over
//! the cores, but done between batches it leaves those cores idle while the batch is executed,
//! one block at a time. Here a preparing thread reads and prepares batch k+1 while the caller's
//! thread inserts batch k, so on a machine with spare cores that work leaves the import's
//! critical path. Outcomes do not change: preparation only remembers successes, and every block
//! still goes through [`Blockchain::insert_block`] in order.
//!
//! Memory stays bounded: at most three batches exist at once (one being inserted, one waiting in
//! a channel of one, one being read and prepared), each bounded by [`BatchLimits`].

use std::sync::{
    atomic::{AtomicBool, Ordering},
    mpsc::{Receiver, SyncSender, TryRecvError, sync_channel},
};

use alloy_rlp::Encodable;
use spectrum_primitives::{SealedBlock, SealedHeader};

use crate::Blockchain;

/// How large one prepared batch may grow: whichever limit is reached first closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Blocks per batch.
    pub blocks: usize,
    /// Transaction bytes (RLP) per batch.
    pub bytes: usize,
}

impl Default for BatchLimits {
    /// 64 blocks or 16 MiB of transactions: small enough that the first batch's preparation
    /// (done before anything can be inserted) is short and three batches fit in little memory,
    /// large enough to spread over the cores.
    fn default() -> Self {
        Self {
            blocks: 64,
            bytes: 16 << 20,
        }
    }
}

/// Blocks in the first batch of a stream; each next batch may hold twice as many, up to
/// [`BatchLimits::blocks`].
const FIRST_BATCH_BLOCKS: usize = 4;

/// What the preparing thread hands over: a prepared batch, or the error that ended the stream
/// (sent after the blocks read before it).
type Message<E> = Result<Vec<SealedBlock>, E>;

impl Blockchain {
    /// Inserts `blocks` in order through `insert` (which calls [`Blockchain::insert_block`] and
    /// counts or logs as its caller needs), while a second thread reads the stream ahead and
    /// prepares the next batch ([`Blockchain::prepare_blocks_after`]).
    ///
    /// Stops at the first error of either side: a read error from the stream is returned after
    /// every block read before it was inserted; an error from `insert` is returned at once, and
    /// the preparing thread stops at its next hand-over.
    pub fn insert_prepared_stream<E, I, F>(
        &self,
        blocks: I,
        limits: BatchLimits,
        mut insert: F,
    ) -> Result<(), E>
    where
        E: Send,
        I: Iterator<Item = Result<SealedBlock, E>> + Send,
        F: FnMut(SealedBlock) -> Result<(), E>,
    {
        let inserter_waits = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let (sender, receiver) = sync_channel::<Message<E>>(1);
            let waits = &inserter_waits;
            scope.spawn(move || self.prepare_stream(blocks, limits, &sender, waits));
            insert_batches(&receiver, &mut insert, &inserter_waits)
            // Leaving the scope drops the receiver first: a preparing thread blocked on a
            // hand-over gets an error and stops, and the scope then joins it.
        })
    }

    /// The preparing thread: reads batches, prepares each on the previous batch's last header,
    /// hands them over in order. Returns when the stream ends, fails, or nobody listens.
    fn prepare_stream<E, I>(
        &self,
        mut blocks: I,
        limits: BatchLimits,
        out: &SyncSender<Message<E>>,
        inserter_waits: &AtomicBool,
    ) where
        I: Iterator<Item = Result<SealedBlock, E>>,
    {
        let mut before: Option<SealedHeader> = None;
        let mut batch_blocks = FIRST_BATCH_BLOCKS;
        loop {
            let batch_limits = BatchLimits {
                blocks: batch_blocks.min(limits.blocks),
                ..limits
            };
            // Batches start small and double: nothing is inserted before the first one is
            // prepared, so a short first batch puts both threads to work sooner.
            batch_blocks = batch_blocks.saturating_mul(2);
            let (batch, end) = read_batch(&mut blocks, batch_limits);
            if !batch.is_empty() {
                // Every core while the inserting thread waits for this batch; otherwise one
                // core fewer, so that preparing ahead does not take turns with the thread the
                // import waits for (on two cores, three busy threads slowed it by a third).
                let threads = if inserter_waits.load(Ordering::Relaxed) {
                    self.recovery_threads
                } else {
                    self.recovery_threads.saturating_sub(1)
                };
                self.prepare_on_threads(before.as_ref(), &batch, threads);
                before = batch.last().map(|block| block.header.clone());
                if out.send(Ok(batch)).is_err() {
                    return;
                }
            }
            match end {
                BatchEnd::Full => {}
                BatchEnd::Stream => return,
                BatchEnd::Error(error) => {
                    // Nobody listening any more is fine: the inserting side already stopped.
                    let _ = out.send(Err(error));
                    return;
                }
            }
        }
    }
}

/// Why a batch was closed.
enum BatchEnd<E> {
    /// A limit was reached; the stream may have more.
    Full,
    /// The stream ended.
    Stream,
    /// The stream failed after the batch's blocks.
    Error(E),
}

/// Reads blocks until a limit of `limits` is reached, the stream ends or it fails.
fn read_batch<E>(
    blocks: &mut impl Iterator<Item = Result<SealedBlock, E>>,
    limits: BatchLimits,
) -> (Vec<SealedBlock>, BatchEnd<E>) {
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    while batch.len() < limits.blocks.max(1) && bytes < limits.bytes {
        match blocks.next() {
            Some(Ok(block)) => {
                bytes = bytes.saturating_add(block.body.transactions.length());
                batch.push(block);
            }
            Some(Err(error)) => return (batch, BatchEnd::Error(error)),
            None => return (batch, BatchEnd::Stream),
        }
    }
    (batch, BatchEnd::Full)
}

/// The inserting side: every block of every batch, in order, until the stream ends or fails.
/// `inserter_waits` is raised while this side waits for a batch.
fn insert_batches<E>(
    batches: &Receiver<Message<E>>,
    insert: &mut impl FnMut(SealedBlock) -> Result<(), E>,
    inserter_waits: &AtomicBool,
) -> Result<(), E> {
    loop {
        let message = match batches.try_recv() {
            Ok(message) => message,
            Err(TryRecvError::Disconnected) => return Ok(()),
            Err(TryRecvError::Empty) => {
                inserter_waits.store(true, Ordering::Relaxed);
                let received = batches.recv();
                inserter_waits.store(false, Ordering::Relaxed);
                match received {
                    Ok(message) => message,
                    // The preparing side ended: the stream is done.
                    Err(_) => return Ok(()),
                }
            }
        };
        for block in message? {
            insert(block)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use spectrum_primitives::{Block, BlockBody, Header};

    use super::*;

    /// Block `number` with no transactions (its transaction list is one RLP byte).
    fn empty(number: u64) -> Result<SealedBlock, String> {
        let header = Header {
            number,
            ..Default::default()
        };
        Ok(Block {
            header,
            body: BlockBody::default(),
        }
        .seal_slow())
    }

    fn numbers(batch: &[SealedBlock]) -> Vec<u64> {
        batch.iter().map(SealedBlock::number).collect()
    }

    #[test]
    fn a_batch_closes_at_its_block_limit_and_the_stream_end() {
        let limits = BatchLimits {
            blocks: 3,
            bytes: usize::MAX,
        };
        let mut stream = (0..7).map(empty);
        let (first, end) = read_batch(&mut stream, limits);
        assert_eq!(numbers(&first), [0, 1, 2]);
        assert!(matches!(end, BatchEnd::Full));
        let (second, _) = read_batch(&mut stream, limits);
        assert_eq!(numbers(&second), [3, 4, 5]);
        let (last, end) = read_batch(&mut stream, limits);
        assert_eq!(numbers(&last), [6]);
        assert!(matches!(end, BatchEnd::Stream));
    }

    #[test]
    fn a_batch_closes_at_its_byte_limit() {
        let limits = BatchLimits {
            blocks: 100,
            bytes: 2,
        };
        let (batch, end) = read_batch(&mut (0..10).map(empty), limits);
        assert_eq!(
            numbers(&batch),
            [0, 1],
            "one byte per empty transaction list"
        );
        assert!(matches!(end, BatchEnd::Full));
    }

    #[test]
    fn a_read_error_comes_after_the_blocks_read_before_it() {
        let limits = BatchLimits::default();
        let mut failing = (0..5).map(|n| {
            if n == 2 {
                Err(format!("bad {n}"))
            } else {
                empty(n)
            }
        });
        let (batch, end) = read_batch(&mut failing, limits);
        assert_eq!(numbers(&batch), [0, 1]);
        assert!(matches!(end, BatchEnd::Error(e) if e == "bad 2"));
    }
}
