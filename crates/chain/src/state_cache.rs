//! Hot state kept in memory between blocks (issue 16, item 3): the accounts, storage slots and
//! trie nodes import read or wrote, so that the next block's execution and state root find
//! them without a database read.
//!
//! The cache holds the state of one block, the head it was last used on. Reads through
//! [`CachedSnapshot`] fill it; a commit on that head moves it to the new head with the
//! block's own writes (accounts, slots, wiped storages, trie node writes and deletions), so it
//! stays exact. Used on any other state (after an unwind or a reorganisation, or on a head
//! moved by anyone else) it starts empty. Within its byte budget it evicts in two generations
//! (`generations.rs`): what was read or written recently stays, what nobody touched for a
//! whole budget's worth of newer entries goes.

mod generations;

use std::sync::{Mutex, MutexGuard};

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::{
    Account, ProviderResult, StateChanges, StateError, StateProvider, StateSnapshot, TrieNodeWrite,
    TrieTable,
};

pub use generations::StateCacheStats;
use generations::{Accounts, Entries, Slots, Table, TrieNodes};

/// The default budget of [`StateCache`], in MiB (`--cache.state-mb`).
pub const DEFAULT_STATE_CACHE_MB: usize = 256;

/// Accounts, slots and trie nodes of one state, bounded in bytes.
#[derive(Debug)]
pub(crate) struct StateCache {
    budget: usize,
    inner: Mutex<Entries>,
}

impl StateCache {
    /// A cache of at most `mb` MiB (0 turns it off).
    pub(crate) fn new(mb: usize) -> Self {
        Self::with_budget(mb.saturating_mul(1 << 20))
    }

    /// A cache of at most `budget` bytes (0 turns it off).
    pub(crate) fn with_budget(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::new(Entries::default()),
        }
    }

    fn entries(&self) -> Option<MutexGuard<'_, Entries>> {
        // A poisoned lock only loses the cache: reads go to the database.
        (self.budget > 0).then(|| self.inner.lock().ok()).flatten()
    }

    /// What the cache holds and has served so far.
    pub(crate) fn stats(&self) -> StateCacheStats {
        self.inner
            .lock()
            .map(|e| e.stats(self.budget))
            .unwrap_or_default()
    }

    /// Entries for reads on `snapshot`'s state: emptied first if they are another state's.
    fn on_state(&self, state: B256) -> Option<MutexGuard<'_, Entries>> {
        let mut entries = self.entries()?;
        if entries.state != Some(state) {
            entries.reset(Some(state));
        }
        Some(entries)
    }

    /// Block `block`, executed on state `parent`, was committed with `changes` and `trie`:
    /// entries of `parent` become those of `block`; entries of any other state are dropped.
    pub(crate) fn committed(
        &self,
        parent: B256,
        block: B256,
        changes: &StateChanges,
        trie: &[TrieNodeWrite],
    ) {
        let Some(mut entries) = self.entries() else {
            return;
        };
        if entries.state != Some(parent) {
            entries.reset(Some(block));
            return;
        }
        entries.state = Some(block);
        let budget = self.budget;
        for (address, account) in &changes.accounts {
            entries.put(&Accounts, *address, *account, budget);
        }
        // Wiped before the block's slot writes (`StateChanges::wiped_storage`).
        entries.wipe_storage(&changes.wiped_storage);
        for (address, slot, value) in &changes.storage {
            entries.put(&Slots, (*address, *slot), *value, budget);
        }
        for write in trie {
            let table = TrieNodes(write.table);
            entries.put(&table, write.key.clone(), write.value.clone(), budget);
        }
        entries.publish();
    }
}

impl crate::Blockchain {
    /// What the state kept between blocks holds and has served so far (hits, misses,
    /// evictions, bytes against the budget).
    pub fn state_cache_stats(&self) -> StateCacheStats {
        self.state_cache.stats()
    }

    /// Bounds the state kept between blocks to `bytes` (tests of eviction: the budget of
    /// [`crate::Blockchain::with_state_cache_mb`] in bytes).
    #[cfg(feature = "test-utils")]
    pub fn with_state_cache_bytes(mut self, bytes: usize) -> Self {
        self.state_cache = StateCache::with_budget(bytes);
        self
    }
}

/// A state snapshot read through the cache (the snapshot must be the state the cache is
/// used for: the head being imported on).
pub(crate) struct CachedSnapshot<'a> {
    inner: &'a dyn StateSnapshot,
    cache: &'a StateCache,
    state: B256,
}

impl<'a> CachedSnapshot<'a> {
    pub(crate) fn new(inner: &'a dyn StateSnapshot, cache: &'a StateCache) -> Self {
        let state = inner.hash();
        Self {
            inner,
            cache,
            state,
        }
    }

    /// `key` from the cache, else `read` from the database and remember it.
    fn through<T: Table, E>(
        &self,
        table: &T,
        key: &T::Query,
        owned: impl FnOnce() -> T::Key,
        read: impl FnOnce() -> Result<T::Value, E>,
    ) -> Result<T::Value, E> {
        let budget = self.cache.budget;
        if let Some(mut entries) = self.cache.on_state(self.state) {
            if let Some(value) = entries.get(table, key, budget) {
                entries.hits = entries.hits.saturating_add(1);
                return Ok(value);
            }
            entries.misses = entries.misses.saturating_add(1);
        }
        // Read without holding the lock.
        let value = read()?;
        if let Some(mut entries) = self.cache.on_state(self.state) {
            entries.put(table, owned(), value.clone(), budget);
        }
        Ok(value)
    }
}

impl StateProvider for CachedSnapshot<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.through(
            &Accounts,
            address,
            || *address,
            || self.inner.account(address),
        )
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        self.through(
            &Slots,
            &(*address, *slot),
            || (*address, *slot),
            || self.inner.storage(address, slot),
        )
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        self.inner.code(code_hash)
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        self.inner.block_hash(number)
    }
}

impl StateSnapshot for CachedSnapshot<'_> {
    fn number(&self) -> u64 {
        self.inner.number()
    }

    fn hash(&self) -> B256 {
        self.state
    }

    fn header(&self) -> ProviderResult<SealedHeader> {
        self.inner.header()
    }

    fn total_difficulty(&self) -> ProviderResult<U256> {
        self.inner.total_difficulty()
    }

    fn trie_node(&self, table: TrieTable, key: &[u8]) -> ProviderResult<Option<Bytes>> {
        self.through(
            &TrieNodes(table),
            key,
            || Bytes::copy_from_slice(key),
            || self.inner.trie_node(table, key),
        )
    }

    fn storage_trie_keys(&self, hashed_address: &B256) -> ProviderResult<Vec<Vec<u8>>> {
        self.inner.storage_trie_keys(hashed_address)
    }

    // A walk reads the whole state: straight from the snapshot, never through the cache.
    fn walk_accounts(
        &self,
        max_accounts: usize,
        max_bytes: usize,
    ) -> ProviderResult<Vec<spectrum_storage_api::WalkedAccount>> {
        self.inner.walk_accounts(max_accounts, max_bytes)
    }
}

#[cfg(test)]
mod tests;
