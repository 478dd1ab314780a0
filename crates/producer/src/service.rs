//! When a validator node builds blocks: at its slot on a network, or on demand on `--dev`.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::B256;
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, InsertOutcome};
use spectrum_primitives::SealedBlock;
use tokio::sync::{broadcast, mpsc};

use crate::{BlockProducer, BuildRequest, Candidate, ProducerError, SealRecord, Skipped, SlotPlan};

/// After a failed attempt, wait this long before the next (a failure that repeats must not
/// spin a core).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// While a height this validator already signed is next, how often to say so (absent a new
/// head).
const ALREADY_SIGNED_REMINDER: Duration = Duration::from_secs(30);

/// Where the transactions for our blocks come from (the node's pool).
pub trait TransactionSource: Send + Sync {
    /// Executable transactions, best first (highest price, each sender's in nonce order).
    fn best(&self) -> Vec<Candidate>;
    /// Whether any executable transaction is waiting.
    fn has_pending(&self) -> bool;
    /// Transactions that turned out invalid while building: remove them for good.
    fn remove_invalid(&self, hashes: &[B256]);
}

/// When to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductionMode {
    /// At every slot the rules give us, as early as our role allows (validators on a network;
    /// a better-placed signer's block arriving first cancels ours).
    Slots,
    /// `--dev`: a block as soon as a transaction is pending, and an empty one after `idle`
    /// without blocks.
    OnDemand {
        /// The longest time without a block.
        idle: Duration,
    },
    /// `--dev.period N`: one block every `N` seconds, empty or not.
    Interval(Duration),
}

/// The validator: its key, its coinbase and how it builds.
pub struct ProducerConfig {
    /// The node key that signs blocks.
    pub key: SecretKey,
    /// Fees and reward go here (`None` = the wallet bound to the key in Anmap, else the
    /// signer's address, looked up for every block).
    pub coinbase: Option<alloy_primitives::Address>,
    /// When to build.
    pub mode: ProductionMode,
    /// The durable record of the last block this key signed (one per key, in the datadir):
    /// written before a block leaves the node, checked before every seal.
    pub record: Arc<SealRecord>,
}

/// Builds blocks as `config.mode` says and inserts them; each block we made canonical is sent
/// on the returned channel (for the network to gossip).
pub struct ProducerService {
    pub(crate) chain: Arc<Blockchain>,
    pub(crate) producer: Arc<BlockProducer>,
    pub(crate) transactions: Arc<dyn TransactionSource>,
    pub(crate) config: ProducerConfig,
    pub(crate) signer: alloy_primitives::Address,
    produced: mpsc::Sender<SealedBlock>,
    /// The guard's subscriptions, taken when the service is made so that no block inserted
    /// between `new` and `run` goes unseen (taken by `run`).
    watched: Option<WatchedBlocks>,
    // ---- dev controls (issue 19) ----
    /// `--dev` with controls: commands from RPC and the chain's clock (`dev_control`).
    pub(crate) dev: Option<crate::dev_control::DevParts>,
}

/// What the double-signing guard's watcher reads: canonical changes and side-chain blocks.
struct WatchedBlocks {
    heads: broadcast::Receiver<Arc<spectrum_chain::CanonicalChange>>,
    side_blocks: broadcast::Receiver<spectrum_primitives::SealedHeader>,
}

impl ProducerService {
    /// A service over `chain`. Blocks it seals go to the returned receiver (bounded; if
    /// nobody reads, they are still inserted, only not handed on).
    pub fn new(
        chain: Arc<Blockchain>,
        transactions: Arc<dyn TransactionSource>,
        config: ProducerConfig,
    ) -> (Self, mpsc::Receiver<SealedBlock>) {
        let producer = Arc::new(BlockProducer::new(
            chain.provider().clone(),
            chain.spec().clone(),
        ));
        let signer = spectrum_primitives::public_key_to_address(
            &config.key.public_key(secp256k1::SECP256K1),
        );
        let (produced, receiver) = mpsc::channel(64);
        let watched = WatchedBlocks {
            heads: chain.subscribe(),
            side_blocks: chain.subscribe_side_blocks(),
        };
        let service = Self {
            watched: Some(watched),
            chain,
            producer,
            transactions,
            config,
            signer,
            produced,
            dev: None,
        };
        (service, receiver)
    }

