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

use crate::{BlockProducer, BuildRequest, Candidate, ProducerError, Skipped, SlotPlan};

/// After a failed attempt, wait this long before the next (a failure that repeats must not
/// spin a core).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

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
    /// Fees and reward go here (`None` = the signer's address).
    pub coinbase: Option<alloy_primitives::Address>,
    /// When to build.
    pub mode: ProductionMode,
}

/// Builds blocks as `config.mode` says and inserts them; each block we made canonical is sent
/// on the returned channel (for the network to gossip).
pub struct ProducerService {
    chain: Arc<Blockchain>,
    producer: Arc<BlockProducer>,
    transactions: Arc<dyn TransactionSource>,
    config: ProducerConfig,
    signer: alloy_primitives::Address,
    produced: mpsc::Sender<SealedBlock>,
}

impl ProducerService {
    /// A service over `chain`. Blocks it seals go to the returned receiver (bounded; if
    /// nobody reads, they are still inserted, only not handed on).
    pub fn new(
        chain: Arc<Blockchain>,
        transactions: Arc<dyn TransactionSource>,
        config: ProducerConfig,
    ) -> (Self, mpsc::Receiver<SealedBlock>) {
        let producer = Arc::new(BlockProducer::new(chain.db().clone(), chain.spec().clone()));
        let signer = spectrum_primitives::public_key_to_address(
            &config.key.public_key(secp256k1::SECP256K1),
        );
        let (produced, receiver) = mpsc::channel(64);
        let service = Self {
            chain,
            producer,
            transactions,
            config,
            signer,
            produced,
        };
        (service, receiver)
    }

    /// Runs until the task is dropped or aborted. `new_transactions` wakes it when the pool
    /// gets an executable transaction.
    pub async fn run(self, mut new_transactions: broadcast::Receiver<B256>) {
        let mut heads = self.chain.subscribe();
        let mut last_block = tokio::time::Instant::now();
        tracing::info!(signer = %self.signer, mode = ?self.config.mode, "block production started");
        loop {
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
            if self.seal(plan).await {
                last_block = tokio::time::Instant::now();
            }
        }
    }

    fn current_plan(&self) -> Result<SlotPlan, ProducerError> {
        let db = self.chain.db();
        let (_, head) = db.head()?.ok_or(ProducerError::UnknownParent(B256::ZERO))?;
        let parent = db
            .header(&head)?
            .ok_or(ProducerError::UnknownParent(head))?;
        self.producer.plan(&parent, self.signer)
    }

    /// Builds and inserts the block of `plan`; true if it became the head.
    async fn seal(&self, plan: SlotPlan) -> bool {
        let chain = self.chain.clone();
        let producer = self.producer.clone();
        let transactions = self.transactions.clone();
        let key = self.config.key;
        let coinbase = self.config.coinbase;
        // Building executes transactions: keep it off the async workers.
        let result = tokio::task::spawn_blocking(move || {
            build_and_insert(
                &chain,
                &producer,
                transactions.as_ref(),
                &key,
                coinbase,
                plan,
            )
        })
        .await;
        match result {
            Ok(Ok(Some(block))) => {
                // The network may be absent or slow; the block is in our chain either way.
                let _ = self.produced.try_send(block);
                true
            }
            Ok(Ok(None)) => false,
            Ok(Err(error)) => {
                tracing::warn!(number = plan.number, %error, "could not produce a block");
                tokio::time::sleep(RETRY_AFTER_FAILURE).await;
                false
            }
            Err(join) => {
                tracing::error!(number = plan.number, error = %join, "block production task failed");
                tokio::time::sleep(RETRY_AFTER_FAILURE).await;
                false
            }
        }
    }
}

/// Builds on the current head if it is still `plan`'s parent, inserts, and returns the block
/// if it became canonical.
fn build_and_insert(
    chain: &Blockchain,
    producer: &BlockProducer,
    transactions: &dyn TransactionSource,
    key: &SecretKey,
    coinbase: Option<alloy_primitives::Address>,
    plan: SlotPlan,
) -> Result<Option<SealedBlock>, ProducerError> {
    let started = std::time::Instant::now();
    let (number, head) = chain
        .db()
        .head()?
        .ok_or(ProducerError::UnknownParent(B256::ZERO))?;
    if number.checked_add(1) != Some(plan.number) {
        return Ok(None); // the head moved meanwhile: re-plan
    }
    let timestamp = plan.earliest.max(unix_now());
    let built = producer.build(BuildRequest {
        parent: head,
        key,
        coinbase,
        timestamp: Some(timestamp),
        transactions: transactions.best(),
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
    let outcome = chain.insert_block(block.clone())?;
    match outcome {
        InsertOutcome::Canonical { number, gas_used } => {
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
