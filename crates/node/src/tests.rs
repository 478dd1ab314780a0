//! The launcher on a real database and real sockets: a node starts with its servers bound,
//! stops on its shutdown signal, and stops by itself, with the task's name, when a critical
//! task panics or returns. (Unit tests, not an integration test: one test binary less to link
//! against RocksDB.)

use std::{net::SocketAddr, sync::Arc, time::Duration};

use crate::{CriticalTaskEnded, NodeConfig, NodeHandle, SystemClock, TaskExit, launch};
use spectrum_chainspec::ChainSpec;
use spectrum_rpc::RpcConfig;
use spectrum_storage::Database;
use tokio::net::TcpStream;

/// A node that does not stop within this is a failure, not a hang.
const STOP_DEADLINE: Duration = Duration::from_secs(30);

/// A dev-chain node without network or producer, HTTP JSON-RPC on an ephemeral port.
async fn start(dir: &tempfile::TempDir) -> NodeHandle {
    let spec = ChainSpec::dev();
    let db = Database::open(dir.path()).unwrap();
    db.init_genesis(spectrum_chain::genesis_commit(&spec).unwrap())
        .unwrap();
    launch(NodeConfig {
        spec: Arc::new(spec),
        db: Arc::new(db),
        clock: Arc::new(SystemClock),
        max_reorg_depth: spectrum_chain::DEFAULT_MAX_REORG_DEPTH,
        producer: None,
        p2p: None,
        rpc: RpcConfig {
            http: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..RpcConfig::default()
        },
        client_version: "test".to_owned(),
        ops: crate::OpsConfig::default(),
        state_cache_mb: spectrum_chain::DEFAULT_STATE_CACHE_MB,
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_critical_task_that_panics_stops_the_node_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(&dir).await;
    let http = node.http_addr().expect("HTTP on");
    TcpStream::connect(http).await.expect("RPC listening");
    node.executor()
        .spawn_critical("deliberate", async { panic!("on purpose") });
    let ended = tokio::time::timeout(STOP_DEADLINE, node.run_until(std::future::pending()))
        .await
        .expect("the node stops by itself")
        .expect_err("with the task's end");
    assert_eq!(
        ended,
        CriticalTaskEnded {
            name: "deliberate",
            exit: TaskExit::Panicked("on purpose".to_owned()),
        }
    );
    assert!(
        TcpStream::connect(http).await.is_err(),
        "RPC stopped with the node"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_critical_task_that_returns_stops_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(&dir).await;
    node.executor().spawn_critical("short-lived", async {});
    let ended = tokio::time::timeout(STOP_DEADLINE, node.run_until(std::future::pending()))
        .await
        .expect("the node stops by itself")
        .unwrap_err();
    assert_eq!(ended.exit, TaskExit::Returned);
    assert_eq!(
        ended.to_string(),
        "critical task short-lived ended: it returned"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_signal_stops_a_healthy_node_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(&dir).await;
    let http = node.http_addr().unwrap();
    // The node's own critical tasks (pool maintenance) are running: only the signal stops it.
    node.run_until(async {}).await.expect("a clean stop");
    assert!(TcpStream::connect(http).await.is_err());
}
