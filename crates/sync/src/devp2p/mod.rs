//! The devp2p bridge: the reference node's wire feeding the same sync and import path as
//! libp2p. Sync rounds against devp2p peers run the crate's round logic through
//! [`Devp2pFetcher`] (a [`crate::BlockFetcher`]); NewBlock is checked and imported as a
//! gossiped block is; requests are answered from the chain reader ([`serve`]); what becomes
//! our head is announced ([`announce_blocks`]: NewBlock to √peers, NewBlockHashes to the rest).
//!
//! ```text
//! PeerEvent ─► Devp2pSync ─┬─ Get* ─► serve::answer (ChainReader) ─► handle.send
//!                          ├─ BlockHeaders/BlockBodies ─► Devp2pFetcher::deliver ─► round (crate::round)
//!                          ├─ NewBlock ─► header checks ─► insert_block (unknown parent: a round)
//!                          ├─ NewBlockHashes (unknown) ─► a round with that peer
//!                          └─ Transactions ─► the node's sink (the pool)
//! chain events ─► announce_blocks ─► Status watch + NewBlock/NewBlockHashes
//! ```

mod announce;
mod fetcher;
pub mod serve;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256};
use spectrum_chain::{Blockchain, ChainError, InsertOutcome};
use spectrum_consensus::TribeError;
use spectrum_devp2p::{DisconnectReason, EthMessage, PeerEvent, PeerId};
use spectrum_network::{ChainStatus, HashOrNumber, HeadersRequest};
use spectrum_primitives::{SealedBlock, TransactionSigned};
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};
use tracing::{debug, info, warn};

pub use announce::{KnownBlocks, announce_blocks};
pub use fetcher::{BAN_DURATION, Devp2pFetcher, REQUEST_TIMEOUT};

use crate::{
    BlockFetcher, SyncConfig,
    checks::HeaderChecks,
    progress::{ProgressMeter, SyncProgress},
    round::{Ctx, RoundError, RoundSummary},
};

/// Transactions a devp2p peer sent, for the pool.
#[derive(Debug)]
pub struct Devp2pTransactions {
    /// Who sent them.
    pub peer: PeerId,
    /// The transactions.
    pub txs: Vec<TransactionSigned>,
}

/// How long a peer that failed a round is left out.
const EXCLUSION: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
struct PeerHead {
    hash: B256,
    total_difficulty: U256,
}

type Round = JoinHandle<(PeerId, Result<RoundSummary, RoundError<PeerId>>)>;

/// The devp2p side of sync: `eth_syncing` progress of its rounds.
#[derive(Debug, Clone)]
pub struct Devp2pSyncHandle {
    progress: watch::Receiver<Option<SyncProgress>>,
}

impl Devp2pSyncHandle {
    /// Progress while catching up from devp2p peers, `None` otherwise.
    pub fn progress(&self) -> watch::Receiver<Option<SyncProgress>> {
        self.progress.clone()
    }
}

/// The bridge's service: consumes the devp2p events until they end.
pub fn devp2p_sync_service(
    chain: Arc<Blockchain>,
    fetcher: Devp2pFetcher,
    events: mpsc::Receiver<PeerEvent>,
    known: KnownBlocks,
    transactions: Option<mpsc::Sender<Devp2pTransactions>>,
    config: SyncConfig,
) -> (Devp2pSyncHandle, impl Future<Output = ()> + Send + 'static) {
    let (progress_tx, progress_rx) = watch::channel(None);
    let checks = HeaderChecks::new(Arc::clone(chain.spec()));
    let meter = Mutex::new(ProgressMeter::new(config.log_interval));
    let ctx = Arc::new(Ctx {
        chain,
        network: fetcher,
        checks,
        config,
        progress: progress_tx,
        meter,
    });
    let service = Devp2pSync {
        ctx,
        peers: HashMap::new(),
        excluded: HashMap::new(),
        hint: None,
        known,
        transactions,
    };
    (
        Devp2pSyncHandle {
            progress: progress_rx,
        },
        service.run(events),
    )
}

struct Devp2pSync {
    ctx: Arc<Ctx<Devp2pFetcher>>,
    peers: HashMap<PeerId, PeerHead>,
    excluded: HashMap<PeerId, Instant>,
    /// A peer that announced a block we cannot attach: sync from it whatever its total
    /// difficulty says.
    hint: Option<PeerId>,
    known: KnownBlocks,
    transactions: Option<mpsc::Sender<Devp2pTransactions>>,
}

async fn wait_round(
    round: &mut Option<Round>,
) -> Option<(PeerId, Result<RoundSummary, RoundError<PeerId>>)> {
    match round {
        Some(handle) => {
            let result = handle.await.ok();
            *round = None;
            result
        }
        None => std::future::pending().await,
    }
}

