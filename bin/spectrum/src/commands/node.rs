//! Running the node (no subcommand): the chain, the pool, block production for validators and
//! `--dev`, the p2p network and sync ([`p2p`]), and JSON-RPC.

mod p2p;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use alloy_primitives::{Address, B256};
use eyre::WrapErr;
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, CanonicalChange, TribeBlockValidator};
use spectrum_chainspec::{ChainSpec, dev};
use spectrum_producer::{
    Candidate, ProducerConfig, ProducerService, ProductionMode, SealRecord, TransactionSource,
};
use spectrum_rpc::{RpcConfig, RpcContext};
use spectrum_storage::Database;
use spectrum_storage_api::{ChainReader, StateError, StateProvider};
use spectrum_txpool::{HeadUpdate, Pool, PoolConfig, StateSource, TxPool};
use tokio::task::JoinHandle;

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
    let signals = {
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
    runtime.block_on(serve(
        db.clone(),
        spec,
        cli,
        &datadir,
        validator_key,
        signals,
    ))?;
    tracing::info!("shutting down");
    db.flush()?;
    drop(db);
    Ok(())
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

async fn serve(
    db: Arc<Database>,
    spec: Arc<ChainSpec>,
    cli: &Cli,
    datadir: &DataDir,
    validator_key: Option<SecretKey>,
    mut signals: ShutdownSignals,
) -> eyre::Result<()> {
    let validator = Arc::new(TribeBlockValidator::new(db.clone(), spec.clone()));
    let chain = Arc::new(
        Blockchain::new(db.clone(), spec.clone(), validator)
            .with_max_reorg_depth(cli.global.max_reorg_depth),
    );
    // From here on the node reads chain data through the chain's reader, never the database.
    let reader = chain.provider().clone();
    let head = reader
        .header_by_number(reader.head()?.map(|(n, _)| n).unwrap_or(0))?
        .ok_or_else(|| eyre::eyre!("the head header is missing"))?;

    let mut pool_config = PoolConfig::for_chain(&spec);
    if let Some(key) = &validator_key {
        pool_config.reserved_nonce_senders.push(key_address(key));
    }
    let gas_price = pool_config.min_gas_price;
    let validator_address = validator_key.as_ref().map(key_address);
    let pool = Arc::new(Pool::new(
        pool_config,
        spec.clone(),
        Arc::new(ChainState(reader.clone())),
        head.number,
        head.gas_limit,
    ));
    let mut tasks: Vec<JoinHandle<()>> = vec![
        tokio::spawn(pool_upkeep(reader.clone(), chain.subscribe(), pool.clone())),
        tokio::spawn(future_blocks(chain.clone())),
    ];

    if let Some(key) = &validator_key {
        announce_role(&chain, &spec, key);
    }
    let mut p2p = if p2p::enabled(cli) {
        let node_key = p2p::node_key(validator_key.as_ref(), datadir.path())?;
        Some(p2p::start(cli, datadir, &chain, &pool, node_key).await?)
    } else {
        None
    };
    if let Some(key) = validator_key {
        let mode = match (cli.dev, cli.produce.dev_period) {
            (true, Some(secs)) => ProductionMode::Interval(Duration::from_secs(secs)),
            (true, None) => ProductionMode::OnDemand {
                idle: DEV_IDLE_BLOCK,
            },
            (false, _) => ProductionMode::Slots,
        };
        let (service, mut produced) = ProducerService::new(
            chain.clone(),
            Arc::new(PoolSource(pool.clone())),
            ProducerConfig {
                key,
                coinbase: cli.produce.coinbase,
                mode,
                record: Arc::new(seal_record(datadir, &key)?),
            },
        );
        let pending = pool.subscribe_pending();
        match &mut p2p {
            Some(p2p) => {
                let (network, progress) = (p2p.network.clone(), p2p.sync.progress());
                let (catch_up, reader) = (p2p::CatchUp::from_cli(cli), reader.clone());
                tasks.push(tokio::spawn(async move {
                    p2p::wait_until_in_step(catch_up, &network, progress, &*reader).await;
                    service.run(pending).await;
                }));
                p2p.relay_sealed_blocks(produced);
            }
            None => {
                tasks.push(tokio::spawn(service.run(pending)));
                // Without a network, sealed blocks stay here.
                tasks.push(tokio::spawn(async move {
                    while produced.recv().await.is_some() {}
                }));
            }
        }
    }

    let rpc_config = rpc_config(cli);
    let rpc = if rpc_config.http.is_some() || rpc_config.ws.is_some() {
        let ctx = RpcContext {
            db: reader.clone(),
            spec: spec.clone(),
            pool: pool.clone(),
            events: chain.clone(),
            network: match &p2p {
                Some(p2p) => p2p.rpc_view(),
                None => Arc::new(spectrum_rpc::NoNetwork),
            },
            min_gas_price: gas_price,
            validator: validator_address,
            client_version: format!(
                "spectrum-rs/v{}/{}-{}",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH
            ),
        };
        let handle = spectrum_rpc::start(rpc_config, ctx).await?;
        if let Some(addr) = handle.http_addr() {
            tracing::info!(url = %format!("http://{addr}"), "HTTP JSON-RPC listening");
        }
        if let Some(addr) = handle.ws_addr() {
            tracing::info!(url = %format!("ws://{addr}"), "WebSocket JSON-RPC listening");
        }
        if cli.dev {
            print_dev_banner(&spec, handle.http_addr(), handle.ws_addr());
        } else if let Some(addr) = handle.http_addr() {
            // On stdout for scripts and tests (a port of 0 is only known here).
            println!("HTTP JSON-RPC: http://{addr}");
        }
        Some(handle)
    } else {
        None
    };

    signals.recv().await;
    if let Some(rpc) = rpc {
        rpc.stop().await;
    }
    for task in tasks {
        task.abort();
    }
    if let Some(p2p) = p2p {
        p2p.stop();
    }
    Ok(())
}

/// The record of the last block `key` signed: `<datadir>/last-sealed-<address>`, outside the
/// database so that it survives the database losing unsynced commits (and is fsync'd itself).
fn seal_record(datadir: &DataDir, key: &SecretKey) -> eyre::Result<SealRecord> {
    let path = datadir
        .path()
        .join(format!("last-sealed-{}", key_address(key)));
    SealRecord::open(&path).wrap_err("cannot read the record of the last sealed block")
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
        http_apis: rpc.http_api.clone(),
        ws_apis: rpc.ws_api.clone(),
        http_cors: rpc.http_corsdomain.clone(),
        http_vhosts: rpc.http_vhosts.clone(),
        ws_origins: rpc.ws_origins.clone(),
        limits,
    }
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

/// The pool validates against the head's state.
struct ChainState(Arc<dyn ChainReader>);

impl StateSource for ChainState {
    fn latest(&self) -> Result<Box<dyn StateProvider + '_>, StateError> {
        let state = self.0.latest().map_err(|e| StateError(Box::new(e)))?;
        Ok(state)
    }
}

