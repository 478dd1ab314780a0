//! The cache's entries in two generations, bounded in bytes.
//!
//! Reads look in the current generation, then in the previous one; an entry found there is
//! moved up into the current one. When the current generation would pass half the budget,
//! the previous one is dropped whole and the current one becomes the previous. So everything
//! read or written within the last half budget of insertions is kept, what nobody touched
//! for a whole budget goes, and the sum of both stays within the budget. Every operation is
//! a few hash-map operations: no per-entry recency list on the hot path.
//!
//! A key lives in at most one generation (a write or a move removes it from the other), so
//! the byte count is exact and a value in the previous generation can never shadow a newer
//! one.

use std::{borrow::Borrow, hash::Hash, mem};

use alloy_primitives::{
    Address, B256, Bytes, U256,
    map::{AddressMap, HashMap},
};
use spectrum_storage_api::{Account, TrieTable};

/// What one entry costs beside its key and value (hash-table slot, control byte, the table's
/// spare capacity), an estimate.
const ENTRY_OVERHEAD: usize = 64;
/// What an account costs: address, optional account, overhead.
pub(super) const ACCOUNT_BYTES: usize = 20 + 112 + ENTRY_OVERHEAD;
/// What a slot costs: address, slot, value, overhead.
pub(super) const SLOT_BYTES: usize = 20 + 32 + 32 + ENTRY_OVERHEAD;

/// What a trie node costs: its key and value bytes (on the heap) and the overhead.
pub(super) fn trie_bytes(key: &[u8], value: Option<&Bytes>) -> usize {
    key.len()
        .saturating_add(value.map_or(0, |v| v.len()))
        .saturating_add(ENTRY_OVERHEAD)
}

/// One generation of entries.
#[derive(Debug, Default)]
pub(super) struct Generation {
    accounts: AddressMap<Option<Account>>,
    storage: HashMap<(Address, B256), U256>,
    // One map per trie table so that a lookup borrows the key (`Bytes: Borrow<[u8]>`)
    // instead of allocating one.
    account_trie: HashMap<Bytes, Option<Bytes>>,
    storage_trie: HashMap<Bytes, Option<Bytes>>,
    bytes: usize,
}

impl Generation {
    fn len(&self) -> usize {
        self.accounts
            .len()
            .saturating_add(self.storage.len())
            .saturating_add(self.account_trie.len())
            .saturating_add(self.storage_trie.len())
    }

    /// Drops every slot of the accounts in `wiped`.
    fn wipe_storage(&mut self, wiped: &[Address]) {
        let before = self.storage.len();
        self.storage
            .retain(|(address, _), _| !wiped.contains(address));
        let removed = before.saturating_sub(self.storage.len());
        self.bytes = self
            .bytes
            .saturating_sub(removed.saturating_mul(SLOT_BYTES));
    }
}

/// One kind of entry: which map of a generation holds it and what it costs.
pub(super) trait Table {
    /// The key as stored.
    type Key: Hash + Eq + Borrow<Self::Query>;
    /// The key as looked up.
    type Query: Hash + Eq + ?Sized;
    /// The value.
    type Value: Clone;
    /// The hasher of the map.
    type Hasher: std::hash::BuildHasher;
    fn map<'g>(
        &self,
        generation: &'g mut Generation,
    ) -> &'g mut HashMap<Self::Key, Self::Value, Self::Hasher>;
    fn cost(&self, key: &Self::Query, value: &Self::Value) -> usize;
}

/// Accounts by address.
pub(super) struct Accounts;
/// Storage slots by (address, slot).
pub(super) struct Slots;
/// Trie nodes of one table by key.
pub(super) struct TrieNodes(pub(super) TrieTable);

impl Table for Accounts {
    type Key = Address;
    type Query = Address;
    type Value = Option<Account>;
    type Hasher = alloy_primitives::map::FbBuildHasher<20>;
    fn map<'g>(&self, g: &'g mut Generation) -> &'g mut AddressMap<Option<Account>> {
        &mut g.accounts
    }
    fn cost(&self, _: &Address, _: &Option<Account>) -> usize {
        ACCOUNT_BYTES
    }
}

impl Table for Slots {
    type Key = (Address, B256);
    type Query = (Address, B256);
    type Value = U256;
    type Hasher = alloy_primitives::map::DefaultHashBuilder;
    fn map<'g>(&self, g: &'g mut Generation) -> &'g mut HashMap<(Address, B256), U256> {
        &mut g.storage
    }
    fn cost(&self, _: &(Address, B256), _: &U256) -> usize {
        SLOT_BYTES
    }
}

