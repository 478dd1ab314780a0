//! The pool's data, kept under its lock: transactions by hash and by sender and nonce, the
//! pending/queued split, and price indexes for eviction.
//!
//! Eviction only takes transactions whose removal leaves every other transaction where it
//! was: a queued one, or the last of a sender's pending run (its *tail*). Taking a pending
//! transaction from the middle of a run would turn the rest of the run into queued ones and
//! push the queued count over its limit in turn.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap},
    iter::Peekable,
    mem::size_of,
    sync::Arc,
};

use alloy_primitives::{Address, B256, U256};

use crate::{
    PoolConfig, PoolContent, PoolError, PoolStatus, PooledTx, best::BestTransactions,
    validate::still_fits,
};

/// (gas price, arrival order, hash): sorts cheapest first, then oldest.
pub(crate) type PriceKey = (U256, u64, B256);

/// A pooled transaction and when it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) tx: Arc<PooledTx>,
    pub(crate) order: u64,
}

impl Entry {
    fn key(&self) -> PriceKey {
        (self.tx.gas_price(), self.order, self.tx.hash)
    }
}

/// One sender's transactions by nonce.
#[derive(Debug)]
struct SenderTxs {
    /// The nonce its next executable transaction must have (the account's, + 1 for a
    /// reserved sender).
    next_nonce: u64,
    txs: BTreeMap<u64, Entry>,
    /// How many of `txs` run gap-free from `next_nonce` (kept by [`Store::index`]).
    pending: usize,
}

impl SenderTxs {
    fn run_len(&self) -> usize {
        run_len(self.next_nonce, self.txs.keys().copied())
    }

    fn pending_entries(&self) -> impl Iterator<Item = &Entry> {
        self.txs.values().take(self.pending)
    }

    fn queued_entries(&self) -> impl Iterator<Item = &Entry> {
        self.txs.values().skip(self.pending)
    }

    fn tail(&self) -> Option<&Entry> {
        self.pending
            .checked_sub(1)
            .and_then(|i| self.txs.values().nth(i))
    }
}

/// How many of the ascending `nonces` run gap-free from `next`.
fn run_len(mut next: u64, nonces: impl Iterator<Item = u64>) -> usize {
    let first = next;
    let mut count = 0usize;
    for nonce in nonces.skip_while(|n| *n < first) {
        if nonce != next {
            break;
        }
        count = count.saturating_add(1);
        next = next.saturating_add(1);
    }
    count
}

/// Room an admission needs, beyond what is free.
#[derive(Debug, Default, Clone, Copy)]
struct Need {
    pending: usize,
    queued: usize,
    bytes: usize,
}

impl Need {
    fn is_met(&self) -> bool {
        self.pending == 0 && self.queued == 0 && self.bytes == 0
    }
}

/// Bytes a pooled transaction costs beyond its encoding: the `PooledTx` and its `Arc`, the
/// hash-map slot, the sender-map entry and an index key, with ~50% slack for map nodes.
const PER_TX_OVERHEAD: usize = (size_of::<PooledTx>()
    + 2 * size_of::<usize>()
    + size_of::<(B256, Arc<PooledTx>)>()
    + size_of::<(u64, Entry)>()
    + size_of::<PriceKey>())
    * 3
    / 2;
/// Bytes a sender costs: its map slot and an empty nonce map, with the same slack.
const PER_SENDER_OVERHEAD: usize = size_of::<(Address, SenderTxs)>() * 3 / 2;

/// Everything the pool holds.
#[derive(Debug, Default)]
pub(crate) struct Store {
    all: HashMap<B256, Arc<PooledTx>>,
    senders: HashMap<Address, SenderTxs>,
    /// The last transaction of every sender's pending run.
    pending_tails: BTreeSet<PriceKey>,
    /// Every queued transaction.
    queued: BTreeSet<PriceKey>,
    pending_count: usize,
    queued_count: usize,
    bytes: usize,
    next_order: u64,
}

