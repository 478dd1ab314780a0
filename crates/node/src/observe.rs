//! Observing the running node: the `/metrics` exporter, the sampler that mirrors the node's
//! state into gauges (head, peers, pool, sync, database size, process), the chain-event task
//! that counts imports, reorgs and a validator's missed slots, and the periodic status line
//! (every [`OpsConfig::status_interval`], so that a node with no peers still says it is alive).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use spectrum_chain::Blockchain;
use spectrum_network::NetworkHandle;
use spectrum_primitives::{SealedHeader, SyncProgress};
use spectrum_producer::{BlockProducer, ProducerError};
use spectrum_tribe_state::{ChiefContracts, ValidatorRole};
use spectrum_txpool::{Pool, TxPool};
use tokio::sync::watch;

use crate::TaskExecutor;

/// Operations settings of [`crate::NodeConfig`].
#[derive(Debug, Clone)]
pub struct OpsConfig {
    /// Serve Prometheus metrics here (`--metrics`); `None` = no exporter.
    pub metrics: Option<SocketAddr>,
    /// The database directory, whose size the sampler reports.
    pub db_path: Option<PathBuf>,
    /// How often the status line is logged.
    pub status_interval: Duration,
    /// Peers always redialled when not connected (`--trustedpeers`; `admin_addTrustedPeer`
    /// adds more at run time).
    pub trusted_peers: Vec<spectrum_network::Multiaddr>,
    /// The storage engine's compaction figures, sampled with the database size.
    pub engine: Option<Arc<dyn spectrum_storage_api::EngineStatsSource>>,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            metrics: None,
            db_path: None,
            status_interval: STATUS_INTERVAL,
            trusted_peers: Vec::new(),
            engine: None,
        }
    }
}

/// geth prints its status about this often.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(8);
/// Gauges are refreshed this often (a scrape every 15 s sees fresh values).
const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// The database directory is walked this often (it can hold thousands of files).
const DB_SIZE_INTERVAL: Duration = Duration::from_secs(30);

/// What the observer reads.
pub(crate) struct Observed {
    pub(crate) chain: Arc<Blockchain>,
    pub(crate) pool: Arc<Pool>,
    pub(crate) network: Option<NetworkHandle>,
    pub(crate) progress: Option<watch::Receiver<Option<SyncProgress>>>,
    pub(crate) validator: Option<Address>,
    pub(crate) clock: Arc<dyn crate::Clock>,
    /// The devp2p wire, whose peers are counted beside libp2p's.
    pub(crate) devp2p: Option<spectrum_devp2p::Devp2pHandle>,
    /// Chief reads: the validator's role and each signer's missed slots.
    pub(crate) chief: ChiefContracts,
}

/// Starts the exporter (if configured) and the observer tasks; returns the exporter's address.
pub(crate) async fn start(
    executor: &TaskExecutor,
    config: &OpsConfig,
    observed: Observed,
) -> Result<Option<SocketAddr>, spectrum_metrics::ServeError> {
    let addr = match config.metrics {
        Some(addr) => {
            let server = spectrum_metrics::serve(addr).await?;
            tracing::info!(url = %format!("http://{}/metrics", server.addr), "metrics listening");
            let task = server.task;
            executor.spawn("metrics server", async move {
                let _ = task.await;
            });
            Some(server.addr)
        }
        None => None,
    };
    let observed = Arc::new(observed);
    executor.spawn("chain metrics", count_chain_events(observed.clone()));
    executor.spawn(
        "status",
        sample_and_report(
            observed,
            DbSources {
                path: config.db_path.clone(),
                engine: config.engine.clone(),
            },
            config.status_interval,
        ),
    );
    Ok(addr)
}

/// Counts canonical changes: imported blocks, transactions and gas, reorgs, missed slots.
async fn count_chain_events(observed: Arc<Observed>) {
    let mut changes = observed.chain.subscribe();
    let metrics = spectrum_metrics::get();
    let reader = observed.chain.provider().clone();
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        if !change.removed.is_empty() {
            metrics.reorgs.inc();
            metrics.reorg_depth.observe(change.removed.len() as f64);
        }
        for header in &change.added {
            metrics.imported_blocks.inc();
            metrics.imported_gas.inc_by(header.gas_used);
            if let Ok(Some(body)) = reader.body(&header.hash()) {
                metrics
                    .imported_transactions
                    .inc_by(u64::try_from(body.transactions.len()).unwrap_or(u64::MAX));
            }
            if let Some(us) = observed.validator
                && missed_our_slot(&observed.chain, header, us)
            {
                metrics.validator_missed_slots.inc();
            }
            count_signer_missed_slot(&observed.chief, &reader, header);
        }
    }
}

