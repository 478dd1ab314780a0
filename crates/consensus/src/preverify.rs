//! Seals and VRF proofs verified ahead of the header rules, on other threads.
//!
//! Recovering a block's seal and verifying its VRF proof need only the header and its parent,
//! no state, and are most of the cost of validating a nearly empty block. A batch importer
//! (`spectrum import`, a sync round) verifies them for a whole batch over every core first;
//! the header rules then take the remembered signer instead of doing the work again. Only
//! successes are remembered, keyed by the header's and the parent's hash: a block whose seal or
//! proof fails is checked again in order, so it is refused by the same rule with the same error.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use alloy_primitives::{Address, B256};

/// Headers remembered at most: a few import batches.
const CAPACITY: usize = 8_192;

/// Signers of headers whose seal (and, from SIP100, VRF proof against the named parent)
/// verified.
#[derive(Debug, Default)]
pub(crate) struct VerifiedSeals {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    signers: HashMap<B256, (B256, Address)>,
    order: VecDeque<B256>,
}

impl VerifiedSeals {
    /// Remembers that `header`'s seal recovers `signer` and its proof verified on `parent`.
    pub(crate) fn insert(&self, header: B256, parent: B256, signer: Address) {
        // A poisoned lock only loses the head start, never correctness.
        let Ok(mut entries) = self.inner.lock() else {
            return;
        };
        if entries.signers.insert(header, (parent, signer)).is_none() {
            entries.order.push_back(header);
        }
        while entries.order.len() > CAPACITY {
            if let Some(oldest) = entries.order.pop_front() {
                entries.signers.remove(&oldest);
            }
        }
    }

    /// The verified signer of `header` on `parent`, forgotten once taken (a block validated
    /// again, in a reorg, is verified again).
    pub(crate) fn take(&self, header: B256, parent: B256) -> Option<Address> {
        let mut entries = self.inner.lock().ok()?;
        let (verified_on, signer) = entries.signers.remove(&header)?;
        (verified_on == parent).then_some(signer)
    }
}