impl Store {
    pub(crate) fn contains(&self, hash: &B256) -> bool {
        self.all.contains_key(hash)
    }

    pub(crate) fn get(&self, hash: &B256) -> Option<Arc<PooledTx>> {
        self.all.get(hash).cloned()
    }

    pub(crate) fn status(&self) -> PoolStatus {
        PoolStatus {
            pending: self.pending_count,
            queued: self.queued_count,
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Estimated heap bytes: encodings plus per-transaction and per-sender bookkeeping.
    pub(crate) fn estimated_memory(&self) -> usize {
        self.bytes
            .saturating_add(self.all.len().saturating_mul(PER_TX_OVERHEAD))
            .saturating_add(self.senders.len().saturating_mul(PER_SENDER_OVERHEAD))
    }

    pub(crate) fn senders(&self) -> Vec<Address> {
        self.senders.keys().copied().collect()
    }

    /// The nonce after `sender`'s pending run, if it has anything pooled.
    pub(crate) fn pending_nonce(&self, sender: &Address) -> Option<u64> {
        let txs = self.senders.get(sender)?;
        let pending = u64::try_from(txs.pending).ok()?;
        Some(txs.next_nonce.saturating_add(pending))
    }

    pub(crate) fn content(&self) -> PoolContent {
        let mut content = PoolContent::default();
        for (address, sender) in &self.senders {
            for (i, (nonce, entry)) in sender.txs.iter().enumerate() {
                let side = if i < sender.pending {
                    &mut content.pending
                } else {
                    &mut content.queued
                };
                side.entry(*address)
                    .or_default()
                    .insert(*nonce, entry.tx.clone());
            }
        }
        content
    }

    pub(crate) fn best(&self) -> BestTransactions {
        BestTransactions::new(
            self.senders
                .values()
                .map(|s| s.pending_entries().cloned().collect::<Vec<_>>())
                .filter(|run| !run.is_empty()),
        )
    }

    /// Admits a validated transaction of a sender whose next usable nonce, read from the
    /// state, is `next_nonce`: replaces a same-nonce one if 10% dearer, evicts cheaper ones
    /// if the pool is full, never a dearer or equal one. Returns the hashes that became
    /// pending.
    pub(crate) fn admit(
        &mut self,
        config: &PoolConfig,
        tx: Arc<PooledTx>,
        next_nonce: u64,
    ) -> Result<Vec<B256>, PoolError> {
        if self.all.contains_key(&tx.hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let sender = self.senders.get(&tx.sender);
        // The state read may be older than our last head update: never step back.
        let next_nonce = sender.map_or(next_nonce, |s| s.next_nonce.max(next_nonce));
        let nonce = tx.nonce();
        if nonce < next_nonce {
            return Err(PoolError::NonceTooLow);
        }
        let replaced = sender.and_then(|s| s.txs.get(&nonce));
        if let Some(old) = replaced {
            let bump = U256::from(100u64.saturating_add(config.price_bump_percent));
            let needed = old.tx.gas_price().saturating_mul(bump) / U256::from(100u64);
            // Strictly dearer too: at a few wei the rounded-down bump is zero.
            if tx.gas_price() < needed || tx.gas_price() <= old.tx.gas_price() {
                return Err(PoolError::ReplacementUnderpriced);
            }
        }
        // A same-nonce transaction is replaced in place; a full sender gives up its last.
        let (replaced, own_victim) = match replaced {
            Some(old) => (Some(old.tx.clone()), None),
            None => (None, self.make_sender_room(config, &tx)?),
        };
        let displaced = replaced.as_deref().or(own_victim.as_deref());
        let need = self.need(config, &tx, next_nonce, displaced);
        let victims = self.plan_eviction(&tx.sender, tx.gas_price(), need)?;
        for victim in own_victim.iter().map(|t| &t.hash).chain(&victims) {
            self.remove(victim);
        }
        let newly_pending = self.insert(tx, next_nonce);
        // A no-op unless the plan above was wrong; keeps the limits whatever happens.
        self.enforce_limits(config);
        Ok(newly_pending)
    }

    /// When the sender holds its limit: the new transaction may take the place of the
    /// sender's highest nonce, which is queued behind a gap the new one is closer to filling.
    fn make_sender_room(
        &self,
        config: &PoolConfig,
        tx: &PooledTx,
    ) -> Result<Option<Arc<PooledTx>>, PoolError> {
        let Some(sender) = self.senders.get(&tx.sender) else {
            return if config.max_per_sender == 0 {
                Err(PoolError::SenderFull)
            } else {
                Ok(None)
            };
        };
        if sender.txs.len() < config.max_per_sender {
            return Ok(None);
        }
        match sender.txs.last_key_value() {
            Some((last, entry)) if *last > tx.nonce() => Ok(Some(entry.tx.clone())),
            _ => Err(PoolError::SenderFull),
        }
    }

    /// What admitting `tx` (and dropping `displaced`, the same sender's) needs freed.
    fn need(
        &self,
        config: &PoolConfig,
        tx: &PooledTx,
        next_nonce: u64,
        displaced: Option<&PooledTx>,
    ) -> Need {
        let sender = self.senders.get(&tx.sender);
        let (pending_before, total_before) = sender.map_or((0, 0), |s| (s.pending, s.txs.len()));
        let mut nonces: Vec<u64> = sender
            .map(|s| s.txs.keys().copied().filter(|n| *n >= next_nonce).collect())
            .unwrap_or_default();
        if let Some(displaced) = displaced {
            nonces.retain(|n| *n != displaced.nonce());
        }
        if let Err(at) = nonces.binary_search(&tx.nonce()) {
            nonces.insert(at, tx.nonce());
        }
        let pending_after = run_len(next_nonce, nonces.iter().copied());
        let queued_after = nonces.len().saturating_sub(pending_after);
        let queued_before = total_before.saturating_sub(pending_before);
        let pending = self
            .pending_count
            .saturating_sub(pending_before)
            .saturating_add(pending_after);
        let queued = self
            .queued_count
            .saturating_sub(queued_before)
            .saturating_add(queued_after);
        let bytes = self
            .bytes
            .saturating_sub(displaced.map_or(0, |d| d.encoded_len))
            .saturating_add(tx.encoded_len);
        Need {
            pending: pending.saturating_sub(config.max_pending),
            queued: queued.saturating_sub(config.max_queued),
            bytes: bytes.saturating_sub(config.max_bytes),
        }
    }

    /// The cheapest transactions of other senders whose removal meets `need`, all strictly
    /// cheaper than `price`; [`PoolError::Underpriced`] if there are not enough.
    fn plan_eviction(
        &self,
        exclude: &Address,
        price: U256,
        mut need: Need,
    ) -> Result<Vec<B256>, PoolError> {
        let others = |key: &&PriceKey| self.all.get(&key.2).is_some_and(|t| t.sender != *exclude);
        let mut tails = self.pending_tails.iter().filter(others).peekable();
        let mut queued = self.queued.iter().filter(others).peekable();
        // Taking a tail makes the transaction before it the sender's tail.
        let mut revealed: BinaryHeap<Reverse<PriceKey>> = BinaryHeap::new();
        let mut taken_from: HashMap<Address, usize> = HashMap::new();
        let mut victims = Vec::new();
        while !need.is_met() {
            let want_pending = need.pending > 0 || need.bytes > 0;
            let want_queued = need.queued > 0 || need.bytes > 0;
            let (key, is_pending) = cheapest(
                want_pending
                    .then(|| cheapest_tail(&mut tails, &revealed))
                    .flatten(),
                want_queued.then(|| queued.peek().map(|k| **k)).flatten(),
            )
            .ok_or(PoolError::Underpriced)?;
            if key.0 >= price {
                return Err(PoolError::Underpriced);
            }
            let victim = self.all.get(&key.2).ok_or(PoolError::Underpriced)?;
            if is_pending {
                if revealed.peek().is_some_and(|Reverse(k)| *k == key) {
                    revealed.pop();
                } else {
                    tails.next();
                }
                need.pending = need.pending.saturating_sub(1);
                let taken = taken_from.entry(victim.sender).or_default();
                *taken = taken.saturating_add(1);
                if let Some(before) = self.tail_before(&victim.sender, *taken) {
                    revealed.push(Reverse(before));
                }
            } else {
                queued.next();
                need.queued = need.queued.saturating_sub(1);
            }
            need.bytes = need.bytes.saturating_sub(victim.encoded_len);
            victims.push(key.2);
        }
        Ok(victims)
    }

    /// The key of `sender`'s pending transaction `taken` places before its tail.
    fn tail_before(&self, sender: &Address, taken: usize) -> Option<PriceKey> {
        let s = self.senders.get(sender)?;
        let index = s.pending.checked_sub(taken)?.checked_sub(1)?;
        s.txs.values().nth(index).map(Entry::key)
    }

    /// Inserts `tx`, replacing a same-nonce one; returns the hashes that became pending.
    fn insert(&mut self, tx: Arc<PooledTx>, next_nonce: u64) -> Vec<B256> {
        let address = tx.sender;
        let before = self.pending_hashes(&address);
        self.unindex(&address);
        let order = self.next_order;
        self.next_order = self.next_order.saturating_add(1);
        self.bytes = self.bytes.saturating_add(tx.encoded_len);
        self.all.insert(tx.hash, tx.clone());
        let sender = self.senders.entry(address).or_insert_with(|| SenderTxs {
            next_nonce,
            txs: BTreeMap::new(),
            pending: 0,
        });
        sender.next_nonce = next_nonce;
        let mut dropped: Vec<Arc<PooledTx>> = sender
            .txs
            .insert(tx.nonce(), Entry { tx, order })
            .map(|old| old.tx)
            .into_iter()
            .collect();
        // Below the nonce: mined while we were not looking.
        let kept = sender.txs.split_off(&next_nonce);
        dropped.extend(
            std::mem::replace(&mut sender.txs, kept)
                .into_values()
                .map(|e| e.tx),
        );
        for old in dropped {
            self.forget(&old);
        }
        self.index(&address);
        newly_pending(&before, self.pending_hashes(&address))
    }

    /// Removes one transaction; its sender's later ones become queued.
    pub(crate) fn remove(&mut self, hash: &B256) -> Option<Arc<PooledTx>> {
        let tx = self.all.get(hash)?.clone();
        self.unindex(&tx.sender);
        if let Some(sender) = self.senders.get_mut(&tx.sender) {
            sender.txs.remove(&tx.nonce());
        }
        self.forget(&tx);
        self.index(&tx.sender);
        Some(tx)
    }

    /// Brings `address` up to the head: its next usable nonce is `next_nonce`, it holds
    /// `balance`, blocks take `gas_limit`. Drops what can no longer be mined (returns how
    /// many); returns the hashes that became pending.
    pub(crate) fn revalidate(
        &mut self,
        address: &Address,
        next_nonce: u64,
        balance: U256,
        gas_limit: u64,
    ) -> (usize, Vec<B256>) {
        let before = self.pending_hashes(address);
        self.unindex(address);
        let Some(sender) = self.senders.get_mut(address) else {
            return (0, Vec::new());
        };
        sender.next_nonce = next_nonce;
        let dropped: Vec<Arc<PooledTx>> = sender
            .txs
            .values()
            .filter(|e| e.tx.nonce() < next_nonce || !still_fits(&e.tx.tx, balance, gas_limit))
            .map(|e| e.tx.clone())
            .collect();
        for tx in &dropped {
            sender.txs.remove(&tx.nonce());
        }
        for tx in &dropped {
            self.forget(tx);
        }
        self.index(address);
        (
            dropped.len(),
            newly_pending(&before, self.pending_hashes(address)),
        )
    }

    /// Evicts the cheapest until every limit holds (after a head update promoted or
    /// re-injected more than fits). Returns how many went.
    pub(crate) fn enforce_limits(&mut self, config: &PoolConfig) -> usize {
        let mut evicted = 0usize;
        loop {
            let over_pending = self.pending_count > config.max_pending;
            let over_queued = self.queued_count > config.max_queued;
            let over_bytes = self.bytes > config.max_bytes;
            let victim = cheapest(
                (over_pending || over_bytes)
                    .then(|| self.pending_tails.first().copied())
                    .flatten(),
                (over_queued || over_bytes)
                    .then(|| self.queued.first().copied())
                    .flatten(),
            );
            let Some((key, _)) = victim else {
                return evicted;
            };
            if self.remove(&key.2).is_none() {
                // An index entry without a transaction: cannot happen; do not loop on it.
                self.pending_tails.remove(&key);
                self.queued.remove(&key);
            }
            evicted = evicted.saturating_add(1);
        }
    }

    fn pending_hashes(&self, address: &Address) -> Vec<B256> {
        self.senders
            .get(address)
            .map(|s| s.pending_entries().map(|e| e.tx.hash).collect())
            .unwrap_or_default()
    }

    /// Drops a transaction already taken out of its sender's map.
    fn forget(&mut self, tx: &PooledTx) {
        if self.all.remove(&tx.hash).is_some() {
            self.bytes = self.bytes.saturating_sub(tx.encoded_len);
        }
    }

    /// Takes `address`'s entries out of the indexes and counts, before its map changes.
    fn unindex(&mut self, address: &Address) {
        let Some(sender) = self.senders.get(address) else {
            return;
        };
        if let Some(tail) = sender.tail() {
            self.pending_tails.remove(&tail.key());
        }
        for entry in sender.queued_entries() {
            self.queued.remove(&entry.key());
        }
        self.pending_count = self.pending_count.saturating_sub(sender.pending);
        self.queued_count = self
            .queued_count
            .saturating_sub(sender.txs.len().saturating_sub(sender.pending));
    }

    /// Puts `address`'s entries back into the indexes and counts after its map changed.
    fn index(&mut self, address: &Address) {
        let Some(sender) = self.senders.get_mut(address) else {
            return;
        };
        if sender.txs.is_empty() {
            self.senders.remove(address);
            return;
        }
        sender.pending = sender.run_len();
        if let Some(tail) = sender.tail() {
            self.pending_tails.insert(tail.key());
        }
        for entry in sender.queued_entries() {
            self.queued.insert(entry.key());
        }
        self.pending_count = self.pending_count.saturating_add(sender.pending);
        self.queued_count = self
            .queued_count
            .saturating_add(sender.txs.len().saturating_sub(sender.pending));
    }
}

/// The cheaper of a pending and a queued candidate, flagged `true` if it is the pending one.
fn cheapest(pending: Option<PriceKey>, queued: Option<PriceKey>) -> Option<(PriceKey, bool)> {
    match (pending, queued) {
        (Some(p), Some(q)) if q < p => Some((q, false)),
        (Some(p), _) => Some((p, true)),
        (None, Some(q)) => Some((q, false)),
        (None, None) => None,
    }
}

/// The cheapest pending tail: from the index, or one revealed by an earlier pick.
fn cheapest_tail<'a, I: Iterator<Item = &'a PriceKey>>(
    tails: &mut Peekable<I>,
    revealed: &BinaryHeap<Reverse<PriceKey>>,
) -> Option<PriceKey> {
    let indexed = tails.peek().map(|k| **k);
    let revealed = revealed.peek().map(|Reverse(k)| *k);
    match (indexed, revealed) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn newly_pending(before: &[B256], after: Vec<B256>) -> Vec<B256> {
    after.into_iter().filter(|h| !before.contains(h)).collect()
}
