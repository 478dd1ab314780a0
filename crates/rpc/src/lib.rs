//! JSON-RPC 2.0 over HTTP and WebSocket (jsonrpsee): what wallets, libraries and explorers ask
//! a node, answered with geth's shapes on Spectrum's chain.
//!
//! **Owns:** the servers ([`start`]: HTTP and WebSocket, limits, the `Host` allow-list, CORS and
//! WebSocket origins, the heavy-method pool and the EVM time budget),
//! strict parameter decoding ([`params`]: hex quantities, EIP-1898 block parameters, call
//! objects, log filters), the error codes ([`error`]), and the namespaces: `eth` (state, blocks,
//! transactions, receipts, `eth_call` / `eth_estimateGas`, logs, filters, subscriptions),
//! `net`, `web3`, `txpool` and the read-only `tribe` methods. `docs/json-rpc.md` lists every
//! method with an example and its Spectrum differences.
//!
//! **Must not touch:** writes to the database (it reads chain data through
//! `spectrum-storage-api`'s `ChainReader`, never the database itself), block building, the
//! network. Transactions go to the pool (`spectrum-txpool`); calls run on a throw-away overlay
//! (`spectrum-execution`); chief contracts are read through `spectrum-tribe-state`'s
//! `ChiefContracts`.
//!
//! How a request passes through: jsonrpsee parses the envelope (parse errors, batches, unknown
//! methods are its own); the method decodes its positional parameters with [`params`] (a bad
//! one is -32602 naming its position); it reads a state snapshot (`StateProviderFactory`: the
//! head, or a canonical block's history for a block parameter; header and state from one
//! snapshot) and returns a `serde_json::Value` in geth's
//! shape. Heavy methods (`eth_call`, `eth_estimateGas`, `eth_getLogs`, `eth_getFilterLogs`,
//! `eth_feeHistory`, `tribe_*`) run on the RPC's own small thread pool (`heavy.rs`) under a
//! global admission limit, so that a flood of them neither stalls the connections nor takes
//! the cores chain import and block production run on; EVM calls also stop at a wall-clock
//! budget (`--rpc.evmtimeout`).
//!
//! Before any of that, the HTTP middleware ([`http`]) refuses with 403 a request whose `Host` is
//! not allowed (`--http.vhosts`, DNS rebinding) or whose browser `Origin` is not
//! (`--http.corsdomain`).
//!
//! Spectrum's hidden chief-update transaction: block objects leave it out of `transactions`, as
//! the reference node does; counts, index lookups and receipts include it (index 0).

mod api;
mod blocks;
mod call;
mod chain_events;
mod debug;
mod dev;
// ---- dev controls (issue 19) ----
mod dev_control_api;
mod dev_controls;
pub use dev_control_api::{
    DevControlApi, DevControlError, DevFuture, DevMinedBlock, DevSkippedSlot,
};
pub mod error;
mod filters;
mod heavy;
pub mod http;
mod misc;
mod network;
mod overrides;
pub mod params;
mod proof;
mod pubsub;
mod server;
mod state;
mod tribe;
mod tribe_slots;
mod txpool;
// ---- operations (issue 18) ----
mod admin;
mod metered;
mod status_page;
pub use admin::AdminNetwork;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use alloy_primitives::{Address, U256};
use spectrum_chainspec::ChainSpec;
use spectrum_storage_api::ChainReader;
use spectrum_txpool::TxPool;

pub use call::parse_duration;
pub use chain_events::CanonicalEvents;
pub use network::{NetworkInfo, NoNetwork, SyncProgress};
pub use server::{RpcHandle, start};

/// A group of methods that can be switched on or off (`--http.api`, `--ws.api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    /// `eth_*`.
    Eth,
    /// `net_*`.
    Net,
    /// `web3_*`.
    Web3,
    /// `txpool_*`.
    Txpool,
    /// Read-only `tribe_*`.
    Tribe,
    /// `debug_*`: tracers and raw encodings. Not in [`Namespace::ALL`]: off unless asked for
    /// (`--http.api debug`) or on `--dev`.
    Debug,
    /// `admin_*` (issue 18): peer control. Never on by default, so not in [`Namespace::ALL`].
    Admin,
}

impl Namespace {
    /// All namespaces this node serves; all are read-only or submit signed transactions, so
    /// all are on by default.
    pub const ALL: [Namespace; 5] = [
        Namespace::Eth,
        Namespace::Net,
        Namespace::Web3,
        Namespace::Txpool,
        Namespace::Tribe,
    ];

    /// The prefix of its method names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Eth => "eth",
            Self::Net => "net",
            Self::Web3 => "web3",
            Self::Txpool => "txpool",
            Self::Tribe => "tribe",
            Self::Debug => "debug",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Namespace {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .chain([Namespace::Debug, Namespace::Admin])
            .find(|n| n.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown API namespace {s:?}: this node serves eth, net, web3, txpool, tribe, \
                     debug, admin (debug and admin only when named; no key namespace is served \
                     over RPC)"
                )
            })
    }
}