/// Counts the in-turn signer's missed slot if another signer sealed `header`, derived as
/// `tribe_missedSlots` derives it.
fn count_signer_missed_slot(
    chief: &ChiefContracts,
    reader: &Arc<dyn spectrum_storage_api::ChainReader>,
    header: &SealedHeader,
) {
    let Ok(Some(parent)) = reader.header(&header.parent_hash) else {
        return;
    };
    match chief.missed_slot(&parent, header) {
        Ok(Some(missed)) => spectrum_metrics::signer_missed_slot(missed.in_turn.to_string()),
        Ok(None) => {}
        Err(error) => tracing::debug!(%error, number = header.number, "cannot derive the slot"),
    }
}

/// Whether `header` was sealed out of turn in a slot that was `us`'s own turn: the in-turn
/// signer's block carries the era's top difficulty, so a lower one there means we missed it.
fn missed_our_slot(chain: &Blockchain, header: &SealedHeader, us: Address) -> bool {
    let reader = chain.provider();
    let Ok(Some(parent)) = reader.header(&header.parent_hash) else {
        return false;
    };
    let producer = BlockProducer::new(reader.clone(), chain.spec().clone());
    match producer.plan(&parent, us) {
        Ok(plan) => {
            plan.in_turn(chain.spec())
                && header.difficulty < alloy_primitives::U256::from(plan.difficulty)
        }
        Err(_) => false,
    }
}

/// One sample of the node's state, for the gauges and the status line.
struct Sample {
    head: u64,
    head_age: u64,
    peers: usize,
    /// `(inbound, outbound)` peers per wire.
    libp2p_peers: (usize, usize),
    devp2p_peers: (usize, usize),
    pending: usize,
    queued: usize,
    progress: Option<SyncProgress>,
    next: Option<(u64, u64)>,
}

/// Refreshes the gauges every second and logs the status line every `interval`.
async fn sample_and_report(observed: Arc<Observed>, db: DbSources, interval: Duration) {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(SAMPLE_INTERVAL);
    let (mut last_status, mut last_db) = (None::<(Instant, u64)>, None::<Instant>);
    loop {
        ticker.tick().await;
        let sample = sample(&observed);
        record(&sample, started);
        if last_db.is_none_or(|at| at.elapsed() >= DB_SIZE_INTERVAL) {
            last_db = Some(Instant::now());
            let db = db.clone();
            let _ = tokio::task::spawn_blocking(move || record_db(&db)).await;
        }
        if last_status.is_none_or(|(at, _)| at.elapsed() >= interval) {
            let rate = last_status.map(|(at, head)| {
                sample.head.saturating_sub(head) as f64 / at.elapsed().as_secs_f64().max(1e-3)
            });
            log_status(&sample, rate);
            last_status = Some((Instant::now(), sample.head));
        }
    }
}

fn sample(observed: &Observed) -> Sample {
    let reader = observed.chain.provider();
    let head = reader
        .head()
        .ok()
        .flatten()
        .and_then(|(number, _)| reader.header_by_number(number).ok().flatten());
    let (number, timestamp) = head.as_ref().map_or((0, 0), |h| (h.number, h.timestamp));
    let status = observed.pool.status();
    let next = match (observed.validator, &head) {
        (Some(us), Some(head)) => Some(next_slot(observed, head, us)),
        _ => None,
    };
    Sample {
        head: number,
        head_age: observed.clock.now().saturating_sub(timestamp),
        peers: observed
            .network
            .as_ref()
            .map_or(0, NetworkHandle::peer_count),
        libp2p_peers: observed
            .network
            .as_ref()
            .map_or((0, 0), NetworkHandle::peer_directions),
        devp2p_peers: observed
            .devp2p
            .as_ref()
            .map_or((0, 0), spectrum_devp2p::Devp2pHandle::peer_directions),
        pending: status.pending,
        queued: status.queued,
        progress: observed.progress.as_ref().and_then(|p| *p.borrow()),
        next: next.flatten(),
    }
}

