//! Full sync and chain following for spectrum-rs.
//!
//! **Owns:** deciding which peer to sync from (the highest total difficulty above ours), finding
//! the last block we share with it, downloading headers and checking them (Tribe's stateless
//! header rules and the seal, [`HeaderChecks`]), fetching bodies and checking them against
//! their headers, importing blocks in order through [`spectrum_chain::Blockchain::insert_block`]
//! (the same full validation, execution and atomic commit as `spectrum import`), retrying on
//! other peers, following the chain by gossip once caught up (a gossiped block is validated and
//! imported before it is forwarded), progress log lines and the [`SyncProgress`] that
//! `eth_syncing` reports, polling the near-future blocks the chain holds until their time, and
//! gating a validator's first seal until it is in step with its peers ([`wait_until_in_step`]).
//! Also [`ChainDataView`], the chain as the network serves it. It reads chain data only through
//! the chain's reader (`Blockchain::provider`, `spectrum-storage-api`).
//!
//! **One sync over two wires.** The driver ([`sync_over`]) keeps the peers of libp2p and of
//! devp2p (the reference node's wire, bridged by [`devp2p`]) in one table, picks the heaviest
//! total difficulty among all of them and runs one round at a time through [`Wires`]; a block
//! announced whole on either wire goes through the same checks and `insert_block`; progress,
//! the peer summary and the catch-up gate count both wires.
//!
//! **Must not touch:** the wire (that is `spectrum-network`), consensus rules themselves
//! (`spectrum-consensus`), how blocks are executed or stored (`spectrum-chain`). Reorgs by total
//! difficulty happen inside the chain crate: sync only inserts the heavier branch's blocks.
//!
//! # Flow
//!
//! ```text
//! NetworkEvent (libp2p) ──────────┐
//! devp2p bridge ─► WireUpdate ────┴─► driver ─► best peer of both ─► round (via Wires):
//!                                        ancestor ─► headers (checked) ─► bodies (matched) ─► insert_block
//! libp2p gossip / devp2p NewBlock ─► header checks ─► insert_block ─► verdict / ban
//! ```
//!
//! A peer that sends a header failing the rules, a body not matching its header, or a block
//! that fails import is penalised through the network (and banned at the threshold); the round
//! is retried with another peer. Nothing is written for a block that fails. Only an invalid
//! block (or body) costs a peer the invalid-block penalty: a block merely from the future, a
//! header that stops linking because the peer's chain moved, or a failure of ours costs
//! nothing. A peer whose chain does not reach the total difficulty it announced (it delivers
//! nothing, or blocks that do not add up) is penalised ([`spectrum_network::Penalty::FalseClaim`])
//! and not synced from again until it announces more: a liar cannot stall sync.
//!
//! A gossiped block is forwarded only once the chain has executed it (canonical or reorg):
//! side-chain blocks, held future blocks and known ones are not, so an honest node never
//! relays a block another honest node refuses.

mod announced;
mod catch_up;
mod chain_view;
mod checks;
pub mod devp2p;
mod fetch;
mod progress;
mod round;
mod service;
mod wires;

use std::time::Duration;

pub use catch_up::{CatchUp, wait_until_in_step};
pub use chain_view::ChainDataView;
pub use checks::{HeaderChecks, body_matches};
pub use fetch::BlockFetcher;
pub use progress::SyncProgress;
pub use round::{FalseClaim, RoundError, RoundSummary};
pub use service::{PeerSummary, SyncHandle, SyncWires, spawn_sync, sync_over, sync_service};
pub use spectrum_network::GossipedTransactions;
pub use wires::{Devp2pWire, SyncPeer, WireUpdate, Wires};

/// Sync settings.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Headers asked for per request (at most the network's limit, 192).
    pub headers_per_request: u64,
    /// Bodies asked for per request (at most the network's limit, 128).
    pub bodies_per_request: usize,
    /// How often a progress line is logged while syncing.
    pub log_interval: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            headers_per_request: 192,
            bodies_per_request: 128,
            log_interval: Duration::from_secs(8),
        }
    }
}

/// The node's clock (the chain's) plus the near-future allowance: headers up to that time pass
/// the header checks (the chain holds such blocks until their time, tribe.md §2).
pub(crate) fn header_time_limit(chain: &spectrum_chain::Blockchain) -> u64 {
    chain
        .clock()
        .now()
        .saturating_add(spectrum_chain::MAX_FUTURE_SECS)
}
