//! One sync round against one peer: find the last block we share, then download headers,
//! check them, fetch and check bodies, and import in order (the import of one batch overlaps
//! the download of the next).

use std::sync::{Arc, Mutex};

use alloy_primitives::U256;
use spectrum_chain::{Blockchain, InsertOutcome};
use spectrum_consensus::TribeError;
use spectrum_network::{
    ChainStatus, HashOrNumber, HeadersRequest, NetworkHandle, PeerId, Penalty, RequestError,
};

use crate::fetch::BlockFetcher;
use spectrum_primitives::{SealedBlock, SealedHeader};
use tokio::{sync::watch, task::JoinHandle};
use tracing::{debug, warn};

use crate::{
    SyncConfig,
    checks::{HeaderChecks, body_matches},
    progress::{ProgressMeter, SyncProgress},
};

/// Most header requests spent looking for the common ancestor (192 blocks each).
const MAX_ANCESTOR_STEPS: usize = 64;

/// What a round needs, shared with the service.
pub(crate) struct Ctx<N: BlockFetcher = NetworkHandle> {
    pub(crate) chain: Arc<Blockchain>,
    pub(crate) network: N,
    pub(crate) checks: HeaderChecks,
    pub(crate) config: SyncConfig,
    pub(crate) progress: watch::Sender<Option<SyncProgress>>,
    pub(crate) meter: Mutex<ProgressMeter>,
}

/// Why a round ended early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoundError<P = PeerId> {
    /// The peer failed us (no answer, a bad answer, an invalid block); try another.
    #[error("peer {peer}: {reason}")]
    Peer {
        /// The peer.
        peer: P,
        /// What went wrong.
        reason: String,
    },
    /// The peer announced a total difficulty its chain does not reach: it delivered nothing
    /// beyond our common block, or blocks that do not add up to its claim. It is penalised and
    /// not synced from again until it announces another status.
    #[error(
        "peer {peer} claimed total difficulty {} but its chain reaches {}",
        .claim.claimed,
        .claim.reached
    )]
    FalseClaim {
        /// The peer.
        peer: P,
        /// What it claimed and what it showed (boxed: errors travel by value).
        claim: Box<FalseClaim>,
    },
    /// Our side failed (database).
    #[error("local: {0}")]
    Local(String),
}

/// A total difficulty announced and the one a peer's delivered chain reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FalseClaim {
    /// The total difficulty it announced.
    pub claimed: U256,
    /// The total difficulty of the last block it delivered (zero if it could not show even
    /// the block we asked for first).
    pub reached: U256,
}

/// What a finished round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundSummary {
    /// Blocks imported.
    pub imported: u64,
    /// Our head number afterwards.
    pub head: u64,
}

/// A batch import running on a blocking thread.
type Import<P> = JoinHandle<Result<Batch, RoundError<P>>>;

struct Batch {
    blocks: u64,
    gas: u64,
}

fn peer_error<P>(peer: P, reason: impl Into<String>) -> RoundError<P> {
    RoundError::Peer {
        peer,
        reason: reason.into(),
    }
}

