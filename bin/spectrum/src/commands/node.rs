//! Running the node (no subcommand): the command line becomes a [`NodeConfig`] (keys loaded,
//! the node's identity, [`p2p`] settings) and [`spectrum_node::launch`] runs it until a signal
//! or a critical task's end.

mod p2p;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use alloy_primitives::Address;
use eyre::WrapErr;
use secp256k1::SecretKey;
use spectrum_chainspec::{ChainSpec, dev};
use spectrum_node::{NodeConfig, NodeHandle, SystemClock};
use spectrum_producer::{ProducerConfig, ProductionMode, SealRecord};
use spectrum_rpc::RpcConfig;

use crate::{cli::Cli, datadir::DataDir};

/// `--dev` seals an empty block after this long without one.
const DEV_IDLE_BLOCK: Duration = Duration::from_secs(5);

pub fn run(spec: ChainSpec, datadir: Option<DataDir>, cli: &Cli) -> eyre::Result<()> {
    // `--dev` without --datadir runs in a temporary directory removed at exit.
    let temp;
    let datadir = match datadir {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new().prefix("spectrum-dev-").tempdir()?;
            DataDir::resolve(
                Some(temp.path()),
                &spectrum_chainspec::ChainSelector::Builtin("dev"),
            )?
        }
    };
    let db = Arc::new(super::open_initialised(&spec, &datadir)?);
    let spec = Arc::new(spec);
    let (number, hash) = db
        .head()?
        .ok_or_else(|| eyre::eyre!("the database has no head"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Listening for SIGTERM/SIGINT from before "node started": a supervisor (or a test) that
    // stops the node as soon as it reports itself gets a clean shutdown, not a killed process.
    let mut signals = {
        let _context = runtime.enter();
        ShutdownSignals::install().wrap_err("cannot listen for shutdown signals")?
    };
    tracing::info!(
        chain = %spec.name,
        chain_id = spec.chain_id,
        head = number,
        %hash,
        datadir = %datadir.path().display(),
        "node started"
    );
    let validator_key = validator_key(cli, &datadir)?;
    let config = node_config(cli, &datadir, db.clone(), spec, validator_key)?;
    let outcome = runtime.block_on(async {
        let node = spectrum_node::launch(config).await?;
        report_addresses(&node, cli);
        eyre::Ok(node.run_until(signals.recv()).await)
    })?;
    tracing::info!("shutting down");
    db.flush()?;
    drop(db);
    // A critical task that ended stopped the node: exit non-zero with its name.
    outcome.map_err(eyre::Report::new)
}

/// The key this node seals with, if it produces blocks: on `--dev` the dev validator key (or
/// `--dev.key`); with `--mine` the keystore key unlocked with `--password` (or the plain key
/// file the operator insisted on). A wrong password or a missing key stops the node here,
/// before anything is signed.
fn validator_key(cli: &Cli, datadir: &DataDir) -> eyre::Result<Option<SecretKey>> {
    if cli.dev && cli.produce.dev_key.is_none() {
        return parse_secret(dev::DEV_VALIDATOR_KEY).map(Some);
    }
    if !cli.dev && !cli.produce.mine {
        return Ok(None);
    }
    let source = super::account::key_source(cli, datadir).ok_or_else(|| {
        eyre::eyre!(
            "--mine needs the validator key: --password FILE (keystore in {}), optionally --unlock ADDRESS",
            datadir.path().join("keystore").display()
        )
    })?;
    if let spectrum_keystore::KeySource::PlainHexFile(path) = &source {
        tracing::warn!(
            path = %path.display(),
            "INSECURE: the validator key is read from an unencrypted file; keep it in a keystore (`spectrum account import`)"
        );
    }
    let key =
        spectrum_keystore::load_validator_key(&source).wrap_err("cannot load the validator key")?;
    Ok(Some(*key.secret_key()))
}

pub(super) fn parse_secret(hex: &str) -> eyre::Result<SecretKey> {
    let bytes = alloy_primitives::hex::decode(hex.trim()).wrap_err("not hex")?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| eyre::eyre!("a private key is 32 bytes"))?;
    SecretKey::from_byte_array(bytes).map_err(|_| eyre::eyre!("not a valid secp256k1 private key"))
}

