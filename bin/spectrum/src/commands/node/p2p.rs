//! The node's side of the network: its identity, the network and sync services, and the relays
//! between them and the pool, the producer and RPC.
//!
//! ```text
//! producer ──sealed block──► broadcast_block
//! pool (new pending) ──► broadcast_transactions        (never gossip we just received)
//! gossiped txs ──► pool.add_transaction ──► report Accept / Reject / Ignore
//! network events ──► spectrum-sync ──► Blockchain::insert_block
//! ```

use std::{
    collections::{HashSet, VecDeque},
    io::Write,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{B256, U256};
use eyre::WrapErr;
use secp256k1::SecretKey;
use spectrum_chain::Blockchain;
use spectrum_chainspec::ChainSpec;
use spectrum_network::{MessageValidation, NetworkConfig, NetworkHandle, Penalty};
use spectrum_primitives::{SealedBlock, TransactionSigned};
use spectrum_storage_api::ChainReader;
use spectrum_sync::{ChainDataView, GossipedTransactions, SyncConfig, SyncHandle, SyncProgress};
use spectrum_txpool::{Pool, PoolError, TxOrigin, TxPool};
use tokio::{
    sync::{mpsc, watch},
    task::JoinHandle,
};

use crate::{cli::Cli, datadir::DataDir};

/// The node key file in the datadir of a node that does not seal (hex, as geth's `nodekey`).
const NODE_KEY_FILE: &str = "nodekey";
/// Most transactions gossiped in one message.
const TXS_PER_MESSAGE: usize = 256;
/// How long new pool transactions are gathered into one message.
const TX_BATCH_WINDOW: Duration = Duration::from_millis(25);
/// How many gossiped transaction hashes are remembered so the pool does not echo them.
const RECENT_GOSSIP: usize = 16_384;
/// How long a validator with bootnodes waits for a first peer before producing alone.
const FIRST_PEER_WAIT: Duration = Duration::from_secs(30);

/// Whether the node joins a network: always, except on `--dev`, where `--port` or
/// `--bootnodes` given explicitly turn it on (a dev chain is usually one process).
pub(super) fn enabled(cli: &Cli) -> bool {
    !cli.dev || cli.network.port.is_some() || !cli.network.bootnodes.is_empty()
}

/// The node's secp256k1 key, its libp2p identity: the validator key when it seals (the same
/// key signs blocks, as on Spectrum), else `<datadir>/nodekey`, created on first start.
pub(super) fn node_key(
    validator_key: Option<&SecretKey>,
    datadir: &Path,
) -> eyre::Result<[u8; 32]> {
    if let Some(key) = validator_key {
        return Ok(key.secret_bytes());
    }
    let path = datadir.join(NODE_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = super::parse_secret(&text)
                .wrap_err_with(|| format!("bad node key file {}", path.display()))?;
            Ok(key.secret_bytes())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = spectrum_keystore::ValidatorKey::random()?;
            let bytes = key.secret_key().secret_bytes();
            write_private(&path, alloy_primitives::hex::encode(bytes).as_bytes())
                .wrap_err_with(|| format!("cannot write the node key {}", path.display()))?;
            tracing::info!(path = %path.display(), "new node key");
            Ok(bytes)
        }
        Err(error) => Err(error).wrap_err_with(|| format!("cannot read {}", path.display())),
    }
}

/// Writes a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The running network side of the node.
pub(super) struct P2p {
    pub(super) network: NetworkHandle,
    pub(super) sync: SyncHandle,
    tasks: Vec<JoinHandle<()>>,
}

impl P2p {
    /// Peers and sync progress for RPC (`net_peerCount`, `net_listening`, `eth_syncing`).
    pub(super) fn rpc_view(&self) -> Arc<dyn spectrum_rpc::NetworkInfo> {
        Arc::new(RpcNetworkView {
            network: self.network.clone(),
            progress: self.sync.progress(),
        })
    }