impl<N: BlockFetcher> Ctx<N> {
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Blockchain) -> T + Send + 'static,
    ) -> Result<T, RoundError<N::Peer>> {
        let chain = Arc::clone(&self.chain);
        tokio::task::spawn_blocking(move || f(&chain))
            .await
            .map_err(|e| RoundError::Local(format!("blocking task: {e}")))
    }

    /// Our head's total difficulty.
    async fn local_td(&self) -> Result<U256, RoundError<N::Peer>> {
        self.blocking(|chain| chain.provider().head_total_difficulty())
            .await?
            .map(|head| head.map_or(U256::ZERO, |head| head.total_difficulty))
            .map_err(|e| RoundError::Local(e.to_string()))
    }

    async fn headers(
        &self,
        peer: N::Peer,
        request: HeadersRequest,
    ) -> Result<Vec<SealedHeader>, RoundError<N::Peer>> {
        self.network
            .request_headers(peer, request)
            .await
            .map_err(|e| request_failed(peer, "headers", e))
    }

    /// The highest block of ours that `peer`'s chain also has, searching down from the lower
    /// of the two heads, 192 headers at a time.
    async fn find_ancestor(
        &self,
        peer: N::Peer,
        target: &ChainStatus,
    ) -> Result<SealedHeader, RoundError<N::Peer>> {
        let peer_head = target.head_number;
        let local_head = self.blocking(|chain| chain.provider().head()).await?;
        let (local_head, _) = local_head
            .map_err(|e| RoundError::Local(e.to_string()))?
            .ok_or_else(|| RoundError::Local("no head".into()))?;
        let batch = self.config.headers_per_request;
        let mut start = local_head.min(peer_head);
        for _ in 0..MAX_ANCESTOR_STEPS {
            let amount = batch.min(start.saturating_add(1));
            let request = HeadersRequest {
                origin: HashOrNumber::Number(start),
                amount,
                skip: 0,
                reverse: true,
            };
            let headers = self.headers(peer, request).await?;
            if headers.is_empty() && target.total_difficulty > self.local_td().await? {
                // It announced a heavier chain with a head at or above `start`, and cannot
                // show the block there.
                return Err(self.false_claim(peer, target, U256::ZERO).await);
            }
            check_descending(peer, start, &headers).await?;
            let found = self
                .blocking(move |chain| {
                    for header in headers {
                        match chain.provider().canonical_hash(header.number) {
                            Ok(Some(hash)) if hash == header.hash() => return Ok(Some(header)),
                            Ok(_) => {}
                            Err(e) => return Err(RoundError::Local(e.to_string())),
                        }
                    }
                    Ok(None)
                })
                .await??;
            if let Some(ancestor) = found {
                return Ok(ancestor);
            }
            if start < amount {
                // Not even the genesis matches: the handshake should have caught this.
                self.network
                    .penalise(peer, Penalty::IncompatibleChain)
                    .await;
                return Err(peer_error(peer, "no common block"));
            }
            start = start.saturating_sub(amount);
        }
        Err(peer_error(peer, "common ancestor too deep"))
    }

    /// Checks a batch of headers against its parent and each other; the first failure
    /// penalises the peer.
    async fn check_headers(
        &self,
        peer: N::Peer,
        parent: &SealedHeader,
        headers: &[SealedHeader],
    ) -> Result<(), RoundError<N::Peer>> {
        let now = crate::header_time_limit(&self.chain);
        let mut previous = parent;
        for header in headers {
            if let Err(error) = self.checks.check(header, previous, now) {
                // A header that does not follow the one before (the peer's chain moved between
                // two answers) or comes from beyond our clock's allowance is no proof of
                // dishonesty: the round ends, nobody is penalised.
                if !matches!(
                    error,
                    TribeError::ParentHashMismatch { .. } | TribeError::FutureBlock { .. }
                ) {
                    self.network.penalise(peer, Penalty::InvalidBlock).await;
                }
                return Err(peer_error(
                    peer,
                    format!("header {} {}: {error}", header.number, header.hash()),
                ));
            }
            previous = header;
        }
        Ok(())
    }

    /// Bodies for `headers`, several requests if the peer answers in parts; each body must
    /// match its header.
    async fn bodies(
        &self,
        peer: N::Peer,
        headers: Vec<SealedHeader>,
    ) -> Result<Vec<SealedBlock>, RoundError<N::Peer>> {
        let mut blocks = Vec::with_capacity(headers.len());
        let mut pending = headers.into_iter().peekable();
        while pending.peek().is_some() {
            let chunk: Vec<SealedHeader> = pending
                .by_ref()
                .take(self.config.bodies_per_request)
                .collect();
            let mut offset = 0;
            while offset < chunk.len() {
                let wanted: Vec<_> = chunk.iter().skip(offset).map(|h| h.hash()).collect();
                let bodies = self
                    .network
                    .request_bodies(peer, wanted)
                    .await
                    .map_err(|e| request_failed(peer, "bodies", e))?;
                if bodies.is_empty() {
                    self.network.penalise(peer, Penalty::BadResponse).await;
                    return Err(peer_error(peer, "no bodies for its own headers"));
                }
                for (header, body) in chunk.iter().skip(offset).zip(bodies) {
                    if !body_matches(header, &body) {
                        // The header's hash commits to the body: a mismatch is never an
                        // accident of timing, so it costs as much as an invalid block.
                        self.network.penalise(peer, Penalty::InvalidBlock).await;
                        return Err(peer_error(
                            peer,
                            format!("body of block {} does not match its header", header.number),
                        ));
                    }
                    blocks.push(SealedBlock {
                        header: header.clone(),
                        body,
                    });
                    offset = offset.saturating_add(1);
                }
            }
        }
        Ok(blocks)
    }

    fn spawn_import(
        &self,
        peer: N::Peer,
        blocks: Vec<SealedBlock>,
    ) -> JoinHandle<Result<Batch, RoundError<N::Peer>>> {
        let chain = Arc::clone(&self.chain);
        tokio::task::spawn_blocking(move || import_batch(&chain, peer, blocks))
    }

    async fn finish_import(
        &self,
        peer: N::Peer,
        import: JoinHandle<Result<Batch, RoundError<N::Peer>>>,
        progress: &mut SyncProgress,
        last: u64,
        imported: &mut u64,
    ) -> Result<(), RoundError<N::Peer>> {
        let result = import
            .await
            .map_err(|e| RoundError::Local(format!("import task: {e}")))?;
        let batch = match result {
            Ok(batch) => batch,
            Err(error) => {
                if matches!(error, RoundError::Peer { .. }) {
                    self.network.penalise(peer, Penalty::InvalidBlock).await;
                }
                return Err(error);
            }
        };
        *imported = imported.saturating_add(batch.blocks);
        progress.current_block = progress.current_block.max(last);
        progress.highest_block = progress.highest_block.max(last);
        self.progress.send_replace(Some(*progress));
        let peers = self.network.peer_count();
        if let Ok(mut meter) = self.meter.lock() {
            meter.record(batch.blocks, batch.gas, *progress, peers);
        }
        Ok(())
    }

    /// Syncs from `peer` up to its head.
    pub(crate) async fn run(
        &self,
        peer: N::Peer,
        target: ChainStatus,
    ) -> Result<RoundSummary, RoundError<N::Peer>> {
        let ancestor = self.find_ancestor(peer, &target).await?;
        let head = self
            .blocking(|chain| chain.provider().head())
            .await?
            .map_err(|e| RoundError::Local(e.to_string()))?
            .map_or(0, |(number, _)| number);
        debug!(%peer, ancestor = ancestor.number, head, target = target.head_number, "sync round");
        let mut progress = SyncProgress {
            starting_block: head,
            current_block: head,
            highest_block: target.head_number.max(head),
        };
        self.progress.send_replace(Some(progress));

        let mut parent = ancestor;
        let mut imported = 0u64;
        let mut in_flight: Option<(Import<N::Peer>, u64)> = None;
        while let Some(start) = parent.number.checked_add(1) {
            let headers = self
                .headers(
                    peer,
                    HeadersRequest::range(start, self.config.headers_per_request),
                )
                .await?;
            if headers.is_empty() {
                break;
            }
            self.check_headers(peer, &parent, &headers).await?;
            let next_parent = headers.last().cloned().unwrap_or_else(|| parent.clone());
            let blocks = self.bodies(peer, headers).await?;
            if let Some((import, last)) = in_flight.take() {
                self.finish_import(peer, import, &mut progress, last, &mut imported)
                    .await?;
            }
            in_flight = Some((self.spawn_import(peer, blocks), next_parent.number));
            parent = next_parent;
        }
        if let Some((import, last)) = in_flight.take() {
            self.finish_import(peer, import, &mut progress, last, &mut imported)
                .await?;
        }
        self.check_claim(peer, &target, &parent).await?;
        Ok(RoundSummary {
            imported,
            head: progress.current_block,
        })
    }

    /// The peer's chain ends at `last` (the last header it gave us, or the common block if it
    /// gave none); its total difficulty must reach what the peer announced, or the peer lied
    /// and would stall us: every round would pick it again and get nothing.
    async fn check_claim(
        &self,
        peer: N::Peer,
        target: &ChainStatus,
        last: &SealedHeader,
    ) -> Result<(), RoundError<N::Peer>> {
        let hash = last.hash();
        let reached = self
            .blocking(move |chain| chain.provider().total_difficulty(&hash))
            .await?
            .map_err(|e| RoundError::Local(e.to_string()))?
            .unwrap_or(U256::ZERO);
        let ours = self.local_td().await?;
        // Once our own chain is as heavy as the claim (we sealed or heard of better blocks
        // meanwhile), the peer's blocks may rightly stay off our chain: nothing to hold
        // against it.
        if reached >= target.total_difficulty || ours >= target.total_difficulty {
            return Ok(());
        }
        Err(self.false_claim(peer, target, reached).await)
    }

    /// Penalises `peer` for announcing `target` and delivering a chain that reaches only
    /// `reached`.
    async fn false_claim(
        &self,
        peer: N::Peer,
        target: &ChainStatus,
        reached: U256,
    ) -> RoundError<N::Peer> {
        warn!(%peer, claimed = %target.total_difficulty, head = target.head_number, %reached,
            "peer's chain does not reach the total difficulty it announced");
        self.network.penalise(peer, Penalty::FalseClaim).await;
        RoundError::FalseClaim {
            peer,
            claim: Box::new(FalseClaim {
                claimed: target.total_difficulty,
                reached,
            }),
        }
    }
}