impl Devp2pSync {
    async fn run(mut self, mut events: mpsc::Receiver<PeerEvent>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut round: Option<Round> = None;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.on_event(event, &mut round).await,
                    None => break,
                },
                finished = wait_round(&mut round) => {
                    if let Some((peer, result)) = finished {
                        self.on_round_finished(peer, result);
                    }
                    self.maybe_start_round(&mut round).await;
                }
                _ = tick.tick() => self.maybe_start_round(&mut round).await,
            }
        }
        if let Some(round) = round {
            round.abort();
        }
    }

    fn fetcher(&self) -> &Devp2pFetcher {
        &self.ctx.network
    }

    async fn on_event(&mut self, event: PeerEvent, round: &mut Option<Round>) {
        match event {
            PeerEvent::Connected(info) => {
                if self.fetcher().is_banned(&info.id) {
                    self.fetcher()
                        .handle()
                        .disconnect(&info.id, DisconnectReason::UselessPeer);
                    return;
                }
                info!(peer = %info.id, client = %info.hello.client, "devp2p peer connected");
                self.known.saw(info.id, info.status.head);
                self.peers.insert(
                    info.id,
                    PeerHead {
                        hash: info.status.head,
                        total_difficulty: info.status.total_difficulty,
                    },
                );
                self.maybe_start_round(round).await;
            }
            PeerEvent::Disconnected { peer, error, .. } => {
                if error.is_misbehaviour() {
                    info!(%peer, %error, "devp2p peer misbehaved: banned");
                    self.fetcher().ban(peer, DisconnectReason::SubprotocolError);
                }
                self.peers.remove(&peer);
                self.known.forget(&peer);
                self.fetcher().forget(&peer);
            }
            PeerEvent::Refused { addr, error, .. } => {
                debug!(%addr, %error, "devp2p connection refused");
            }
            PeerEvent::Message { peer, message } => self.on_message(peer, message, round).await,
        }
    }

    async fn on_message(&mut self, peer: PeerId, message: EthMessage, round: &mut Option<Round>) {
        match message {
            EthMessage::BlockHeaders(_) | EthMessage::BlockBodies(_) => {
                self.fetcher().deliver(peer, message);
            }
            EthMessage::GetBlockHeaders(_)
            | EthMessage::GetBlockBodies(_)
            | EthMessage::GetReceipts(_)
            | EthMessage::GetNodeData(_) => self.serve(peer, message),
            EthMessage::NewBlock(new) => {
                let block = new.block.seal_slow();
                self.known.saw(peer, block.hash());
                if let Some(head) = self.peers.get_mut(&peer)
                    && new.total_difficulty > head.total_difficulty
                {
                    *head = PeerHead {
                        hash: block.hash(),
                        total_difficulty: new.total_difficulty,
                    };
                }
                self.on_new_block(peer, block).await;
                self.maybe_start_round(round).await;
            }
            EthMessage::NewBlockHashes(announced) => {
                for item in announced.iter().take(256) {
                    self.known.saw(peer, item.hash);
                }
                let hashes: Vec<B256> = announced.iter().take(256).map(|a| a.hash).collect();
                let unknown = self
                    .blocking(move |chain| {
                        hashes
                            .iter()
                            .any(|h| matches!(chain.provider().block_number(h), Ok(None)))
                    })
                    .await
                    .unwrap_or(false);
                if unknown {
                    if let (Some(head), Some(last)) = (self.peers.get_mut(&peer), announced.last())
                    {
                        head.hash = last.hash;
                    }
                    self.hint = Some(peer);
                    self.maybe_start_round(round).await;
                }
            }
            EthMessage::Transactions(txs) => {
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
        let chain = Arc::clone(&self.ctx.chain);
        let handle = self.fetcher().handle().clone();
        tokio::task::spawn_blocking(move || {
            if let Some(answer) = serve::answer(&**chain.provider(), &request) {
                handle.send(&peer, answer);
            }
        });
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Blockchain) -> T + Send + 'static,
    ) -> Option<T> {
        let chain = Arc::clone(&self.ctx.chain);
        tokio::task::spawn_blocking(move || f(&chain)).await.ok()
    }

    /// A NewBlock: checked and imported as a gossiped block on libp2p; an invalid one bans
    /// the peer; one whose parent we lack starts a round with the peer.
    async fn on_new_block(&mut self, peer: PeerId, block: SealedBlock) {
        let (hash, number, parent_hash) = (block.hash(), block.number(), block.header.parent_hash);
        let known = self
            .blocking(move |chain| {
                let db = chain.provider();
                Ok::<_, spectrum_storage_api::ProviderError>((
                    db.block_number(&hash)?.is_some(),
                    db.header(&parent_hash)?,
                ))
            })
            .await;
        let Some(Ok((is_known, parent))) = known else {
            return;
        };
        if is_known {
            return;
        }
        let Some(parent) = parent else {
            debug!(%peer, number, %hash, "devp2p NewBlock with unknown parent");
            self.hint = Some(peer);
            return;
        };
        let now = crate::header_time_limit(&self.ctx.chain);
        if let Err(error) = self.ctx.checks.check(&block.header, &parent, now) {
            if !matches!(error, TribeError::FutureBlock { .. }) {
                warn!(%peer, number, %hash, %error, "devp2p NewBlock refused");
                self.fetcher().ban(peer, DisconnectReason::SubprotocolError);
            }
            return;
        }
        match self.blocking(move |chain| chain.insert_block(block)).await {
            Some(Ok(InsertOutcome::Canonical { .. } | InsertOutcome::Reorg { .. })) => {
                info!(number, %hash, "imported devp2p block");
            }
            Some(Ok(_)) => {}
            Some(Err(error)) if error.is_invalid_block() => {
                warn!(%peer, number, %hash, %error, "devp2p NewBlock invalid");
                self.fetcher().ban(peer, DisconnectReason::SubprotocolError);
            }
            Some(Err(ChainError::UnknownParent { .. })) => self.hint = Some(peer),
            Some(Err(error)) => warn!(number, %hash, %error, "devp2p block not imported"),
            None => {}
        }
    }

    async fn local_td(&self) -> Option<U256> {
        self.blocking(|chain| chain.provider().head_total_difficulty().ok()?)
            .await
            .flatten()
            .map(|head| head.total_difficulty)
    }

    fn best_peer(&mut self, local_td: U256) -> Option<(PeerId, PeerHead)> {
        let now = Instant::now();
        self.excluded.retain(|_, until| *until > now);
        let best = self
            .peers
            .iter()
            .filter(|(peer, head)| {
                head.total_difficulty > local_td && !self.excluded.contains_key(*peer)
            })
            .max_by_key(|(_, head)| head.total_difficulty)
            .map(|(peer, head)| (*peer, *head));
        best.or_else(|| {
            let peer = self.hint.take()?;
            Some((peer, *self.peers.get(&peer)?))
        })
    }

    async fn maybe_start_round(&mut self, round: &mut Option<Round>) {
        if round.is_some() {
            return;
        }
        let Some(local_td) = self.local_td().await else {
            return;
        };
        let Some((peer, head)) = self.best_peer(local_td) else {
            if self.ctx.progress.borrow().is_some() {
                self.ctx.progress.send_replace(None);
            }
            return;
        };
        let ctx = Arc::clone(&self.ctx);
        *round = Some(tokio::spawn(async move {
            let result = match head_number(&ctx, peer, head.hash).await {
                Ok(head_number) => {
                    let target = ChainStatus {
                        chain_id: ctx.chain.spec().chain_id,
                        genesis_hash: B256::ZERO,
                        head_hash: head.hash,
                        head_number,
                        total_difficulty: head.total_difficulty,
                    };
                    ctx.run(peer, target).await
                }
                Err(error) => Err(error),
            };
            (peer, result)
        }));
    }

    fn on_round_finished(
        &mut self,
        peer: PeerId,
        result: Result<RoundSummary, RoundError<PeerId>>,
    ) {
        match result {
            Ok(summary) => {
                debug!(%peer, imported = summary.imported, head = summary.head, "devp2p sync round done");
                if summary.imported > 0
                    && let Some(progress) = *self.ctx.progress.borrow()
                    && let Ok(meter) = self.ctx.meter.lock()
                {
                    meter.finish(progress, self.ctx.network.peer_count());
                }
            }
            Err(RoundError::Peer { peer, reason }) => {
                info!(%peer, %reason, "devp2p sync round failed: trying another peer");
                self.excluded.insert(peer, Instant::now() + EXCLUSION);
            }
            Err(RoundError::FalseClaim { peer, claim }) => {
                info!(%peer, claimed = %claim.claimed, reached = %claim.reached,
                    "devp2p peer's status is false");
                self.excluded.insert(peer, Instant::now() + EXCLUSION);
            }
            Err(RoundError::Local(reason)) => warn!(%reason, "devp2p sync round failed"),
        }
    }
}

/// eth's Status names the peer's head by hash only: its number comes from asking for it.
async fn head_number(
    ctx: &Ctx<Devp2pFetcher>,
    peer: PeerId,
    head: B256,
) -> Result<u64, RoundError<PeerId>> {
    let request = HeadersRequest {
        origin: HashOrNumber::Hash(head),
        amount: 1,
        skip: 0,
        reverse: false,
    };
    let headers = ctx
        .network
        .request_headers(peer, request)
        .await
        .map_err(|e| RoundError::Peer {
            peer,
            reason: format!("head header request: {e}"),
        })?;
    match headers.first() {
        Some(header) if header.hash() == head => Ok(header.number),
        _ => Err(RoundError::Peer {
            peer,
            reason: "does not serve its own head".into(),
        }),
    }
}