    /// Gossips every block the producer seals.
    pub(super) fn relay_sealed_blocks(&mut self, mut sealed: mpsc::Receiver<SealedBlock>) {
        let network = self.network.clone();
        self.tasks.push(tokio::spawn(async move {
            while let Some(block) = sealed.recv().await {
                tracing::debug!(number = block.number(), hash = %block.hash(), "gossiping our block");
                network.broadcast_block(&block).await;
            }
        }));
    }

    pub(super) fn stop(self) {
        self.sync.abort();
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Starts the network on `chain`'s data and the sync service, and wires the pool to gossip.
pub(super) async fn start(
    cli: &Cli,
    datadir: &DataDir,
    chain: &Arc<Blockchain>,
    pool: &Arc<Pool>,
    node_key: [u8; 32],
) -> eyre::Result<P2p> {
    let db = chain.provider().clone();
    let spec: &Arc<ChainSpec> = chain.spec();
    let genesis_hash = db
        .canonical_hash(0)?
        .ok_or_else(|| eyre::eyre!("the database has no genesis block"))?;
    let config = network_config(cli, node_key, genesis_hash, spec.chain_id);
    let view = Arc::new(ChainDataView::new(db, spec.chain_id, genesis_hash));
    let (network, events) = spectrum_network::start(config, view)
        .await
        .wrap_err("cannot start the p2p network")?;
    for addr in network.listen_addrs() {
        // On stdout for scripts and tests: this is the address other nodes take as a bootnode.
        println!("P2P: {addr}");
    }
    tracing::info!(peer_id = %network.local_peer_id(), datadir = %datadir.path().display(), "p2p network started");

    let (txs_in, gossiped) = mpsc::channel(1024);
    let sync = spectrum_sync::spawn_sync(
        chain.clone(),
        network.clone(),
        events,
        Some(txs_in),
        SyncConfig::default(),
    );
    let recent = Arc::new(Mutex::new(RecentHashes::default()));
    let tasks = vec![
        tokio::spawn(admit_gossiped_transactions(
            gossiped,
            pool.clone(),
            network.clone(),
            recent.clone(),
        )),
        tokio::spawn(gossip_pool_transactions(
            pool.clone(),
            network.clone(),
            recent,
        )),
    ];
    Ok(P2p {
        network,
        sync,
        tasks,
    })
}

fn network_config(
    cli: &Cli,
    node_key: [u8; 32],
    genesis_hash: B256,
    chain_id: u64,
) -> NetworkConfig {
    let args = &cli.network;
    let mut config = NetworkConfig::new(node_key, genesis_hash, chain_id);
    config.listen_addr = args.listen_addr;
    config.port = args.port.unwrap_or(spectrum_network::DEFAULT_PORT);
    config.bootnodes = args.bootnodes.clone();
    config.max_peers = args.maxpeers;
    config.discovery = !args.nodiscover;
    config.mdns = args.mdns;
    config
}

/// Transaction hashes lately received by gossip, oldest dropped first: the pool announces them
/// as new pending transactions, and gossipsub has forwarded them already.
#[derive(Default)]
struct RecentHashes {
    set: HashSet<B256>,
    order: VecDeque<B256>,
}

impl RecentHashes {
    fn insert(&mut self, hash: B256) {
        if self.set.insert(hash) {
            self.order.push_back(hash);
        }
        while self.order.len() > RECENT_GOSSIP {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }

    fn contains(&self, hash: &B256) -> bool {
        self.set.contains(hash)
    }
}

/// Gossiped transactions into the pool. The verdict decides whether gossipsub forwards the
/// message: forwarded when the pool took one, the peer penalised when one was plainly invalid
/// (a state-dependent refusal such as a stale nonce is nobody's fault).
async fn admit_gossiped_transactions(
    mut gossiped: mpsc::Receiver<GossipedTransactions>,
    pool: Arc<Pool>,
    network: NetworkHandle,
    recent: Arc<Mutex<RecentHashes>>,
) {
    while let Some(message) = gossiped.recv().await {
        let pool = pool.clone();
        let txs = message.txs;
        // Sender recovery and state reads: off the async workers.
        let Ok(verdict) = tokio::task::spawn_blocking(move || admit(&pool, txs)).await else {
            continue;
        };
        let validation = if verdict.invalid {
            MessageValidation::Reject(Penalty::InvalidTransactions)
        } else if verdict.accepted.is_empty() {
            MessageValidation::Ignore
        } else {
            MessageValidation::Accept
        };
        if validation == MessageValidation::Accept
            && let Ok(mut recent) = recent.lock()
        {
            for hash in &verdict.accepted {
                recent.insert(*hash);
            }
        }
        network
            .report_message(message.msg_id, message.peer, validation)
            .await;
    }
}

struct Admitted {
    accepted: Vec<B256>,
    invalid: bool,
}

fn admit(pool: &Pool, txs: Vec<TransactionSigned>) -> Admitted {
    let mut admitted = Admitted {
        accepted: Vec::new(),
        invalid: false,
    };
    for tx in txs {
        match pool.add_transaction(tx, TxOrigin::External) {
            Ok(hash) => admitted.accepted.push(hash),
            Err(error) if is_peer_fault(&error) => {
                tracing::debug!(%error, "invalid gossiped transaction");
                admitted.invalid = true;
            }
            Err(error) => tracing::trace!(%error, "gossiped transaction not pooled"),
        }
    }
    admitted
}

/// Refusals no honest peer causes: the transaction is invalid on any chain state. Not
/// `Unprotected` (refused only from SIP003 on) nor `IntrinsicGas` (calldata is repriced at
/// Sip004): both depend on the fork of our head, and a peer whose head is past the fork while
/// ours is not (or the reverse) is honest.
fn is_peer_fault(error: &PoolError) -> bool {
    matches!(
        error,
        PoolError::Oversized
            | PoolError::Decode(_)
            | PoolError::TypedTransaction
            | PoolError::InvalidSender
            | PoolError::ChiefUpdate
    )
}

/// Gossips transactions as they become pending in the pool (RPC submissions, promoted queued
/// ones), a few milliseconds' worth per message. The pool never holds chief-update
/// transactions, so they are never gossiped (they travel inside blocks only).
async fn gossip_pool_transactions(
    pool: Arc<Pool>,
    network: NetworkHandle,
    recent: Arc<Mutex<RecentHashes>>,
) {
    use tokio::sync::broadcast::error::RecvError;
    let mut pending = pool.subscribe_pending();
    loop {
        let first = match pending.recv().await {
            Ok(hash) => hash,
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "transaction gossip fell behind");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let mut hashes = vec![first];
        let window = tokio::time::sleep(TX_BATCH_WINDOW);
        tokio::pin!(window);
        while hashes.len() < TXS_PER_MESSAGE {
            tokio::select! {
                next = pending.recv() => match next {
                    Ok(hash) => hashes.push(hash),
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                },
                _ = &mut window => break,
            }
        }
        let txs: Vec<TransactionSigned> = {
            let Ok(recent) = recent.lock() else { continue };
            hashes
                .iter()
                .filter(|hash| !recent.contains(hash))
                .filter_map(|hash| pool.get(hash))
                .map(|pooled| pooled.tx.clone())
                .collect()
        };
        network.broadcast_transactions(&txs).await;
    }
}

/// `net_*` and `eth_syncing` over the network handle and the sync progress.
struct RpcNetworkView {
    network: NetworkHandle,
    progress: watch::Receiver<Option<SyncProgress>>,
}

impl spectrum_rpc::NetworkInfo for RpcNetworkView {
    fn peer_count(&self) -> usize {
        self.network.peer_count()
    }

    fn listening(&self) -> bool {
        !self.network.listen_addrs().is_empty()
    }

    fn syncing(&self) -> Option<spectrum_rpc::SyncProgress> {
        let progress = (*self.progress.borrow())?;
        Some(spectrum_rpc::SyncProgress {
            starting: progress.starting_block,
            current: progress.current_block,
            highest: progress.highest_block,
        })
    }
}

/// How a validator waits to catch up before sealing.
#[derive(Debug, Clone, Copy)]
pub(super) struct CatchUp {
    /// Without bootnodes (the first node of a network) it seals at once.
    has_bootnodes: bool,
    /// It gives up waiting after this long without its head moving (`--catchup-timeout`).
    stall_limit: Duration,
}

impl CatchUp {
    pub(super) fn from_cli(cli: &Cli) -> Self {
        Self {
            has_bootnodes: !cli.network.bootnodes.is_empty(),
            stall_limit: Duration::from_secs(cli.network.catchup_timeout),
        }
    }
}

/// Waits before a validator starts sealing until it is in step with its peers: sealing on a
/// stale head only makes forks the network discards. Without bootnodes (the first node of a
/// network) or without any peer after a while, it seals at once / then. It also gives up when
/// its head has not moved for `stall_limit` while peers still announce more: a peer claiming a
/// total difficulty it never delivers must not keep a validator from sealing forever.
pub(super) async fn wait_until_in_step(
    catch_up: CatchUp,
    network: &NetworkHandle,
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
        let peers = network.peers();
        if peers.is_empty() {
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
        let behind = peers
            .iter()
            .any(|peer| peer.status.total_difficulty > local_td);
        if !behind && progress.borrow().is_none() {
            tracing::info!(
                peers = peers.len(),
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn node_key_is_created_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = node_key(None, dir.path()).unwrap();
        let path = dir.path().join(NODE_KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only node key file");
        assert_eq!(
            node_key(None, dir.path()).unwrap(),
            first,
            "reused on restart"
        );
        let other = tempfile::tempdir().unwrap();
        assert_ne!(
            node_key(None, other.path()).unwrap(),
            first,
            "random per datadir"
        );
    }

    #[test]
    fn a_validator_uses_its_sealing_key_and_writes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::from_byte_array([7; 32]).unwrap();
        assert_eq!(node_key(Some(&key), dir.path()).unwrap(), [7; 32]);
        assert!(!dir.path().join(NODE_KEY_FILE).exists());
    }

    #[test]
    fn a_corrupt_node_key_file_is_an_error_not_a_new_identity() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(NODE_KEY_FILE), "not hex").unwrap();
        let error = node_key(None, dir.path()).unwrap_err();
        assert!(
            format!("{error:#}").contains("bad node key file"),
            "{error:#}"
        );
    }

    #[test]
    fn recent_gossip_forgets_the_oldest_beyond_its_bound() {
        let mut recent = RecentHashes::default();
        for i in 0..=RECENT_GOSSIP {
            recent.insert(B256::from(U256::from(i)));
        }
        assert!(!recent.contains(&B256::from(U256::ZERO)), "oldest evicted");
        assert!(recent.contains(&B256::from(U256::from(RECENT_GOSSIP))));
        assert_eq!(recent.set.len(), RECENT_GOSSIP);
        assert_eq!(recent.order.len(), RECENT_GOSSIP);
    }

    #[test]
    fn only_stateless_refusals_are_the_peers_fault() {
        assert!(is_peer_fault(&PoolError::InvalidSender));
        assert!(is_peer_fault(&PoolError::ChiefUpdate));
        assert!(is_peer_fault(&PoolError::TypedTransaction));
        // A stale nonce or a full pool depends on our state, not on the peer's honesty.
        assert!(!is_peer_fault(&PoolError::NonceTooLow));
        assert!(!is_peer_fault(&PoolError::AlreadyKnown));
        assert!(!is_peer_fault(&PoolError::InsufficientFunds));
        assert!(!is_peer_fault(&PoolError::Underpriced));
        // Refusals that depend on which fork our head is in: a peer ahead of us is right.
        assert!(!is_peer_fault(&PoolError::Unprotected));
        assert!(!is_peer_fault(&PoolError::IntrinsicGas));
    }
}
