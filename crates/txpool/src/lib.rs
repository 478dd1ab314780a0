//! The transaction pool: what wallets and peers send, waiting to be mined.
//!
//! **Owns:** validation on entry (size, type, signature, chain id and EIP-155 from SIP003,
//! chief-update transactions refused, nonce, funds, intrinsic gas, block gas limit, minimum
//! gas price, duplicates, replacement by a 10% price bump), each sender's transactions by
//! nonce split into *pending* (executable now: a gap-free run from the account's nonce) and
//! *queued*, per-sender and global limits with eviction of the cheapest, the order blocks take
//! them in ([`TxPool::best_transactions`]), and upkeep when the head moves (mined ones removed,
//! stale and unpayable ones dropped, reorged-out ones re-injected; [`maintain_pool`] follows
//! the chain's head changes). Errors are geth's words
//! ([`PoolError`]).
//!
//! **Must not touch:** the database (state comes through [`StateSource`]), the network or block
//! building: callers hand transactions in and take them out. Chief updates are recognised by
//! `spectrum-consensus`'s one chief-update predicate (`is_chief_update_call`).

mod best;
mod error;
mod maintain;
mod pool;
mod store;
mod validate;

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B256, U256};
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::TransactionSigned;
use spectrum_storage_api::{StateError, StateProvider};

pub use best::BestTransactions;
pub use error::PoolError;
pub use maintain::{CanonicalBlocks, head_update, maintain_pool};
pub use pool::Pool;
pub use spectrum_consensus::CHIEF_UPDATE_SELECTOR;
pub use validate::{TX_GAS, intrinsic_gas};

/// Where a transaction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxOrigin {
    /// Submitted to this node (RPC).
    Local,
    /// Gossiped by a peer, or re-injected after a reorg.
    External,
}

/// A pooled transaction with its recovered sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PooledTx {
    /// The transaction.
    pub tx: TransactionSigned,
    /// Its sender.
    pub sender: Address,
    /// Its hash.
    pub hash: B256,
    /// Its RLP size in bytes.
    pub encoded_len: usize,
}

impl PooledTx {
    /// Its gas price.
    pub fn gas_price(&self) -> U256 {
        U256::from(self.tx.tx().gas_price)
    }

    /// Its nonce.
    pub fn nonce(&self) -> u64 {
        self.tx.tx().nonce
    }
}

/// How many transactions wait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Executable now.
    pub pending: usize,
    /// Waiting for a nonce gap to close.
    pub queued: usize,
}

/// Transactions by sender and nonce.
pub type TxsBySender = BTreeMap<Address, BTreeMap<u64, Arc<PooledTx>>>;

/// The pool's contents (`txpool_content`).
#[derive(Debug, Clone, Default)]
pub struct PoolContent {
    /// Executable now.
    pub pending: TxsBySender,
    /// Waiting for a nonce gap to close.
    pub queued: TxsBySender,
}

/// The state the pool validates against: the head's.
pub trait StateSource: Send + Sync {
    /// The state after the current head.
    fn latest(&self) -> Result<Box<dyn StateProvider + '_>, StateError>;
}

/// What changed when the canonical head moved.
#[derive(Debug, Clone, Default)]
pub struct HeadUpdate {
    /// The new head's number.
    pub number: u64,
    /// The new head's gas limit.
    pub gas_limit: u64,
    /// Hashes of the transactions in the blocks that became canonical.
    pub mined: Vec<B256>,
    /// Transactions of blocks that left the canonical chain.
    pub reinject: Vec<TransactionSigned>,
}

/// Limits and prices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Transactions below this gas price are refused.
    pub min_gas_price: U256,
    /// A replacement must pay at least this many percent more.
    pub price_bump_percent: u64,
    /// Most transactions one sender may have pooled.
    pub max_per_sender: usize,
    /// Most pending (executable) transactions in the pool.
    pub max_pending: usize,
    /// Most queued (nonce-gapped) transactions in the pool.
    pub max_queued: usize,
    /// Most bytes of encoded transactions in the pool: with `max_tx_size` this bounds memory
    /// whatever the mix of sizes.
    pub max_bytes: usize,
    /// Largest transaction accepted, encoded.
    pub max_tx_size: usize,
    /// Senders whose next block of ours starts with their own chief-update transaction (the
    /// local validator): their pool transactions follow it, at state nonce + 1.
    pub reserved_nonce_senders: Vec<Address>,
}

impl PoolConfig {
    /// geth's defaults (4096 pending and 1024 queued slots, 64 per account), 32 MiB of
    /// transactions at most, 128 KiB each; the reference's 18 gwei minimum price on public
    /// chains, 1 gwei on `dev`.
    pub fn for_chain(spec: &ChainSpec) -> Self {
        let gwei = U256::from(1_000_000_000u64);
        let min_gas_price = if spec.name == "dev" {
            gwei
        } else {
            gwei * U256::from(18u64)
        };
        Self {
            min_gas_price,
            price_bump_percent: 10,
            max_per_sender: 64,
            max_pending: 4096,
            max_queued: 1024,
            max_bytes: 32 * 1024 * 1024,
            max_tx_size: 128 * 1024,
            reserved_nonce_senders: Vec::new(),
        }
    }
}

/// The pool as the rest of the node sees it. Every method takes `&self`: RPC, the network and
/// the producer call it concurrently.
pub trait TxPool: Send + Sync {
    /// Decodes (bounded by [`PoolConfig::max_tx_size`]) and adds a raw RLP transaction;
    /// returns its hash.
    fn add_raw(&self, raw: &[u8], origin: TxOrigin) -> Result<B256, PoolError>;
    /// Adds a decoded transaction; returns its hash.
    fn add_transaction(&self, tx: TransactionSigned, origin: TxOrigin) -> Result<B256, PoolError>;
    /// A pooled transaction.
    fn get(&self, hash: &B256) -> Option<Arc<PooledTx>>;
    /// The nonce after `sender`'s pending run (its next nonce if all it has is queued);
    /// `None` if it has nothing pooled, except for a reserved sender (the local validator),
    /// whose answer is always at least its state nonce + 1.
    fn pending_nonce(&self, sender: &Address) -> Option<u64>;
    /// Counts.
    fn status(&self) -> PoolStatus;
    /// Everything, by sender and nonce.
    fn content(&self) -> PoolContent;
    /// Hashes of transactions as they become pending.
    fn subscribe_pending(&self) -> tokio::sync::broadcast::Receiver<B256>;
    /// Pending transactions in block order: highest gas price first, each sender's in nonce
    /// order; [`BestTransactions::mark_invalid`] skips the rest of a sender's. A snapshot: it
    /// holds no lock.
    fn best_transactions(&self) -> BestTransactions;
    /// Upkeep after the head moved.
    fn on_head_update(&self, update: HeadUpdate);
    /// Removes transactions for good (e.g. invalid while building a block). A removed pending
    /// transaction leaves a gap: its sender's later ones become queued.
    fn remove(&self, hashes: &[B256]);
}
