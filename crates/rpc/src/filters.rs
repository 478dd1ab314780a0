//! Logs and polling filters: `eth_getLogs`, `eth_newFilter`, `eth_newBlockFilter`,
//! `eth_newPendingTransactionFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
//! `eth_uninstallFilter`.
//!
//! Installed filters live in memory. One task ([`upkeep`]) feeds them from the chain's head
//! changes and the pool's new pending transactions, and removes filters not polled for five
//! minutes, as geth does. Each filter buffers at most `max_filter_buffer` changes (the oldest
//! are dropped), all together at most `max_filter_bytes`, and at most `max_filters` exist, so
//! abandoned filters cost bounded memory. Matching logs for the filters runs on the heavy pool.

use std::{
    collections::{HashMap, VecDeque},
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::{B256, Bloom, BloomInput};
use serde_json::Value;
use spectrum_chain::CanonicalChange;
use spectrum_primitives::{Log, SealedHeader};

use crate::{
    api::{Api, Method, heavy, inline},
    blocks::block_logs,
    error::{ApiResult, internal, limit_exceeded, server_error},
    params::{self, BlockId, LogFilter, at_most, invalid, required},
};

pub(crate) const METHODS: &[Method<Value>] = &[
    heavy("eth_getLogs", get_logs),
    inline("eth_newFilter", new_filter),
    inline("eth_newBlockFilter", new_block_filter),
    inline("eth_newPendingTransactionFilter", new_pending_filter),
    inline("eth_getFilterChanges", get_filter_changes),
    heavy("eth_getFilterLogs", get_filter_logs),
    inline("eth_uninstallFilter", uninstall_filter),
];

/// A filter not polled for this long is removed.
pub(crate) const FILTER_TTL: Duration = Duration::from_secs(5 * 60);

/// Whether `bloom` may hold a log `filter` wants.
pub(crate) fn bloom_matches(filter: &LogFilter, bloom: &Bloom) -> bool {
    let any = |mut inputs: &mut dyn Iterator<Item = &[u8]>| {
        Iterator::any(&mut inputs, |input| {
            bloom.contains_input(BloomInput::Raw(input))
        })
    };
    if !filter.addresses.is_empty() && !any(&mut filter.addresses.iter().map(|a| a.as_slice())) {
        return false;
    }
    filter.topics.iter().all(|alternatives| {
        alternatives.is_empty() || any(&mut alternatives.iter().map(|t| t.as_slice()))
    })
}

/// Whether `log` matches the address and topic criteria of `filter`.
pub(crate) fn log_matches(filter: &LogFilter, log: &Log) -> bool {
    if !filter.addresses.is_empty() && !filter.addresses.contains(&log.address) {
        return false;
    }
    let topics = log.data.topics();
    filter.topics.iter().enumerate().all(|(i, alternatives)| {
        alternatives.is_empty() || topics.get(i).is_some_and(|t| alternatives.contains(t))
    })
}

/// Resolves a range bound: tags against `head`, numbers as given.
fn bound(block: Option<BlockId>, head: u64) -> u64 {
    match block {
        None | Some(BlockId::Latest | BlockId::Pending) => head,
        Some(BlockId::Earliest) => 0,
        Some(BlockId::Number(n)) => n,
        // Hash bounds are refused by the decoder; treat as head defensively.
        Some(BlockId::Hash { .. }) => head,
    }
}

/// The logs matching `filter`, within the configured range and result limits.
pub(crate) fn logs(api: &Api, filter: &LogFilter) -> ApiResult<Vec<Value>> {
    let db = &api.ctx.db;
    if let Some(hash) = filter.block_hash {
        let Some(header) = db.header(&hash).map_err(internal)? else {
            return Err(server_error("unknown block"));
        };
        return logs_of(api, &header, filter);
    }
    let (head, _) = api.head()?;
    let from = bound(filter.from_block, head);
    let to = bound(filter.to_block, head).min(head);
    if from > head {
        return Ok(Vec::new());
    }
    if from > to {
        return Err(server_error("invalid block range params"));
    }
    let span = to - from + 1;
    if span > api.limits.max_logs_block_range {
        return Err(limit_exceeded(format!(
            "block range of {span} blocks exceeds the limit of {}",
            api.limits.max_logs_block_range
        )));
    }
    let mut out = Vec::new();
    for number in from..=to {
        let Some(header) = db.header_by_number(number).map_err(internal)? else {
            break;
        };
        out.extend(logs_of(api, &header, filter)?);
        if out.len() > api.limits.max_logs {
            return Err(limit_exceeded(format!(
                "query returned more than {} results",
                api.limits.max_logs
            )));
        }
    }
    Ok(out)
}

fn logs_of(api: &Api, header: &SealedHeader, filter: &LogFilter) -> ApiResult<Vec<Value>> {
    if !bloom_matches(filter, &header.logs_bloom) {
        return Ok(Vec::new());
    }
    block_logs(api, header, false, &|log| log_matches(filter, log))
}

fn get_logs(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let filter = params::log_filter(required(values, 0)?, 0)?;
    logs(api, &filter).map(Value::Array)
}

/// Changes a filter holds between polls, each with its estimated size in bytes.
struct Buffer<T> {
    items: VecDeque<(T, usize)>,
    bytes: usize,
}

impl<T> Default for Buffer<T> {
    fn default() -> Self {
        Self {
            items: VecDeque::new(),
            bytes: 0,
        }
    }
}

/// What all buffers share: the length of each, and the bytes of all together.
struct Budget {
    max_len: usize,
    max_bytes: usize,
    used: usize,
}

impl<T> Buffer<T> {
    /// Adds a change: the filter's own oldest ones make room first (length and bytes); a change
    /// that still does not fit the shared budget is dropped.
    fn push(&mut self, item: T, size: usize, budget: &mut Budget) {
        while !self.items.is_empty()
            && (self.items.len() >= budget.max_len
                || budget.used.saturating_add(size) > budget.max_bytes)
        {
            self.pop_oldest(budget);
        }
        if budget.used.saturating_add(size) > budget.max_bytes {
            return;
        }
        self.items.push_back((item, size));
        self.bytes = self.bytes.saturating_add(size);
        budget.used = budget.used.saturating_add(size);
    }

    fn pop_oldest(&mut self, budget: &mut Budget) {
        if let Some((_, size)) = self.items.pop_front() {
            self.bytes = self.bytes.saturating_sub(size);
            budget.used = budget.used.saturating_sub(size);
        }
    }

    /// Everything buffered, oldest first; the bytes go back to the budget.
    fn drain(&mut self, budget: &mut Budget) -> Vec<T> {
        budget.used = budget.used.saturating_sub(self.bytes);
        self.bytes = 0;
        self.items.drain(..).map(|(item, _)| item).collect()
    }
}

/// A hash as the JSON a poll returns (`"0x…"`).
const HASH_BYTES: usize = 68;

/// What an installed filter collects.
enum Kind {
    Blocks(Buffer<B256>),
    PendingTxs(Buffer<B256>),
    Logs(Box<LogFilter>, Buffer<Value>),
}

impl Kind {
    fn logs(criteria: LogFilter) -> Self {
        Self::Logs(Box::new(criteria), Buffer::default())
    }

    /// Bytes its buffer holds.
    fn bytes(&self) -> usize {
        match self {
            Self::Blocks(b) | Self::PendingTxs(b) => b.bytes,
            Self::Logs(_, b) => b.bytes,
        }
    }
}

struct Installed {
    kind: Kind,
    last_poll: Instant,
}

/// The filters and their shared buffer budget, under one lock.
struct Filters {
    map: HashMap<String, Installed>,
    budget: Budget,
}

impl Filters {
    fn remove(&mut self, id: &str) -> bool {
        let Some(filter) = self.map.remove(id) else {
            return false;
        };
        self.budget.used = self.budget.used.saturating_sub(filter.kind.bytes());
        true
    }
}

/// The installed filters.
pub(crate) struct FilterStore {
    filters: Mutex<Filters>,
    max_filters: usize,
    ids: IdSource,
}

/// Unguessable `0x`-prefixed 128-bit ids (geth's shape).
pub(crate) struct IdSource {
    keys: RandomState,
    counter: AtomicU64,
}

impl std::fmt::Debug for IdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdSource")
    }
}

