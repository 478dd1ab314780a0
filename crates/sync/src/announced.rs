//! A block a peer announced whole (libp2p gossip, devp2p NewBlock): checked and imported the
//! same way whichever wire brought it. The wires differ only in what the verdict costs the
//! peer (libp2p: a gossip verdict and a score; devp2p: a disconnect and a ban).

use std::{sync::Arc, time::Instant};

use spectrum_chain::{Blockchain, ChainError, InsertOutcome};
use spectrum_consensus::TribeError;
use spectrum_primitives::SealedBlock;
use tracing::{debug, info};

use crate::checks::HeaderChecks;

/// What became of an announced block.
#[derive(Debug)]
pub(crate) enum Announced {
    /// Already stored: nothing to do.
    Known,
    /// Its parent is unknown: the peer has blocks we lack, sync from it.
    UnknownParent,
    /// Beyond our clock's allowance: perhaps our clock, perhaps the producer's; the relay is
    /// not to blame (geth's fetcher neither imports nor drops the peer).
    Future,
    /// It breaks the header rules or fails import: the peer's fault.
    Invalid(String),
    /// Imported.
    Imported(InsertOutcome),
    /// Our side failed (database, task); nobody's fault.
    Failed(String),
}

/// Checks `block`'s header against its parent, then inserts it.
pub(crate) async fn import_announced(
    chain: &Arc<Blockchain>,
    checks: &HeaderChecks,
    block: SealedBlock,
    devp2p: bool,
) -> Announced {
    let (hash, number, parent_hash) = (block.hash(), block.number(), block.header.parent_hash);
    let known = blocking(chain, move |chain| {
        let db = chain.provider();
        Ok::<_, spectrum_storage_api::ProviderError>((
            db.block_number(&hash)?.is_some(),
            db.header(&parent_hash)?,
        ))
    })
    .await;
    let (is_known, parent) = match known {
        Some(Ok(found)) => found,
        Some(Err(error)) => return Announced::Failed(error.to_string()),
        None => return Announced::Failed("blocking task".into()),
    };
    if is_known {
        return Announced::Known;
    }
    let Some(parent) = parent else {
        return Announced::UnknownParent;
    };
    let now = crate::header_time_limit(chain);
    if let Err(error) = checks.check(&block.header, &parent, now) {
        return match error {
            TribeError::FutureBlock { .. } => Announced::Future,
            error => Announced::Invalid(error.to_string()),
        };
    }
    let started = Instant::now();
    match blocking(chain, move |chain| chain.insert_block(block)).await {
        Some(Ok(outcome)) => {
            log_import(number, hash, outcome, started, devp2p);
            Announced::Imported(outcome)
        }
        Some(Err(error)) if error.is_invalid_block() => Announced::Invalid(error.to_string()),
        Some(Err(ChainError::UnknownParent { .. })) => Announced::UnknownParent,
        Some(Err(error)) => Announced::Failed(error.to_string()),
        None => Announced::Failed("blocking task".into()),
    }
}

async fn blocking<T: Send + 'static>(
    chain: &Arc<Blockchain>,
    f: impl FnOnce(&Blockchain) -> T + Send + 'static,
) -> Option<T> {
    let chain = Arc::clone(chain);
    tokio::task::spawn_blocking(move || f(&chain)).await.ok()
}

/// The log lines name the wire as before the wires shared this path (operators' scripts
/// read `imported gossiped block`).
fn log_import(
    number: u64,
    hash: alloy_primitives::B256,
    outcome: InsertOutcome,
    started: Instant,
    devp2p: bool,
) {
    match outcome {
        InsertOutcome::Canonical { gas_used, .. } => {
            let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            if devp2p {
                info!(number, %hash, gas_used, took_ms, "imported devp2p block");
            } else {
                info!(number, %hash, gas_used, took_ms, "imported gossiped block");
            }
        }
        InsertOutcome::Reorg { fork_point, .. } => {
            info!(number, %hash, fork_point, "announced block reorganised the chain");
        }
        other => debug!(number, %hash, ?other, "announced block"),
    }
}
