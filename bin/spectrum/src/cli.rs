//! The command line: geth-style flags, one struct per concern.

use std::{net::IpAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};
use spectrum_chainspec::ChainSelector;

/// A full node for Spectrum, SmartMesh's public chain.
///
/// Without a command, runs the node on the selected chain (initialising the datadir with the
/// chain's genesis on first start).
#[derive(Debug, Parser)]
#[command(name = "spectrum", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub rpc: RpcArgs,

    #[command(flatten)]
    pub network: NetworkArgs,

    /// Run a local development chain: chain `dev` (chain id 1337), a temporary datadir unless
    /// --datadir is given, HTTP and WebSocket RPC on.
    #[arg(long, global = false)]
    pub dev: bool,

    #[command(flatten)]
    pub produce: ProduceArgs,

    #[command(flatten)]
    pub validator_key: ValidatorKeyArgs,

    // ---- operations (issue 18): metrics, logs ----
    #[command(flatten)]
    pub ops: OpsArgs,
}

/// Block production (validators and `--dev`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Block production")]
pub struct ProduceArgs {
    /// Seal blocks with the node key whenever the signer set lets it (a validator).
    #[arg(long)]
    pub mine: bool,
    /// Fees and block rewards go to this address [default: the wallet bound to the node key in
    /// Anmap (`spectrum validator bind`), else the validator's own].
    #[arg(long = "miner.coinbase", value_name = "ADDRESS")]
    pub coinbase: Option<alloy_primitives::Address>,
    /// With --dev: one block every N seconds instead of one per transaction (plus an empty
    /// block every few seconds).
    #[arg(long = "dev.period", value_name = "SECS", requires = "dev", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub dev_period: Option<u64>,
    /// With --dev: seal with this private key (hex) instead of the documented dev validator key
    /// (the key must be a leader in the chain's genesis).
    #[arg(long = "dev.key", value_name = "HEX", requires = "dev")]
    pub dev_key: Option<String>,
    /// With --dev: slots per round [default: 1, the validator's only]. Above 1, staked nodes
    /// (`dev_stake`) are picked into the other slots and `dev_skipSlot` can make one miss
    /// its slot; blocks in an empty slot are then stamped 4 s after their parent (the
    /// leader's stand-in delay).
    #[arg(long = "dev.signer-limit", value_name = "N", requires = "dev", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub dev_signer_limit: Option<u64>,
}

/// Options every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Chain and data")]
pub struct GlobalArgs {
    /// The network: mainnet, testnet, devnet, dev, or the path of a genesis JSON file.
    #[arg(long, global = true, value_parser = parse_chain, default_value = "mainnet")]
    pub chain: ChainSelector,

    /// Data directory [default: ~/.spectrum for mainnet, ~/.spectrum/<chain> otherwise].
    #[arg(long, global = true, value_name = "DIR")]
    pub datadir: Option<PathBuf>,

    /// Log level: 0 silent, 1 error, 2 warn, 3 info, 4 debug, 5 trace (RUST_LOG overrides).
    #[arg(long, global = true, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=5))]
    pub verbosity: u8,

    /// Follow no branch that forks more than this many blocks below the head (gossip, sync
    /// and import alike).
    #[arg(long, global = true, value_name = "BLOCKS", default_value_t = spectrum_chain::DEFAULT_MAX_REORG_DEPTH)]
    pub max_reorg_depth: u64,

    // ---- import speed (issue 16) ----
    /// MiB of hot accounts, storage slots and trie nodes kept in memory between blocks
    /// during import (0 = none).
    #[arg(long = "cache.state-mb", global = true, value_name = "MIB", default_value_t = spectrum_chain::DEFAULT_STATE_CACHE_MB)]
    pub cache_state_mb: usize,
}

fn parse_chain(value: &str) -> Result<ChainSelector, String> {
    value
        .parse()
        .map_err(|e: spectrum_chainspec::ChainSpecError| e.to_string())
}