/// Limits that keep one client from exhausting the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcLimits {
    /// Largest request body in bytes.
    pub max_request_bytes: u32,
    /// Largest response body in bytes.
    pub max_response_bytes: u32,
    /// Most requests in one batch.
    pub max_batch_len: u32,
    /// Most connections per server.
    pub max_connections: u32,
    /// Most subscriptions on one WebSocket connection.
    pub max_subscriptions_per_connection: u32,
    /// Most subscriptions on all connections together.
    pub max_subscriptions: usize,
    /// Most blocks one `eth_getLogs` may scan.
    pub max_logs_block_range: u64,
    /// Most logs one `eth_getLogs` (or `eth_getFilterLogs`) may return.
    pub max_logs: usize,
    /// Most installed filters (`eth_new*Filter`) at once.
    pub max_filters: usize,
    /// Most changes a filter buffers between polls (older ones are dropped).
    pub max_filter_buffer: usize,
    /// Bytes all filters together may buffer between polls (estimated from the JSON they
    /// return); past it a filter drops its own oldest changes first.
    pub max_filter_bytes: usize,
    /// Gas cap of `eth_call` and `eth_estimateGas` (geth's `--rpc.gascap`).
    pub gas_cap: u64,
    /// Wall-clock budget of one `eth_call` or one whole `eth_estimateGas` (geth's
    /// `--rpc.evmtimeout`); zero means none.
    pub evm_timeout: Duration,
    /// Threads of the heavy-method pool: how many heavy requests run at once.
    pub heavy_threads: usize,
    /// Heavy requests that may wait for a thread; more are refused (-32005).
    pub heavy_queue: usize,
    /// Messages buffered for one WebSocket connection; a subscriber that falls this far
    /// behind loses its subscription instead of growing the node's memory.
    pub ws_message_buffer: u32,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            max_request_bytes: 5 * 1024 * 1024,
            max_response_bytes: 32 * 1024 * 1024,
            max_batch_len: 1000,
            max_connections: 256,
            max_subscriptions_per_connection: 1024,
            max_subscriptions: 10_000,
            max_logs_block_range: 10_000,
            max_logs: 10_000,
            max_filters: 10_000,
            max_filter_buffer: 10_000,
            max_filter_bytes: 64 * 1024 * 1024,
            gas_cap: 50_000_000,
            evm_timeout: Duration::from_secs(5),
            heavy_threads: default_heavy_threads(),
            heavy_queue: 256,
            ws_message_buffer: 1024,
        }
    }
}

/// Half the cores (at least one): the other half stays with import and block production.
pub fn default_heavy_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// HTTP listening address (`None` = off). Port 0 binds an ephemeral port.
    pub http: Option<SocketAddr>,
    /// WebSocket listening address (`None` = off).
    pub ws: Option<SocketAddr>,
    /// Namespaces served over HTTP.
    pub http_apis: Vec<Namespace>,
    /// Namespaces served over WebSocket.
    pub ws_apis: Vec<Namespace>,
    /// Browser origins allowed to call the HTTP server (`--http.corsdomain`; `*` = any). A
    /// request with another `Origin` is refused (403).
    pub http_cors: Vec<String>,
    /// Host names the HTTP server answers to (`--http.vhosts`; `*` = any): the DNS-rebinding
    /// guard. A `Host` that is an IP address is always accepted, as geth does.
    pub http_vhosts: Vec<String>,
    /// Browser origins allowed to open a WebSocket (`--ws.origins`; `*` = any; empty = local
    /// pages only).
    pub ws_origins: Vec<String>,
    /// Size and count limits.
    pub limits: RpcLimits,
    /// `--dev` only: keys of the accounts the node signs `eth_sendTransaction` for and lists
    /// in `eth_accounts` (the well-known dev keys). Empty elsewhere.
    pub dev_signers: Vec<secp256k1::SecretKey>,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            http: None,
            ws: None,
            http_apis: Namespace::ALL.to_vec(),
            ws_apis: Namespace::ALL.to_vec(),
            http_cors: Vec::new(),
            http_vhosts: vec!["localhost".to_owned()],
            ws_origins: Vec::new(),
            limits: RpcLimits::default(),
            dev_signers: Vec::new(),
        }
    }
}

/// What the methods read and where transactions go.
pub struct RpcContext {
    /// The chain data: headers, blocks, receipts, chain info and state snapshots.
    pub db: Arc<dyn ChainReader>,
    /// The chain.
    pub spec: Arc<ChainSpec>,
    /// The transaction pool.
    pub pool: Arc<dyn TxPool>,
    /// Canonical head changes (newHeads, logs, block filters).
    pub events: Arc<dyn CanonicalEvents>,
    /// Peers and sync progress.
    pub network: Arc<dyn NetworkInfo>,
    /// The pool's minimum gas price: the floor of `eth_gasPrice`.
    pub min_gas_price: U256,
    /// `web3_clientVersion`.
    pub client_version: String,
    /// The address this node seals with, if it is a validator (`eth_coinbase`,
    /// `tribe_getMiner`, the `signerLevel` of `tribe_getStatus`).
    pub validator: Option<Address>,
    // ---- validator operations ----
    /// Why this validator refuses to seal (the double-signing guard), asked on each
    /// `tribe_getStatus`; `None` on a node that does not seal.
    pub seal_guard: Option<SealGuardView>,

    // ---- operations (issue 18) ----
    /// Peer control for `admin_*` (`None`: no network; the methods say so).
    pub admin: Option<Arc<dyn AdminNetwork>>,

    // ---- dev controls (issue 19) ----
    /// `--dev` only: the producer's control channel behind `evm_*`, `anvil_*`, `hardhat_*`
    /// (`dev_controls`); `None` elsewhere, and those methods are not served.
    pub dev_controls: Option<Arc<dyn DevControlApi>>,
}

/// The double-signing guard's refusal, if any, in words (see `RpcContext::seal_guard`).
pub type SealGuardView = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Why the servers could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Binding a listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A method name was registered twice (a bug).
    #[error("registering methods: {0}")]
    Register(String),
}
