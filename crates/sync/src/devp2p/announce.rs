//! Announcing our new head to devp2p peers as the reference does: the whole block (NewBlock
//! with its total difficulty) to √peers, its hash (NewBlockHashes) to the rest, skipping peers
//! known to have it. Also keeps our eth Status current. Only fresh heads (at most a minute old)
//! that grow the chain by a block or two go out whole: blocks imported by a sync round do not
//! (as geth's downloader does not broadcast); the latest old head goes out by hash at most
//! once a second, so that peers behind us learn there is more; each head becomes our Status.

use std::sync::Arc;

use alloy_primitives::B256;
use spectrum_chain::Blockchain;
use spectrum_devp2p::{Devp2pHandle, EthMessage, NewBlock, PeerId, Status, eth::BlockHashNumber};
use tokio::sync::{broadcast::error::RecvError, watch};

use super::known::KnownBlocks;

/// A head older than this (by its timestamp) is not announced: it came from a sync round.
const FRESH_SECS: u64 = 60;

/// How often an old head is announced by hash.
const STALE_HEAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// How many peers get the whole block: √n, at least one.
pub fn full_block_peers(peers: usize) -> usize {
    peers.isqrt().max(1).min(peers)
}

/// Follows the chain's head: keeps `status` current and announces new heads. Runs until the
/// chain's events end.
pub async fn announce_blocks(
    chain: Arc<Blockchain>,
    handle: Devp2pHandle,
    known: KnownBlocks,
    status: watch::Sender<Status>,
) {
    let mut changes = chain.subscribe();
    // An old head (a sync round's) waiting to be announced by hash, at most once a second.
    let mut stale: Option<(B256, u64)> = None;
    let mut tick = tokio::time::interval(STALE_HEAD_INTERVAL);
    loop {
        let change = tokio::select! {
            change = changes.recv() => match change {
                Ok(change) => change,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                if let Some((hash, number)) = stale.take() {
                    announce_hash(&handle, &known, hash, number);
                }
                continue;
            }
        };
        let Some(head) = change.head() else { continue };
        let (hash, number) = (head.hash(), head.number);
        // A sync round imports old blocks one by one: only a fresh head goes out whole; an
        // old one only by hash, the latest once a second (so peers behind us still learn it).
        let age = chain.clock().now().saturating_sub(head.timestamp);
        let bulk = change.added.len() > 2 || age > FRESH_SECS;
        let block = tokio::task::spawn_blocking({
            let chain = Arc::clone(&chain);
            move || {
                let db = chain.provider();
                let td = db.total_difficulty(&hash).ok()??;
                let block = if bulk { None } else { db.block(&hash).ok()? };
                Some((td, block))
            }
        })
        .await;
        let Ok(Some((td, block))) = block else {
            continue;
        };
        status.send_modify(|s| {
            s.head = hash;
            s.total_difficulty = td;
        });
        match block {
            Some(block) => {
                stale = None;
                announce(&handle, &known, block, td);
            }
            None => stale = Some((hash, number)),
        }
    }
}

/// Announces an old head by hash to the peers that lack it.
fn announce_hash(handle: &Devp2pHandle, known: &KnownBlocks, hash: B256, number: u64) {
    for peer in handle.peers() {
        if !known.has(&peer.id, &hash)
            && handle.send(
                &peer.id,
                EthMessage::NewBlockHashes(vec![BlockHashNumber { hash, number }]),
            )
        {
            known.saw(peer.id, hash);
        }
    }
}

fn announce(
    handle: &Devp2pHandle,
    known: &KnownBlocks,
    block: spectrum_primitives::SealedBlock,
    total_difficulty: alloy_primitives::U256,
) {
    let (hash, number) = (block.hash(), block.number());
    let lacking: Vec<PeerId> = handle
        .peers()
        .into_iter()
        .map(|p| p.id)
        .filter(|id| !known.has(id, &hash))
        .collect();
    if lacking.is_empty() {
        return;
    }
    let full = full_block_peers(lacking.len());
    let message = EthMessage::NewBlock(Box::new(NewBlock {
        block: block.unseal(),
        total_difficulty,
    }));
    for (i, peer) in lacking.iter().enumerate() {
        let sent = if i < full {
            handle.send(peer, message.clone())
        } else {
            handle.send(
                peer,
                EthMessage::NewBlockHashes(vec![BlockHashNumber { hash, number }]),
            )
        };
        if sent {
            known.saw(*peer, hash);
        }
    }
    tracing::debug!(number, %hash, full, hashes = lacking.len().saturating_sub(full), "announced to devp2p peers");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_blocks_go_to_the_square_root_of_the_peers() {
        assert_eq!(full_block_peers(0), 0);
        assert_eq!(full_block_peers(1), 1);
        assert_eq!(full_block_peers(3), 1);
        assert_eq!(full_block_peers(4), 2);
        assert_eq!(full_block_peers(25), 5);
    }
}
