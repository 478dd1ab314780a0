//! The one sync driver over both wires: it keeps the peers of libp2p and devp2p in one table,
//! runs one sync round at a time against the heaviest of them all (through [`Wires`]), follows
//! libp2p gossip (devp2p's NewBlock is the bridge's, `crate::devp2p`), and publishes one
//! progress and one peer summary for `eth_syncing`, the status line and the validator's
//! catch-up gate.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256};
use spectrum_chain::{Blockchain, InsertOutcome};
use spectrum_network::{
    ChainStatus, EventReceiver, GossipedTransactions, HashOrNumber, HeadersRequest,
    MessageValidation, NetworkEvent, NetworkHandle, PeerId, Penalty,
};
use spectrum_primitives::SealedBlock;
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};
use tracing::{debug, info, warn};

use crate::{
    SyncConfig,
    announced::{Announced, import_announced},
    checks::HeaderChecks,
    fetch::BlockFetcher,
    progress::{ProgressMeter, SyncProgress},
    round::{Ctx, RoundError, RoundSummary},
    wires::{Devp2pWire, SyncPeer, WireUpdate, Wires},
};

/// The peers of both wires as the sync driver sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerSummary {
    /// libp2p peers past the status handshake.
    pub libp2p: usize,
    /// devp2p peers past the eth Status.
    pub devp2p: usize,
    /// The heaviest total difficulty any of them announced.
    pub best_total_difficulty: Option<U256>,
}

impl PeerSummary {
    /// Peers of both wires.
    pub fn count(&self) -> usize {
        self.libp2p.saturating_add(self.devp2p)
    }
}

/// The running sync service.
#[derive(Debug)]
pub struct SyncHandle {
    progress: watch::Receiver<Option<SyncProgress>>,
    peers: watch::Receiver<PeerSummary>,
    /// `None` when the caller runs the service ([`sync_service`]).
    task: Option<JoinHandle<()>>,
}

impl SyncHandle {
    /// Progress while catching up, `None` when in step with the best peer (`eth_syncing`).
    pub fn progress(&self) -> watch::Receiver<Option<SyncProgress>> {
        self.progress.clone()
    }

    /// The peers of both wires (the validator's catch-up gate reads it).
    pub fn peers(&self) -> watch::Receiver<PeerSummary> {
        self.peers.clone()
    }

