//! Catch-up gating: a validator starts sealing only once it is in step with its peers.

use std::time::{Duration, Instant};

use alloy_primitives::U256;
use spectrum_storage_api::ChainReader;
use tokio::sync::watch;

use crate::{PeerSummary, SyncProgress};

/// How long a validator with bootnodes waits for a first peer before producing alone.
const FIRST_PEER_WAIT: Duration = Duration::from_secs(30);

/// How a validator waits to catch up before sealing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    /// Without bootnodes (the first node of a network) it seals at once.
    pub has_bootnodes: bool,
    /// It gives up waiting after this long without its head moving (`--catchup-timeout`).
    pub stall_limit: Duration,
}

/// Waits before a validator starts sealing until it is in step with its peers: sealing on a
/// stale head only makes forks the network discards. Without bootnodes (the first node of a
/// network) or without any peer after a while, it seals at once / then. It also gives up when
/// its head has not moved for `stall_limit` while peers still announce more: a peer claiming a
/// total difficulty it never delivers must not keep a validator from sealing forever. `peers`
/// is the sync driver's summary ([`crate::SyncHandle::peers`]): peers of both wires count.
pub async fn wait_until_in_step(
    catch_up: CatchUp,
    peers: &watch::Receiver<PeerSummary>,
    progress: watch::Receiver<Option<SyncProgress>>,
    db: &dyn ChainReader,
) {
    if !catch_up.has_bootnodes {
        return;
    }
    let started = Instant::now();
    let mut last_log = started;
    let mut head = db.head().ok().flatten();
    let mut last_progress = started;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        let summary = *peers.borrow();
        if summary.count() == 0 {
            if started.elapsed() >= FIRST_PEER_WAIT {
                tracing::warn!("no peer yet: producing blocks alone");
                return;
            }
            continue;
        }
        let now_head = db.head().ok().flatten();
        if now_head != head {
            head = now_head;
            last_progress = Instant::now();
        }
        let local_td = head_total_difficulty(db);
        let behind = summary
            .best_total_difficulty
            .is_some_and(|best| best > local_td);
        if !behind && progress.borrow().is_none() {
            tracing::info!(
                peers = summary.count(),
                libp2p = summary.libp2p,
                devp2p = summary.devp2p,
                "in step with the network: producing blocks"
            );
            return;
        }
        if last_progress.elapsed() >= catch_up.stall_limit {
            tracing::warn!(
                head = head.map_or(0, |(number, _)| number),
                waited_secs = catch_up.stall_limit.as_secs(),
                "catching up made no progress: peers announce more than they deliver; producing blocks"
            );
            return;
        }
        if last_log.elapsed() >= Duration::from_secs(15) {
            last_log = Instant::now();
            tracing::info!("waiting to catch up with the network before producing blocks");
        }
    }
}

fn head_total_difficulty(db: &dyn ChainReader) -> U256 {
    db.head_total_difficulty()
        .ok()
        .flatten()
        .map_or(U256::ZERO, |head| head.total_difficulty)
}