impl IdSource {
    pub(crate) fn new() -> Self {
        Self {
            keys: RandomState::new(),
            counter: AtomicU64::new(0),
        }
    }

    pub(crate) fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let a = self.keys.hash_one((n, 0u8));
        let b = self.keys.hash_one((n, 1u8));
        format!("0x{a:016x}{b:016x}")
    }
}

impl FilterStore {
    pub(crate) fn new(max_filters: usize, max_buffer: usize, max_bytes: usize) -> Self {
        Self {
            filters: Mutex::new(Filters {
                map: HashMap::new(),
                budget: Budget {
                    max_len: max_buffer.max(1),
                    max_bytes,
                    used: 0,
                },
            }),
            max_filters,
            ids: IdSource::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Filters> {
        // A panic while holding the lock leaves at worst a half-filled buffer.
        self.filters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn install(&self, kind: Kind) -> ApiResult<Value> {
        let mut filters = self.lock();
        if filters.map.len() >= self.max_filters {
            return Err(limit_exceeded(format!(
                "too many filters installed (limit {})",
                self.max_filters
            )));
        }
        let id = self.ids.next();
        filters.map.insert(
            id.clone(),
            Installed {
                kind,
                last_poll: Instant::now(),
            },
        );
        Ok(Value::String(id))
    }

    /// How many filters are installed.
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Bytes the filters buffer together.
    #[cfg(test)]
    fn buffered_bytes(&self) -> usize {
        self.lock().budget.used
    }

    /// Removes filters not polled within `ttl` of `now`.
    pub(crate) fn evict_expired(&self, now: Instant, ttl: Duration) {
        let mut filters = self.lock();
        let expired: Vec<String> = filters
            .map
            .iter()
            .filter(|(_, f)| now.saturating_duration_since(f.last_poll) >= ttl)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            filters.remove(&id);
        }
    }

    /// Records a new pending transaction.
    pub(crate) fn on_pending(&self, hash: B256) {
        let mut guard = self.lock();
        let Filters { map, budget } = &mut *guard;
        for filter in map.values_mut() {
            if let Kind::PendingTxs(buffer) = &mut filter.kind {
                buffer.push(hash, HASH_BYTES, budget);
            }
        }
    }

    /// Records a head change: new block hashes, and the logs of removed and added blocks.
    pub(crate) fn on_chain_change(&self, api: &Api, change: &CanonicalChange) -> ApiResult<()> {
        let criteria: Vec<(String, LogFilter)> = {
            let mut guard = self.lock();
            let Filters { map, budget } = &mut *guard;
            for filter in map.values_mut() {
                if let Kind::Blocks(buffer) = &mut filter.kind {
                    for header in &change.added {
                        buffer.push(header.hash(), HASH_BYTES, budget);
                    }
                }
            }
            map.iter()
                .filter_map(|(id, f)| match &f.kind {
                    Kind::Logs(criteria, _) => Some((id.clone(), (**criteria).clone())),
                    _ => None,
                })
                .collect()
        };
        for (id, criteria) in criteria {
            let logs = change_logs(api, change, &criteria)?;
            if logs.is_empty() {
                continue;
            }
            let mut guard = self.lock();
            let Filters { map, budget } = &mut *guard;
            if let Some(Installed {
                kind: Kind::Logs(_, buffer),
                ..
            }) = map.get_mut(&id)
            {
                for log in logs {
                    let size = log.to_string().len();
                    buffer.push(log, size, budget);
                }
            }
        }
        Ok(())
    }
}

/// The logs `criteria` wants from a head change: those of removed blocks marked `removed`.
pub(crate) fn change_logs(
    api: &Api,
    change: &CanonicalChange,
    criteria: &LogFilter,
) -> ApiResult<Vec<Value>> {
    let in_range = |number: u64| {
        let above = match criteria.from_block {
            Some(BlockId::Number(from)) => number >= from,
            _ => true,
        };
        let below = match criteria.to_block {
            Some(BlockId::Number(to)) => number <= to,
            _ => true,
        };
        let hash_ok = criteria.block_hash.is_none();
        above && below && hash_ok
    };
    let mut out = Vec::new();
    let sides = [(&change.removed, true), (&change.added, false)];
    for (headers, removed) in sides {
        for header in headers.iter().filter(|h| in_range(h.number)) {
            if bloom_matches(criteria, &header.logs_bloom) {
                out.extend(block_logs(api, header, removed, &|log| {
                    log_matches(criteria, log)
                })?);
            }
        }
    }
    Ok(out)
}

/// Feeds the filters until the node stops: head changes, pending transactions, expiry.
pub(crate) async fn upkeep(api: Arc<Api>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut chain = api.ctx.events.subscribe();
    let mut pending = api.ctx.pool.subscribe_pending();
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            change = chain.recv() => match change {
                Ok(change) => {
                    if api.filters.len() > 0 {
                        // Log matching reads the database: on the heavy pool, off the runtime.
                        let worker = api.clone();
                        let updated = api
                            .heavy
                            .internal(move || worker.filters.on_chain_change(&worker, &change))
                            .await;
                        if let Err(error) = updated {
                            tracing::warn!(error = %error.message(), "updating log filters");
                        }
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "filters fell behind the chain");
                }
                Err(RecvError::Closed) => return,
            },
            hash = pending.recv() => match hash {
                Ok(hash) => api.filters.on_pending(hash),
                Err(RecvError::Lagged(_)) => {}
                // A pool that stopped announcing: keep serving the chain.
                Err(RecvError::Closed) => pending = futures_never(),
            },
            _ = tick.tick() => api.filters.evict_expired(Instant::now(), FILTER_TTL),
        }
    }
}

