//! Block import: the one path every block takes into the database, whether it comes from a
//! chain file, a peer or our own block production.
//!
//! **Owns:** the order of checks for a block (known? bad? parent known? header rules, body
//! matches header, senders, execution, gas/receipts/bloom/state root), the incremental state
//! root (via `spectrum-trie` over the stored nodes), the atomic commit of everything a block
//! writes, side chains and reorgs by total difficulty.
//!
//! **Must not touch:** the EVM internals (that is `spectrum-execution`), the database itself
//! (it holds an `Arc<dyn ChainStore>` of `spectrum-storage-api`: reads, state snapshots and
//! the import path's writes; it hands the read half out as [`Blockchain::provider`]),
//! consensus rules (a [`BlockValidator`] is handed in: [`TribeBlockValidator`], or
//! [`ExecutionChecksOnly`] for the Ethereum test vectors; Tribe's contract reads are
//! `spectrum-tribe-state`'s), or the network.
//!
//! Feature `test-utils`: `test_utils::TestChain`, a chain over a database in a temporary
//! directory, for the tests of every crate that imports blocks.
//!
//! A block enters the database only if every check passed; nothing of a failing block is
//! written. A side-chain block is stored unexecuted, and only once its header passed the
//! checks its parent's state allows: every
//! header rule with the signer set read at the fork parent's historical state when its parent
//! is canonical, the rules needing no state (bounded difficulty, timing, a recovering seal)
//! when its parent is itself a side block. Only then does its difficulty count for fork
//! choice. When its branch becomes heavier than the canonical chain, and forks no more than
//! [`Blockchain::max_reorg_depth`] blocks below the head and not below a checkpoint, the
//! canonical chain is unwound to the fork point and the branch executed block by block; if one
//! of them fails, the old chain is restored, reading its blocks one at a time. A block refused
//! as invalid is remembered ([`BAD_BLOCK_CACHE_SIZE`]) and never validated or executed again,
//! nor are blocks built on it.

mod bad_blocks;
mod built;
// --dev: evm_revert / anvil_reset, state patches (issue 19).
mod dev_patch;
mod dev_rewind;
mod error;
mod events;
mod fork;
mod future;
mod genesis;
mod import;
mod phases;
mod pipeline;
mod prepare;
// History entries from the parent values execution read (issue 16, item 3).
mod read_log;
mod senders;
mod side_blocks;
mod state_cache;
mod state_root;
#[cfg(feature = "test-utils")]
pub mod test_utils;
mod tribe;
mod validator;

use std::sync::Arc;

use alloy_primitives::{B256, U256};
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::{Clock, SystemClock};
use spectrum_execution::ExecutionRules;
use spectrum_primitives::{GotExpected, Header, SealedBlock, SealedHeader, transactions_root};
use spectrum_storage_api::{BlockCommit, ChainReader, ChainStore};

pub use bad_blocks::BAD_BLOCK_CACHE_SIZE;
pub use built::{CarriedField, ExecutedBlock};
pub use dev_patch::{
    DEV_PATCH_ADDRESS, DevPatch, DevPatchError, MAX_PATCH_CODE as DEV_PATCH_MAX_CODE,
    MAX_PATCH_RECORDS as DEV_PATCH_MAX_RECORDS, apply_dev_patches, block_dev_patches,
    decode_dev_patches, encode_dev_patches,
};
pub use error::ChainError;
pub use events::CanonicalChange;
pub use future::MAX_FUTURE_SECS;
pub use genesis::genesis_commit;
pub use phases::{ImportPhases, Phase};
pub use pipeline::BatchLimits;
pub use read_log::ReadLog;
pub use senders::{recover_block, recover_senders};
pub use state_cache::DEFAULT_STATE_CACHE_MB;
pub use state_cache::StateCacheStats;
pub use state_root::{StateRootUpdate, apply_state_roots, apply_state_roots_on};
pub use tribe::TribeBlockValidator;
pub use validator::{BlockValidator, ExecutionChecksOnly};