/// JSON-RPC servers.
#[derive(Debug, Args)]
#[command(next_help_heading = "JSON-RPC")]
pub struct RpcArgs {
    /// Enable the HTTP JSON-RPC server.
    #[arg(long)]
    pub http: bool,
    /// HTTP-RPC listening address.
    #[arg(long = "http.addr", default_value = "127.0.0.1", value_name = "IP")]
    pub http_addr: IpAddr,
    /// HTTP-RPC listening port.
    #[arg(long = "http.port", default_value_t = 8545, value_name = "PORT")]
    pub http_port: u16,
    /// Enable the WebSocket JSON-RPC server.
    #[arg(long)]
    pub ws: bool,
    /// WS-RPC listening address.
    #[arg(long = "ws.addr", default_value = "127.0.0.1", value_name = "IP")]
    pub ws_addr: IpAddr,
    /// WS-RPC listening port.
    #[arg(long = "ws.port", default_value_t = 8546, value_name = "PORT")]
    pub ws_port: u16,
    /// APIs offered over HTTP (comma-separated: eth, net, web3, txpool, tribe; debug is off
    /// unless listed here, or --dev).
    #[arg(
        long = "http.api",
        value_delimiter = ',',
        default_value = "eth,net,web3,txpool,tribe",
        value_name = "APIS"
    )]
    pub http_api: Vec<spectrum_rpc::Namespace>,
    /// APIs offered over WebSocket.
    #[arg(
        long = "ws.api",
        value_delimiter = ',',
        default_value = "eth,net,web3,txpool,tribe",
        value_name = "APIS"
    )]
    pub ws_api: Vec<spectrum_rpc::Namespace>,
    /// Browser origins allowed to call the HTTP server (comma-separated; * for any).
    #[arg(
        long = "http.corsdomain",
        value_delimiter = ',',
        value_name = "ORIGINS"
    )]
    pub http_corsdomain: Vec<String>,
    /// Browser origins allowed to open WebSockets (comma-separated; * for any) [default: local pages only].
    #[arg(long = "ws.origins", value_delimiter = ',', value_name = "ORIGINS")]
    pub ws_origins: Vec<String>,
    /// Host names the HTTP server answers to (comma-separated; * for any; IP addresses always
    /// pass): the guard against DNS rebinding.
    #[arg(
        long = "http.vhosts",
        value_delimiter = ',',
        default_value = "localhost",
        value_name = "HOSTS"
    )]
    pub http_vhosts: Vec<String>,
    /// Gas cap of eth_call and eth_estimateGas.
    #[arg(long = "rpc.gascap", default_value_t = 50_000_000, value_name = "GAS")]
    pub gas_cap: u64,
    /// Time budget of one eth_call or eth_estimateGas (e.g. 5s, 500ms; 0 for none).
    #[arg(long = "rpc.evmtimeout", default_value = "5s", value_parser = spectrum_rpc::parse_duration, value_name = "DURATION")]
    pub evm_timeout: std::time::Duration,
    /// Heavy RPC requests (eth_call, eth_estimateGas, eth_getLogs, eth_feeHistory, tribe_*) run at
    /// once, on their own threads [default: half the cores, at least 1].
    #[arg(long = "rpc.heavythreads", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub heavy_threads: Option<u16>,
    /// Heavy requests that may wait for a thread; more are refused at once.
    #[arg(long = "rpc.heavyqueue", default_value_t = 256, value_name = "N")]
    pub heavy_queue: usize,
}

/// Peer-to-peer networking.
#[derive(Debug, Args)]
#[command(next_help_heading = "Networking")]
pub struct NetworkArgs {
    /// p2p listening port (TCP); 0 picks a free one. With --dev, giving it turns networking on
    /// [default: 60303].
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// p2p listening address. All interfaces by default, as geth: peers must reach it (JSON-RPC,
    /// by contrast, listens on 127.0.0.1 unless told otherwise).
    #[arg(long = "listen-addr", default_value = "0.0.0.0", value_name = "IP")]
    pub listen_addr: IpAddr,
    /// Comma-separated peers to connect to at start and whenever the node has too few peers:
    /// libp2p multiaddrs (`/ip4/1.2.3.4/tcp/60303/p2p/<peer id>`, as printed at start) for
    /// spectrum-rs nodes and/or `enode://<id>@<ip>:<port>` URLs for the reference node's devp2p
    /// network (replacing the chain's compiled-in devp2p bootnodes). With --dev, giving them
    /// turns networking on.
    #[arg(long, value_delimiter = ',', value_name = "ADDRS", value_parser = parse_bootnode)]
    pub bootnodes: Vec<Bootnode>,
    /// Most peers connected at once (inbound and outbound together).
    #[arg(long, default_value_t = spectrum_network::DEFAULT_MAX_PEERS, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub maxpeers: u32,
    /// No peer discovery (Kademlia): connect to the bootnodes only.
    #[arg(long)]
    pub nodiscover: bool,
    /// Discover peers on the local network with mDNS.
    #[arg(long)]
    pub mdns: bool,
    /// A validator with bootnodes waits to catch up before sealing; it gives up and seals
    /// after this many seconds without its head moving (peers announcing more than they
    /// deliver must not keep it idle). Six request timeouts: a sync round that gets blocks
    /// never stalls that long.
    #[arg(long = "catchup-timeout", default_value_t = 60, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub catchup_timeout: u64,
    // devp2p (the reference node's wire)
    /// devp2p listening port (TCP for RLPx, UDP for discovery), beside libp2p's --port; 0
    /// picks a free one [default: 44944 as the reference node; a free one when --port is
    /// given]; the node prints its `ENODE: enode://…` at start.
    #[arg(long = "devp2p.port", value_name = "PORT")]
    pub devp2p_port: Option<u16>,
    /// No devp2p at all: talk to spectrum-rs nodes over libp2p only.
    #[arg(long = "nodevp2p")]
    pub no_devp2p: bool,
}

