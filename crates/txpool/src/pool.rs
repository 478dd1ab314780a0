//! The pool's data: transactions by hash, by sender and nonce, and by price for eviction.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use alloy_primitives::{Address, B256, U256};
use alloy_rlp::Encodable;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{DecodeError, Limits, TransactionSigned};
use tokio::sync::broadcast;

use crate::{
    HeadUpdate, PoolConfig, PoolContent, PoolError, PoolStatus, PooledTx, StateSource, TxOrigin,
    TxPool, intrinsic_gas,
};

/// `update(address)`: a chief-update transaction's selector (tribe.md §8).
const CHIEF_UPDATE_SELECTOR: [u8; 4] = [0x1c, 0x1b, 0x87, 0x72];

/// The transaction pool. Cheap to share (`Arc<Pool>`); every method takes `&self`.
pub struct Pool {
    config: PoolConfig,
    spec: Arc<ChainSpec>,
    state: Arc<dyn StateSource>,
    inner: Mutex<Inner>,
    pending_events: broadcast::Sender<B256>,
}

struct Inner {
    all: HashMap<B256, Arc<PooledTx>>,
    senders: HashMap<Address, SenderTxs>,
    /// (gas price, insertion order, hash): the cheapest first, for eviction.
    by_price: BTreeSet<(U256, u64, B256)>,
    order: HashMap<B256, u64>,
    bytes: usize,
    next_order: u64,
    head_number: u64,
    gas_limit: u64,
}

/// One sender's transactions and the nonce its next executable one must have.
struct SenderTxs {
    next_nonce: u64,
    txs: BTreeMap<u64, Arc<PooledTx>>,
}

impl SenderTxs {
    /// How many transactions run gap-free from `next_nonce`.
    fn pending_len(&self) -> usize {
        let mut expected = self.next_nonce;
        let mut count = 0;
        for nonce in self.txs.keys() {
            if *nonce != expected {
                break;
            }
            count += 1;
            expected = expected.saturating_add(1);
        }
        count
    }
}

fn gas_price(tx: &PooledTx) -> U256 {
    U256::from(tx.tx.tx().gas_price)
}

