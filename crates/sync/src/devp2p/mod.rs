//! The devp2p bridge: the reference node's wire feeding the same sync and import path as
//! libp2p. The bridge tells the one sync driver (`crate::sync_over`) about its peers' heads
//! ([`WireUpdate`]); the driver's rounds reach devp2p peers through [`Devp2pFetcher`] (the
//! devp2p half of [`crate::Wires`]). NewBlock is checked and imported as a gossiped block is
//! (the same `import_announced`); requests are answered from the chain reader ([`serve`]);
//! what becomes our head is announced ([`announce_blocks`]: NewBlock to √peers,
//! NewBlockHashes to the rest); transactions go out only to peers not known to have them
//! ([`relay_transactions`], [`KnownTransactions`]).
//!
//! ```text
//! PeerEvent ─► bridge ─┬─ Status / heavier NewBlock ─► WireUpdate::Head ─► the sync driver
//!                      ├─ Get* ─► serve::answer (ChainReader) ─► handle.send
//!                      ├─ BlockHeaders/BlockBodies ─► Devp2pFetcher::deliver ─► the driver's round
//!                      ├─ NewBlock ─► header checks ─► insert_block (unknown parent: WireUpdate::Ahead)
//!                      ├─ NewBlockHashes (unknown) ─► WireUpdate::Ahead
//!                      └─ Transactions ─► known per peer ─► the node's sink (the pool)
//! chain events ─► announce_blocks ─► Status watch + NewBlock/NewBlockHashes
//! ```

mod announce;
mod fetcher;
mod known;
pub mod serve;

use std::sync::Arc;

use alloy_primitives::B256;
use spectrum_chain::Blockchain;
use spectrum_devp2p::{Devp2pHandle, DisconnectReason, EthMessage, PeerEvent, PeerId};
use spectrum_primitives::{SealedBlock, TransactionSigned};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

pub use announce::{announce_blocks, full_block_peers};
pub use fetcher::{BAN_DURATION, Devp2pFetcher, REQUEST_TIMEOUT};
pub use known::{
    KNOWN_BLOCKS_PER_PEER, KNOWN_TXS_PER_PEER, KnownBlocks, KnownHashes, KnownTransactions,
};

use crate::{
    announced::{Announced, import_announced},
    checks::HeaderChecks,
    wires::{Devp2pWire, SyncPeer, WireUpdate},
};

/// Transactions a devp2p peer sent, for the pool.
#[derive(Debug)]
pub struct Devp2pTransactions {
    /// Who sent them.
    pub peer: PeerId,
    /// The transactions.
    pub txs: Vec<TransactionSigned>,
}

/// Most hashes of one NewBlockHashes looked at (the reference announces one at a time).
const MAX_ANNOUNCED: usize = 256;

/// What the bridge shares with the node: the per-peer known sets.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Blocks each peer has.
    pub blocks: KnownBlocks,
    /// Transactions each peer has.
    pub transactions: KnownTransactions,
}

/// The bridge over `events`, and the [`Devp2pWire`] to hand the sync driver
/// ([`crate::SyncWires::devp2p`]). The bridge runs until the devp2p events end.
pub fn devp2p_bridge(
    chain: Arc<Blockchain>,
    fetcher: Devp2pFetcher,
    events: mpsc::Receiver<PeerEvent>,
    known: Known,
    transactions: Option<mpsc::Sender<Devp2pTransactions>>,
) -> (Devp2pWire, impl Future<Output = ()> + Send + 'static) {
    let (updates_tx, updates_rx) = mpsc::channel(1024);
    let checks = HeaderChecks::new(Arc::clone(chain.spec()));
    let bridge = Bridge {
        chain,
        checks,
        fetcher: fetcher.clone(),
        known,
        transactions,
        updates: updates_tx,
    };
    let wire = Devp2pWire {
        fetcher,
        updates: updates_rx,
    };
    (wire, bridge.run(events))
}

struct Bridge {
    chain: Arc<Blockchain>,
    checks: HeaderChecks,
    fetcher: Devp2pFetcher,
    known: Known,
    transactions: Option<mpsc::Sender<Devp2pTransactions>>,
    updates: mpsc::Sender<WireUpdate>,
}

impl Bridge {
    async fn run(self, mut events: mpsc::Receiver<PeerEvent>) {
        while let Some(event) = events.recv().await {
            self.on_event(event).await;
        }
    }

    async fn tell(&self, update: WireUpdate) {
        // The driver gone means the node is stopping: nothing left to tell.
        let _ = self.updates.send(update).await;
    }

    async fn on_event(&self, event: PeerEvent) {
        match event {
            PeerEvent::Connected(info) => {
                if self.fetcher.is_banned(&info.id) {
                    self.fetcher
                        .handle()
                        .disconnect(&info.id, DisconnectReason::UselessPeer);
                    return;
                }
                info!(peer = %info.id, client = %info.hello.client, "devp2p peer connected");
                self.known.blocks.saw(info.id, info.status.head);
                self.tell(WireUpdate::Head {
                    peer: SyncPeer::Devp2p(info.id),
                    hash: info.status.head,
                    number: None,
                    total_difficulty: info.status.total_difficulty,
                })
                .await;
            }
            PeerEvent::Disconnected { peer, error, .. } => {
                if error.is_misbehaviour() {
                    info!(%peer, %error, "devp2p peer misbehaved: banned");
                    self.fetcher.ban(peer, DisconnectReason::SubprotocolError);
                }
                self.known.blocks.forget(&peer);
                self.known.transactions.forget(&peer);
                self.fetcher.forget(&peer);
                self.tell(WireUpdate::Gone(SyncPeer::Devp2p(peer))).await;
            }
            PeerEvent::Refused { addr, error, .. } => {
                debug!(%addr, %error, "devp2p connection refused");
            }
            PeerEvent::Message { peer, message } => self.on_message(peer, message).await,
        }
    }