/// A receiver that never yields (its sender is kept alive forever).
fn futures_never() -> tokio::sync::broadcast::Receiver<B256> {
    let (sender, receiver) = tokio::sync::broadcast::channel(1);
    std::mem::forget(sender);
    receiver
}

fn new_filter(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let filter = params::log_filter(required(values, 0)?, 0)?;
    api.filters.install(Kind::logs(filter))
}

fn new_block_filter(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    api.filters.install(Kind::Blocks(Buffer::default()))
}

fn new_pending_filter(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    api.filters.install(Kind::PendingTxs(Buffer::default()))
}

fn filter_id(values: &[Value]) -> ApiResult<String> {
    let id = required(values, 0)?
        .as_str()
        .ok_or_else(|| invalid(0, "expected a filter id string"))?;
    if id.len() > 66 {
        return Err(invalid(0, "filter id too long"));
    }
    Ok(id.to_ascii_lowercase())
}

fn not_found() -> jsonrpsee::types::ErrorObjectOwned {
    server_error("filter not found")
}

fn get_filter_changes(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let id = filter_id(values)?;
    let mut guard = api.filters.lock();
    let Filters { map, budget } = &mut *guard;
    let filter = map.get_mut(&id).ok_or_else(not_found)?;
    filter.last_poll = Instant::now();
    Ok(match &mut filter.kind {
        Kind::Blocks(buffer) | Kind::PendingTxs(buffer) => Value::Array(
            buffer
                .drain(budget)
                .into_iter()
                .map(|h| Value::String(h.to_string()))
                .collect(),
        ),
        Kind::Logs(_, buffer) => Value::Array(buffer.drain(budget)),
    })
}

