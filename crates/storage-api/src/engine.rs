//! The storage engine's own figures (compactions, live data), which the node samples into
//! metrics without naming the engine: the storage crate implements [`EngineStatsSource`].

use crate::ProviderResult;

/// One table's (column family's) engine figures, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableEngineStats {
    /// The table's name.
    pub table: &'static str,
    /// Estimated bytes of live data (what a full compaction would keep).
    pub live_data_bytes: u64,
    /// Bytes of the table's SST files (live and obsolete not yet deleted).
    pub sst_bytes: u64,
    /// Estimated bytes compaction must rewrite to bring every level to its target size.
    pub pending_compaction_bytes: u64,
}

/// The engine's figures at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Compactions running now.
    pub running_compactions: u64,
    /// Per table.
    pub tables: Vec<TableEngineStats>,
}

/// Reads the engine's figures (cheap: in-memory properties, no I/O).
pub trait EngineStatsSource: Send + Sync + std::fmt::Debug {
    /// The current figures.
    fn engine_stats(&self) -> ProviderResult<EngineStats>;
}
