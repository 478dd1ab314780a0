//! Answers of the chief, ChiefBase and POC views, remembered per state.
//!
//! The state after a block is a function of the block's hash, so an answer read at that state
//! never goes stale: the key is the block hash with the contract and the call, and a new block
//! is a new key (no invalidation needed, a reorg included). The import reads the parent's
//! state several times per block (the signer set before execution, the volunteer lists and
//! `getStatus()` again after it); with the cache each view runs once per state. Bounded: the
//! oldest entries go first.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use alloy_primitives::{Address, B256, Bytes};

/// Entries kept: a block's reads are a handful of views, so this covers the last few hundred
/// states (RPC's `tribe_*` views at older blocks included) in well under a megabyte of keys.
pub(crate) const CAPACITY: usize = 2_048;

/// Which answer: the state (block hash), the contract and the call data.
type Key = (B256, Address, Vec<u8>);

/// A bounded map of view answers, oldest evicted first.
#[derive(Debug, Default)]
pub(crate) struct ViewCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    answers: HashMap<Key, Bytes>,
    order: VecDeque<Key>,
}

impl ViewCache {
    /// The remembered answer of `call` on `to` at the state after block `at`.
    pub(crate) fn get(&self, at: B256, to: Address, call: &[u8]) -> Option<Bytes> {
        let entries = self.inner.lock().ok()?;
        entries.answers.get(&(at, to, call.to_vec())).cloned()
    }

    /// Remembers a successful answer; evicts the oldest beyond [`CAPACITY`].
    pub(crate) fn insert(&self, at: B256, to: Address, call: &[u8], answer: Bytes) {
        // A poisoned lock only loses caching, never correctness: the caller has the answer.
        let Ok(mut entries) = self.inner.lock() else {
            return;
        };
        let key = (at, to, call.to_vec());
        if entries.answers.insert(key.clone(), answer).is_none() {
            entries.order.push_back(key);
        }
        while entries.order.len() > CAPACITY {
            if let Some(oldest) = entries.order.pop_front() {
                entries.answers.remove(&oldest);
            }
        }
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().map(|e| e.answers.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn answers_are_per_state_contract_and_call() {
        let cache = ViewCache::default();
        let (a, b) = (B256::repeat_byte(1), B256::repeat_byte(2));
        let to = Address::repeat_byte(9);
        cache.insert(a, to, &[1, 2, 3, 4], Bytes::from_static(b"x"));
        assert_eq!(
            cache.get(a, to, &[1, 2, 3, 4]),
            Some(Bytes::from_static(b"x"))
        );
        assert_eq!(cache.get(b, to, &[1, 2, 3, 4]), None, "another state");
        assert_eq!(
            cache.get(a, Address::ZERO, &[1, 2, 3, 4]),
            None,
            "another contract"
        );
        assert_eq!(cache.get(a, to, &[1, 2, 3, 5]), None, "another call");
    }

    #[test]
    fn oldest_entries_are_evicted_beyond_capacity() {
        let cache = ViewCache::default();
        let to = Address::ZERO;
        let total = CAPACITY + 10;
        for i in 0..total {
            let at = B256::from(alloy_primitives::U256::from(i));
            cache.insert(at, to, &[0], Bytes::new());
        }
        assert_eq!(cache.len(), CAPACITY);
        assert_eq!(
            cache.get(B256::ZERO, to, &[0]),
            None,
            "the oldest went first"
        );
        let newest = B256::from(alloy_primitives::U256::from(total - 1));
        assert_eq!(cache.get(newest, to, &[0]), Some(Bytes::new()));
    }
}