impl Pool {
    /// An empty pool for `spec`'s chain, validating against `state`, with the head at
    /// `head_number` whose gas limit is `gas_limit`.
    pub fn new(
        config: PoolConfig,
        spec: Arc<ChainSpec>,
        state: Arc<dyn StateSource>,
        head_number: u64,
        gas_limit: u64,
    ) -> Self {
        Self {
            config,
            spec,
            state,
            inner: Mutex::new(Inner {
                all: HashMap::new(),
                senders: HashMap::new(),
                by_price: BTreeSet::new(),
                order: HashMap::new(),
                bytes: 0,
                next_order: 0,
                head_number,
                gas_limit,
            }),
            pending_events: broadcast::channel(4096).0,
        }
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Bytes of transactions held.
    pub fn size_in_bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the maps consistent before it can panic; take the lock over.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reserved(&self, sender: &Address) -> u64 {
        u64::from(self.config.reserved_nonce_senders.contains(sender))
    }

    /// The checks that need no state and no lock, in geth's order.
    fn check_stateless(
        &self,
        tx: &TransactionSigned,
        encoded_len: usize,
        head_number: u64,
        gas_limit: u64,
    ) -> Result<Address, PoolError> {
        if encoded_len > self.config.max_tx_size {
            return Err(PoolError::Oversized);
        }
        let fields = tx.tx();
        if fields.gas_limit > gas_limit {
            return Err(PoolError::GasLimit);
        }
        let sender = tx.recover_sender().map_err(|_| PoolError::InvalidSender)?;
        match fields.chain_id {
            Some(id) if id != self.spec.chain_id => return Err(PoolError::InvalidSender),
            None if self.spec.is_sip003(head_number.saturating_add(1)) => {
                return Err(PoolError::Unprotected);
            }
            _ => {}
        }
        if let Some(to) = fields.to.to()
            && self.spec.is_chief_address(to)
            && fields.input.starts_with(&CHIEF_UPDATE_SELECTOR)
        {
            return Err(PoolError::ChiefUpdate);
        }
        if U256::from(fields.gas_price) < self.config.min_gas_price {
            return Err(PoolError::Underpriced);
        }
        if intrinsic_gas(tx).is_none_or(|gas| gas > fields.gas_limit) {
            return Err(PoolError::IntrinsicGas);
        }
        Ok(sender)
    }

    fn add(&self, tx: TransactionSigned) -> Result<B256, PoolError> {
        let hash = tx.hash();
        let (head_number, gas_limit) = {
            let inner = self.lock();
            if inner.all.contains_key(&hash) {
                return Err(PoolError::AlreadyKnown);
            }
            (inner.head_number, inner.gas_limit)
        };
        let encoded_len = tx.length();
        let sender = self.check_stateless(&tx, encoded_len, head_number, gas_limit)?;
        let account = self.state.latest()?.account(&sender)?.unwrap_or_default();
        let next_nonce = account.nonce.saturating_add(self.reserved(&sender));
        let fields = tx.tx();
        if fields.nonce < next_nonce {
            return Err(PoolError::NonceTooLow);
        }
        let cost = U256::from(fields.gas_limit)
            .checked_mul(U256::from(fields.gas_price))
            .and_then(|fee| fee.checked_add(fields.value))
            .ok_or(PoolError::InsufficientFunds)?;
        if account.balance < cost {
            return Err(PoolError::InsufficientFunds);
        }
        let pooled = Arc::new(PooledTx {
            tx,
            sender,
            hash,
            encoded_len,
        });
        let newly_pending = self.lock().insert(&self.config, pooled, next_nonce)?;
        for hash in newly_pending {
            // Nobody listening is fine.
            let _ = self.pending_events.send(hash);
        }
        Ok(hash)
    }
}

impl Inner {
    /// Inserts `tx` (validated against the state, whose nonce for its sender is
    /// `next_nonce`); returns the hashes that became pending.
    fn insert(
        &mut self,
        config: &PoolConfig,
        tx: Arc<PooledTx>,
        next_nonce: u64,
    ) -> Result<Vec<B256>, PoolError> {
        if self.all.contains_key(&tx.hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let nonce = tx.tx.tx().nonce;
        let price = gas_price(&tx);
        let replaced = match self.senders.get(&tx.sender).and_then(|s| s.txs.get(&nonce)) {
            Some(old) => {
                let bump = U256::from(100u64.saturating_add(config.price_bump_percent));
                let needed = gas_price(old).saturating_mul(bump) / U256::from(100u64);
                if price < needed {
                    return Err(PoolError::ReplacementUnderpriced);
                }
                Some(old.hash)
            }
            None => None,
        };
        if replaced.is_none()
            && self
                .senders
                .get(&tx.sender)
                .is_some_and(|s| s.txs.len() >= config.max_per_sender)
        {
            return Err(PoolError::SenderFull);
        }
        if let Some(old) = replaced {
            self.remove_one(&old);
        }
        self.make_room(config, price, tx.encoded_len)?;

        let order = self.next_order;
        self.next_order = self.next_order.saturating_add(1);
        self.by_price.insert((price, order, tx.hash));
        self.order.insert(tx.hash, order);
        self.bytes = self.bytes.saturating_add(tx.encoded_len);
        self.all.insert(tx.hash, tx.clone());
        let sender = self.senders.entry(tx.sender).or_insert_with(|| SenderTxs {
            next_nonce,
            txs: BTreeMap::new(),
        });
        sender.next_nonce = next_nonce;
        let pending_before = sender.pending_len();
        sender.txs.insert(nonce, tx);
        let pending_after = sender.pending_len();
        // The new transaction and any queued ones it unblocked are now executable.
        Ok(sender
            .txs
            .values()
            .skip(pending_before)
            .take(pending_after.saturating_sub(pending_before))
            .map(|t| t.hash)
            .collect())
    }

    /// Evicts the cheapest transactions until one of `len` bytes fits; refuses if the new one
    /// is not dearer than what it would displace.
    fn make_room(&mut self, config: &PoolConfig, price: U256, len: usize) -> Result<(), PoolError> {
        while self.all.len() >= config.max_transactions
            || self.bytes.saturating_add(len) > config.max_bytes
        {
            let Some((cheapest, _, hash)) = self.by_price.first().copied() else {
                return Err(PoolError::Underpriced);
            };
            if cheapest >= price {
                return Err(PoolError::Underpriced);
            }
            // Take the cheapest sender's last transaction, so its pending run stays whole.
            let victim = self
                .all
                .get(&hash)
                .and_then(|t| self.senders.get(&t.sender))
                .and_then(|s| s.txs.values().next_back())
                .map(|t| t.hash)
                .unwrap_or(hash);
            self.remove_one(&victim);
        }
        Ok(())
    }

    fn remove_one(&mut self, hash: &B256) -> Option<Arc<PooledTx>> {
        let tx = self.all.remove(hash)?;
        if let Some(order) = self.order.remove(hash) {
            self.by_price.remove(&(gas_price(&tx), order, *hash));
        }
        self.bytes = self.bytes.saturating_sub(tx.encoded_len);
        if let Some(sender) = self.senders.get_mut(&tx.sender) {
            sender.txs.remove(&tx.tx.tx().nonce);
            if sender.txs.is_empty() {
                self.senders.remove(&tx.sender);
            }
        }
        Some(tx)
    }
}

impl TxPool for Pool {
    fn add_raw(&self, raw: &[u8], origin: TxOrigin) -> Result<B256, PoolError> {
        if raw.len() > self.config.max_tx_size {
            return Err(PoolError::Oversized);
        }
        let tx = TransactionSigned::decode_raw(raw, &Limits::DEFAULT).map_err(|e| match e {
            DecodeError::TypedTransaction(_) => PoolError::TypedTransaction,
            DecodeError::TooLarge { .. } => PoolError::Oversized,
            other => PoolError::Decode(other.to_string()),
        })?;
        self.add_transaction(tx, origin)
    }

