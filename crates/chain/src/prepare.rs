//! A batch of blocks prepared over every core before it is imported in order.
//!
//! What a block's import needs that depends on no state (its senders, its seal and VRF proof)
//! is computed for a whole batch at once, blocks spread over the cores, and handed to the
//! in-order import: senders through a bounded map here, seals through the validator's own
//! ([`crate::BlockValidator::prepare_header`]). Nothing is decided here: a block whose
//! senders or seal fail is met again by the import, which refuses it by the same rule.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use alloy_primitives::{Address, B256};
use spectrum_primitives::{SealedBlock, SealedHeader, transactions_root};

use crate::{Blockchain, phases::Phase, senders};

/// Blocks whose senders are held at most (a few import batches).
const CAPACITY: usize = 4_096;

/// Senders recovered ahead, by block hash.
#[derive(Debug, Default)]
pub(crate) struct PreparedSenders {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    senders: HashMap<B256, Vec<Address>>,
    order: VecDeque<B256>,
}

impl PreparedSenders {
    fn insert(&self, block: B256, senders: Vec<Address>) {
        // A poisoned lock only loses the head start.
        let Ok(mut entries) = self.inner.lock() else {
            return;
        };
        if entries.senders.insert(block, senders).is_none() {
            entries.order.push_back(block);
        }
        while entries.order.len() > CAPACITY {
            if let Some(oldest) = entries.order.pop_front() {
                entries.senders.remove(&oldest);
            }
        }
    }

    /// The senders recovered ahead for `block`, forgotten once taken.
    pub(crate) fn take(&self, block: &B256) -> Option<Vec<Address>> {
        self.inner.lock().ok()?.senders.remove(block)
    }
}

impl Blockchain {
    /// Prepares `blocks` (a chain segment, oldest first, about to be inserted in this order)
    /// over every core: recovers their senders and lets the validator verify their seals and
    /// VRF proofs, each on its parent (the previous block of the batch, or a stored header).
    /// Inserting them afterwards skips that work; inserting them without this gives the same
    /// outcomes. Errors are left for the import to meet in order.
    pub fn prepare_blocks(&self, blocks: &[SealedBlock]) {
        self.prepare_blocks_after(None, blocks);
    }

    /// [`Self::prepare_blocks`] for a batch whose first block's parent may not be stored yet:
    /// `before` is the header the batch follows (the previous batch's last, still being
    /// imported), used when its hash is the first block's parent hash.
    pub fn prepare_blocks_after(&self, before: Option<&SealedHeader>, blocks: &[SealedBlock]) {
        self.prepare_on_threads(before, blocks, self.recovery_threads);
    }

    /// [`Self::prepare_blocks_after`] over at most `threads` threads.
    pub(crate) fn prepare_on_threads(
        &self,
        before: Option<&SealedHeader>,
        blocks: &[SealedBlock],
        threads: usize,
    ) {
        let mut clock = self.phases.start();
        let jobs: Vec<(&SealedBlock, SealedHeader)> = blocks
            .iter()
            .enumerate()
            .filter_map(|(i, block)| {
                let previous = match i.checked_sub(1) {
                    Some(p) => blocks.get(p).map(|p| &p.header),
                    None => before,
                };
                let parent = match previous {
                    Some(p) if p.hash() == block.header.parent_hash => Some(p.clone()),
                    _ => self.db.header(&block.header.parent_hash).ok().flatten(),
                };
                parent.map(|parent| (block, parent))
            })
            .collect();
        let threads = threads.max(1);
        let chunk = jobs.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            for part in jobs.chunks(chunk) {
                scope.spawn(move || {
                    for (block, parent) in part {
                        self.prepare_one(block, parent);
                    }
                });
            }
        });
        clock.lap(Phase::Prepare);
    }

    fn prepare_one(&self, block: &SealedBlock, parent: &SealedHeader) {
        // The senders are remembered by block hash, which covers the header only: a body
        // that is not the header's (forged by a peer, same transaction count) must not leave
        // its senders for the genuine block to be executed with.
        let body_is_the_headers =
            transactions_root(&block.body.transactions) == block.header.transactions_root;
        if body_is_the_headers
            && let Ok(senders) = senders::recover_senders(&block.body.transactions, 1)
        {
            self.prepared.insert(block.hash(), senders);
        }
        self.validator.prepare_header(&block.header, parent);
    }
}