/// What happened to an inserted block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// It extends the canonical chain and is the new head.
    Canonical {
        /// Its number.
        number: u64,
        /// Gas its transactions used.
        gas_used: u64,
    },
    /// Stored on a side chain that is not heavier than the canonical one.
    SideChain,
    /// It made its branch the heaviest: the head moved to it after a reorg.
    Reorg {
        /// The last block both chains share.
        fork_point: u64,
        /// Its number.
        number: u64,
    },
    /// It was already in the database.
    AlreadyKnown,
    /// Its timestamp is ahead of the local clock by at most `MAX_FUTURE_SECS`: held in memory
    /// and inserted by [`Blockchain::insert_due_future_blocks`] once its time has come.
    Future {
        /// Its timestamp.
        until: u64,
    },
}

/// How many blocks below the head a branch may fork and still be followed, unless configured
/// otherwise ([`Blockchain::with_max_reorg_depth`], `--max-reorg-depth`).
///
/// 1,024 blocks: 51 minutes of the devnet's 3 s blocks, 4 h 16 min of mainnet's 15 s. The
/// reference bounds forks in its sync paths only: its downloader refuses ancestors more than
/// 90,000 blocks back, its block fetcher (gossip) blocks more than 7 behind the head. We have one
/// import path for gossip, sync and `import`, so one bound between the two: deep enough for any
/// honest Tribe fork (signers take turns every block, so two halves of a partitioned network
/// each keep a chain, and the heavier wins when they meet: hours of partition are covered),
/// shallow enough that a reorg's unwind (one batch, its change sets held in memory) and the
/// re-execution of the branch stay bounded, and that a signer cannot make a node unwind days
/// of chain. A node that was partitioned for longer is put right by an operator
/// (`--max-reorg-depth`, or a resync).
pub const DEFAULT_MAX_REORG_DEPTH: u64 = 1024;

/// The node's chain: the chain store, chain spec, execution rules and header validation.
pub struct Blockchain {
    /// Reads and the import path's writes.
    db: Arc<dyn ChainStore>,
    /// The same store, read-only: what [`Blockchain::provider`] hands out.
    reader: Arc<dyn ChainReader>,
    spec: Arc<ChainSpec>,
    rules: ExecutionRules,
    validator: Arc<dyn BlockValidator>,
    clock: Arc<dyn Clock>,
    future: future::FutureBlocks,
    events: events::ChainEvents,
    bad_blocks: bad_blocks::BadBlocks,
    max_reorg_depth: u64,
    /// Serialises inserts: the network, the block producer and `import` may insert at once,
    /// and each insert reads the head, executes on its state and moves it.
    insert_lock: std::sync::Mutex<()>,
    /// Threads sender recovery may use (the machine's cores).
    recovery_threads: usize,
    /// Time per import phase so far ([`Blockchain::import_phases`]).
    phases: phases::PhaseTotals,
    /// Senders recovered ahead by [`Blockchain::prepare_blocks`].
    prepared: prepare::PreparedSenders,
    /// Where side-chain blocks are announced (`side_blocks.rs`).
    side_blocks: side_blocks::SideBlocks,
    /// Hot accounts, slots and trie nodes of the head, kept between blocks.
    state_cache: state_cache::StateCache,
}

impl Blockchain {
    /// A Spectrum chain over an initialised chain store.
    pub fn new(
        db: Arc<dyn ChainStore>,
        spec: Arc<ChainSpec>,
        validator: Arc<dyn BlockValidator>,
    ) -> Self {
        let rules = ExecutionRules::Spectrum(spec.clone());
        Self::with_rules(db, spec, rules, validator)
    }

