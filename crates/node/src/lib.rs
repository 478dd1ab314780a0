//! The node launcher: [`launch`] takes a [`NodeConfig`] (the binary maps its command line to
//! one) and starts the node's services as named tasks under a [`TaskManager`].
//!
//! **Owns:** wiring the crates together — the chain with the node's one [`Clock`], the pool and
//! its maintenance, block production (after catch-up on a network), the network with sync and
//! transaction propagation, JSON-RPC — and the task executor ([`tasks`]): a critical task that
//! panics or returns shuts the node down with `critical task <name> ended: …`.
//!
//! **Must not touch:** protocol logic (each service lives in its crate), the command line, the
//! datadir layout, keys on disk (the binary loads them and hands them in).
//!
//! ```text
//! launch(config) ─► Blockchain (clock) ─► Pool ─┬─ critical "pool maintenance"  (txpool::maintain_pool)
//!                                               ├─ critical "network"           (libp2p swarm)
//!                                               ├─ critical "sync"              (one sync driver over libp2p and devp2p: rounds, gossip, future blocks)
//!                                               ├─ critical "transaction admission" / "transaction gossip" (network::transactions)
//!                                               ├─ critical "block producer"    (sync::wait_until_in_step, then ProducerService)
//!                                               ├─ critical "block relay"       (sealed blocks ─► broadcast_block)
//!                                               └─ JSON-RPC servers
//!                ─► NodeHandle { addresses, run_until(shutdown) }
//! ```

mod adapters;
mod admin;
// ---- dev controls (issue 19) ----
mod dev_control;
pub mod devp2p;
pub mod observe;
pub mod tasks;
#[cfg(test)]
mod tests;

use std::{
    future::Future,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
};

use alloy_primitives::Address;
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, TribeBlockValidator};
use spectrum_chainspec::ChainSpec;
pub use spectrum_consensus::{Clock, SystemClock};
use spectrum_network::{Multiaddr, NetworkConfig, NetworkError, NetworkHandle, PeerId};
use spectrum_producer::{ProducerConfig, ProducerService};
use spectrum_rpc::{RpcConfig, RpcContext, RpcError, RpcHandle};
use spectrum_storage_api::{ChainStore, ProviderError};
use spectrum_sync::{CatchUp, ChainDataView, SyncConfig};
use spectrum_txpool::{Pool, PoolConfig, TxPool};
use tokio::sync::mpsc;

use crate::adapters::{ChainBlocks, ChainState, PoolSource, RpcNetworkView};
pub use crate::observe::OpsConfig;
pub use crate::tasks::{CriticalTaskEnded, TaskExecutor, TaskExit, TaskManager};

/// Everything [`launch`] needs: the binary builds it from the command line.
pub struct NodeConfig {
    /// The chain this node follows.
    pub spec: Arc<ChainSpec>,
    /// The initialised chain store (the database; its head is the chain's).
    pub db: Arc<dyn ChainStore>,
    /// The node's one clock: header rules, the near-future queue and sync's checks read it.
    pub clock: Arc<dyn Clock>,
    /// How far below the head a branch may fork (`--max-reorg-depth`).
    pub max_reorg_depth: u64,
    /// Block production, when the node has a validator key.
    pub producer: Option<ProducerConfig>,
    /// The p2p network, when the node joins one.
    pub p2p: Option<P2pConfig>,
    /// JSON-RPC (both servers off = no RPC).
    pub rpc: RpcConfig,
    /// `web3_clientVersion`.
    pub client_version: String,

    // ---- operations (issue 18): metrics exporter, status line ----
    /// Metrics and the status line.
    pub ops: OpsConfig,

    // ---- import speed (issue 16) ----
    /// MiB of hot state kept between blocks (`--cache.state-mb`).
    pub state_cache_mb: usize,
}

