//! The sync service: tracks peers' statuses, runs sync rounds against the best peer, and
//! follows the chain by gossip once caught up.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::U256;
use spectrum_chain::{Blockchain, ChainError, InsertOutcome};
use spectrum_consensus::TribeError;
use spectrum_network::{
    ChainStatus, EventReceiver, GossipedTransactions, MessageValidation, NetworkEvent,
    NetworkHandle, PeerId, Penalty,
};
use spectrum_primitives::SealedBlock;
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};
use tracing::{debug, info, warn};

use crate::{
    SyncConfig,
    checks::HeaderChecks,
    progress::{ProgressMeter, SyncProgress},
    round::{Ctx, RoundError, RoundSummary},
};

/// The running sync service.
#[derive(Debug)]
pub struct SyncHandle {
    progress: watch::Receiver<Option<SyncProgress>>,
    /// `None` when the caller runs the service ([`sync_service`]).
    task: Option<JoinHandle<()>>,
}

impl SyncHandle {
    /// Progress while catching up, `None` when in step with the best peer (`eth_syncing`).
    pub fn progress(&self) -> watch::Receiver<Option<SyncProgress>> {
        self.progress.clone()
    }

    /// Stops the service (when [`spawn_sync`] spawned it).
    pub fn abort(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Starts syncing `chain` from `network`'s peers, consuming the network's events. Gossiped
/// transactions go to `transactions` (or are ignored without it).
pub fn spawn_sync(
    chain: Arc<Blockchain>,
    network: NetworkHandle,
    events: EventReceiver,
    transactions: Option<mpsc::Sender<GossipedTransactions>>,
    config: SyncConfig,
) -> SyncHandle {
    let (mut handle, service) = sync_service(chain, network, events, transactions, config);
    handle.task = Some(tokio::spawn(service));
    handle
}

/// Like [`spawn_sync`], but hands the service back for the caller to run (the node runs it as
/// a critical task: it ends only when the network's events end).
pub fn sync_service(
    chain: Arc<Blockchain>,
    network: NetworkHandle,
    events: EventReceiver,
    transactions: Option<mpsc::Sender<GossipedTransactions>>,
    config: SyncConfig,
) -> (SyncHandle, impl Future<Output = ()> + Send + 'static) {
    let (progress_tx, progress_rx) = watch::channel(None);
    let checks = HeaderChecks::new(Arc::clone(chain.spec()));
    let meter = Mutex::new(ProgressMeter::new(config.log_interval));
    let ctx = Arc::new(Ctx {
        chain,
        network,
        checks,
        config,
        progress: progress_tx,
        meter,
    });
    let service = SyncService {
        ctx,
        peers: HashMap::new(),
        excluded: HashMap::new(),
        false_claims: HashMap::new(),
        hint: None,
        transactions,
    };
    let handle = SyncHandle {
        progress: progress_rx,
        task: None,
    };
    (handle, service.run(events))
}

type Round = JoinHandle<(PeerId, Result<RoundSummary, RoundError>)>;

struct SyncService {
    ctx: Arc<Ctx>,
    peers: HashMap<PeerId, ChainStatus>,
    /// Peers that failed a round recently, left out until the instant.
    excluded: HashMap<PeerId, Instant>,
    /// Peers whose announced total difficulty proved false, with that claim: not synced from
    /// again until they announce more.
    false_claims: HashMap<PeerId, U256>,
    /// A peer that gossiped a block we cannot attach: sync with it even if its last status
    /// does not show it ahead.
    hint: Option<(PeerId, u64)>,
    transactions: Option<mpsc::Sender<GossipedTransactions>>,
}

/// How long a peer that failed a round is left out.
const EXCLUSION: Duration = Duration::from_secs(30);

async fn wait_round(
    round: &mut Option<Round>,
) -> Option<(PeerId, Result<RoundSummary, RoundError>)> {
    match round {
        Some(handle) => {
            let result = handle.await.ok();
            *round = None;
            result
        }
        None => std::future::pending().await,
    }
}

impl SyncService {
    async fn run(mut self, mut events: EventReceiver) {
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
                _ = tick.tick() => {
                    self.insert_due_future_blocks().await;
                    self.maybe_start_round(&mut round).await;
                }
            }
        }
        if let Some(round) = round {
            round.abort();
        }
    }

