//! The devp2p wire (the reference node's) beside libp2p: the service, discovery, the bridge
//! into the one sync driver (`spectrum_sync::devp2p`; the driver itself is started with
//! libp2p's side in `start_network`), block announcing and transaction exchange with the
//! pool. Started by [`crate::launch`] when [`crate::P2pConfig::devp2p`] is set.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use secp256k1::SecretKey;
use spectrum_chain::Blockchain;
use spectrum_devp2p::{
    Devp2pConfig, Devp2pHandle, Devp2pService, Discv4, Discv4Config, LocalNode, NodeRecord, PeerId,
    Status,
};
use spectrum_sync::{
    Devp2pWire,
    devp2p::{
        Devp2pFetcher, Devp2pTransactions, Known, KnownTransactions, announce_blocks,
        devp2p_bridge, relay_transactions,
    },
};
use spectrum_txpool::{Pool, TxOrigin, TxPool};
use tokio::sync::{mpsc, watch};

use crate::{LaunchError, TaskExecutor};

/// The devp2p settings of [`crate::P2pConfig`].
#[derive(Debug, Clone)]
pub struct Devp2pSettings {
    /// TCP (RLPx) and UDP (discovery) port; 0 = ephemeral.
    pub port: u16,
    /// `enode://` nodes: discovery starts from them, and they are dialled at start.
    pub bootnodes: Vec<NodeRecord>,
    /// Discovery v4 on (`--nodiscover` turns it off).
    pub discovery: bool,
    /// Most devp2p peers.
    pub max_peers: usize,
}

/// The running devp2p side.
pub(crate) struct StartedDevp2p {
    pub(crate) handle: Devp2pHandle,
    /// For the one sync driver (taken by `start_network`).
    pub(crate) wire: Mutex<Option<Devp2pWire>>,
}

/// eth's network id, from the chain spec (smc's `--networkid`).
fn network_id(chain: &Blockchain) -> u64 {
    chain.spec().network_id
}

/// Starts the devp2p service, its discovery and dial loop, the sync bridge, block announcing
/// and transaction exchange.
pub(crate) async fn start(
    executor: &TaskExecutor,
    settings: &Devp2pSettings,
    node_key: [u8; 32],
    listen_addr: IpAddr,
    chain: &Arc<Blockchain>,
    pool: &Arc<Pool>,
) -> Result<StartedDevp2p, LaunchError> {
    let secret = SecretKey::from_byte_array(node_key).map_err(|_| LaunchError::Devp2pKey)?;
    let db = chain.provider().clone();
    let genesis = db.canonical_hash(0)?.ok_or(LaunchError::NoGenesis)?;
    let head = db.head_total_difficulty()?.ok_or(LaunchError::NoHead)?;
    let (status_tx, status_rx) = watch::channel(Status {
        protocol_version: 63,
        network_id: network_id(chain),
        total_difficulty: head.total_difficulty,
        head: head.hash,
        genesis,
    });
    let listen = SocketAddr::new(listen_addr, settings.port);
    let (handle, events) = Devp2pService::start(Devp2pConfig {
        local: LocalNode::new(secret, settings.port),
        listen,
        max_peers: settings.max_peers,
        status: status_rx,
    })
    .await
    .map_err(LaunchError::Devp2p)?;
    let enode = handle.local_enode();
    tracing::info!(enode = %enode, "devp2p started");

    let fetcher = Devp2pFetcher::new(handle.clone());
    let known = Known::default();
    let (txs_in, txs_out) = mpsc::channel(1024);
    let (wire, bridge) = devp2p_bridge(chain.clone(), fetcher, events, known.clone(), Some(txs_in));
    executor.spawn_critical("devp2p bridge", bridge);
    executor.spawn_critical(
        "devp2p announce",
        announce_blocks(chain.clone(), handle.clone(), known.blocks, status_tx),
    );
    executor.spawn_critical(
        "devp2p transaction admission",
        admit_transactions(txs_out, pool.clone()),
    );
    executor.spawn_critical(
        "devp2p transaction gossip",
        send_pool_transactions(pool.clone(), handle.clone(), known.transactions),
    );
    let discovery = if settings.discovery {
        let bind = SocketAddr::new(listen_addr, enode.tcp_port);
        let disc = Discv4::bind(Discv4Config {
            secret_key: secret,
            bind,
            tcp_port: enode.tcp_port,
            bootnodes: settings.bootnodes.clone(),
        })
        .await
        .map_err(LaunchError::Devp2p)?;
        Some(disc)
    } else {
        None
    };
    executor.spawn(
        "devp2p dialer",
        dial_loop(
            handle.clone(),
            settings.bootnodes.clone(),
            discovery,
            settings.max_peers,
        ),
    );
    Ok(StartedDevp2p {
        handle,
        wire: Mutex::new(Some(wire)),
    })
}

