//! [`Pool`]: validation outside the lock, bookkeeping ([`Store`]) inside it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use alloy_primitives::{Address, B256, U256};
use alloy_rlp::Encodable;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{DecodeError, Limits, TransactionSigned};
use tokio::sync::broadcast;

use crate::{
    BestTransactions, HeadUpdate, PoolConfig, PoolContent, PoolError, PoolStatus, PooledTx,
    StateSource, TxOrigin, TxPool, store::Store, validate,
};

/// Hashes a slow `subscribe_pending` receiver may fall behind by before it misses some.
const PENDING_EVENTS_CAPACITY: usize = 4096;

/// The transaction pool. Cheap to share (`Arc<Pool>`); every method takes `&self`.
pub struct Pool {
    config: PoolConfig,
    spec: Arc<ChainSpec>,
    state: Arc<dyn StateSource>,
    inner: Mutex<Inner>,
    pending_events: broadcast::Sender<B256>,
}

struct Inner {
    store: Store,
    head_number: u64,
    head_gas_limit: u64,
}

impl Pool {
    /// An empty pool for `spec`'s chain, validating against `state`, with the head at
    /// `head_number` whose gas limit is `head_gas_limit`.
    pub fn new(
        config: PoolConfig,
        spec: Arc<ChainSpec>,
        state: Arc<dyn StateSource>,
        head_number: u64,
        head_gas_limit: u64,
    ) -> Self {
        Self {
            config,
            spec,
            state,
            inner: Mutex::new(Inner {
                store: Store::default(),
                head_number,
                head_gas_limit,
            }),
            pending_events: broadcast::channel(PENDING_EVENTS_CAPACITY).0,
        }
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Bytes of encoded transactions held (bounded by [`PoolConfig::max_bytes`]).
    pub fn size_in_bytes(&self) -> usize {
        self.lock().store.bytes()
    }

    /// An estimate of the heap the pool's transactions and bookkeeping take, in bytes.
    pub fn estimated_memory(&self) -> usize {
        self.lock().store.estimated_memory()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Store updates do not panic half-way; a panic elsewhere while holding the lock
        // leaves the store consistent, so take it over.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The nonce `sender`'s next pool transaction must have, given its account's.
    fn next_nonce(&self, sender: &Address, account_nonce: u64) -> u64 {
        let reserved = self.config.reserved_nonce_senders.contains(sender);
        account_nonce.saturating_add(u64::from(reserved))
    }

    fn add(&self, tx: TransactionSigned) -> Result<B256, PoolError> {
        let hash = tx.hash();
        let (head_number, head_gas_limit) = {
            let inner = self.lock();
            if inner.store.contains(&hash) {
                return Err(PoolError::AlreadyKnown);
            }
            (inner.head_number, inner.head_gas_limit)
        };
        // Signature recovery and the state read happen outside the lock.
        let encoded_len = tx.length();
        let sender = validate::check_stateless(
            &self.config,
            &self.spec,
            &tx,
            encoded_len,
            head_number,
            head_gas_limit,
        )?;
        let account = self.state.latest()?.account(&sender)?.unwrap_or_default();
        let next_nonce = self.next_nonce(&sender, account.nonce);
        validate::check_account(&tx, &account, next_nonce)?;
        let pooled = Arc::new(PooledTx {
            tx,
            sender,
            hash,
            encoded_len,
        });
        let newly_pending = self.lock().store.admit(&self.config, pooled, next_nonce)?;
        self.announce(newly_pending);
        Ok(hash)
    }

    fn announce(&self, hashes: Vec<B256>) {
        for hash in hashes {
            // Nobody listening is fine.
            let _ = self.pending_events.send(hash);
        }
    }

    /// Each sender's next nonce and balance at the head; `None` if the state is unreadable.
    fn read_accounts(&self, senders: Vec<Address>) -> Option<Vec<(Address, u64, U256)>> {
        let state = match self.state.latest() {
            Ok(state) => state,
            Err(error) => {
                tracing::warn!(%error, "pool upkeep cannot read the state");
                return None;
            }
        };
        let mut accounts = Vec::with_capacity(senders.len());
        for address in senders {
            match state.account(&address) {
                Ok(account) => {
                    let account = account.unwrap_or_default();
                    let next_nonce = self.next_nonce(&address, account.nonce);
                    accounts.push((address, next_nonce, account.balance));
                }
                Err(error) => {
                    tracing::warn!(%error, %address, "pool upkeep cannot read an account");
                }
            }
        }
        Some(accounts)
    }
}

impl TxPool for Pool {
    fn add_raw(&self, raw: &[u8], origin: TxOrigin) -> Result<B256, PoolError> {
        if raw.len() > self.config.max_tx_size {
            return Err(PoolError::Oversized);
        }
        let limits = Limits {
            max_tx_bytes: self.config.max_tx_size,
            ..Limits::DEFAULT
        };
        let tx = TransactionSigned::decode_raw(raw, &limits).map_err(|e| match e {
            DecodeError::TypedTransaction(_) => PoolError::TypedTransaction,
            DecodeError::TooLarge { .. } => PoolError::Oversized,
            other => PoolError::Decode(other.to_string()),
        })?;
        self.add_transaction(tx, origin)
    }

    fn add_transaction(&self, tx: TransactionSigned, origin: TxOrigin) -> Result<B256, PoolError> {
        let hash = tx.hash();
        let result = self.add(tx);
        if let Err(error) = &result {
            spectrum_metrics::pool_rejected(&spectrum_metrics::variant_name(error));
            match origin {
                TxOrigin::Local => tracing::debug!(%hash, %error, "refused a local transaction"),
                TxOrigin::External => {
                    tracing::trace!(%hash, %error, "refused a peer's transaction")
                }
            }
        }
        result
    }

    fn get(&self, hash: &B256) -> Option<Arc<PooledTx>> {
        self.lock().store.get(hash)
    }

    fn pending_nonce(&self, sender: &Address) -> Option<u64> {
        if let Some(nonce) = self.lock().store.pending_nonce(sender) {
            return Some(nonce);
        }
        if !self.config.reserved_nonce_senders.contains(sender) {
            return None;
        }
        // Our next block's chief update takes the validator's state nonce: a wallet asking
        // for the next one must hear state nonce + 1, even with nothing pooled.
        let account = self.state.latest().ok()?.account(sender).ok()?;
        Some(self.next_nonce(sender, account.unwrap_or_default().nonce))
    }

    fn status(&self) -> PoolStatus {
        self.lock().store.status()
    }

    fn content(&self) -> PoolContent {
        self.lock().store.content()
    }

    fn subscribe_pending(&self) -> broadcast::Receiver<B256> {
        self.pending_events.subscribe()
    }

    fn best_transactions(&self) -> BestTransactions {
        self.lock().store.best()
    }

    fn on_head_update(&self, update: HeadUpdate) {
        let senders = {
            let mut inner = self.lock();
            inner.head_number = update.number;
            inner.head_gas_limit = update.gas_limit;
            for hash in &update.mined {
                inner.store.remove(hash);
            }
            inner.store.senders()
        };
        // Read the state without the lock: RPC and the network keep adding meanwhile.
        let accounts = self.read_accounts(senders).unwrap_or_default();
        let mut newly_pending = Vec::new();
        let (mut dropped, evicted) = {
            let mut inner = self.lock();
            let mut dropped = 0usize;
            for (address, next_nonce, balance) in accounts {
                let (gone, promoted) =
                    inner
                        .store
                        .revalidate(&address, next_nonce, balance, update.gas_limit);
                dropped = dropped.saturating_add(gone);
                newly_pending.extend(promoted);
            }
            let evicted = inner.store.enforce_limits(&self.config);
            newly_pending.retain(|hash| inner.store.contains(hash));
            (dropped, evicted)
        };
        self.announce(newly_pending);
        let reinjected = update.reinject.len();
        for tx in update.reinject {
            // Mined again on the new branch, or no longer valid: nothing to do.
            if self.add_transaction(tx, TxOrigin::External).is_err() {
                dropped = dropped.saturating_add(1);
            }
        }
        tracing::debug!(
            number = update.number,
            mined = update.mined.len(),
            reinjected,
            dropped,
            evicted,
            "pool follows the head"
        );
    }

    fn remove(&self, hashes: &[B256]) {
        let mut inner = self.lock();
        for hash in hashes {
            inner.store.remove(hash);
        }
    }
}