    async fn on_event(&mut self, event: NetworkEvent, round: &mut Option<Round>) {
        match event {
            NetworkEvent::PeerConnected { peer, status }
            | NetworkEvent::PeerStatus { peer, status } => {
                self.peers.insert(peer, status);
                self.maybe_start_round(round).await;
            }
            NetworkEvent::PeerDisconnected { peer } | NetworkEvent::PeerBanned { peer } => {
                self.peers.remove(&peer);
                self.false_claims.remove(&peer);
            }
            NetworkEvent::NewBlock {
                peer,
                msg_id,
                block,
            } => {
                let verdict = self.on_gossiped_block(peer, *block).await;
                self.ctx.network.report_message(msg_id, peer, verdict).await;
                if self.hint.is_some() {
                    self.maybe_start_round(round).await;
                }
            }
            NetworkEvent::Transactions { peer, msg_id, txs } => {
                let delivered = self.transactions.as_ref().is_some_and(|sink| {
                    sink.try_send(GossipedTransactions {
                        peer,
                        msg_id: msg_id.clone(),
                        txs,
                    })
                    .is_ok()
                });
                if !delivered {
                    self.ctx
                        .network
                        .report_message(msg_id, peer, MessageValidation::Ignore)
                        .await;
                }
            }
        }
    }

    /// Validates and imports a gossiped block; the verdict decides whether it is forwarded.
    async fn on_gossiped_block(&mut self, peer: PeerId, block: SealedBlock) -> MessageValidation {
        let hash = block.hash();
        let number = block.number();
        let parent_hash = block.header.parent_hash;
        let known = self
            .blocking(move |chain| {
                let db = chain.provider();
                Ok::<_, spectrum_storage_api::ProviderError>((
                    db.block_number(&hash)?.is_some(),
                    db.header(&parent_hash)?,
                ))
            })
            .await;
        let (is_known, parent) = match known {
            Some(Ok(found)) => found,
            _ => return MessageValidation::Ignore,
        };
        if is_known {
            return MessageValidation::Ignore;
        }
        let Some(parent) = parent else {
            // A gap: fetch the missing blocks from this peer, which has them.
            debug!(%peer, number, %hash, "gossiped block with unknown parent");
            self.hint = Some((peer, number));
            return MessageValidation::Ignore;
        };
        let now = crate::header_time_limit(&self.ctx.chain);
        if let Err(error) = self.ctx.checks.check(&block.header, &parent, now) {
            if let TribeError::FutureBlock { .. } = error {
                // Beyond our clock's allowance: perhaps our clock, perhaps the producer's; the
                // relay is not to blame (geth's fetcher neither imports nor drops the peer).
                debug!(%peer, number, %hash, %error, "gossiped block from the future ignored");
                return MessageValidation::Ignore;
            }
            warn!(%peer, number, %hash, %error, "gossiped block refused");
            return MessageValidation::Reject(Penalty::InvalidBlock);
        }
        let started = Instant::now();
        let outcome = self.blocking(move |chain| chain.insert_block(block)).await;
        match outcome {
            Some(Ok(outcome)) => {
                log_gossip_import(number, hash, outcome, started.elapsed());
                gossip_verdict(outcome)
            }
            Some(Err(error)) if error.is_invalid_block() => {
                warn!(%peer, number, %hash, %error, "gossiped block invalid");
                MessageValidation::Reject(Penalty::InvalidBlock)
            }
            Some(Err(ChainError::UnknownParent { .. })) => {
                self.hint = Some((peer, number));
                MessageValidation::Ignore
            }
            Some(Err(error)) => {
                warn!(number, %hash, %error, "gossiped block not imported");
                MessageValidation::Ignore
            }
            None => MessageValidation::Ignore,
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Blockchain) -> T + Send + 'static,
    ) -> Option<T> {
        let chain = Arc::clone(&self.ctx.chain);
        tokio::task::spawn_blocking(move || f(&chain)).await.ok()
    }

    async fn insert_due_future_blocks(&self) {
        let results = self
            .blocking(|chain| chain.insert_due_future_blocks())
            .await
            .unwrap_or_default();
        for result in results {
            if let Err(error) = result {
                warn!(%error, "held future block refused");
            }
        }
    }