    fn add_transaction(&self, tx: TransactionSigned, _origin: TxOrigin) -> Result<B256, PoolError> {
        self.add(tx)
    }

    fn get(&self, hash: &B256) -> Option<Arc<PooledTx>> {
        self.lock().all.get(hash).cloned()
    }

    fn pending_nonce(&self, sender: &Address) -> Option<u64> {
        let inner = self.lock();
        let txs = inner.senders.get(sender)?;
        let pending = u64::try_from(txs.pending_len()).ok()?;
        (pending > 0).then(|| txs.next_nonce.saturating_add(pending))
    }

    fn status(&self) -> PoolStatus {
        let inner = self.lock();
        let pending: usize = inner.senders.values().map(SenderTxs::pending_len).sum();
        PoolStatus {
            pending,
            queued: inner.all.len().saturating_sub(pending),
        }
    }

    fn content(&self) -> PoolContent {
        let inner = self.lock();
        let mut content = PoolContent::default();
        for (address, sender) in &inner.senders {
            let pending = sender.pending_len();
            for (i, (nonce, tx)) in sender.txs.iter().enumerate() {
                let side = if i < pending {
                    &mut content.pending
                } else {
                    &mut content.queued
                };
                side.entry(*address).or_default().insert(*nonce, tx.clone());
            }
        }
        content
    }

    fn subscribe_pending(&self) -> broadcast::Receiver<B256> {
        self.pending_events.subscribe()
    }

    fn best_transactions(&self) -> Vec<Arc<PooledTx>> {
        let inner = self.lock();
        let runs: Vec<Vec<Arc<PooledTx>>> = inner
            .senders
            .values()
            .map(|s| s.txs.values().take(s.pending_len()).cloned().collect())
            .filter(|run: &Vec<_>| !run.is_empty())
            .collect();
        // Merge the runs: always the dearest next transaction of any sender, ties by age.
        let mut heap: BinaryHeap<(U256, Reverse<u64>, usize, usize)> = runs
            .iter()
            .enumerate()
            .map(|(i, run)| {
                let order = inner.order.get(&run[0].hash).copied().unwrap_or(u64::MAX);
                (gas_price(&run[0]), Reverse(order), i, 0)
            })
            .collect();
        let mut best = Vec::with_capacity(runs.iter().map(Vec::len).sum());
        while let Some((_, _, run, at)) = heap.pop() {
            best.push(runs[run][at].clone());
            if let Some(next) = runs[run].get(at + 1) {
                let order = inner.order.get(&next.hash).copied().unwrap_or(u64::MAX);
                heap.push((gas_price(next), Reverse(order), run, at + 1));
            }
        }
        best
    }

    fn on_head_update(&self, update: HeadUpdate) {
        {
            let mut inner = self.lock();
            inner.head_number = update.number;
            inner.gas_limit = update.gas_limit;
            for hash in &update.mined {
                inner.remove_one(hash);
            }
            let senders: Vec<Address> = inner.senders.keys().copied().collect();
            let state = match self.state.latest() {
                Ok(state) => state,
                Err(error) => {
                    tracing::warn!(%error, "pool upkeep cannot read the state");
                    return;
                }
            };
            for address in senders {
                let account = match state.account(&address) {
                    Ok(account) => account.unwrap_or_default(),
                    Err(error) => {
                        tracing::warn!(%error, %address, "pool upkeep cannot read an account");
                        continue;
                    }
                };
                let next_nonce = account.nonce.saturating_add(self.reserved(&address));
                let Some(sender) = inner.senders.get_mut(&address) else {
                    continue;
                };
                sender.next_nonce = next_nonce;
                // Below the account's nonce: mined elsewhere or replaced; cannot be mined now.
                let stale: Vec<B256> = sender
                    .txs
                    .range(..next_nonce)
                    .map(|(_, t)| t.hash)
                    .collect();
                // No longer payable: geth drops these too.
                let unpayable: Vec<B256> = sender
                    .txs
                    .values()
                    .filter(|t| {
                        let f = t.tx.tx();
                        U256::from(f.gas_limit)
                            .checked_mul(U256::from(f.gas_price))
                            .and_then(|fee| fee.checked_add(f.value))
                            .is_none_or(|cost| cost > account.balance)
                    })
                    .map(|t| t.hash)
                    .collect();
                for hash in stale.iter().chain(&unpayable) {
                    inner.remove_one(hash);
                }
            }
        }
        for tx in update.reinject {
            // Mined again on the new branch, or no longer valid: nothing to do.
            let _ = self.add(tx);
        }
    }

    fn remove(&self, hashes: &[B256]) {
        let mut inner = self.lock();
        for hash in hashes {
            inner.remove_one(hash);
        }
    }
}
