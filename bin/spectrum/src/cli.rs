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
}

/// Peer-to-peer networking.
#[derive(Debug, Args)]
#[command(next_help_heading = "Networking")]
pub struct NetworkArgs {
    /// p2p listening port.
    #[arg(long, default_value_t = 60303, value_name = "PORT")]
    pub port: u16,
    /// Comma-separated multiaddrs of peers to connect to at start.
    #[arg(long, value_delimiter = ',', value_name = "MULTIADDRS")]
    pub bootnodes: Vec<String>,
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
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
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
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Generate a chain on the dev genesis, then time bare execution against the full import
    /// (execution, state root, commit into RocksDB) of the same blocks. Databases go into a
    /// temporary directory, under --datadir if given, removed afterwards.
    Import(BenchImportArgs),
}

#[derive(Debug, Args)]
pub struct BenchImportArgs {
    /// Workload blocks to generate (after the setup blocks that fund the senders).
    #[arg(long, default_value_t = 200)]
    pub blocks: u64,
    /// Transactions per workload block.
    #[arg(long, default_value_t = 100)]
    pub txs_per_block: usize,
    /// Full imports to run, each into a fresh database (more than one shows the variance).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub import_runs: u32,
    /// A reference chain file to time as well, imported on the devnet chain spec
    /// [default: ../shared/testdata/spectrum-devnet-multi/chain.rlp beside the source tree].
    #[arg(long, value_name = "FILE")]
    pub reference_chain: Option<PathBuf>,
}