    async fn local_td(&self) -> Option<U256> {
        self.blocking(|chain| chain.provider().head_total_difficulty().ok()?)
            .await
            .flatten()
            .map(|head| head.total_difficulty)
    }

    /// The peer to sync from: the heaviest whose total difficulty beats ours, else the peer
    /// that gossiped a block we could not attach.
    fn best_peer(&mut self, local_td: U256) -> Option<(PeerId, ChainStatus)> {
        let now = Instant::now();
        self.excluded.retain(|_, until| *until > now);
        let best = self
            .peers
            .iter()
            .filter(|(peer, status)| {
                status.total_difficulty > local_td
                    && !self.excluded.contains_key(peer)
                    && self
                        .false_claims
                        .get(peer)
                        .is_none_or(|claimed| status.total_difficulty > *claimed)
            })
            .max_by_key(|(_, status)| status.total_difficulty)
            .map(|(peer, status)| (*peer, *status));
        best.or_else(|| {
            let (peer, number) = self.hint.take()?;
            let status = self.peers.get(&peer)?;
            // Its status is older than the block it just relayed.
            let head_number = status.head_number.max(number);
            Some((
                peer,
                ChainStatus {
                    head_number,
                    ..*status
                },
            ))
        })
    }

    async fn maybe_start_round(&mut self, round: &mut Option<Round>) {
        if round.is_some() {
            return;
        }
        let Some(local_td) = self.local_td().await else {
            return;
        };
        let Some((peer, status)) = self.best_peer(local_td) else {
            // In step with every peer: not syncing.
            if self.ctx.progress.borrow().is_some() {
                self.ctx.progress.send_replace(None);
            }
            return;
        };
        let ctx = Arc::clone(&self.ctx);
        *round = Some(tokio::spawn(
            async move { (peer, ctx.run(peer, status).await) },
        ));
    }

    fn on_round_finished(&mut self, peer: PeerId, result: Result<RoundSummary, RoundError>) {
        match result {
            Ok(summary) => {
                debug!(%peer, imported = summary.imported, head = summary.head, "sync round done");
                if summary.imported > 0
                    && let Some(progress) = *self.ctx.progress.borrow()
                    && let Ok(meter) = self.ctx.meter.lock()
                {
                    meter.finish(progress, self.ctx.network.peer_count());
                }
            }
            Err(RoundError::Peer { peer, reason }) => {
                info!(%peer, %reason, "sync round failed: trying another peer");
                self.excluded.insert(peer, Instant::now() + EXCLUSION);
            }
            Err(RoundError::FalseClaim { peer, claim }) => {
                info!(%peer, claimed = %claim.claimed, reached = %claim.reached,
                    "peer's status is false: syncing from another peer");
                self.false_claims.insert(peer, claim.claimed);
                self.excluded.insert(peer, Instant::now() + EXCLUSION);
            }
            Err(RoundError::Local(reason)) => {
                warn!(%reason, "sync round failed");
            }
        }
    }
}

/// Whether an imported gossiped block is forwarded. Only a block the chain executed (so its
/// seal, signer authorisation, difficulty, timing and state all checked out) is: a side-chain
/// block is stored without execution, a held future block is not yet checked at all, and a
/// node that forwards what it has not checked makes honest peers relay what others refuse.
fn gossip_verdict(outcome: InsertOutcome) -> MessageValidation {
    match outcome {
        InsertOutcome::Canonical { .. } | InsertOutcome::Reorg { .. } => MessageValidation::Accept,
        InsertOutcome::SideChain | InsertOutcome::Future { .. } | InsertOutcome::AlreadyKnown => {
            MessageValidation::Ignore
        }
    }
}

fn log_gossip_import(
    number: u64,
    hash: alloy_primitives::B256,
    outcome: InsertOutcome,
    took: Duration,
) {
    match outcome {
        InsertOutcome::Canonical { gas_used, .. } => {
            info!(number, %hash, gas_used, took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX), "imported gossiped block");
        }
        InsertOutcome::Reorg { fork_point, .. } => {
            info!(number, %hash, fork_point, "gossiped block reorganised the chain");
        }
        other => debug!(number, %hash, ?other, "gossiped block"),
    }
}
