//! Blocks refused as invalid, remembered so that a resent block, or one built on it, is refused
//! at once instead of being validated or executed again (geth keeps a similar `badBlocks`
//! cache). Bounded: the oldest entries make way for new ones.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use alloy_primitives::B256;

/// How many refused blocks are remembered. A refused block costs at most one header
/// validation or one execution before it lands here, so an attacker must sign (or forge)
/// a new block for every entry; 4,096 hashes are 128 KiB plus the map's overhead.
pub const BAD_BLOCK_CACHE_SIZE: usize = 4096;

/// Why a remembered block was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadKind {
    /// The block itself broke a rule.
    Invalid,
    /// An ancestor broke a rule; the block itself was never judged.
    BadAncestor(B256),
}

/// Remembered refused blocks, oldest first out.
#[derive(Default)]
pub(crate) struct BadBlocks {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    kinds: HashMap<B256, BadKind>,
    order: VecDeque<B256>,
}

impl BadBlocks {
    /// Remembers `hash` as refused for `kind`.
    pub(crate) fn insert(&self, hash: B256, kind: BadKind) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.kinds.insert(hash, kind).is_some() {
            return;
        }
        inner.order.push_back(hash);
        while inner.order.len() > BAD_BLOCK_CACHE_SIZE {
            if let Some(oldest) = inner.order.pop_front() {
                inner.kinds.remove(&oldest);
            }
        }
    }

    /// Why `hash` was refused, if it was.
    pub(crate) fn get(&self, hash: &B256) -> Option<BadKind> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .kinds
            .get(hash)
            .copied()
    }

    /// How many blocks are remembered.
    pub(crate) fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .order
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_oldest_out_first() {
        let cache = BadBlocks::default();
        let hash = |i: usize| B256::left_padding_from(&i.to_be_bytes());
        for i in 0..=BAD_BLOCK_CACHE_SIZE {
            cache.insert(hash(i), BadKind::Invalid);
        }
        assert_eq!(cache.len(), BAD_BLOCK_CACHE_SIZE);
        assert_eq!(cache.get(&hash(0)), None);
        assert_eq!(cache.get(&hash(1)), Some(BadKind::Invalid));
        cache.insert(hash(1), BadKind::BadAncestor(hash(7)));
        assert_eq!(
            cache.len(),
            BAD_BLOCK_CACHE_SIZE,
            "a known hash is not added twice"
        );
    }
}
