//! The network's view of our chain, read through the chain reader: what peers may ask for.

use std::sync::Arc;

use alloy_primitives::{B256, U256};
use spectrum_network::{ChainStatus, ChainView, HashOrNumber, HeadersRequest, RequestLimits};
use spectrum_primitives::{BlockBody, Header, ReceiptWithBloom};
use spectrum_storage_api::{ChainReader, ProviderError};
use tracing::warn;

/// Serves canonical headers, bodies and receipts from the chain data. A read error is logged
/// and answered as "not found": a peer never learns more than the data.
#[derive(Debug, Clone)]
pub struct ChainDataView {
    db: Arc<dyn ChainReader>,
    chain_id: u64,
    genesis_hash: B256,
    max_headers: u64,
}

impl ChainDataView {
    /// A view of the chain data `db` reads: the chain with `chain_id` and `genesis_hash`.
    pub fn new(db: Arc<dyn ChainReader>, chain_id: u64, genesis_hash: B256) -> Self {
        let max_headers = u64::try_from(RequestLimits::default().max_headers).unwrap_or(192);
        Self {
            db,
            chain_id,
            genesis_hash,
            max_headers,
        }
    }

    fn canonical_number(&self, origin: HashOrNumber) -> Option<u64> {
        match origin {
            HashOrNumber::Number(number) => Some(number),
            HashOrNumber::Hash(hash) => {
                let number = self.db.block_number(&hash).ok()??;
                (self.db.canonical_hash(number).ok()?? == hash).then_some(number)
            }
        }
    }
}

fn logged<T>(result: Result<Option<T>, ProviderError>) -> Option<T> {
    result.unwrap_or_else(|error| {
        warn!(%error, "serving a peer: database read failed");
        None
    })
}

impl ChainView for ChainDataView {
    fn status(&self) -> ChainStatus {
        let (head_number, head_hash, total_difficulty) = logged(self.db.head_total_difficulty())
            .map_or((0, self.genesis_hash, U256::ZERO), |head| {
                (head.number, head.hash, head.total_difficulty)
            });
        ChainStatus {
            chain_id: self.chain_id,
            genesis_hash: self.genesis_hash,
            head_hash,
            head_number,
            total_difficulty,
        }
    }

    fn headers(&self, request: &HeadersRequest) -> Vec<Header> {
        let Some(origin) = self.canonical_number(request.origin) else {
            return Vec::new();
        };
        request
            .numbers(origin, self.max_headers)
            .into_iter()
            .map_while(|number| logged(self.db.header_by_number(number)))
            .map(|header| header.into_header())
            .collect()
    }

    fn bodies(&self, hashes: &[B256]) -> Vec<BlockBody> {
        hashes
            .iter()
            .map_while(|hash| logged(self.db.body(hash)))
            .collect()
    }

    fn receipts(&self, hashes: &[B256]) -> Vec<Vec<ReceiptWithBloom>> {
        hashes
            .iter()
            .map_while(|hash| logged(self.db.receipts(hash)))
            .collect()
    }
}