/// Dials the bootnodes, then what discovery finds, whenever below the peer limit.
async fn dial_loop(
    handle: Devp2pHandle,
    bootnodes: Vec<NodeRecord>,
    discovery: Option<Discv4>,
    max_peers: usize,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let mut bootstrapped = false;
    loop {
        tick.tick().await;
        if handle.peer_count() >= max_peers {
            continue;
        }
        let connected: Vec<PeerId> = handle.peers().into_iter().map(|p| p.id).collect();
        let mut candidates = bootnodes.clone();
        if let Some(disc) = &discovery {
            if bootstrapped {
                let target =
                    spectrum_devp2p::peer_id_of(&spectrum_devp2p::crypto::random_secret_key());
                candidates.extend(disc.lookup(target).await);
            } else {
                candidates.extend(disc.bootstrap().await);
                bootstrapped = true;
            }
            candidates.extend(disc.table_nodes());
        }
        for node in candidates {
            if node.id == handle.local_enode().id || connected.contains(&node.id) {
                continue;
            }
            if handle.peer_count() >= max_peers {
                break;
            }
            let handle = handle.clone();
            tokio::spawn(async move {
                match handle.dial(&node).await {
                    // Another network or genesis: worth an operator's attention.
                    Err(error @ spectrum_devp2p::SessionError::Status(_)) => {
                        tracing::info!(node = %node, %error, "devp2p dial failed: peer refused");
                    }
                    Err(error) => tracing::debug!(node = %node, %error, "devp2p dial failed"),
                    Ok(_) => {}
                }
            });
        }
    }
}

/// Transactions from devp2p peers into the pool (the pool refuses chief updates and invalid
/// ones; the reference does not drop peers for them either). The bridge has already marked
/// them as known to their sender, so they never go back to it.
async fn admit_transactions(mut incoming: mpsc::Receiver<Devp2pTransactions>, pool: Arc<Pool>) {
    while let Some(Devp2pTransactions { txs, .. }) = incoming.recv().await {
        let pool = pool.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for tx in txs.into_iter().take(4096) {
                if let Err(error) = pool.add_transaction(tx, TxOrigin::External) {
                    tracing::trace!(%error, "devp2p transaction not pooled");
                }
            }
        })
        .await;
    }
}

/// Pending pool transactions out to the devp2p peers not known to have them (not back to
/// their sender, never twice to a peer). The pool never holds chief-update transactions, so
/// none is ever sent.
async fn send_pool_transactions(pool: Arc<Pool>, handle: Devp2pHandle, known: KnownTransactions) {
    use tokio::sync::broadcast::error::RecvError;
    let mut pending = pool.subscribe_pending();
    loop {
        let hash = match pending.recv().await {
            Ok(hash) => hash,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        if let Some(pooled) = pool.get(&hash) {
            relay_transactions(&handle, &known, std::slice::from_ref(&pooled.tx));
        }
    }
}