    /// Stops the service (when [`spawn_sync`] spawned it).
    pub fn abort(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The wires the sync driver runs over.
#[derive(Default)]
pub struct SyncWires {
    /// libp2p's handle and events.
    pub libp2p: Option<(NetworkHandle, EventReceiver)>,
    /// devp2p's fetcher and the bridge's peer updates.
    pub devp2p: Option<Devp2pWire>,
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
    let wires = SyncWires {
        libp2p: Some((network, events)),
        devp2p: None,
    };
    sync_over(chain, wires, transactions, config)
}

/// The one sync driver over `wires` (either or both): one peer table, one round at a time
/// against the heaviest peer of any wire, one progress. It ends when the events of every wire
/// have ended.
pub fn sync_over(
    chain: Arc<Blockchain>,
    wires: SyncWires,
    transactions: Option<mpsc::Sender<GossipedTransactions>>,
    config: SyncConfig,
) -> (SyncHandle, impl Future<Output = ()> + Send + 'static) {
    let (progress_tx, progress_rx) = watch::channel(None);
    let (summary_tx, summary_rx) = watch::channel(PeerSummary::default());
    let checks = HeaderChecks::new(Arc::clone(chain.spec()));
    let meter = Mutex::new(ProgressMeter::new(config.log_interval));
    let (libp2p, events) = match wires.libp2p {
        Some((handle, events)) => (Some(handle), Some(events)),
        None => (None, None),
    };
    let (devp2p, updates) = match wires.devp2p {
        Some(wire) => (Some(wire.fetcher), Some(wire.updates)),
        None => (None, None),
    };
    let ctx = Arc::new(Ctx {
        chain,
        network: Wires { libp2p, devp2p },
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
        summary: summary_tx,
    };
    let handle = SyncHandle {
        progress: progress_rx,
        peers: summary_rx,
        task: None,
    };
    (handle, service.run(events, updates))
}

/// A peer's head as the driver knows it. eth's Status names the head by hash only: its number
/// is asked for when a round starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerHead {
    pub(crate) hash: B256,
    pub(crate) number: Option<u64>,
    pub(crate) total_difficulty: U256,
}

impl From<ChainStatus> for PeerHead {
    fn from(status: ChainStatus) -> Self {
        Self {
            hash: status.head_hash,
            number: Some(status.head_number),
            total_difficulty: status.total_difficulty,
        }
    }
}

type Round = JoinHandle<(SyncPeer, Result<RoundSummary, RoundError<SyncPeer>>)>;

struct SyncService {
    ctx: Arc<Ctx<Wires>>,
    peers: HashMap<SyncPeer, PeerHead>,
    /// Peers that failed a round recently, left out until the instant.
    excluded: HashMap<SyncPeer, Instant>,
    /// Peers whose announced total difficulty proved false, with that claim: not synced from
    /// again until they announce more.
    false_claims: HashMap<SyncPeer, U256>,
    /// A peer that announced a block we cannot attach (with its number when known): sync with
    /// it even if its last status does not show it ahead.
    hint: Option<(SyncPeer, Option<u64>)>,
    transactions: Option<mpsc::Sender<GossipedTransactions>>,
    summary: watch::Sender<PeerSummary>,
}

/// How long a peer that failed a round is left out.
const EXCLUSION: Duration = Duration::from_secs(30);

async fn wait_round(
    round: &mut Option<Round>,
) -> Option<(SyncPeer, Result<RoundSummary, RoundError<SyncPeer>>)> {
    match round {
        Some(handle) => {
            let result = handle.await.ok();
            *round = None;
            result
        }
        None => std::future::pending().await,
    }
}

async fn next_event(events: &mut Option<EventReceiver>) -> Option<NetworkEvent> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_update(updates: &mut Option<mpsc::Receiver<WireUpdate>>) -> Option<WireUpdate> {
    match updates {
        Some(updates) => updates.recv().await,
        None => std::future::pending().await,
    }
}

/// The peer to sync from: the heaviest of any wire whose total difficulty beats ours (and
/// its last false claim), else the peer that announced a block we could not attach.
pub(crate) fn best_peer(
    peers: &HashMap<SyncPeer, PeerHead>,
    excluded: &HashMap<SyncPeer, Instant>,
    false_claims: &HashMap<SyncPeer, U256>,
    hint: Option<(SyncPeer, Option<u64>)>,
    local_td: U256,
) -> Option<(SyncPeer, PeerHead)> {
    let best = peers
        .iter()
        .filter(|(peer, head)| {
            head.total_difficulty > local_td
                && !excluded.contains_key(peer)
                && false_claims
                    .get(peer)
                    .is_none_or(|claimed| head.total_difficulty > *claimed)
        })
        .max_by_key(|(_, head)| head.total_difficulty)
        .map(|(peer, head)| (*peer, *head));
    best.or_else(|| {
        let (peer, number) = hint?;
        let head = peers.get(&peer)?;
        // Its status is older than the block it just announced.
        let number = match (head.number, number) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Some((peer, PeerHead { number, ..*head }))
    })
}

impl SyncService {
    async fn run(
        mut self,
        mut events: Option<EventReceiver>,
        mut updates: Option<mpsc::Receiver<WireUpdate>>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut round: Option<Round> = None;
        while events.is_some() || updates.is_some() {
            tokio::select! {
                event = next_event(&mut events) => match event {
                    Some(event) => self.on_event(event, &mut round).await,
                    None => events = None,
                },
                update = next_update(&mut updates) => match update {
                    Some(update) => self.on_update(update, &mut round).await,
                    None => updates = None,
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

    fn libp2p(&self) -> Option<&NetworkHandle> {
        self.ctx.network.libp2p.as_ref()
    }

    /// Publishes the peer table's summary.
    fn publish_peers(&self) {
        let mut summary = PeerSummary::default();
        for (peer, head) in &self.peers {
            match peer {
                SyncPeer::Libp2p(_) => summary.libp2p = summary.libp2p.saturating_add(1),
                SyncPeer::Devp2p(_) => summary.devp2p = summary.devp2p.saturating_add(1),
            }
            summary.best_total_difficulty = summary
                .best_total_difficulty
                .max(Some(head.total_difficulty));
        }
        self.summary.send_if_modified(|old| {
            let changed = *old != summary;
            *old = summary;
            changed
        });
    }

    fn remove_peer(&mut self, peer: SyncPeer) {
        self.peers.remove(&peer);
        self.false_claims.remove(&peer);
        self.publish_peers();
    }

    async fn on_update(&mut self, update: WireUpdate, round: &mut Option<Round>) {
        match update {
            WireUpdate::Head {
                peer,
                hash,
                number,
                total_difficulty,
            } => {
                let head = PeerHead {
                    hash,
                    number,
                    total_difficulty,
                };
                // A Status (new peer) or a heavier NewBlock: keep the heaviest head heard.
                let known = self.peers.get(&peer).map(|h| h.total_difficulty);
                if known.is_none_or(|td| total_difficulty > td) {
                    self.peers.insert(peer, head);
                    self.publish_peers();
                    self.maybe_start_round(round).await;
                }
            }
            WireUpdate::Ahead { peer, number } => {
                self.hint = Some((peer, number));
                self.maybe_start_round(round).await;
            }
            WireUpdate::Gone(peer) => self.remove_peer(peer),
        }
    }

    async fn on_event(&mut self, event: NetworkEvent, round: &mut Option<Round>) {
        match event {
            NetworkEvent::PeerConnected { peer, status }
            | NetworkEvent::PeerStatus { peer, status } => {
                self.peers.insert(SyncPeer::Libp2p(peer), status.into());
                self.publish_peers();
                self.maybe_start_round(round).await;
            }
            NetworkEvent::PeerDisconnected { peer } | NetworkEvent::PeerBanned { peer } => {
                self.remove_peer(SyncPeer::Libp2p(peer));
            }
            NetworkEvent::NewBlock {
                peer,
                msg_id,
                block,
            } => {
                let verdict = self.on_gossiped_block(peer, *block).await;
                if let Some(network) = self.libp2p() {
                    network.report_message(msg_id, peer, verdict).await;
                }
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
                if !delivered && let Some(network) = self.libp2p() {
                    network
                        .report_message(msg_id, peer, MessageValidation::Ignore)
                        .await;
                }
            }
        }
    }

    /// Validates and imports a gossiped block; the verdict decides whether it is forwarded.
    async fn on_gossiped_block(&mut self, peer: PeerId, block: SealedBlock) -> MessageValidation {
        let (hash, number) = (block.hash(), block.number());
        match import_announced(&self.ctx.chain, &self.ctx.checks, block, false).await {
            Announced::Known => MessageValidation::Ignore,
            Announced::UnknownParent => {
                // A gap: fetch the missing blocks from this peer, which has them.
                debug!(%peer, number, %hash, "gossiped block with unknown parent");
                self.hint = Some((SyncPeer::Libp2p(peer), Some(number)));
                MessageValidation::Ignore
            }
            Announced::Future => {
                debug!(%peer, number, %hash, "gossiped block from the future ignored");
                MessageValidation::Ignore
            }
            Announced::Invalid(error) => {
                warn!(%peer, number, %hash, %error, "gossiped block refused");
                MessageValidation::Reject(Penalty::InvalidBlock)
            }
            Announced::Imported(outcome) => gossip_verdict(outcome),
            Announced::Failed(error) => {
                warn!(number, %hash, %error, "gossiped block not imported");
                MessageValidation::Ignore
            }
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

    async fn maybe_start_round(&mut self, round: &mut Option<Round>) {
        if round.is_some() {
            return;
        }
        let Some(local_td) = self.local_td().await else {
            return;
        };
        let now = Instant::now();
        self.excluded.retain(|_, until| *until > now);
        let picked = best_peer(
            &self.peers,
            &self.excluded,
            &self.false_claims,
            self.hint,
            local_td,
        );
        // The hint is spent only by the round it picks; a heavier peer's round leaves it.
        if picked.is_some_and(|(peer, _)| self.hint.is_some_and(|(hinted, _)| hinted == peer)) {
            self.hint = None;
        }
        let Some((peer, head)) = picked else {
            // In step with every peer: not syncing.
            if self.ctx.progress.borrow().is_some() {
                self.ctx.progress.send_replace(None);
            }
            return;
        };
        debug!(%peer, td = %head.total_difficulty, "sync round: best peer across both wires");
        let ctx = Arc::clone(&self.ctx);
        *round = Some(tokio::spawn(async move {
            (peer, run_round(&ctx, peer, head).await)
        }));
    }

    fn on_round_finished(
        &mut self,
        peer: SyncPeer,
        result: Result<RoundSummary, RoundError<SyncPeer>>,
    ) {
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

/// One round against `peer`, first asking for its head's number when only its hash is known.
async fn run_round(
    ctx: &Ctx<Wires>,
    peer: SyncPeer,
    head: PeerHead,
) -> Result<RoundSummary, RoundError<SyncPeer>> {
    let head_number = match head.number {
        Some(number) => number,
        None => head_number(ctx, peer, head.hash).await?,
    };
    let target = ChainStatus {
        chain_id: ctx.chain.spec().chain_id,
        genesis_hash: B256::ZERO,
        head_hash: head.hash,
        head_number,
        total_difficulty: head.total_difficulty,
    };
    ctx.run(peer, target).await
}

/// The number of the block `head` names, asked of `peer`.
async fn head_number(
    ctx: &Ctx<Wires>,
    peer: SyncPeer,
    head: B256,
) -> Result<u64, RoundError<SyncPeer>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn head(td: u64, number: u64) -> PeerHead {
        PeerHead {
            hash: B256::from(U256::from(number)),
            number: Some(number),
            total_difficulty: U256::from(td),
        }
    }

    fn libp2p_peer() -> SyncPeer {
        SyncPeer::Libp2p(PeerId::random())
    }

    fn devp2p_peer(byte: u8) -> SyncPeer {
        SyncPeer::Devp2p(spectrum_devp2p::PeerId::repeat_byte(byte))
    }

    #[test]
    fn the_heaviest_peer_of_either_wire_is_picked() {
        let (lib, dev) = (libp2p_peer(), devp2p_peer(1));
        let none = HashMap::new();
        // devp2p heavier.
        let peers = HashMap::from([(lib, head(100, 20)), (dev, head(200, 40))]);
        let picked = best_peer(&peers, &none, &HashMap::new(), None, U256::from(10));
        assert_eq!(picked.map(|(p, _)| p), Some(dev));
        // libp2p heavier.
        let peers = HashMap::from([(lib, head(300, 60)), (dev, head(200, 40))]);
        let picked = best_peer(&peers, &none, &HashMap::new(), None, U256::from(10));
        assert_eq!(picked.map(|(p, _)| p), Some(lib));
        // Neither beats our chain: no round.
        assert_eq!(
            best_peer(&peers, &none, &HashMap::new(), None, U256::from(300)),
            None
        );
    }

    #[test]
    fn excluded_and_false_claims_pass_to_the_other_wire() {
        let (lib, dev) = (libp2p_peer(), devp2p_peer(2));
        let peers = HashMap::from([(lib, head(100, 20)), (dev, head(200, 40))]);
        let excluded = HashMap::from([(dev, Instant::now() + EXCLUSION)]);
        let picked = best_peer(&peers, &excluded, &HashMap::new(), None, U256::ZERO);
        assert_eq!(picked.map(|(p, _)| p), Some(lib));
        let claims = HashMap::from([(dev, U256::from(200))]);
        let picked = best_peer(&peers, &HashMap::new(), &claims, None, U256::ZERO);
        assert_eq!(picked.map(|(p, _)| p), Some(lib));
    }

    #[test]
    fn a_hint_names_the_announced_number_when_the_head_has_none() {
        let dev = devp2p_peer(3);
        let unnumbered = PeerHead {
            number: None,
            ..head(50, 0)
        };
        let peers = HashMap::from([(dev, unnumbered)]);
        let picked = best_peer(
            &peers,
            &HashMap::new(),
            &HashMap::new(),
            Some((dev, Some(41))),
            U256::from(60),
        );
        assert_eq!(picked.map(|(p, h)| (p, h.number)), Some((dev, Some(41))));
    }
}