impl Table for TrieNodes {
    type Key = Bytes;
    type Query = [u8];
    type Value = Option<Bytes>;
    type Hasher = alloy_primitives::map::DefaultHashBuilder;
    fn map<'g>(&self, g: &'g mut Generation) -> &'g mut HashMap<Bytes, Option<Bytes>> {
        match self.0 {
            TrieTable::Account => &mut g.account_trie,
            TrieTable::Storage => &mut g.storage_trie,
        }
    }
    fn cost(&self, key: &[u8], value: &Option<Bytes>) -> usize {
        trie_bytes(key, value.as_ref())
    }
}

/// What the cache holds and has served so far ([`crate::Blockchain::state_cache_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCacheStats {
    /// Reads served from memory.
    pub hits: u64,
    /// Reads that went to the database.
    pub misses: u64,
    /// Hits found in the older generation (and moved up into the newer one).
    pub promotions: u64,
    /// Times the older generation was dropped to make room (evictions).
    pub rotations: u64,
    /// Entries held now.
    pub entries: usize,
    /// Bytes held now, as counted against the budget.
    pub bytes: usize,
    /// The budget in bytes (0: the cache is off).
    pub budget: usize,
}

/// The entries of one state in two generations, with the counters.
#[derive(Debug, Default)]
pub(super) struct Entries {
    /// The block whose state the entries are.
    pub(super) state: Option<B256>,
    current: Generation,
    previous: Generation,
    pub(super) hits: u64,
    pub(super) misses: u64,
    promotions: u64,
    rotations: u64,
    /// (hits, misses, rotations) when the metrics were last told.
    published: (u64, u64, u64),
}

impl Entries {
    /// Drops every entry; the entries are now those of `state`. Counters stay.
    pub(super) fn reset(&mut self, state: Option<B256>) {
        self.state = state;
        self.current = Generation::default();
        self.previous = Generation::default();
    }

    pub(super) fn stats(&self, budget: usize) -> StateCacheStats {
        StateCacheStats {
            hits: self.hits,
            misses: self.misses,
            promotions: self.promotions,
            rotations: self.rotations,
            entries: self.current.len().saturating_add(self.previous.len()),
            bytes: self.current.bytes.saturating_add(self.previous.bytes),
            budget,
        }
    }

    /// Tells the metrics what changed since they were last told (once per block).
    pub(super) fn publish(&mut self) {
        let now = (self.hits, self.misses, self.rotations);
        let (hits, misses, rotations) = self.published;
        spectrum_metrics::state_cache(
            self.current.bytes.saturating_add(self.previous.bytes),
            now.0.saturating_sub(hits),
            now.1.saturating_sub(misses),
            now.2.saturating_sub(rotations),
        );
        self.published = now;
    }

    /// The value of `key`, from the current generation or moved up from the previous one.
    pub(super) fn get<T: Table>(
        &mut self,
        table: &T,
        key: &T::Query,
        budget: usize,
    ) -> Option<T::Value> {
        if let Some(value) = table.map(&mut self.current).get(key) {
            return Some(value.clone());
        }
        let (key, value) = table.map(&mut self.previous).remove_entry(key)?;
        let cost = table.cost(key.borrow(), &value);
        self.previous.bytes = self.previous.bytes.saturating_sub(cost);
        self.promotions = self.promotions.saturating_add(1);
        self.insert_current(table, key, value.clone(), cost, budget);
        Some(value)
    }

    /// Makes `value` the one entry of `key`, in the current generation.
    pub(super) fn put<T: Table>(&mut self, table: &T, key: T::Key, value: T::Value, budget: usize) {
        let cost = table.cost(key.borrow(), &value);
        for generation in [&mut self.current, &mut self.previous] {
            if let Some(old) = table.map(generation).remove(key.borrow()) {
                let old_cost = table.cost(key.borrow(), &old);
                generation.bytes = generation.bytes.saturating_sub(old_cost);
            }
        }
        self.insert_current(table, key, value, cost, budget);
    }

    /// Drops every cached slot of the accounts in `wiped`, in both generations.
    pub(super) fn wipe_storage(&mut self, wiped: &[Address]) {
        if wiped.is_empty() {
            return;
        }
        self.current.wipe_storage(wiped);
        self.previous.wipe_storage(wiped);
    }

    /// Inserts a key present in neither generation, first dropping the previous generation
    /// if the current one would pass half the budget. An entry larger than half the budget
    /// is not kept.
    fn insert_current<T: Table>(
        &mut self,
        table: &T,
        key: T::Key,
        value: T::Value,
        cost: usize,
        budget: usize,
    ) {
        let half = budget / 2;
        if cost > half {
            return;
        }
        if self.current.bytes.saturating_add(cost) > half {
            self.previous = mem::take(&mut self.current);
            self.rotations = self.rotations.saturating_add(1);
        }
        table.map(&mut self.current).insert(key, value);
        self.current.bytes = self.current.bytes.saturating_add(cost);
    }
}
