//! Hot state kept in memory between blocks (issue 16, item 3): the accounts, storage slots and
//! trie nodes import read or wrote, so that the next block's execution and state root find
//! them without a database read.
//!
//! The cache holds the state of one block, the head it was last used on. Reads through
//! [`CachedSnapshot`] fill it; a commit on that head moves it to the new head with the
//! block's own writes (accounts, slots, wiped storages, trie node writes and deletions), so it
//! stays exact. Used on any other state (after an unwind or a reorganisation, or on a head
//! moved by anyone else) it starts empty. Past its byte budget it is emptied (a whole-cache
//! reset costs one block of misses and no bookkeeping per entry).

use std::{collections::HashMap, sync::Mutex};

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::{
    Account, ProviderResult, StateChanges, StateError, StateProvider, StateSnapshot, TrieNodeWrite,
    TrieTable,
};

/// The default budget of [`StateCache`], in MiB (`--cache.state-mb`).
pub const DEFAULT_STATE_CACHE_MB: usize = 256;

/// What one entry costs beside its bytes (hash map slot and key), an estimate.
const ENTRY_OVERHEAD: usize = 64;
/// What an account or a slot costs.
const ACCOUNT_BYTES: usize = 20 + 112 + ENTRY_OVERHEAD;
const SLOT_BYTES: usize = 20 + 32 + 32 + ENTRY_OVERHEAD;

/// Accounts, slots and trie nodes of one state, bounded in bytes.
#[derive(Debug)]
pub(crate) struct StateCache {
    budget: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// The block whose state the entries are.
    state: Option<B256>,
    accounts: HashMap<Address, Option<Account>>,
    storage: HashMap<(Address, B256), U256>,
    trie: HashMap<(TrieTable, Bytes), Option<Bytes>>,
    bytes: usize,
    hits: u64,
    misses: u64,
}

impl Entries {
    fn reset(&mut self, state: Option<B256>) {
        let (hits, misses) = (self.hits, self.misses);
        *self = Self {
            state,
            hits,
            misses,
            ..Self::default()
        };
    }

    fn charge(&mut self, bytes: usize, budget: usize) {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > budget {
            self.reset(self.state);
        }
    }
}

fn trie_bytes(key: &[u8], value: Option<&Bytes>) -> usize {
    key.len()
        .saturating_add(value.map_or(0, |v| v.len()))
        .saturating_add(ENTRY_OVERHEAD)
}

impl StateCache {
    /// A cache of at most `mb` MiB (0 turns it off).
    pub(crate) fn new(mb: usize) -> Self {
        Self {
            budget: mb.saturating_mul(1 << 20),
            inner: Mutex::new(Entries::default()),
        }
    }

    fn entries(&self) -> Option<std::sync::MutexGuard<'_, Entries>> {
        // A poisoned lock only loses the cache: reads go to the database.
        (self.budget > 0).then(|| self.inner.lock().ok()).flatten()
    }

    /// The cache's (hits, misses) so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        self.inner
            .lock()
            .map(|e| (e.hits, e.misses))
            .unwrap_or_default()
    }

    /// Entries for reads on `snapshot`'s state: emptied first if they are another state's.
    fn on_state(&self, state: B256) -> Option<std::sync::MutexGuard<'_, Entries>> {
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
        for (address, account) in &changes.accounts {
            entries.accounts.insert(*address, *account);
        }
        if !changes.wiped_storage.is_empty() {
            entries
                .storage
                .retain(|(address, _), _| !changes.wiped_storage.contains(address));
        }
        for (address, slot, value) in &changes.storage {
            entries.storage.insert((*address, *slot), *value);
        }
        let mut added = changes
            .accounts
            .len()
            .saturating_mul(ACCOUNT_BYTES)
            .saturating_add(changes.storage.len().saturating_mul(SLOT_BYTES));
        for write in trie {
            added = added.saturating_add(trie_bytes(&write.key, write.value.as_ref()));
            entries
                .trie
                .insert((write.table, write.key.clone()), write.value.clone());
        }
        entries.charge(added, self.budget);
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

    /// `get` from the cache, else `read` from the database and remember it (`bytes` its cost).
    fn through<K, V: Clone, E>(
        &self,
        map: impl Fn(&mut Entries) -> &mut HashMap<K, V>,
        key: K,
        read: impl FnOnce() -> Result<V, E>,
        bytes: impl FnOnce(&V) -> usize,
    ) -> Result<V, E>
    where
        K: std::hash::Hash + Eq,
    {
        if let Some(mut entries) = self.cache.on_state(self.state) {
            if let Some(value) = map(&mut entries).get(&key).cloned() {
                entries.hits = entries.hits.saturating_add(1);
                return Ok(value);
            }
            entries.misses = entries.misses.saturating_add(1);
        }
        // Read without holding the lock.
        let value = read()?;
        if let Some(mut entries) = self.cache.on_state(self.state) {
            let cost = bytes(&value);
            map(&mut entries).insert(key, value.clone());
            entries.charge(cost, self.cache.budget);
        }
        Ok(value)
    }
}

impl StateProvider for CachedSnapshot<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.through(
            |e| &mut e.accounts,
            *address,
            || self.inner.account(address),
            |_| ACCOUNT_BYTES,
        )
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        self.through(
            |e| &mut e.storage,
            (*address, *slot),
            || self.inner.storage(address, slot),
            |_| SLOT_BYTES,
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
            |e| &mut e.trie,
            (table, Bytes::copy_from_slice(key)),
            || self.inner.trie_node(table, key),
            |value| trie_bytes(key, value.as_ref()),
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