/// A `--bootnodes` entry: a libp2p multiaddr or a devp2p `enode://` URL.
#[derive(Debug, Clone)]
pub enum Bootnode {
    /// A spectrum-rs node over libp2p.
    Libp2p(spectrum_network::Multiaddr),
    /// A devp2p node (the reference node smc or spectrum-rs's devp2p side).
    Enode(spectrum_devp2p::NodeRecord),
}

fn parse_bootnode(value: &str) -> Result<Bootnode, String> {
    let value = value.trim();
    if value.starts_with("enode://") {
        return value
            .parse()
            .map(Bootnode::Enode)
            .map_err(|e| format!("{e}"));
    }
    parse_multiaddr(value).map(Bootnode::Libp2p)
}

fn parse_multiaddr(value: &str) -> Result<spectrum_network::Multiaddr, String> {
    value
        .trim()
        .parse()
        .map_err(|e| format!("not a multiaddr ({e}): {value}"))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the chain's genesis block and state into the datadir and print its hash.
    Init,
    /// Import blocks from geth-format chain files (RLP blocks, gzip allowed); blocks already
    /// in the database are skipped, so a second run resumes where the first stopped.
    Import {
        /// Chain files, imported in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write canonical blocks to a geth-format chain file (RLP blocks, gzip if FILE ends in .gz).
    Export(ExportArgs),
    /// Inspect the database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Genesis files for new chains.
    Genesis {
        #[command(subcommand)]
        command: GenesisCommand,
    },
    /// Manage validator keys: v3 keystore files in <datadir>/keystore (geth-compatible).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    // ---- validator operations (commands/validator) ----
    /// Operate a validator over a node's JSON-RPC: node key, status, bind, stake (deposit,
    /// start, stop, withdraw).
    Validator(crate::commands::validator::args::ValidatorArgs),

    // ---- operations (issue 18) ----
    /// Print the effective configuration (defaults, --config FILE and flags) as a config file.
    Dumpconfig,
    /// Print the version, the git commit and the build profile.
    Version,
    /// Print the selected chain's genesis as JSON (the file `--chain` takes).
    Dumpgenesis,
    /// Delete the chain database of the datadir (keys and node key are kept).
    Removedb {
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write.
    pub file: PathBuf,
    /// First block to export [default: 0].
    pub first: Option<u64>,
    /// Last block to export [default: the head].
    pub last: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Per-table key counts and sizes, and the head.
    Stats,
    /// Write a consistent copy of the database to DIR (a new directory; hard links on the same
    /// filesystem). The node must be stopped: RocksDB lets one process open the database.
    Checkpoint {
        /// The new directory.
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Write a genesis file for a private network with our chief contracts: the validators are
    /// its leaders (the first one seals first), every Spectrum fork is on from block 0.
    New(GenesisNewArgs),
}

#[derive(Debug, Args)]
pub struct GenesisNewArgs {
    /// The chain's name (default datadir ~/.spectrum/<name>).
    #[arg(long, default_value = "private")]
    pub name: String,
    /// EIP-155 chain id.
    #[arg(long = "chain-id")]
    pub chain_id: u64,
    /// Network id [default: the chain id].
    #[arg(long = "network-id")]
    pub network_id: Option<u64>,
    /// Comma-separated validator addresses (node-key addresses): the leaders, 1 to 5.
    #[arg(long, value_delimiter = ',', required = true)]
    pub validators: Vec<alloy_primitives::Address>,
    /// Signer slots per round: slot 0 for a leader, the rest for staked validators.
    #[arg(long = "signer-limit", default_value_t = 3)]
    pub signer_limit: u64,
    /// Block period in seconds (in-turn blocks follow their parent after period − 1 s).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub period: u64,
    /// Blocks per epoch (the staking blacklist is emptied at each).
    #[arg(long, default_value_t = 100)]
    pub epoch: u64,
    /// Owner of ChiefBase (manages leaders) [default: the first validator].
    #[arg(long)]
    pub owner: Option<alloy_primitives::Address>,
    /// Minimum stake in wei.
    #[arg(long = "min-deposit", default_value = "1000000000000000000")]
    pub min_deposit: alloy_primitives::U256,
    /// Blocks between stopping a stake and withdrawing it.
    #[arg(long = "withdraw-wait", default_value_t = 10)]
    pub withdraw_wait: u64,
    /// Blocks per halving of the minimum stake (three halvings at most).
    #[arg(long = "deposit-halving", default_value_t = 1_000_000)]
    pub deposit_halving: u64,
    /// Comma-separated ADDRESS=WEI balances.
    #[arg(long, value_delimiter = ',')]
    pub alloc: Vec<String>,
    /// Genesis gas limit.
    #[arg(long = "gas-limit", default_value_t = 40_000_000)]
    pub gas_limit: u64,
    /// The file's `_comment`.
    #[arg(long)]
    pub comment: Option<String>,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

// ---- validator keys: the node-key flags and `spectrum account` (see commands/account.rs) ----

/// Where the node key comes from.
#[derive(Debug, Args)]
#[command(next_help_heading = "Validator key")]
pub struct ValidatorKeyArgs {
    /// Use the keystore key of this account as the node key [default: the only key in
    /// <datadir>/keystore]. Needs --password.
    #[arg(
        long,
        value_name = "ADDRESS",
        requires = "password",
        conflicts_with = "dev_key"
    )]
    pub unlock: Option<alloy_primitives::Address>,
    /// File whose first line is the keystore password (for the node and `spectrum account`).
    #[arg(long, global = true, value_name = "FILE")]
    pub password: Option<PathBuf>,
    /// INSECURE: a file holding the node key in plain hex. Logs a warning; prefer a keystore
    /// file (`spectrum account import`) with --password.
    #[arg(
        long = "validator.insecure-plain-key",
        value_name = "FILE",
        conflicts_with_all = ["unlock", "dev_key"]
    )]
    pub insecure_plain_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create a new random key, encrypted with a password (--password FILE, or typed twice).
    New(AccountKdfArgs),
    /// Import a private key from a file holding it in hex, encrypted with a password.
    Import {
        /// File holding the private key in hex (64 digits, `0x` optional).
        keyfile: PathBuf,
        #[command(flatten)]
        kdf: AccountKdfArgs,
    },
    /// List the keys in the keystore.
    List,
    /// Re-encrypt a key with a new password; the current one comes from --password FILE (or is
    /// typed).
    Update {
        /// The account whose key to re-encrypt.
        address: alloy_primitives::Address,
        /// File whose first line is the new password [default: typed twice].
        #[arg(long = "new-password", value_name = "FILE")]
        new_password: Option<PathBuf>,
        #[command(flatten)]
        kdf: AccountKdfArgs,
    },
}