    async fn on_message(&self, peer: PeerId, message: EthMessage) {
        match message {
            EthMessage::BlockHeaders(_) | EthMessage::BlockBodies(_) => {
                self.fetcher.deliver(peer, message);
            }
            EthMessage::GetBlockHeaders(_)
            | EthMessage::GetBlockBodies(_)
            | EthMessage::GetReceipts(_)
            | EthMessage::GetNodeData(_) => self.serve(peer, message),
            EthMessage::NewBlock(new) => {
                let block = new.block.seal_slow();
                let (hash, number) = (block.hash(), block.number());
                self.known.blocks.saw(peer, hash);
                // Imported first: the peer's new head then weighs in the driver's choice only
                // if the block passed the checks it could be given, and a block we just
                // imported does not make the peer look heavier than us and start a round that
                // fetches it a second time.
                let Some(parent_unknown) = self.on_new_block(peer, block).await else {
                    return;
                };
                self.tell(WireUpdate::Head {
                    peer: SyncPeer::Devp2p(peer),
                    hash,
                    number: Some(number),
                    total_difficulty: new.total_difficulty,
                })
                .await;
                if parent_unknown {
                    // The peer has blocks we lack: sync from it.
                    self.tell(WireUpdate::Ahead {
                        peer: SyncPeer::Devp2p(peer),
                        number: Some(number),
                    })
                    .await;
                }
            }
            EthMessage::NewBlockHashes(announced) => {
                let announced: Vec<_> = announced.into_iter().take(MAX_ANNOUNCED).collect();
                for item in &announced {
                    self.known.blocks.saw(peer, item.hash);
                }
                let hashes: Vec<B256> = announced.iter().map(|a| a.hash).collect();
                let chain = Arc::clone(&self.chain);
                let unknown = tokio::task::spawn_blocking(move || {
                    hashes
                        .iter()
                        .any(|h| matches!(chain.provider().block_number(h), Ok(None)))
                })
                .await
                .unwrap_or(false);
                if unknown {
                    let number = announced.iter().map(|a| a.number).max();
                    self.tell(WireUpdate::Ahead {
                        peer: SyncPeer::Devp2p(peer),
                        number,
                    })
                    .await;
                }
            }
            EthMessage::Transactions(txs) => {
                for tx in &txs {
                    self.known.transactions.saw(peer, tx.hash());
                }
                if let Some(sink) = &self.transactions {
                    let _ = sink.try_send(Devp2pTransactions { peer, txs });
                }
            }
            EthMessage::Status(_) | EthMessage::NodeData(_) | EthMessage::Receipts(_) => {
                // A second Status, or answers to requests we never make: nothing to do.
            }
        }
    }

    fn serve(&self, peer: PeerId, request: EthMessage) {
        let chain = Arc::clone(&self.chain);
        let handle = self.fetcher.handle().clone();
        tokio::task::spawn_blocking(move || {
            if let Some(answer) = serve::answer(&**chain.provider(), &request) {
                handle.send(&peer, answer);
            }
        });
    }

    /// A NewBlock: checked and imported as a gossiped block on libp2p; an invalid one bans
    /// the peer; one whose parent we lack makes the driver sync from the peer.
    /// Imports a block announced whole. `None` when the peer sent an invalid one (and was
    /// banned for it), so its claimed head must not count; else whether its parent is unknown.
    async fn on_new_block(&self, peer: PeerId, block: SealedBlock) -> Option<bool> {
        let (hash, number) = (block.hash(), block.number());
        match import_announced(&self.chain, &self.checks, block, true).await {
            Announced::Invalid(error) => {
                warn!(%peer, number, %hash, %error, "devp2p NewBlock refused");
                self.fetcher.ban(peer, DisconnectReason::SubprotocolError);
                return None;
            }
            Announced::UnknownParent => {
                debug!(%peer, number, %hash, "devp2p NewBlock with unknown parent");
                return Some(true);
            }
            Announced::Failed(error) => warn!(number, %hash, %error, "devp2p block not imported"),
            Announced::Known | Announced::Future | Announced::Imported(_) => {}
        }
        Some(false)
    }
}

/// Sends `txs` to every devp2p peer not known to have them, one Transactions message per peer,
/// and marks them as had: never back to the peer they came from, never twice to a peer. The
/// caller leaves out chief-update transactions (the pool never holds them). Returns how many
/// peers got a message.
pub fn relay_transactions(
    handle: &Devp2pHandle,
    known: &KnownTransactions,
    txs: &[TransactionSigned],
) -> usize {
    let mut reached = 0usize;
    for peer in handle.peers() {
        let lacking: Vec<TransactionSigned> = txs
            .iter()
            .filter(|tx| known.mark(peer.id, tx.hash()))
            .cloned()
            .collect();
        if !lacking.is_empty() && handle.send(&peer.id, EthMessage::Transactions(lacking)) {
            reached = reached.saturating_add(1);
        }
    }
    reached
}