/// Our next block and its planned delay, and our role, from the producer's plan on the head.
fn next_slot(observed: &Observed, head: &SealedHeader, us: Address) -> Option<(u64, u64)> {
    let chain = &observed.chain;
    let producer = BlockProducer::new(chain.provider().clone(), chain.spec().clone());
    match producer.plan(head, us) {
        Ok(plan) => {
            // A leader may seal too: the chief's lists tell it apart, as the status page does.
            let role = match observed.chief.status(head).map(|s| s.role_of(us)) {
                Ok(ValidatorRole::Leader) => "leader",
                _ => "signer",
            };
            spectrum_metrics::set_validator_role(role);
            Some((plan.number, plan.delay))
        }
        Err(ProducerError::NotAuthorised { .. }) => {
            spectrum_metrics::set_validator_role("none");
            None
        }
        Err(_) => None,
    }
}

fn record(sample: &Sample, started: Instant) {
    use spectrum_metrics::saturating_i64 as g;
    let m = spectrum_metrics::get();
    m.head_number.set(g(sample.head));
    m.head_age_seconds.set(g(sample.head_age));
    for (wire, (inbound, outbound)) in [
        ("libp2p", sample.libp2p_peers),
        ("devp2p", sample.devp2p_peers),
    ] {
        spectrum_metrics::set_peers(wire, "inbound", inbound);
        spectrum_metrics::set_peers(wire, "outbound", outbound);
    }
    spectrum_metrics::set_pool("pending", sample.pending);
    spectrum_metrics::set_pool("queued", sample.queued);
    let distance = sync_distance(sample);
    m.sync_active.set(i64::from(sample.progress.is_some()));
    m.sync_distance_blocks.set(g(distance));
    if let Some((number, delay)) = sample.next {
        m.validator_next_block.set(g(number));
        m.validator_next_delay_seconds.set(g(delay));
    } else {
        m.validator_next_block.set(0);
    }
    m.uptime_seconds.set(g(started.elapsed().as_secs()));
    spectrum_metrics::process::sample();
}

fn sync_distance(sample: &Sample) -> u64 {
    sample
        .progress
        .map_or(0, |p| p.highest_block.saturating_sub(sample.head))
}

/// The status line: what an operator glancing at the log needs to know the node is working.
fn log_status(sample: &Sample, blocks_per_sec: Option<f64>) {
    let distance = sync_distance(sample);
    let eta = match blocks_per_sec {
        Some(rate) if distance > 0 && rate > 0.0 => format!("{:.0}s", distance as f64 / rate),
        _ if distance > 0 => "unknown".to_owned(),
        _ => "-".to_owned(),
    };
    let next = sample
        .next
        .map_or_else(|| "-".to_owned(), |(n, d)| format!("#{n} (+{d}s)"));
    tracing::info!(
        head = sample.head,
        age = %format!("{}s", sample.head_age),
        peers = sample.peers,
        sync_distance = distance,
        eta = %eta,
        pool_pending = sample.pending,
        pool_queued = sample.queued,
        next_slot = %next,
        "status"
    );
}

/// Where the database figures come from.
#[derive(Clone)]
struct DbSources {
    path: Option<PathBuf>,
    engine: Option<Arc<dyn spectrum_storage_api::EngineStatsSource>>,
}

/// The database's size on disk and its engine's compaction figures (blocking: walks the
/// directory).
fn record_db(db: &DbSources) {
    use spectrum_metrics::saturating_i64 as g;
    let m = spectrum_metrics::get();
    if let Some(path) = &db.path {
        m.db_size_bytes.set(g(dir_size(path)));
    }
    match db.engine.as_ref().map(|e| e.engine_stats()) {
        Some(Ok(stats)) => {
            m.db_compactions_running.set(g(stats.running_compactions));
            for t in &stats.tables {
                spectrum_metrics::set_db_table(
                    t.table,
                    t.live_data_bytes,
                    t.sst_bytes,
                    t.pending_compaction_bytes,
                );
            }
        }
        Some(Err(error)) => tracing::warn!(%error, "cannot read the database's compaction figures"),
        None => {}
    }
}

/// Bytes of the regular files under `path` (not following links).
fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => dir_size(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .fold(0u64, u64::saturating_add)
}