fn key_address(key: &SecretKey) -> Address {
    spectrum_primitives::public_key_to_address(&key.public_key(secp256k1::SECP256K1))
}

/// The launcher's configuration from the command line.
fn node_config(
    cli: &Cli,
    datadir: &DataDir,
    db: Arc<spectrum_storage::Database>,
    spec: Arc<ChainSpec>,
    validator_key: Option<SecretKey>,
) -> eyre::Result<NodeConfig> {
    let p2p = if p2p::enabled(cli) {
        let node_key = p2p::node_key(validator_key.as_ref(), datadir.path())?;
        Some(p2p::config(cli, node_key))
    } else {
        None
    };
    let producer = match validator_key {
        Some(key) => Some(ProducerConfig {
            key,
            coinbase: cli.produce.coinbase,
            mode: production_mode(cli),
            record: Arc::new(seal_record(datadir, &key)?),
        }),
        None => None,
    };
    let engine = db.clone();
    Ok(NodeConfig {
        spec,
        db,
        clock: Arc::new(SystemClock),
        max_reorg_depth: cli.global.max_reorg_depth,
        producer,
        p2p,
        rpc: rpc_config(cli),
        ops: ops_config(cli, datadir, engine),
        state_cache_mb: cli.global.cache_state_mb,
        client_version: format!(
            "spectrum-rs/v{}/{}-{}",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
    })
}

fn production_mode(cli: &Cli) -> ProductionMode {
    match (cli.dev, cli.produce.dev_period) {
        (true, Some(secs)) => ProductionMode::Interval(Duration::from_secs(secs)),
        (true, None) => ProductionMode::OnDemand {
            idle: DEV_IDLE_BLOCK,
        },
        (false, _) => ProductionMode::Slots,
    }
}

/// On stdout for scripts and tests (a port of 0 is only known once bound): the p2p address
/// other nodes take as a bootnode, the RPC URLs (the dev banner on `--dev`).
fn report_addresses(node: &NodeHandle, cli: &Cli) {
    for addr in node.p2p_addrs() {
        println!("P2P: {addr}");
    }
    if let Some(enode) = node.enode() {
        println!("ENODE: {enode}");
    }
    if cli.dev {
        if node.http_addr().is_some() || node.ws_addr().is_some() {
            print_dev_banner(node.chain().spec(), node.http_addr(), node.ws_addr());
        }
    } else if let Some(addr) = node.http_addr() {
        println!("HTTP JSON-RPC: http://{addr}");
    }
    if let Some(addr) = node.metrics_addr() {
        println!("Metrics: http://{addr}/metrics");
    }
}

/// The record of the last block `key` signed: `<datadir>/last-sealed-<address>`, outside the
/// database so that it survives the database losing unsynced commits (and is fsync'd itself).
fn seal_record(datadir: &DataDir, key: &SecretKey) -> eyre::Result<SealRecord> {
    let path = datadir
        .path()
        .join(format!("last-sealed-{}", key_address(key)));
    SealRecord::open(&path).wrap_err("cannot read the record of the last sealed block")
}

/// Metrics (`--metrics`) and the status line.
fn ops_config(
    cli: &Cli,
    datadir: &DataDir,
    db: Arc<dyn spectrum_storage_api::EngineStatsSource>,
) -> spectrum_node::OpsConfig {
    let ops = &cli.ops;
    spectrum_node::OpsConfig {
        metrics: ops
            .metrics
            .then(|| SocketAddr::new(ops.metrics_addr, ops.metrics_port)),
        db_path: Some(datadir.db()),
        trusted_peers: ops.trustedpeers.clone(),
        engine: Some(db),
        ..spectrum_node::OpsConfig::default()
    }
}

/// `--dev` turns HTTP and WebSocket on; otherwise `--http` / `--ws` do.
fn rpc_config(cli: &Cli) -> RpcConfig {
    let rpc = &cli.rpc;
    let limits = spectrum_rpc::RpcLimits {
        gas_cap: rpc.gas_cap,
        evm_timeout: rpc.evm_timeout,
        heavy_threads: rpc
            .heavy_threads
            .map_or_else(spectrum_rpc::default_heavy_threads, usize::from),
        heavy_queue: rpc.heavy_queue,
        ..spectrum_rpc::RpcLimits::default()
    };
    RpcConfig {
        http: (cli.dev || rpc.http).then(|| SocketAddr::new(rpc.http_addr, rpc.http_port)),
        ws: (cli.dev || rpc.ws).then(|| SocketAddr::new(rpc.ws_addr, rpc.ws_port)),
        http_apis: with_dev_apis(cli.dev, &rpc.http_api),
        ws_apis: with_dev_apis(cli.dev, &rpc.ws_api),
        http_cors: dev_cors(cli.dev, &rpc.http_corsdomain),
        http_vhosts: rpc.http_vhosts.clone(),
        ws_origins: rpc.ws_origins.clone(),
        limits,
        dev_signers: if cli.dev { dev_signers() } else { Vec::new() },
    }
}

/// `--dev` opens CORS to any origin (browser dApps on any local port) unless
/// `--http.corsdomain` says otherwise; other networks keep the default (none).
fn dev_cors(dev: bool, asked: &[String]) -> Vec<String> {
    if dev && asked.is_empty() {
        vec!["*".to_owned()]
    } else {
        asked.to_vec()
    }
}

/// The well-known dev keys the `--dev` node signs `eth_sendTransaction` with.
fn dev_signers() -> Vec<secp256k1::SecretKey> {
    dev::DEV_ACCOUNTS
        .iter()
        .filter_map(|(_, key)| {
            let bytes: [u8; 32] = alloy_primitives::hex::decode(key).ok()?.try_into().ok()?;
            secp256k1::SecretKey::from_byte_array(bytes).ok()
        })
        .collect()
}

/// `--dev` adds the `debug` namespace (tracers) to the namespaces asked for.
fn with_dev_apis(dev: bool, apis: &[spectrum_rpc::Namespace]) -> Vec<spectrum_rpc::Namespace> {
    let mut apis = apis.to_vec();
    if dev && !apis.contains(&spectrum_rpc::Namespace::Debug) {
        apis.push(spectrum_rpc::Namespace::Debug);
    }
    apis
}

/// What anvil prints: the funded accounts with their keys, and where to connect.
fn print_dev_banner(spec: &ChainSpec, http: Option<SocketAddr>, ws: Option<SocketAddr>) {
    let mut text = String::from("\nspectrum --dev: a local Spectrum chain, chain id ");
    text.push_str(&format!(
        "{}\n\nAvailable accounts (10,000 coins each)\n",
        spec.chain_id
    ));
    for (i, (address, _)) in dev::DEV_ACCOUNTS.iter().enumerate() {
        text.push_str(&format!("({i}) {address}\n"));
    }
    text.push_str("\nPrivate keys (well known: never use them on a real network)\n");
    for (i, (_, key)) in dev::DEV_ACCOUNTS.iter().enumerate() {
        text.push_str(&format!("({i}) {key}\n"));
    }
    text.push_str(&format!("\nMnemonic: {}\n", dev::DEV_MNEMONIC));
    text.push_str(&format!(
        "Validator (seals every block, funds no one): {}\n",
        dev::DEV_VALIDATOR_ADDRESS
    ));
    if let Some(addr) = http {
        text.push_str(&format!("\nHTTP JSON-RPC: http://{addr}\n"));
    }
    if let Some(addr) = ws {
        text.push_str(&format!("WebSocket JSON-RPC: ws://{addr}\n"));
    }
    println!("{text}");
}

/// SIGINT (Ctrl-C) and SIGTERM, registered when installed (not when first awaited).
struct ShutdownSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Registers the handlers; needs a tokio runtime context.
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves on the first of them.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
