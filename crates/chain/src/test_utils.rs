//! Test fixtures (feature `test-utils`): a chain over a real database in a temporary
//! directory, with its genesis written, as every integration test that imports blocks needs.

// Test fixtures may expect: a failed setup is a failed test (the workspace denies it elsewhere).
#![allow(clippy::expect_used)]

use std::{path::Path, sync::Arc};

use spectrum_chainspec::ChainSpec;
use spectrum_storage_api::ChainStore;

use crate::{Blockchain, TribeBlockValidator, genesis_commit};

/// A Tribe chain (the spec's rules, the system clock) over a fresh database in a temporary
/// directory, deleted when the fixture is dropped.
pub struct TestChain {
    /// The chain.
    pub chain: Blockchain,
    /// Its store, to build another chain over the same data or read what was written.
    pub store: Arc<dyn ChainStore>,
    /// The chain spec.
    pub spec: Arc<ChainSpec>,
    /// The temporary directory (the database is its `db` subdirectory): keep it as long as the
    /// chain.
    pub dir: tempfile::TempDir,
}

impl TestChain {
    /// The built-in devnet.
    pub fn devnet() -> Self {
        Self::new(ChainSpec::devnet())
    }

    /// The chain of `spec`.
    pub fn new(spec: ChainSpec) -> Self {
        Self::with_spec(Arc::new(spec))
    }

    /// The chain of a shared `spec`.
    pub fn with_spec(spec: Arc<ChainSpec>) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let store = open_store(&dir.path().join("db"), &spec);
        let chain = tribe_chain(store.clone(), spec.clone());
        Self {
            chain,
            store,
            spec,
            dir,
        }
    }
}

/// Opens (or creates) the database at `path` and writes `spec`'s genesis unless it holds it.
pub fn open_store(path: &Path, spec: &ChainSpec) -> Arc<dyn ChainStore> {
    let store = spectrum_storage::open_chain_store(path).expect("open the test database");
    store
        .init_genesis(genesis_commit(spec).expect("the genesis commit"))
        .expect("write the genesis");
    store
}

/// A chain with Tribe's rules and validator (system clock) over `store`.
pub fn tribe_chain(store: Arc<dyn ChainStore>, spec: Arc<ChainSpec>) -> Blockchain {
    let validator = Arc::new(TribeBlockValidator::new(store.clone(), spec.clone()));
    Blockchain::new(store, spec, validator)
}
