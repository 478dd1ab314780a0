//! The node's Prometheus metrics.
//!
//! **Owns:** every metric's name and help text ([`Metrics`], one registry per process), the
//! one-line recording calls other crates make (`spectrum_metrics::get().<metric>...` or a helper
//! below), process memory and CPU ([`process`]), and the `/metrics` HTTP exporter ([`server`]).
//!
//! **Must not touch:** the node's state: gauges that mirror it (head, peers, pool) are set by the
//! node's sampler task (crates/node), counters by the crate where the event happens.
//!
//! Names are stable: the Grafana dashboard (etc/grafana/) and the alerts in docs/operations.md
//! are built on them, and a test checks the dashboard against a live scrape. Counters are
//! exposed with the OpenMetrics `_total` suffix.

pub mod process;
pub mod server;

use std::{
    collections::HashSet,
    sync::{Mutex, OnceLock, atomic::AtomicU64},
    time::Duration,
};

use prometheus_client::{
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

pub use crate::server::{MetricsServer, ServeError, serve};

/// A label set of one label.
pub type Label = [(&'static str, String); 1];
/// A label set of two labels.
pub type Labels2 = [(&'static str, String); 2];

type CounterBy<L> = Family<L, Counter>;
type GaugeBy<L> = Family<L, Gauge>;
type HistogramBy<L> = Family<L, Histogram, fn() -> Histogram>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// Most distinct RPC method labels: beyond it calls are counted under `other`, so that a
/// client sending random method names cannot grow the registry without bound.
const MAX_RPC_METHODS: usize = 256;

/// Every metric of the node.
pub struct Metrics {
    registry: Registry,
    // chain
    /// Canonical head number.
    pub head_number: Gauge,
    /// Seconds between the head's timestamp and now.
    pub head_age_seconds: Gauge,
    /// Blocks that became canonical.
    pub imported_blocks: Counter,
    /// Transactions in blocks that became canonical.
    pub imported_transactions: Counter,
    /// Gas used by blocks that became canonical (`rate()` of it is gas per second).
    pub imported_gas: Counter,
    /// Block import time by phase.
    pub import_seconds: HistogramBy<Label>,
    /// Reorganisations (canonical blocks replaced).
    pub reorgs: Counter,
    /// Depth of each reorganisation (blocks removed).
    pub reorg_depth: Histogram,
    /// Bytes the state cache holds, as counted against `--cache.state-mb`.
    pub state_cache_bytes: Gauge,
    /// State reads of import by result (`hit`: from memory, `miss`: from the database).
    pub state_cache_reads: CounterBy<Label>,
    /// Times the state cache dropped its older generation to stay within its budget.
    pub state_cache_evictions: Counter,
    // sync
    /// 1 while catching up with a peer ahead of us, else 0.
    pub sync_active: Gauge,
    /// Best peer head minus our head (0 when in step).
    pub sync_distance_blocks: Gauge,
    // p2p
    /// Connected peers by wire (libp2p, devp2p) and direction (all when the wire cannot tell).
    pub peers: GaugeBy<Labels2>,
    /// Peers banned, by reason.
    pub peer_bans: CounterBy<Label>,
    /// Gossip messages received, by topic.
    pub gossip_received: CounterBy<Label>,
    /// Requests answered for peers, by kind.
    pub requests_served: CounterBy<Label>,
    // pool
    /// Transactions in the pool by state (pending, queued).
    pub pool_transactions: GaugeBy<Label>,
    /// Transactions refused by the pool, by reason.
    pub pool_rejections: CounterBy<Label>,
    // rpc
    /// JSON-RPC calls by method.
    pub rpc_calls: CounterBy<Label>,
    /// JSON-RPC calls that returned an error, by method.
    pub rpc_errors: CounterBy<Label>,
    /// JSON-RPC call latency by method.
    pub rpc_seconds: HistogramBy<Label>,
    rpc_methods: Mutex<HashSet<String>>,
    // storage
    /// Bytes on disk of the database directory.
    pub db_size_bytes: Gauge,
    /// RocksDB compactions running now.
    pub db_compactions_running: Gauge,
    /// Bytes per table (`table`) and kind (`live` = estimated live data, `sst` = SST files).
    pub db_table_bytes: GaugeBy<Labels2>,
    /// Estimated bytes compaction still has to rewrite, per table.
    pub db_pending_compaction_bytes: GaugeBy<Label>,
    // process
    /// Resident memory of the process.
    pub process_resident_memory_bytes: Gauge,
    /// CPU time (user + system) the process used.
    pub process_cpu_seconds: FloatGauge,
    /// Seconds since the process started the node.
    pub uptime_seconds: Gauge,
    // validator
    /// Blocks this node sealed.
    pub validator_sealed_blocks: Counter,
    /// Canonical blocks that a stand-in sealed in this validator's own slot.
    pub validator_missed_slots: Counter,
    /// Canonical blocks sealed out of turn, by the in-turn signer that missed its slot (any
    /// node counts them; the label set is the signer set, a handful of addresses).
    pub tribe_missed_slots: CounterBy<Label>,
    /// The number of the next block this validator may seal (0 when it may not).
    pub validator_next_block: Gauge,
    /// Seconds until this validator's next seal, by its planned delay.
    pub validator_next_delay_seconds: Gauge,
    /// 1 for this validator's role (leader, signer, none), 0 for the others.
    pub validator_role: GaugeBy<Label>,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

fn import_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
}

impl Metrics {
    fn new() -> Self {
        let mut m = Self {
            registry: Registry::with_prefix("spectrum"),
            head_number: Gauge::default(),
            head_age_seconds: Gauge::default(),
            imported_blocks: Counter::default(),
            imported_transactions: Counter::default(),
            imported_gas: Counter::default(),
            import_seconds: Family::new_with_constructor(import_histogram),
            reorgs: Counter::default(),
            reorg_depth: Histogram::new([1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0]),
            state_cache_bytes: Gauge::default(),
            state_cache_reads: Family::default(),
            state_cache_evictions: Counter::default(),
            sync_active: Gauge::default(),
            sync_distance_blocks: Gauge::default(),
            peers: Family::default(),
            peer_bans: Family::default(),
            gossip_received: Family::default(),
            requests_served: Family::default(),
            pool_transactions: Family::default(),
            pool_rejections: Family::default(),
            rpc_calls: Family::default(),
            rpc_errors: Family::default(),
            rpc_seconds: Family::new_with_constructor(latency_histogram),
            rpc_methods: Mutex::new(HashSet::new()),
            db_size_bytes: Gauge::default(),
            db_compactions_running: Gauge::default(),
            db_table_bytes: Family::default(),
            db_pending_compaction_bytes: Family::default(),
            process_resident_memory_bytes: Gauge::default(),
            process_cpu_seconds: FloatGauge::default(),
            uptime_seconds: Gauge::default(),
            validator_sealed_blocks: Counter::default(),
            validator_missed_slots: Counter::default(),
            tribe_missed_slots: Family::default(),
            validator_next_block: Gauge::default(),
            validator_next_delay_seconds: Gauge::default(),
            validator_role: Family::default(),
        };
        m.register();
        m
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "chain_head_number",
            "Canonical head block number",
            self.head_number.clone(),
        );
        r.register(
            "chain_head_age_seconds",
            "Seconds since the head block's timestamp",
            self.head_age_seconds.clone(),
        );
        r.register(
            "chain_imported_blocks",
            "Blocks that became canonical",
            self.imported_blocks.clone(),
        );
        r.register(
            "chain_imported_transactions",
            "Transactions in blocks that became canonical",
            self.imported_transactions.clone(),
        );
        r.register(
            "chain_imported_gas",
            "Gas used by blocks that became canonical (rate = gas/s)",
            self.imported_gas.clone(),
        );
        r.register(
            "chain_import_seconds",
            "Block import time by phase",
            self.import_seconds.clone(),
        );
        r.register(
            "chain_reorgs",
            "Reorganisations of the canonical chain",
            self.reorgs.clone(),
        );
        r.register(
            "chain_reorg_depth",
            "Canonical blocks removed by each reorganisation",
            self.reorg_depth.clone(),
        );
        r.register(
            "chain_state_cache_bytes",
            "Bytes the state cache holds (budget: --cache.state-mb)",
            self.state_cache_bytes.clone(),
        );
        r.register(
            "chain_state_cache_reads",
            "State reads of import by result: hit (memory) or miss (database)",
            self.state_cache_reads.clone(),
        );
        r.register(
            "chain_state_cache_evictions",
            "Times the state cache dropped its older generation",
            self.state_cache_evictions.clone(),
        );
        r.register(
            "sync_active",
            "1 while catching up with a peer ahead of us",
            self.sync_active.clone(),
        );
        r.register(
            "sync_distance_blocks",
            "Best peer head minus our head",
            self.sync_distance_blocks.clone(),
        );
        r.register(
            "p2p_peers",
            "Connected peers by wire and direction",
            self.peers.clone(),
        );
        r.register(
            "p2p_peer_bans",
            "Peers banned, by reason",
            self.peer_bans.clone(),
        );
        r.register(
            "p2p_gossip_received",
            "Gossip messages received, by topic",
            self.gossip_received.clone(),
        );
        r.register(
            "p2p_requests_served",
            "Requests answered for peers, by kind",
            self.requests_served.clone(),
        );
        r.register(
            "txpool_transactions",
            "Transactions in the pool by state",
            self.pool_transactions.clone(),
        );
        r.register(
            "txpool_rejections",
            "Transactions refused by the pool, by reason",
            self.pool_rejections.clone(),
        );
        r.register(
            "rpc_calls",
            "JSON-RPC calls by method",
            self.rpc_calls.clone(),
        );
        r.register(
            "rpc_errors",
            "JSON-RPC calls answered with an error, by method",
            self.rpc_errors.clone(),
        );
        r.register(
            "rpc_call_seconds",
            "JSON-RPC call latency by method",
            self.rpc_seconds.clone(),
        );
        r.register(
            "db_size_bytes",
            "Bytes on disk of the database directory",
            self.db_size_bytes.clone(),
        );
        r.register(
            "db_compactions_running",
            "RocksDB compactions running now",
            self.db_compactions_running.clone(),
        );
        r.register(
            "db_table_bytes",
            "Bytes per table: kind=live (estimated live data) or sst (SST files)",
            self.db_table_bytes.clone(),
        );
        r.register(
            "db_pending_compaction_bytes",
            "Estimated bytes RocksDB compaction still has to rewrite, per table",
            self.db_pending_compaction_bytes.clone(),
        );
        r.register(
            "process_resident_memory_bytes",
            "Resident memory of the process",
            self.process_resident_memory_bytes.clone(),
        );
        r.register(
            "process_cpu_seconds",
            "CPU seconds (user + system) the process used",
            self.process_cpu_seconds.clone(),
        );
        r.register(
            "uptime_seconds",
            "Seconds since the node started",
            self.uptime_seconds.clone(),
        );
        r.register(
            "validator_sealed_blocks",
            "Blocks this node sealed",
            self.validator_sealed_blocks.clone(),
        );
        r.register(
            "validator_missed_slots",
            "Canonical blocks a stand-in sealed in this validator's slot",
            self.validator_missed_slots.clone(),
        );
        r.register(
            "tribe_missed_slots",
            "Canonical blocks sealed out of turn, by the in-turn signer that missed its slot",
            self.tribe_missed_slots.clone(),
        );
        r.register(
            "validator_next_block",
            "Next block this validator may seal (0: none)",
            self.validator_next_block.clone(),
        );
        r.register(
            "validator_next_delay_seconds",
            "Planned delay of this validator's next seal",
            self.validator_next_delay_seconds.clone(),
        );
        r.register(
            "validator_role",
            "1 for this validator's role (leader, signer, none)",
            self.validator_role.clone(),
        );
    }

    /// The registry in the Prometheus/OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an error would only mean a malformed metric.
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(%error, "cannot encode the metrics");
        }
        text
    }

    /// The label for an RPC method: itself while fewer than [`MAX_RPC_METHODS`] were seen.
    fn rpc_method_label(&self, method: &str) -> String {
        let Ok(mut seen) = self.rpc_methods.lock() else {
            return "other".into();
        };
        if seen.contains(method) {
            return method.to_owned();
        }
        let plausible = method.len() <= 64
            && method
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if plausible && seen.len() < MAX_RPC_METHODS {
            seen.insert(method.to_owned());
            method.to_owned()
        } else {
            "other".into()
        }
    }
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

fn label(key: &'static str, value: impl Into<String>) -> Label {
    [(key, value.into())]
}

/// Records one JSON-RPC call.
pub fn rpc_call(method: &str, error: bool, elapsed: Duration) {
    let m = get();
    let method = label("method", m.rpc_method_label(method));
    m.rpc_calls.get_or_create(&method).inc();
    if error {
        m.rpc_errors.get_or_create(&method).inc();
    }
    m.rpc_seconds
        .get_or_create(&method)
        .observe(elapsed.as_secs_f64());
}

/// Records the state cache after a block: the bytes it holds, and the hits, misses and
/// evictions since the last record.
pub fn state_cache(bytes: usize, hits: u64, misses: u64, evictions: u64) {
    let m = get();
    m.state_cache_bytes
        .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    m.state_cache_reads
        .get_or_create(&label("result", "hit"))
        .inc_by(hits);
    m.state_cache_reads
        .get_or_create(&label("result", "miss"))
        .inc_by(misses);
    m.state_cache_evictions.inc_by(evictions);
}

/// Records the time one import phase took.
pub fn import_phase(phase: &'static str, elapsed: Duration) {
    get()
        .import_seconds
        .get_or_create(&label("phase", phase))
        .observe(elapsed.as_secs_f64());
}

/// Times consecutive import phases: each [`PhaseTimer::lap`] records the time since the
/// previous one under its phase.
#[derive(Debug)]
pub struct PhaseTimer(std::time::Instant);

impl PhaseTimer {
    /// Starts timing.
    pub fn start() -> Self {
        Self(std::time::Instant::now())
    }

    /// Records the phase that just ended and starts the next.
    pub fn lap(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        import_phase(phase, now.saturating_duration_since(self.0));
        self.0 = now;
    }
}

/// Records a peer ban.
pub fn peer_banned(reason: &str) {
    get()
        .peer_bans
        .get_or_create(&label("reason", reason))
        .inc();
}

/// Declares a ban reason: its counter is exposed (at 0) before the first ban.
pub fn declare_ban_reason(reason: &str) {
    let _ = get().peer_bans.get_or_create(&label("reason", reason));
}

/// Records a gossip message received.
pub fn gossip_received(topic: &'static str) {
    get()
        .gossip_received
        .get_or_create(&label("topic", topic))
        .inc();
}

/// Records a request answered for a peer.
pub fn request_served(kind: &str) {
    get()
        .requests_served
        .get_or_create(&label("kind", kind))
        .inc();
}

/// Records a transaction the pool refused.
pub fn pool_rejected(reason: &str) {
    get()
        .pool_rejections
        .get_or_create(&label("reason", reason))
        .inc();
}

/// Sets the connected peers of one wire and direction.
pub fn set_peers(wire: &'static str, direction: &'static str, count: usize) {
    get()
        .peers
        .get_or_create(&[
            ("wire", wire.to_owned()),
            ("direction", direction.to_owned()),
        ])
        .set(saturating_i64(count as u64));
}

/// Sets one table's storage-engine byte counts.
pub fn set_db_table(table: &str, live: u64, sst: u64, pending_compaction: u64) {
    let m = get();
    for (kind, bytes) in [("live", live), ("sst", sst)] {
        m.db_table_bytes
            .get_or_create(&[("table", table.to_owned()), ("kind", kind.to_owned())])
            .set(saturating_i64(bytes));
    }
    m.db_pending_compaction_bytes
        .get_or_create(&label("table", table))
        .set(saturating_i64(pending_compaction));
}

/// Sets the pool gauge of one state.
pub fn set_pool(state: &'static str, count: usize) {
    get()
        .pool_transactions
        .get_or_create(&label("state", state))
        .set(saturating_i64(count as u64));
}

/// Counts a slot `signer` (an address, `0x…`) missed.
pub fn signer_missed_slot(signer: String) {
    get()
        .tribe_missed_slots
        .get_or_create(&label("signer", signer))
        .inc();
}

/// Sets the validator's role: 1 for `role`, 0 for the others.
pub fn set_validator_role(role: &'static str) {
    for each in ["leader", "signer", "none"] {
        get()
            .validator_role
            .get_or_create(&label("role", each))
            .set(i64::from(each == role));
    }
}

/// The variant name of an error or reason enum (its `Debug` up to the first `(`, `{` or
/// space): a bounded label, since an enum has finitely many variants.
pub fn variant_name(value: &dyn std::fmt::Debug) -> String {
    let text = format!("{value:?}");
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A u64 as a gauge value (gauges are i64).
pub fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_method_labels_are_bounded() {
        let m = Metrics::new();
        assert_eq!(m.rpc_method_label("eth_blockNumber"), "eth_blockNumber");
        assert_eq!(m.rpc_method_label("bad method!"), "other");
        for i in 0..MAX_RPC_METHODS {
            m.rpc_method_label(&format!("m{i}"));
        }
        assert_eq!(m.rpc_method_label("one_tooMany"), "other");
        assert_eq!(m.rpc_method_label("eth_blockNumber"), "eth_blockNumber");
    }

    #[test]
    fn variant_names_drop_fields() {
        #[derive(Debug)]
        #[allow(dead_code)]
        enum E {
            Unit,
            Tuple(u64),
            Struct { a: u8 },
        }
        assert_eq!(variant_name(&E::Unit), "Unit");
        assert_eq!(variant_name(&E::Tuple(3)), "Tuple");
        assert_eq!(variant_name(&E::Struct { a: 1 }), "Struct");
    }

    #[test]
    fn counters_are_exposed_with_total_suffix() {
        let m = Metrics::new();
        m.imported_blocks.inc();
        let text = m.encode();
        assert!(
            text.contains("spectrum_chain_imported_blocks_total 1"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE spectrum_chain_head_number gauge"),
            "{text}"
        );
    }
}