    /// A chain with other execution rules (the Ethereum test vectors run Ethereum's).
    pub fn with_rules(
        db: Arc<dyn ChainStore>,
        spec: Arc<ChainSpec>,
        rules: ExecutionRules,
        validator: Arc<dyn BlockValidator>,
    ) -> Self {
        let reader: Arc<dyn ChainReader> = db.clone();
        Self {
            db,
            reader,
            spec,
            rules,
            validator,
            clock: Arc::new(SystemClock),
            future: Default::default(),
            events: Default::default(),
            bad_blocks: Default::default(),
            max_reorg_depth: DEFAULT_MAX_REORG_DEPTH,
            insert_lock: std::sync::Mutex::new(()),
            recovery_threads: senders::available_threads(),
            phases: Default::default(),
            prepared: Default::default(),
            side_blocks: Default::default(),
            state_cache: state_cache::StateCache::new(DEFAULT_STATE_CACHE_MB),
        }
    }

    /// Time per phase of every block executed on the head so far (running totals: subtract an
    /// earlier snapshot with [`ImportPhases::since`]). The same laps feed the metrics'
    /// `spectrum_chain_import_seconds{phase}`.
    pub fn import_phases(&self) -> ImportPhases {
        self.phases.snapshot()
    }

    /// Replaces the local clock (the node's one clock, tests, tools).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Bounds the state kept in memory between blocks to `mb` MiB (default
    /// [`DEFAULT_STATE_CACHE_MB`]; 0 turns it off).
    pub fn with_state_cache_mb(mut self, mb: usize) -> Self {
        self.state_cache = state_cache::StateCache::new(mb);
        self
    }

    /// The local clock this chain holds near-future blocks by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Sets how many blocks below the head a branch may fork and still be followed
    /// (default [`DEFAULT_MAX_REORG_DEPTH`]).
    pub fn with_max_reorg_depth(mut self, depth: u64) -> Self {
        self.max_reorg_depth = depth;
        self
    }

    /// How many blocks below the head a branch may fork and still be followed.
    pub fn max_reorg_depth(&self) -> u64 {
        self.max_reorg_depth
    }

    /// How many refused blocks are remembered (at most [`BAD_BLOCK_CACHE_SIZE`]).
    pub fn bad_block_count(&self) -> usize {
        self.bad_blocks.len()
    }

    /// Inserts the held near-future blocks whose time has come; returns each one's outcome.
    /// The node calls this every second or so.
    pub fn insert_due_future_blocks(&self) -> Vec<Result<InsertOutcome, ChainError>> {
        self.future
            .take_due(self.clock.now())
            .into_iter()
            .map(|block| self.insert_block(block))
            .collect()
    }

    /// How many near-future blocks are held.
    pub fn future_block_count(&self) -> usize {
        self.future.len()
    }

    /// Read access to the chain data (headers, blocks, receipts, chain info, state snapshots):
    /// what sync, the producer, RPC and the network views read. Writes go through this crate.
    pub fn provider(&self) -> &Arc<dyn ChainReader> {
        &self.reader
    }

    /// Makes every block committed so far survive power loss (fsyncs the write-ahead log). A
    /// validator calls it before its own block leaves the node.
    pub fn sync_wal(&self) -> Result<(), ChainError> {
        Ok(self.db.sync_wal()?)
    }

    /// The chain spec.
    pub fn spec(&self) -> &Arc<ChainSpec> {
        &self.spec
    }

    /// Validates, executes and commits `block`, or stores it on a side chain, reorganising if its
    /// branch becomes the heaviest. On error nothing of the block is written. A move of the
    /// canonical head is announced to [`Self::subscribe`]rs, a block stored on a side chain to
    /// [`Self::subscribe_side_blocks`]rs.
    pub fn insert_block(&self, block: SealedBlock) -> Result<InsertOutcome, ChainError> {
        self.insert_block_with(block, None)
    }

