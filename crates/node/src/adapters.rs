//! The traits the services read the node through, implemented over the database, the pool
//! and the network.

use std::sync::Arc;

use alloy_primitives::B256;
use spectrum_network::NetworkHandle;
use spectrum_primitives::{SealedHeader, SyncProgress, TransactionSigned};
use spectrum_producer::{Candidate, TransactionSource};
use spectrum_storage_api::{ChainReader, StateError, StateProvider};
use spectrum_txpool::{CanonicalBlocks, Pool, StateSource, TxPool};
use tokio::sync::watch;

/// The pool validates against the head's state.
pub(crate) struct ChainState(pub(crate) Arc<dyn ChainReader>);

impl StateSource for ChainState {
    fn latest(&self) -> Result<Box<dyn StateProvider + '_>, StateError> {
        let state = self.0.latest().map_err(|e| StateError(Box::new(e)))?;
        Ok(state)
    }
}

/// The pool's maintenance reads the head and blocks' transactions through the chain reader.
pub(crate) struct ChainBlocks(pub(crate) Arc<dyn ChainReader>);

impl CanonicalBlocks for ChainBlocks {
    fn head_header(&self) -> Option<SealedHeader> {
        let (number, _) = self.0.head().ok()??;
        self.0.header_by_number(number).ok()?
    }

    fn block_transactions(&self, hash: &B256) -> Vec<TransactionSigned> {
        self.0
            .body(hash)
            .ok()
            .flatten()
            .map(|b| b.transactions)
            .unwrap_or_default()
    }
}

/// The producer takes its transactions from the pool.
pub(crate) struct PoolSource(pub(crate) Arc<Pool>);

impl TransactionSource for PoolSource {
    fn best(&self) -> Vec<Candidate> {
        self.0
            .best_transactions()
            .map(|t| Candidate {
                tx: t.tx.clone(),
                sender: t.sender,
            })
            .collect()
    }

    fn has_pending(&self) -> bool {
        self.0.status().pending > 0
    }

    fn remove_invalid(&self, hashes: &[B256]) {
        self.0.remove(hashes);
    }
}

/// `net_*` and `eth_syncing` over the network handle and the sync progress.
pub(crate) struct RpcNetworkView {
    pub(crate) network: NetworkHandle,
    pub(crate) progress: watch::Receiver<Option<SyncProgress>>,
    /// devp2p's peers, when it runs: counted beside libp2p's (the one sync driver's
    /// `progress` covers both wires).
    pub(crate) devp2p: Option<spectrum_devp2p::Devp2pHandle>,
}

impl spectrum_rpc::NetworkInfo for RpcNetworkView {
    fn peer_count(&self) -> usize {
        let devp2p = self
            .devp2p
            .as_ref()
            .map_or(0, spectrum_devp2p::Devp2pHandle::peer_count);
        self.network.peer_count().saturating_add(devp2p)
    }

    fn listening(&self) -> bool {
        !self.network.listen_addrs().is_empty()
    }

    fn syncing(&self) -> Option<SyncProgress> {
        *self.progress.borrow()
    }
}