    /// Runs until the task is dropped or aborted. `new_transactions` wakes it when the pool
    /// gets an executable transaction.
    pub async fn run(mut self, mut new_transactions: broadcast::Receiver<B256>) {
        if let Some(dev) = self.dev.take() {
            return self.run_dev(dev, new_transactions).await;
        }
        let mut heads = self.chain.subscribe();
        let mut last_block = tokio::time::Instant::now();
        tracing::info!(signer = %self.signer, mode = ?self.config.mode, "block production started");
        self.announce_record();
        // The double-signing guard (guard.rs): what we caught up on, then every new head.
        self.config
            .record
            .scan_canonical(self.chain.provider().as_ref(), self.signer);
        let watched = self.watched.take();
        let _watcher = watched.map(|watched| {
            AbortOnDrop(tokio::spawn(watch_own_key(
                watched,
                self.config.record.clone(),
                self.signer,
            )))
        });
        loop {
            if let Some(conflict) = self.config.record.conflict() {
                tracing::warn!(%conflict, "refusing to seal");
                wait_for_head(&mut heads, ALREADY_SIGNED_REMINDER).await;
                continue;
            }
            let plan = match self.current_plan() {
                Ok(plan) => plan,
                Err(ProducerError::NotAuthorised { number, .. }) => {
                    tracing::debug!(number, "not our block to seal; waiting for the next head");
                    wait_for_head(&mut heads, Duration::from_secs(5)).await;
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot plan the next block; retrying");
                    wait_for_head(&mut heads, Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Some(signed) = self.config.record.forbids(plan.number) {
                tracing::warn!(
                    number = plan.number,
                    signed_number = signed.number,
                    signed_hash = %signed.hash,
                    record = %self.config.record.path().display(),
                    "refusing to seal: this validator already signed a block at this height (before a restart?); waiting for the chain to pass it"
                );
                wait_for_head(&mut heads, ALREADY_SIGNED_REMINDER).await;
                continue;
            }
            // Wait until our role's earliest time and, on --dev, until there is something to
            // do; a new head (someone else's block, or ours) means re-planning.
            let until_earliest = duration_until(plan.earliest);
            let ready_at = match self.config.mode {
                ProductionMode::Slots => until_earliest,
                ProductionMode::Interval(every) => {
                    until_earliest.max(every.saturating_sub(last_block.elapsed()))
                }
                ProductionMode::OnDemand { idle } => {
                    if self.transactions.has_pending() {
                        until_earliest
                    } else {
                        until_earliest.max(idle.saturating_sub(last_block.elapsed()))
                    }
                }
            };
            if !ready_at.is_zero() {
                let woke_by_tx = matches!(self.config.mode, ProductionMode::OnDemand { .. });
                tokio::select! {
                    _ = tokio::time::sleep(ready_at) => {}
                    _ = heads.recv() => continue,
                    _ = new_transactions.recv(), if woke_by_tx => { continue; }
                }
            }
            let timestamp = plan.earliest.max(unix_now());
            if self.seal(plan, timestamp).await {
                last_block = tokio::time::Instant::now();
            }
        }
    }

    /// Says at start which block this key signed last, and whether the database is behind it.
    fn announce_record(&self) {
        let Some(last) = self.config.record.last() else {
            return;
        };
        let head = self.chain.provider().head().ok().flatten().map(|(n, _)| n);
        tracing::info!(number = last.number, hash = %last.hash, ?head, "last block this validator signed");
        if head.is_some_and(|head| head < last.number) {
            tracing::warn!(
                head,
                signed_number = last.number,
                record = %self.config.record.path().display(),
                "the database is behind the last block this validator signed (lost commits after a crash?): it seals nothing up to that height until the chain passes it; on a throwaway chain whose blocks nobody kept, remove the record to seal again"
            );
        }
    }

    pub(crate) fn current_plan(&self) -> Result<SlotPlan, ProducerError> {
        let db = self.chain.provider();
        let (_, head) = db.head()?.ok_or(ProducerError::UnknownParent(B256::ZERO))?;
        let parent = db
            .header(&head)?
            .ok_or(ProducerError::UnknownParent(head))?;
        self.producer.plan(&parent, self.signer)
    }

    /// Builds and inserts the block of `plan` at `timestamp`; true if it became the head.
    async fn seal(&self, plan: SlotPlan, timestamp: u64) -> bool {
        match self.seal_at(plan, timestamp, usize::MAX, Vec::new()).await {
            Ok(block) => block.is_some(),
            Err(error) => {
                tracing::warn!(number = plan.number, %error, "could not produce a block");
                tokio::time::sleep(RETRY_AFTER_FAILURE).await;
                false
            }
        }
    }

    /// Builds the block of `plan` at `timestamp` with `first` (the dev controls' own
    /// transactions) then at most `max_transactions` of the pool's best and inserts it; the
    /// block if it became the head (handed on for gossip).
    pub(crate) async fn seal_at(
        &self,
        plan: SlotPlan,
        timestamp: u64,
        max_transactions: usize,
        first: Vec<Candidate>,
    ) -> Result<Option<SealedBlock>, ProducerError> {
        let chain = self.chain.clone();
        let producer = self.producer.clone();
        let transactions = self.transactions.clone();
        let key = self.config.key;
        let coinbase = self.config.coinbase;
        let record = self.config.record.clone();
        // Building executes transactions: keep it off the async workers.
        let result = tokio::task::spawn_blocking(move || {
            build_and_insert(
                &chain,
                &producer,
                transactions.as_ref(),
                Signer {
                    key: &key,
                    coinbase,
                    record: &record,
                },
                plan,
                Slot {
                    timestamp,
                    max_transactions,
                    first,
                },
            )
        })
        .await
        .map_err(|join| ProducerError::Task(join.to_string()))??;
        if let Some(block) = &result {
            // The network may be absent or slow; the block is in our chain either way.
            let _ = self.produced.try_send(block.clone());
        }
        Ok(result)
    }
}

/// Who signs, and the record that keeps them from signing twice at a height.
struct Signer<'a> {
    key: &'a SecretKey,
    coinbase: Option<alloy_primitives::Address>,
    record: &'a SealRecord,
}

/// When the block is stamped and how many pool transactions it may take.
struct Slot {
    timestamp: u64,
    max_transactions: usize,
    first: Vec<Candidate>,
}

/// Builds on the current head if it is still `plan`'s parent, inserts, and returns the block
/// if it became canonical.
///
/// Equivocation guard: nothing is built at a height the record forbids; the block is recorded
/// (fsync'd) before it is inserted (from then on RPC subscribers and peers' requests may see
/// it), and the database's WAL is synced before it is handed out for gossip, so that after a
/// crash the validator still has the block it told others about.
fn build_and_insert(
    chain: &Blockchain,
    producer: &BlockProducer,
    transactions: &dyn TransactionSource,
    signer: Signer<'_>,
    plan: SlotPlan,
    slot: Slot,
) -> Result<Option<SealedBlock>, ProducerError> {
    let already_signed = |signed: crate::LastSealed| ProducerError::AlreadySigned {
        number: plan.number,
        signed_number: signed.number,
        signed_hash: signed.hash,
    };
    if let Some(signed) = signer.record.forbids(plan.number) {
        return Err(already_signed(signed));
    }
    let started = std::time::Instant::now();
    let (number, head) = chain
        .provider()
        .head()?
        .ok_or(ProducerError::UnknownParent(B256::ZERO))?;
    if number.checked_add(1) != Some(plan.number) {
        return Ok(None); // the head moved meanwhile: re-plan
    }
    // The parent may be a block signed with our key elsewhere that the watcher has not seen
    // yet: building on it would sign the next height beside that node.
    let parent = chain
        .provider()
        .header(&head)?
        .ok_or(ProducerError::UnknownParent(head))?;
    let signer_address =
        spectrum_primitives::public_key_to_address(&signer.key.public_key(secp256k1::SECP256K1));
    if let Some(conflict) = signer
        .record
        .observe(&parent, signer_address)
        .or_else(|| signer.record.conflict())
    {
        return Err(ProducerError::SealConflict(conflict));
    }
    let mut candidates = slot.first;
    candidates.extend(transactions.best().into_iter().take(slot.max_transactions));
    let built = producer.build(BuildRequest {
        parent: head,
        key: signer.key,
        coinbase: signer.coinbase,
        timestamp: Some(slot.timestamp),
        transactions: candidates,
    })?;
    let invalid: Vec<B256> = built
        .skipped
        .iter()
        .filter_map(|s| match s {
            Skipped::Invalid { hash, reason } => {
                tracing::debug!(%hash, reason, "dropping a transaction that failed in the block");
                Some(*hash)
            }
            Skipped::Deferred { .. } => None,
        })
        .collect();
    if !invalid.is_empty() {
        transactions.remove_invalid(&invalid);
    }
    let block = built.block;
    if !signer.record.record(block.number(), block.hash())? {
        // Only reachable if another sealer shares the record: fail safe.
        let signed = signer.record.last().unwrap_or(crate::LastSealed {
            number: block.number(),
            hash: block.hash(),
        });
        return Err(already_signed(signed));
    }
    // Committed from the outcome of the build: the block is not executed a second time.
    let outcome = chain.insert_built_block(block.clone(), built.executed)?;
    match outcome {
        InsertOutcome::Canonical { number, gas_used } => {
            chain.sync_wal()?;
            tracing::info!(
                number,
                hash = %block.hash(),
                txs = block.body.transactions.len(),
                gas_used,
                difficulty = built.plan.difficulty,
                elapsed_ms = started.elapsed().as_millis(),
                "sealed block"
            );
            Ok(Some(block))
        }
        other => {
            tracing::debug!(?other, "our block did not become the head");
            Ok(None)
        }
    }
}

/// Aborts the task when dropped (the watcher ends with the producer).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Checks every block that becomes canonical, and every block stored on a side chain, for our
/// key (guard.rs). A lagging receiver skipped some blocks: it goes on with the next (the parent
/// check before sealing remains).
async fn watch_own_key(
    WatchedBlocks {
        mut heads,
        mut side_blocks,
    }: WatchedBlocks,
    record: Arc<SealRecord>,
    signer: alloy_primitives::Address,
) {
    use broadcast::error::RecvError;
    loop {
        tokio::select! {
            change = heads.recv() => match change {
                Ok(change) => {
                    for header in &change.added {
                        record.observe(header, signer);
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            side = side_blocks.recv() => match side {
                Ok(header) => {
                    record.observe(&header, signer);
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// Waits for a head change, or `at_most`.
async fn wait_for_head(
    heads: &mut broadcast::Receiver<Arc<spectrum_chain::CanonicalChange>>,
    at_most: Duration,
) {
    let _ = tokio::time::timeout(at_most, heads.recv()).await;
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How long until unix second `at` (zero if past).
fn duration_until(at: u64) -> Duration {
    let at = UNIX_EPOCH + Duration::from_secs(at);
    at.duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}