    /// [`Self::insert_block`], committing `carried` (the block's own execution outcome,
    /// already checked to be this block's) instead of executing the block if it extends the
    /// head.
    fn insert_block_with(
        &self,
        block: SealedBlock,
        carried: Option<built::ExecutedBlock>,
    ) -> Result<InsertOutcome, ChainError> {
        // A panic while holding the lock cannot leave a half-written block (one write batch),
        // so a poisoned lock is safe to take over.
        let _guard = self
            .insert_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let old_head = self.db.head()?;
        let side_header = self.side_blocks.wanted().then(|| block.header.clone());
        let outcome = self.insert_block_quietly(block, carried)?;
        if outcome == InsertOutcome::SideChain
            && let Some(header) = side_header
        {
            self.side_blocks.announce(header);
        }
        if matches!(
            outcome,
            InsertOutcome::Canonical { .. } | InsertOutcome::Reorg { .. }
        ) && let Some(old_head) = old_head
        {
            self.announce_head_change(old_head)?;
        }
        Ok(outcome)
    }

    /// Canonical head changes, from now on. A receiver that falls more than a few hundred
    /// changes behind misses the oldest (`RecvError::Lagged`) and should re-read the head.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<CanonicalChange>> {
        self.events.subscribe()
    }

    /// Refuses remembered bad blocks and their children at once; remembers what else is
    /// refused as invalid (unless it came with its outcome: our own build, not the block's
    /// sender, is then to blame).
    fn insert_block_quietly(
        &self,
        block: SealedBlock,
        carried: Option<built::ExecutedBlock>,
    ) -> Result<InsertOutcome, ChainError> {
        let (number, hash, parent) = (block.number(), block.hash(), block.header.parent_hash);
        if let Some(error) = self.remembered_refusal(number, hash, parent) {
            return Err(error);
        }
        let ours = carried.is_some();
        let result = self.insert_checked_block(block, carried);
        if let Err(error) = &result
            && !ours
        {
            self.remember_refusal(hash, error);
        }
        result
    }

    fn insert_checked_block(
        &self,
        block: SealedBlock,
        carried: Option<built::ExecutedBlock>,
    ) -> Result<InsertOutcome, ChainError> {
        let mut clock = self.phases.start();
        let hash = block.hash();
        if self.db.block_number(&hash)?.is_some() {
            return self.insert_known(block, &mut clock);
        }
        // tribe.md §2: a block from the near future waits for its time; further ahead it is
        // refused.
        let now = self.clock.now();
        if block.header.timestamp > now {
            let number = block.number();
            let until = block.header.timestamp;
            if until - now > MAX_FUTURE_SECS {
                return Err(ChainError::FutureBlock {
                    number,
                    hash,
                    time: until,
                    now,
                });
            }
            if !self.future.hold(block) {
                return Err(ChainError::FutureQueueFull { number, hash });
            }
            return Ok(InsertOutcome::Future { until });
        }
        if self.spec.is_bad_block(&hash) {
            return Err(ChainError::BadBlock {
                number: block.number(),
                hash,
            });
        }
        self.check_checkpoint(block.number(), hash)?;
        let parent =
            self.db
                .header(&block.header.parent_hash)?
                .ok_or(ChainError::UnknownParent {
                    number: block.number(),
                    hash,
                    parent: block.header.parent_hash,
                })?;
        self.check_standalone(&block, &parent)?;
        let parent_td = self.total_difficulty(&parent)?;
        let (head_number, head_hash) = self.db.head()?.ok_or(ChainError::NoHead)?;
        if parent.hash() == head_hash {
            let td = parent_td
                .checked_add(block.header.difficulty)
                .ok_or(ChainError::Overflow("total difficulty"))?;
            let gas_used = self.execute_and_commit(block, Some(parent), td, &mut clock, carried)?;
            return Ok(InsertOutcome::Canonical {
                number: head_number.saturating_add(1),
                gas_used,
            });
        }
        // A side block: its header is checked before its difficulty may count.
        let fork_point = self.fork_point_of((block.number(), hash), &parent, head_number)?;
        self.check_side_header(&block, &parent, fork_point)?;
        let td = parent_td
            .checked_add(block.header.difficulty)
            .ok_or(ChainError::Overflow("total difficulty"))?;
        let better = self.is_better_than_head(td, &block.header, head_hash)?;
        let number = block.number();
        self.db.commit_block(&BlockCommit {
            block,
            receipts: Vec::new(),
            total_difficulty: td,
            state: Default::default(),
            trie: Vec::new(),
            priors: Default::default(),
            make_canonical_head: false,
        })?;
        if better {
            let fork_point = self.reorg_to(hash)?;
            return Ok(InsertOutcome::Reorg { fork_point, number });
        }
        Ok(InsertOutcome::SideChain)
    }

    /// A block already stored: canonical, or on a side chain (stored only after its header
    /// checks). A side-chain block that now extends the head, or whose branch is heavier, is
    /// executed and made canonical (this is how blocks unwound earlier come back).
    fn insert_known(
        &self,
        block: SealedBlock,
        clock: &mut phases::PhaseClock<'_>,
    ) -> Result<InsertOutcome, ChainError> {
        let (number, hash) = (block.number(), block.hash());
        if self.db.canonical_hash(number)? == Some(hash) {
            return Ok(InsertOutcome::AlreadyKnown);
        }
        let td = self.total_difficulty_by_hash(hash)?;
        let (_, head_hash) = self.db.head()?.ok_or(ChainError::NoHead)?;
        if block.header.parent_hash == head_hash {
            let gas_used = self.execute_and_commit(block, None, td, clock, None)?;
            return Ok(InsertOutcome::Canonical { number, gas_used });
        }
        if self.is_better_than_head(td, &block.header, head_hash)? {
            let fork_point = self.reorg_to(hash)?;
            return Ok(InsertOutcome::Reorg { fork_point, number });
        }
        Ok(InsertOutcome::AlreadyKnown)
    }

    /// Fork choice (tribe.md §13): higher total difficulty wins, then the lower number; a full
    /// tie keeps the current head.
    fn is_better_than_head(
        &self,
        td: U256,
        header: &Header,
        head_hash: B256,
    ) -> Result<bool, ChainError> {
        let head_td = self.total_difficulty_by_hash(head_hash)?;
        let head = self
            .db
            .header(&head_hash)?
            .ok_or(ChainError::MissingBlock(head_hash))?;
        Ok(spectrum_consensus::is_better_head(
            td,
            header,
            head_td,
            head.header(),
        ))
    }

    /// Checks that need only the block and its parent: the number, and that the body matches
    /// the header. Consensus rules need the parent's state and run at execution.
    fn check_standalone(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
    ) -> Result<(), ChainError> {
        let expected_number = parent
            .number
            .checked_add(1)
            .ok_or(ChainError::Overflow("block number"))?;
        if block.number() != expected_number {
            return Err(ChainError::WrongNumber(GotExpected::new(
                block.number(),
                expected_number,
            )));
        }
        let root = transactions_root(&block.body.transactions);
        if root != block.header.transactions_root {
            return Err(ChainError::TransactionsRoot(GotExpected::new(
                root,
                block.header.transactions_root,
            )));
        }
        let ommers = spectrum_primitives::keccak256(alloy_rlp::encode(&block.body.ommers));
        if ommers != block.header.ommers_hash {
            return Err(ChainError::OmmersHash(GotExpected::new(
                ommers,
                block.header.ommers_hash,
            )));
        }
        Ok(())
    }

    fn total_difficulty(&self, header: &SealedHeader) -> Result<U256, ChainError> {
        self.total_difficulty_by_hash(header.hash())
    }

    fn total_difficulty_by_hash(&self, hash: B256) -> Result<U256, ChainError> {
        self.db
            .total_difficulty(&hash)?
            .ok_or(ChainError::MissingTotalDifficulty(hash))
    }
}