/// The network side of [`NodeConfig`].
#[derive(Debug, Clone)]
pub struct P2pConfig {
    /// The node's secp256k1 key: its libp2p identity.
    pub node_key: [u8; 32],
    /// Listening address.
    pub listen_addr: IpAddr,
    /// Listening port (0 = ephemeral).
    pub port: u16,
    /// Peers dialled at start.
    pub bootnodes: Vec<Multiaddr>,
    /// Most connections.
    pub max_peers: u32,
    /// Kademlia discovery.
    pub discovery: bool,
    /// mDNS on the local network.
    pub mdns: bool,
    /// How a validator waits to catch up before sealing.
    pub catch_up: CatchUp,
    // devp2p (the reference node's wire), beside libp2p.
    /// devp2p with its settings; `None` = libp2p only.
    pub devp2p: Option<devp2p::Devp2pSettings>,
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The database has no head (not initialised).
    #[error("the database has no head")]
    NoHead,
    /// The head's header is not stored.
    #[error("the head header is missing")]
    MissingHead,
    /// The genesis block is not stored.
    #[error("the database has no genesis block")]
    NoGenesis,
    /// Reading the chain data failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The network did not start.
    #[error("cannot start the p2p network")]
    Network(#[source] NetworkError),
    /// The JSON-RPC servers did not start.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The devp2p listener or discovery socket did not bind.
    #[error("cannot start devp2p")]
    Devp2p(#[source] std::io::Error),
    /// The node key is not a valid secp256k1 key.
    #[error("the node key is not a valid secp256k1 key")]
    Devp2pKey,
    /// The metrics exporter did not start.
    #[error(transparent)]
    Metrics(#[from] spectrum_metrics::ServeError),
}

/// A running node.
pub struct NodeHandle {
    tasks: TaskManager,
    rpc: Option<RpcHandle>,
    sync: Option<spectrum_sync::SyncHandle>,
    network: Option<NetworkHandle>,
    chain: Arc<Blockchain>,
    pool: Arc<Pool>,
    devp2p: Option<spectrum_devp2p::Devp2pHandle>,
    metrics_addr: Option<SocketAddr>,
}

impl NodeHandle {
    /// The bound metrics address (`--metrics`).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The node's `enode://` URL, when devp2p runs.
    pub fn enode(&self) -> Option<spectrum_devp2p::NodeRecord> {
        self.devp2p
            .as_ref()
            .map(spectrum_devp2p::Devp2pHandle::local_enode)
    }

    /// The devp2p handle, when devp2p runs.
    pub fn devp2p(&self) -> Option<&spectrum_devp2p::Devp2pHandle> {
        self.devp2p.as_ref()
    }

    /// The bound HTTP JSON-RPC address.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.rpc.as_ref().and_then(RpcHandle::http_addr)
    }

    /// The bound WebSocket JSON-RPC address.
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        self.rpc.as_ref().and_then(RpcHandle::ws_addr)
    }

    /// The p2p listening addresses, with the peer id (the form `--bootnodes` takes).
    pub fn p2p_addrs(&self) -> Vec<Multiaddr> {
        self.network
            .as_ref()
            .map(NetworkHandle::listen_addrs)
            .unwrap_or_default()
    }

    /// The node's libp2p peer id, when it is on a network.
    pub fn peer_id(&self) -> Option<PeerId> {
        self.network.as_ref().map(NetworkHandle::local_peer_id)
    }

    /// The chain.
    pub fn chain(&self) -> &Arc<Blockchain> {
        &self.chain
    }

    /// The transaction pool.
    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    /// The executor the node's tasks run on (to add one).
    pub fn executor(&self) -> TaskExecutor {
        self.tasks.executor()
    }

    /// Runs until `shutdown` resolves (a signal) or a critical task ends, then stops the node:
    /// RPC servers first, then every task. `Err` names the critical task that ended.
    pub async fn run_until(
        mut self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), CriticalTaskEnded> {
        let outcome = tokio::select! {
            () = shutdown => Ok(()),
            ended = self.tasks.critical_task_ended() => Err(ended),
        };
        self.stop().await;
        outcome
    }

    /// Stops RPC and every task.
    pub async fn stop(mut self) {
        if let Some(rpc) = self.rpc.take() {
            rpc.stop().await;
        }
        self.tasks.shutdown();
        if let Some(sync) = self.sync.take() {
            sync.abort();
        }
    }
}

/// Starts the node on the current tokio runtime: chain, pool maintenance, the network with
/// sync and transaction propagation, block production, JSON-RPC. Returns once every server is
/// bound.
pub async fn launch(config: NodeConfig) -> Result<NodeHandle, LaunchError> {
    let NodeConfig {
        spec,
        db,
        clock,
        max_reorg_depth,
        producer,
        p2p,
        rpc,
        client_version,
        ops,
        state_cache_mb,
    } = config;
    // ---- dev controls (issue 19): on --dev one movable clock (evm_increaseTime) ----
    let dev_clock = dev_clock(producer.as_ref(), &clock);
    let clock: Arc<dyn Clock> = match &dev_clock {
        Some(dev) => dev.clone(),
        None => clock,
    };
    let observer_clock = clock.clone();
    let tasks = TaskManager::new();
    let executor = tasks.executor();
    let validator =
        Arc::new(TribeBlockValidator::new(db.clone(), spec.clone()).with_clock(clock.clone()));
    let chain = Arc::new(
        Blockchain::new(db, spec.clone(), validator)
            .with_clock(clock)
            .with_max_reorg_depth(max_reorg_depth)
            .with_state_cache_mb(state_cache_mb),
    );
    // From here on the node reads chain data through the chain's reader.
    let reader = chain.provider().clone();
    let head = reader
        .header_by_number(reader.head()?.ok_or(LaunchError::NoHead)?.0)?
        .ok_or(LaunchError::MissingHead)?;

    let validator_address = producer.as_ref().map(|p| key_address(&p.key));
    let mut pool_config = PoolConfig::for_chain(&spec);
    pool_config.reserved_nonce_senders.extend(validator_address);
    let gas_price = pool_config.min_gas_price;
    let pool = Arc::new(Pool::new(
        pool_config,
        spec.clone(),
        Arc::new(ChainState(reader.clone())),
        head.number,
        head.gas_limit,
    ));
    executor.spawn_critical(
        "pool maintenance",
        spectrum_txpool::maintain_pool(
            Arc::new(ChainBlocks(reader.clone())),
            chain.subscribe(),
            pool.clone(),
        ),
    );

    if let Some(producer) = &producer {
        announce_role(&chain, &spec, &producer.key);
    }
    // devp2p first: its bridge feeds the one sync driver that start_network runs.
    let devp2p = match p2p.as_ref().and_then(|p| Some((p, p.devp2p.as_ref()?))) {
        Some((p2p, settings)) => Some(
            devp2p::start(
                &executor,
                settings,
                p2p.node_key,
                p2p.listen_addr,
                &chain,
                &pool,
            )
            .await?,
        ),
        None => None,
    };
    let network = match &p2p {
        Some(p2p) => {
            let devp2p_wire = devp2p.as_ref().and_then(|d| d.wire.lock().ok()?.take());
            Some(start_network(&executor, p2p, &chain, &pool, devp2p_wire).await?)
        }
        None => None,
    };
    let seal_guard = producer.as_ref().map(|p| {
        let record = p.record.clone();
        Arc::new(move || record.conflict().map(|c| c.to_string())) as spectrum_rpc::SealGuardView
    });
    let dev_controls = match producer {
        Some(producer) => start_producer(
            &executor,
            producer,
            &chain,
            &pool,
            p2p.as_ref(),
            network.as_ref(),
            dev_clock,
        ),
        None => None,
    };

    // admin_* and the trusted peers (issue 18): libp2p only until the devp2p wire joins.
    let admin: Option<Arc<dyn spectrum_rpc::AdminNetwork>> = network.as_ref().map(|started| {
        let trusted = Arc::new(Mutex::new(ops.trusted_peers.clone()));
        executor.spawn(
            "trusted peers",
            admin::redial_trusted(started.network.clone(), trusted.clone()),
        );
        Arc::new(admin::NodeAdmin {
            network: started.network.clone(),
            trusted,
            client_version: client_version.clone(),
        }) as Arc<dyn spectrum_rpc::AdminNetwork>
    });
    let rpc = if rpc.http.is_some() || rpc.ws.is_some() {
        let ctx = RpcContext {
            db: reader.clone(),
            spec: spec.clone(),
            pool: pool.clone(),
            events: chain.clone(),
            network: match &network {
                Some(network) => Arc::new(RpcNetworkView {
                    network: network.network.clone(),
                    progress: network.sync.progress(),
                    devp2p: devp2p.as_ref().map(|d| d.handle.clone()),
                }),
                None => Arc::new(spectrum_rpc::NoNetwork),
            },
            min_gas_price: gas_price,
            validator: validator_address,
            client_version,
            seal_guard,
            admin,
            dev_controls: dev_controls.map(|control| {
                Arc::new(dev_control::ProducerDevControl(control))
                    as Arc<dyn spectrum_rpc::DevControlApi>
            }),
        };
        let handle = spectrum_rpc::start(rpc, ctx).await?;
        if let Some(addr) = handle.http_addr() {
            tracing::info!(url = %format!("http://{addr}"), "HTTP JSON-RPC listening");
        }
        if let Some(addr) = handle.ws_addr() {
            tracing::info!(url = %format!("ws://{addr}"), "WebSocket JSON-RPC listening");
        }
        Some(handle)
    } else {
        None
    };
    let metrics_addr = observe::start(
        &executor,
        &ops,
        observe::Observed {
            chain: chain.clone(),
            pool: pool.clone(),
            network: network.as_ref().map(|n| n.network.clone()),
            progress: network.as_ref().map(|n| n.sync.progress()),
            validator: validator_address,
            clock: observer_clock,
            devp2p: devp2p.as_ref().map(|d| d.handle.clone()),
            chief: spectrum_tribe_state::ChiefContracts::new(
                chain.provider().clone(),
                chain.spec().clone(),
            ),
        },
    )
    .await?;
    let (network, sync) = match network {
        Some(started) => (Some(started.network), Some(started.sync)),
        None => (None, None),
    };
    Ok(NodeHandle {
        tasks,
        rpc,
        sync,
        network,
        chain,
        pool,
        devp2p: devp2p.map(|d| d.handle),
        metrics_addr,
    })
}

/// The running network side: the handle and the sync service's.
struct StartedNetwork {
    network: NetworkHandle,
    sync: spectrum_sync::SyncHandle,
}

/// Starts the network on the chain's database, the one sync driver (over libp2p and, when it
/// runs, devp2p) and transaction propagation.
async fn start_network(
    executor: &TaskExecutor,
    p2p: &P2pConfig,
    chain: &Arc<Blockchain>,
    pool: &Arc<Pool>,
    devp2p: Option<spectrum_sync::Devp2pWire>,
) -> Result<StartedNetwork, LaunchError> {
    let db = chain.provider().clone();
    let spec = chain.spec();
    let genesis_hash = db.canonical_hash(0)?.ok_or(LaunchError::NoGenesis)?;
    let mut config = NetworkConfig::new(p2p.node_key, genesis_hash, spec.chain_id);
    config.listen_addr = p2p.listen_addr;
    config.port = p2p.port;
    config.bootnodes = p2p.bootnodes.clone();
    config.max_peers = p2p.max_peers;
    config.discovery = p2p.discovery;
    config.mdns = p2p.mdns;
    let view = Arc::new(ChainDataView::new(db, spec.chain_id, genesis_hash));
    let (network, events, service) = spectrum_network::start_service(config, view)
        .await
        .map_err(LaunchError::Network)?;
    executor.spawn_critical("network", service);
    tracing::info!(peer_id = %network.local_peer_id(), "p2p network started");

    let (txs_in, gossiped) = mpsc::channel(1024);
    let wires = spectrum_sync::SyncWires {
        libp2p: Some((network.clone(), events)),
        devp2p,
    };
    let (sync, service) =
        spectrum_sync::sync_over(chain.clone(), wires, Some(txs_in), SyncConfig::default());
    executor.spawn_critical("sync", service);
    let recent = Arc::new(Mutex::new(
        spectrum_network::transactions::RecentHashes::default(),
    ));
    executor.spawn_critical(
        "transaction admission",
        spectrum_network::transactions::admit_gossiped_transactions(
            gossiped,
            pool.clone(),
            network.clone(),
            recent.clone(),
        ),
    );
    executor.spawn_critical(
        "transaction gossip",
        spectrum_network::transactions::gossip_pool_transactions(
            pool.clone(),
            network.clone(),
            recent,
        ),
    );
    Ok(StartedNetwork { network, sync })
}

/// `--dev` (a producer that does not wait for slots): the movable clock of the dev controls.
fn dev_clock(
    producer: Option<&ProducerConfig>,
    clock: &Arc<dyn Clock>,
) -> Option<Arc<spectrum_producer::DevClock>> {
    producer
        .filter(|p| p.mode != spectrum_producer::ProductionMode::Slots)
        .map(|_| Arc::new(spectrum_producer::DevClock::new(clock.clone())))
}

/// Block production: on a network after catching up, and every sealed block gossiped; alone,
/// sealed blocks stay here. On `--dev` (`dev_clock`) the producer takes the dev controls:
/// their handle is returned for RPC.
fn start_producer(
    executor: &TaskExecutor,
    config: ProducerConfig,
    chain: &Arc<Blockchain>,
    pool: &Arc<Pool>,
    p2p: Option<&P2pConfig>,
    network: Option<&StartedNetwork>,
    dev_clock: Option<Arc<spectrum_producer::DevClock>>,
) -> Option<spectrum_producer::DevControl> {
    let (service, mut produced) =
        ProducerService::new(chain.clone(), Arc::new(PoolSource(pool.clone())), config);
    let (service, dev_controls) = match dev_clock {
        Some(clock) => {
            let (service, control) = service.with_dev_control(clock);
            (service, Some(control))
        }
        None => (service, None),
    };
    let pending = pool.subscribe_pending();
    match (p2p, network) {
        (Some(p2p), Some(started)) => {
            let (peers, progress) = (started.sync.peers(), started.sync.progress());
            let (catch_up, reader) = (p2p.catch_up, chain.provider().clone());
            executor.spawn_critical("block producer", async move {
                spectrum_sync::wait_until_in_step(catch_up, &peers, progress, &*reader).await;
                service.run(pending).await;
            });
            let network = started.network.clone();
            executor.spawn_critical("block relay", async move {
                while let Some(block) = produced.recv().await {
                    spectrum_metrics::get().validator_sealed_blocks.inc();
                    tracing::debug!(number = block.number(), hash = %block.hash(), "gossiping our block");
                    network.broadcast_block(&block).await;
                }
            });
        }
        _ => {
            executor.spawn_critical("block producer", service.run(pending));
            // Without a network, sealed blocks stay here.
            executor.spawn("sealed block drain", async move {
                while produced.recv().await.is_some() {
                    spectrum_metrics::get().validator_sealed_blocks.inc();
                }
            });
        }
    }
    dev_controls
}

fn key_address(key: &SecretKey) -> Address {
    spectrum_primitives::public_key_to_address(&key.public_key(secp256k1::SECP256K1))
}

/// Says at start whether the validator may seal the next block, so that a key outside the
/// signer set is obvious (it then seals nothing until the chief contract lists it).
fn announce_role(chain: &Blockchain, spec: &Arc<ChainSpec>, key: &SecretKey) {
    let address = key_address(key);
    let reader = chain.provider();
    let producer = spectrum_producer::BlockProducer::new(reader.clone(), spec.clone());
    let head = reader
        .head()
        .ok()
        .flatten()
        .and_then(|(_, hash)| reader.header(&hash).ok().flatten());
    let Some(head) = head else { return };
    match producer.plan(&head, address) {
        Ok(plan) => tracing::info!(
            validator = %address,
            next = plan.number,
            difficulty = plan.difficulty,
            delay_secs = plan.delay,
            "validator key loaded; it may seal the next block"
        ),
        Err(spectrum_producer::ProducerError::NotAuthorised { .. }) => tracing::warn!(
            validator = %address,
            "the validator key is neither in the signer set nor a leader: it seals nothing until the chief contract lists it"
        ),
        Err(error) => tracing::warn!(validator = %address, %error, "cannot read the signer set"),
    }
}
