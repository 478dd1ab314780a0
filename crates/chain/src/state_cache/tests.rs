//! The eviction order and exactness of the cache, on an in-memory state that counts the reads
//! that reach it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{cell::Cell, collections::HashMap};

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::{
    Account, ProviderError, ProviderResult, StateChanges, StateError, StateProvider, StateSnapshot,
    TrieNodeWrite, TrieTable, WalkedAccount,
};

use super::{CachedSnapshot, StateCache, generations::SLOT_BYTES};

const CONTRACT: Address = Address::repeat_byte(0xc0);

/// The state after one block: slots and trie nodes, counting the reads that reach it.
struct Fake {
    hash: B256,
    slots: HashMap<B256, U256>,
    trie: HashMap<Vec<u8>, Bytes>,
    reads: Cell<usize>,
}

impl Fake {
    /// State `block` where slot i holds `values[i]`.
    fn new(block: u8, values: &[u64]) -> Self {
        Self {
            hash: B256::repeat_byte(block),
            slots: values
                .iter()
                .enumerate()
                .map(|(i, v)| (slot(i), U256::from(*v)))
                .collect(),
            trie: HashMap::new(),
            reads: Cell::new(0),
        }
    }

    fn read(&self) {
        self.reads.set(self.reads.get() + 1);
    }
}

fn slot(i: usize) -> B256 {
    B256::from(U256::from(i))
}

impl StateProvider for Fake {
    fn account(&self, _: &Address) -> Result<Option<Account>, StateError> {
        self.read();
        Ok(None)
    }
    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        assert_eq!(*address, CONTRACT);
        self.read();
        Ok(self.slots.get(slot).copied().unwrap_or_default())
    }
    fn code(&self, _: &B256) -> Result<Option<Bytes>, StateError> {
        Ok(None)
    }
    fn block_hash(&self, _: u64) -> Result<Option<B256>, StateError> {
        Ok(None)
    }
}

impl StateSnapshot for Fake {
    fn number(&self) -> u64 {
        0
    }
    fn hash(&self) -> B256 {
        self.hash
    }
    fn header(&self) -> ProviderResult<SealedHeader> {
        Err(ProviderError::StateUnavailable(self.hash))
    }
    fn total_difficulty(&self) -> ProviderResult<U256> {
        Ok(U256::ZERO)
    }
    fn trie_node(&self, _: TrieTable, key: &[u8]) -> ProviderResult<Option<Bytes>> {
        self.read();
        Ok(self.trie.get(key).cloned())
    }
    fn storage_trie_keys(&self, _: &B256) -> ProviderResult<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }
    fn walk_accounts(&self, _: usize, _: usize) -> ProviderResult<Vec<WalkedAccount>> {
        Ok(Vec::new())
    }
}

/// Ten slots' worth: each generation holds five.
fn ten_slots() -> StateCache {
    StateCache::with_budget(10 * SLOT_BYTES)
}

/// Reads slot `i` through the cache; the cache must stay within its budget.
fn read(view: &CachedSnapshot<'_>, cache: &StateCache, i: usize) -> U256 {
    let value = view.storage(&CONTRACT, &slot(i)).unwrap();
    let stats = cache.stats();
    assert!(
        stats.bytes <= stats.budget,
        "{} bytes over a budget of {}",
        stats.bytes,
        stats.budget
    );
    value
}

/// Slot i of a state whose slot i holds i + 1.
fn counting(n: u64) -> Vec<u64> {
    (1..=n).collect()
}

#[test]
fn the_most_recently_read_entries_survive_eviction_and_the_oldest_go() {
    let cache = ten_slots();
    let state = Fake::new(1, &counting(20));
    let view = CachedSnapshot::new(&state, &cache);
    for i in 0..5 {
        read(&view, &cache, i);
    }
    // The sixth entry turns the generation: 0..=4 become the older one.
    read(&view, &cache, 5);
    assert_eq!(cache.stats().rotations, 1);
    // Slot 0, read again, is served from the older generation and moved up.
    assert_eq!(read(&view, &cache, 0), U256::from(1));
    assert_eq!(state.reads.get(), 6);
    for i in 6..=9 {
        read(&view, &cache, i);
    }
    // Slot 9 turned the generation again: 1..=4, untouched since, are gone.
    assert_eq!(cache.stats().rotations, 2);
    assert_eq!(state.reads.get(), 10);
    for i in [0, 5, 8, 9] {
        assert_eq!(read(&view, &cache, i), U256::from(i + 1));
    }
    assert_eq!(state.reads.get(), 10, "recent entries come from memory");
    assert_eq!(read(&view, &cache, 1), U256::from(2));
    assert_eq!(state.reads.get(), 11, "the oldest entry was evicted");
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (5, 11));
    assert_eq!(stats.promotions, 4, "0 once, then 0, 5 and 8");
    assert_eq!(stats.entries, 5 + 2);
}

/// Reads slots 0..5 on `state` and then enough others that 0..5 are in the older generation.
fn age_first_five(cache: &StateCache, state: &Fake) {
    let view = CachedSnapshot::new(state, cache);
    for i in 0..6 {
        read(&view, cache, i);
    }
    assert_eq!(cache.stats().rotations, 1);
}

fn slot_write(i: usize, value: u64) -> (Address, B256, U256) {
    (CONTRACT, slot(i), U256::from(value))
}

