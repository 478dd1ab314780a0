//! Answers devp2p peers' requests from our chain, read through the chain reader. What we
//! serve: canonical headers (origin by hash or number, skip, reverse; at most 192), bodies (at
//! most 128), receipts (at most 256) and, for GetNodeData, contract code by hash (at most
//! 384). State trie nodes are not served: our trie is stored by path, not by node hash, so a
//! node cannot be found from its hash alone (smc's fast sync from us is therefore not
//! possible; its full sync is).

use spectrum_devp2p::{
    EthMessage, GetBlockHeaders, HashOrNumber,
    eth::{MAX_BODIES_SERVE, MAX_HEADERS_SERVE, MAX_NODE_DATA_SERVE, MAX_RECEIPTS_SERVE},
};
use spectrum_storage_api::{ChainReader, ProviderError};

/// The answer to a request, `None` if `message` is not a request.
pub fn answer(db: &dyn ChainReader, message: &EthMessage) -> Option<EthMessage> {
    let served = match message {
        EthMessage::GetBlockHeaders(request) => EthMessage::BlockHeaders(headers(db, request)),
        EthMessage::GetBlockBodies(hashes) => EthMessage::BlockBodies(
            hashes
                .iter()
                .take(MAX_BODIES_SERVE)
                .filter_map(|hash| found(db.body(hash)))
                .collect(),
        ),
        EthMessage::GetReceipts(hashes) => EthMessage::Receipts(
            hashes
                .iter()
                .take(MAX_RECEIPTS_SERVE)
                .filter_map(|hash| found(db.receipts(hash)))
                .collect(),
        ),
        EthMessage::GetNodeData(hashes) => EthMessage::NodeData(node_data(db, hashes)),
        _ => return None,
    };
    Some(served)
}

fn found<T>(result: Result<Option<T>, ProviderError>) -> Option<T> {
    result.unwrap_or_else(|error| {
        tracing::warn!(%error, "serving a devp2p peer: database read failed");
        None
    })
}

fn headers(
    db: &dyn ChainReader,
    request: &GetBlockHeaders,
) -> Vec<spectrum_primitives::SealedHeader> {
    let Some((head, _)) = found(db.head()) else {
        return Vec::new();
    };
    let origin = match request.origin {
        HashOrNumber::Number(number) => Some(number),
        HashOrNumber::Hash(hash) => found(db.block_number(&hash))
            .filter(|number| found(db.canonical_hash(*number)) == Some(hash)),
    };
    let Some(origin) = origin else {
        return Vec::new();
    };
    request
        .numbers_from(origin, head, MAX_HEADERS_SERVE)
        .into_iter()
        .map_while(|number| found(db.header_by_number(number)))
        .collect()
}

/// Contract code by hash from the head's state; trie nodes are not addressable by hash here.
fn node_data(
    db: &dyn ChainReader,
    hashes: &[alloy_primitives::B256],
) -> Vec<alloy_primitives::Bytes> {
    let Some(state) = found(db.latest().map(Some)) else {
        return Vec::new();
    };
    hashes
        .iter()
        .take(MAX_NODE_DATA_SERVE)
        .filter_map(|hash| state.code(hash).ok().flatten())
        .filter(|code| !code.is_empty())
        .collect()
}