/// Verifies a reverse header answer: numbers `start, start-1, …`, each the parent of the one
/// before it.
async fn check_descending<P>(
    peer: P,
    start: u64,
    headers: &[SealedHeader],
) -> Result<(), RoundError<P>> {
    if headers.is_empty() {
        return Err(peer_error(peer, format!("no header at {start}")));
    }
    let mut expected = Some(start);
    let mut child: Option<&SealedHeader> = None;
    for header in headers {
        let linked = child.is_none_or(|c| c.parent_hash == header.hash());
        if Some(header.number) != expected || !linked {
            return Err(peer_error(peer, "reverse headers do not link"));
        }
        expected = header.number.checked_sub(1);
        child = Some(header);
    }
    Ok(())
}

fn request_failed<P>(peer: P, what: &str, error: RequestError) -> RoundError<P> {
    peer_error(peer, format!("{what} request: {error}"))
}

/// Inserts blocks in order; stops at the first failure. An invalid block is the peer's fault,
/// a database failure ours.
fn import_batch<P: std::fmt::Display>(
    chain: &Blockchain,
    peer: P,
    blocks: Vec<SealedBlock>,
) -> Result<Batch, RoundError<P>> {
    let mut batch = Batch { blocks: 0, gas: 0 };
    // Senders, seals and VRF proofs of the whole round over every core first, as
    // `spectrum import` does; the in-order inserts below then skip that work.
    chain.prepare_blocks(&blocks);
    for block in blocks {
        let (number, hash) = (block.number(), block.hash());
        match chain.insert_block(block) {
            Ok(outcome) => {
                if let InsertOutcome::Canonical { gas_used, .. } = outcome {
                    batch.gas = batch.gas.saturating_add(gas_used);
                }
                batch.blocks = batch.blocks.saturating_add(1);
            }
            Err(error) if error.is_invalid_block() => {
                warn!(%peer, number, %hash, %error, "invalid block from peer");
                return Err(peer_error(peer, format!("invalid block {number}: {error}")));
            }
            Err(error) => {
                return Err(RoundError::Local(format!(
                    "importing block {number}: {error}"
                )));
            }
        }
    }
    Ok(batch)
}