#[test]
fn a_slot_changed_by_a_block_is_never_served_stale_from_the_older_generation() {
    let cache = ten_slots();
    let parent = Fake::new(1, &counting(20));
    age_first_five(&cache, &parent);
    let changes = StateChanges {
        storage: vec![slot_write(0, 70), slot_write(1, 0)],
        ..StateChanges::default()
    };
    cache.committed(parent.hash, B256::repeat_byte(2), &changes, &[]);

    let mut block = Fake::new(2, &counting(20));
    block.slots.insert(slot(0), U256::from(70));
    block.slots.remove(&slot(1));
    let view = CachedSnapshot::new(&block, &cache);
    assert_eq!(read(&view, &cache, 0), U256::from(70));
    assert_eq!(read(&view, &cache, 1), U256::ZERO);
    assert_eq!(read(&view, &cache, 2), U256::from(3));
    assert_eq!(block.reads.get(), 0, "all three served from memory");
}

#[test]
fn a_wiped_storage_is_never_served_from_the_older_generation() {
    let cache = ten_slots();
    let parent = Fake::new(1, &counting(20));
    age_first_five(&cache, &parent);
    let changes = StateChanges {
        wiped_storage: vec![CONTRACT],
        storage: vec![slot_write(3, 40)],
        ..StateChanges::default()
    };
    cache.committed(parent.hash, B256::repeat_byte(2), &changes, &[]);

    let mut block = Fake::new(2, &[]);
    block.slots.insert(slot(3), U256::from(40));
    let view = CachedSnapshot::new(&block, &cache);
    assert_eq!(read(&view, &cache, 0), U256::ZERO);
    assert_eq!(read(&view, &cache, 5), U256::ZERO);
    assert_eq!(block.reads.get(), 2, "wiped slots are read again");
    assert_eq!(read(&view, &cache, 3), U256::from(40));
    assert_eq!(block.reads.get(), 2, "the block's own write is kept");
}

#[test]
fn a_trie_node_deleted_by_a_block_is_never_served_from_the_older_generation() {
    // Room for a few nodes of 100 bytes per generation.
    let cache = StateCache::with_budget(2_000);
    let mut parent = Fake::new(1, &[]);
    let node = |i: u8| (vec![i; 4], Bytes::from(vec![i; 100]));
    for i in 0..12 {
        let (key, value) = node(i);
        parent.trie.insert(key, value);
    }
    let view = CachedSnapshot::new(&parent, &cache);
    for i in 0..12 {
        let (key, value) = node(i);
        let got = view.trie_node(TrieTable::Storage, &key).unwrap();
        assert_eq!(got, Some(value));
        assert!(cache.stats().bytes <= 2_000);
    }
    assert_eq!(cache.stats().rotations, 2);
    // Node 11 is in the newer generation, node 7 in the older one.
    let (old, _) = node(7);
    let (new, _) = node(11);
    let trie = [old.clone(), new.clone()].map(|key| TrieNodeWrite {
        table: TrieTable::Storage,
        key: key.into(),
        value: None,
    });
    cache.committed(
        parent.hash,
        B256::repeat_byte(2),
        &StateChanges::default(),
        &trie,
    );

    let block = Fake::new(2, &[]);
    let view = CachedSnapshot::new(&block, &cache);
    for key in [old, new] {
        assert_eq!(view.trie_node(TrieTable::Storage, &key).unwrap(), None);
        // The account trie is another table: the same key is not its node.
        assert_eq!(view.trie_node(TrieTable::Account, &key).unwrap(), None);
    }
    assert_eq!(
        block.reads.get(),
        2,
        "deletions served from memory, the other table read"
    );
}

#[test]
fn another_state_or_a_commit_on_another_parent_empties_the_cache() {
    let cache = ten_slots();
    let first = Fake::new(1, &counting(5));
    age_first_five(&cache, &first);
    let other = Fake::new(9, &[]);
    let view = CachedSnapshot::new(&other, &cache);
    assert_eq!(
        read(&view, &cache, 0),
        U256::ZERO,
        "not the first state's 1"
    );
    assert_eq!(cache.stats().entries, 1);

    // A block on another parent than the cached state: the cache is that block's, empty.
    let changes = StateChanges {
        storage: vec![slot_write(0, 5)],
        ..StateChanges::default()
    };
    cache.committed(first.hash, B256::repeat_byte(3), &changes, &[]);
    assert_eq!(cache.stats().entries, 0);
}

#[test]
fn an_entry_larger_than_a_generation_is_not_kept_and_hides_no_older_value() {
    let cache = StateCache::with_budget(400);
    let mut parent = Fake::new(1, &[]);
    parent.trie.insert(vec![1], Bytes::from(vec![1; 10]));
    let view = CachedSnapshot::new(&parent, &cache);
    assert!(view.trie_node(TrieTable::Account, &[1]).unwrap().is_some());
    assert_eq!(cache.stats().entries, 1);
    let big = TrieNodeWrite {
        table: TrieTable::Account,
        key: Bytes::from(vec![1]),
        value: Some(Bytes::from(vec![2; 300])),
    };
    cache.committed(
        parent.hash,
        B256::repeat_byte(2),
        &StateChanges::default(),
        &[big],
    );
    assert_eq!(
        cache.stats().entries,
        0,
        "the old node is gone, the new one too big"
    );
    assert_eq!(cache.stats().bytes, 0);
}
