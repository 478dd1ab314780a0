//! The order a block takes pending transactions in.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap, VecDeque},
    sync::Arc,
};

use alloy_primitives::{Address, U256};

use crate::{PooledTx, store::Entry};

/// Pending transactions, highest gas price first (the older first at equal prices), each
/// sender's in nonce order: a sender's dear transaction waits behind its cheaper lower
/// nonces. A snapshot taken under the pool's lock; iterating holds no lock.
#[derive(Debug, Default)]
pub struct BestTransactions {
    /// Each sender's pending run, front first.
    runs: Vec<VecDeque<Entry>>,
    by_sender: HashMap<Address, usize>,
    /// The front of every non-empty run: (gas price, arrival, run).
    fronts: BinaryHeap<(U256, Reverse<u64>, usize)>,
}

impl BestTransactions {
    pub(crate) fn new(runs: impl Iterator<Item = Vec<Entry>>) -> Self {
        let mut best = Self::default();
        for run in runs {
            let Some(first) = run.first() else {
                continue;
            };
            let index = best.runs.len();
            best.by_sender.insert(first.tx.sender, index);
            best.fronts
                .push((first.tx.gas_price(), Reverse(first.order), index));
            best.runs.push(run.into());
        }
        best
    }

    /// Skips the rest of `sender`'s transactions: one of them failed, so the later ones
    /// cannot run in this block.
    pub fn mark_invalid(&mut self, sender: &Address) {
        if let Some(run) = self
            .by_sender
            .get(sender)
            .and_then(|i| self.runs.get_mut(*i))
        {
            run.clear();
        }
    }
}

impl Iterator for BestTransactions {
    type Item = Arc<PooledTx>;

    fn next(&mut self) -> Option<Arc<PooledTx>> {
        while let Some((_, _, index)) = self.fronts.pop() {
            let Some(run) = self.runs.get_mut(index) else {
                continue;
            };
            // An emptied run was marked invalid: its heap entry is stale.
            let Some(entry) = run.pop_front() else {
                continue;
            };
            if let Some(next) = run.front() {
                self.fronts
                    .push((next.tx.gas_price(), Reverse(next.order), index));
            }
            return Some(entry.tx);
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.runs.iter().map(VecDeque::len).sum()))
    }
}