#[derive(Debug, Args)]
pub struct AccountKdfArgs {
    /// Encrypt with geth's light scrypt parameters (n = 4096, p = 6: 4 MiB instead of 256 MiB)
    /// for tests and small machines; easier to brute-force.
    #[arg(long)]
    pub lightkdf: bool,
}

// ---- operations (issue 18): metrics and logs ----

/// Metrics and logs.
#[derive(Debug, Args)]
#[command(next_help_heading = "Metrics and logs")]
pub struct OpsArgs {
    /// Read flags from this TOML file (keys are the long flag names: `"http.port" = 8545`);
    /// flags on the command line override it. `spectrum dumpconfig` prints one.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Serve Prometheus metrics at http://<metrics.addr>:<metrics.port>/metrics.
    #[arg(long)]
    pub metrics: bool,
    /// Metrics listening address (loopback by default: put a reverse proxy or firewall rule in
    /// front before exposing it).
    #[arg(long = "metrics.addr", default_value = "127.0.0.1", value_name = "IP")]
    pub metrics_addr: IpAddr,
    /// Metrics listening port (0 picks a free one).
    #[arg(long = "metrics.port", default_value_t = 6060, value_name = "PORT")]
    pub metrics_port: u16,
    /// Log line format.
    #[arg(
        long = "log.format",
        global = true,
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub log_format: LogFormat,
    /// Also write logs to this file (rotated when it reaches --log.maxsize, keeping
    /// --log.keep old files: FILE.1 the newest).
    #[arg(long = "log.file", global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Size in MiB at which the log file is rotated.
    #[arg(long = "log.maxsize", global = true, default_value_t = 100, value_name = "MIB",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub log_maxsize: u64,
    /// Comma-separated multiaddrs of peers always redialled when not connected (admin_addTrustedPeer
    /// adds more at run time).
    #[arg(long, value_delimiter = ',', value_name = "MULTIADDRS", value_parser = parse_multiaddr)]
    pub trustedpeers: Vec<spectrum_network::Multiaddr>,
    /// Rotated log files kept.
    #[arg(
        long = "log.keep",
        global = true,
        default_value_t = 5,
        value_name = "N"
    )]
    pub log_keep: u32,
}

/// `--log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