fn get_filter_logs(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let id = filter_id(values)?;
    let criteria = {
        let mut filters = api.filters.lock();
        let filter = filters.map.get_mut(&id).ok_or_else(not_found)?;
        filter.last_poll = Instant::now();
        match &filter.kind {
            Kind::Logs(criteria, _) => (**criteria).clone(),
            _ => return Err(not_found()),
        }
    };
    logs(api, &criteria).map(Value::Array)
}

fn uninstall_filter(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let id = filter_id(values)?;
    Ok(Value::Bool(api.filters.lock().remove(&id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, LogData};

    fn log(address: Address, topics: Vec<B256>) -> Log {
        Log {
            address,
            data: LogData::new_unchecked(topics, Default::default()),
        }
    }

    #[test]
    fn matching_by_address_and_topic_position() {
        let a = Address::repeat_byte(1);
        let (t1, t2) = (B256::repeat_byte(2), B256::repeat_byte(3));
        let filter = LogFilter {
            addresses: vec![a],
            topics: vec![vec![], vec![t2]],
            ..Default::default()
        };
        assert!(log_matches(&filter, &log(a, vec![t1, t2])));
        assert!(!log_matches(&filter, &log(a, vec![t2, t1])));
        assert!(!log_matches(&filter, &log(a, vec![t1])));
        assert!(!log_matches(&filter, &log(Address::ZERO, vec![t1, t2])));
        let mut bloom = Bloom::default();
        bloom.accrue(BloomInput::Raw(a.as_slice()));
        bloom.accrue(BloomInput::Raw(t2.as_slice()));
        assert!(bloom_matches(&filter, &bloom));
        assert!(!bloom_matches(&filter, &Bloom::default()));
    }

    /// The pending-transaction buffers' contents, in some order.
    fn pending_buffers(store: &FilterStore) -> Vec<Vec<B256>> {
        store
            .lock()
            .map
            .values()
            .filter_map(|f| match &f.kind {
                Kind::PendingTxs(b) => Some(b.items.iter().map(|(h, _)| *h).collect()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn buffers_and_store_are_bounded() {
        let store = FilterStore::new(2, 3, usize::MAX);
        store.install(Kind::PendingTxs(Buffer::default())).unwrap();
        store.install(Kind::Blocks(Buffer::default())).unwrap();
        let refused = store.install(Kind::Blocks(Buffer::default())).unwrap_err();
        assert_eq!(refused.code(), -32005);
        assert_eq!(refused.message(), "too many filters installed (limit 2)");
        for i in 0..10u8 {
            store.on_pending(B256::repeat_byte(i));
        }
        assert_eq!(
            pending_buffers(&store),
            vec![vec![
                B256::repeat_byte(7),
                B256::repeat_byte(8),
                B256::repeat_byte(9)
            ]]
        );
        assert_eq!(store.buffered_bytes(), 3 * HASH_BYTES);
        store.evict_expired(Instant::now() + FILTER_TTL, FILTER_TTL);
        assert_eq!(store.len(), 0);
        assert_eq!(store.buffered_bytes(), 0);
    }

    #[test]
    fn all_filters_share_one_byte_budget() {
        // Room for three hashes over all filters, ten per filter.
        let store = FilterStore::new(10, 10, 3 * HASH_BYTES);
        for _ in 0..2 {
            store.install(Kind::PendingTxs(Buffer::default())).unwrap();
        }
        for i in 0..5u8 {
            store.on_pending(B256::repeat_byte(i));
        }
        assert!(store.buffered_bytes() <= 3 * HASH_BYTES);
        let mut buffers = pending_buffers(&store);
        buffers.sort_by_key(Vec::len);
        // Each filter kept its newest changes; together no more than the budget.
        let newest = B256::repeat_byte(4);
        assert_eq!(buffers[0], vec![newest]);
        assert_eq!(buffers[1], vec![B256::repeat_byte(3), newest]);
        // Polling gives the bytes back.
        let mut guard = store.lock();
        let Filters { map, budget } = &mut *guard;
        for filter in map.values_mut() {
            if let Kind::PendingTxs(buffer) = &mut filter.kind {
                buffer.drain(budget);
            }
        }
        assert_eq!(budget.used, 0);
    }

    #[test]
    fn ids_are_distinct_hex() {
        let ids = IdSource::new();
        let (a, b) = (ids.next(), ids.next());
        assert_ne!(a, b);
        assert_eq!(a.len(), 34);
        assert!(a.starts_with("0x"));
    }
}