/// The producer takes its transactions from the pool.
struct PoolSource(Arc<Pool>);

impl TransactionSource for PoolSource {
    fn best(&self) -> Vec<Candidate> {
        self.0
            .best_transactions()
            .map(|t| Candidate {
                tx: t.tx.clone(),
                sender: t.sender,
            })
            .collect()
    }

    fn has_pending(&self) -> bool {
        self.0.status().pending > 0
    }

    fn remove_invalid(&self, hashes: &[B256]) {
        self.0.remove(hashes);
    }
}

/// Keeps the pool in step with the canonical chain: mined transactions out, reorged-out ones
/// back in, stale ones dropped.
async fn pool_upkeep(
    db: Arc<dyn ChainReader>,
    mut changes: tokio::sync::broadcast::Receiver<Arc<CanonicalChange>>,
    pool: Arc<Pool>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "pool upkeep fell behind; re-reading the head");
                match head_only_change(&*db) {
                    Some(change) => Arc::new(change),
                    None => continue,
                }
            }
            Err(RecvError::Closed) => return,
        };
        let update = head_update(&*db, &change);
        let pool = pool.clone();
        // Re-validating reads the state: off the async workers.
        let _ = tokio::task::spawn_blocking(move || pool.on_head_update(update)).await;
    }
}

fn head_only_change(db: &dyn ChainReader) -> Option<CanonicalChange> {
    let (number, _) = db.head().ok()??;
    let head = db.header_by_number(number).ok()??;
    Some(CanonicalChange {
        removed: Vec::new(),
        added: vec![head],
    })
}

fn head_update(db: &dyn ChainReader, change: &CanonicalChange) -> HeadUpdate {
    let body_txs = |hash: &B256| {
        db.body(hash)
            .ok()
            .flatten()
            .map(|b| b.transactions)
            .unwrap_or_default()
    };
    let mined: Vec<B256> = change
        .added
        .iter()
        .flat_map(|h| body_txs(&h.hash()))
        .map(|tx| tx.hash())
        .collect();
    let reinject = change
        .removed
        .iter()
        .flat_map(|h| body_txs(&h.hash()))
        .filter(|tx| !mined.contains(&tx.hash()))
        .collect();
    let head = change.head();
    HeadUpdate {
        number: head.map_or(0, |h| h.number),
        gas_limit: head.map_or(0, |h| h.gas_limit),
        mined,
        reinject,
    }
}

/// Blocks that arrived a little early wait for their time (tribe.md §2).
async fn future_blocks(chain: Arc<Blockchain>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if chain.future_block_count() == 0 {
            continue;
        }
        let chain = chain.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for result in chain.insert_due_future_blocks() {
                if let Err(error) = result {
                    tracing::warn!(%error, "a held block failed");
                }
            }
        })
        .await;
    }
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
