//! The `spectrum validator …` command line.

use std::path::PathBuf;

use alloy_primitives::{Address, U256};
use clap::{Args, Subcommand};

/// Options of every `spectrum validator` command.
#[derive(Debug, Args)]
pub struct ValidatorArgs {
    /// JSON-RPC URL of a running node of the chain (`--chain` must name the same chain).
    #[arg(
        long,
        default_value = "http://127.0.0.1:8545",
        value_name = "URL",
        global = true
    )]
    pub rpc: String,
    /// Keystore directory [default: <datadir>/keystore].
    #[arg(long, value_name = "DIR", global = true)]
    pub keystore: Option<PathBuf>,
    /// How long to wait for a transaction's receipt.
    #[arg(
        long = "receipt-timeout",
        default_value_t = 120,
        value_name = "SECS",
        global = true
    )]
    pub receipt_timeout: u64,
    #[command(subcommand)]
    pub command: ValidatorCommand,
}

#[derive(Debug, Subcommand)]
pub enum ValidatorCommand {
    /// The node's role, signer-set membership, stake, next slots and recent sealed/missed blocks.
    Status {
        /// The node (node-key address) [default: the only key in the keystore].
        #[arg(long)]
        node: Option<Address>,
    },
    /// Create (or import from a hex key file) the node key into an encrypted v3 keystore and
    /// show its address, enode and libp2p peer id.
    Key {
        /// File holding an existing private key in hex, to import instead of creating one.
        #[arg(long, value_name = "FILE")]
        import: Option<PathBuf>,
        /// geth's light scrypt parameters (tests, small machines).
        #[arg(long)]
        lightkdf: bool,
        /// Host of the enode URL printed.
        #[arg(long, default_value = "127.0.0.1", value_name = "IP")]
        host: String,
        /// p2p port of the enode URL printed.
        #[arg(long, default_value_t = 60303, value_name = "PORT")]
        port: u16,
    },
    /// Bind the wallet --from to the node in Anmap (block rewards go to the wallet).
    Bind(OwnerArgs),
    /// Remove the wallet's binding to the node in Anmap.
    Unbind(OwnerArgs),
    /// Stake for the node from the wallet --from (POC `deposit`, signed by the node key).
    Deposit {
        #[command(flatten)]
        owner: OwnerArgs,
        /// Stake in wei [default: POC's current minDepositAmount()].
        #[arg(long, value_name = "WEI")]
        value: Option<U256>,
    },
    /// Rejoin POC's normal list after a stop or a blacklisting (POC `start`).
    Start(OwnerArgs),
    /// Leave POC's normal list (POC `stop`); the withdraw wait starts.
    Stop(OwnerArgs),
    /// Take the whole stake back after the wait (POC `withdraw`).
    Withdraw(OwnerArgs),
    /// Take the part of the stake above the current minimum (POC `withdrawSurplus`).
    WithdrawSurplus(OwnerArgs),
}

/// The node and the wallet an owner call is about.
#[derive(Debug, Args)]
pub struct OwnerArgs {
    /// The node (node-key address). Its key must be in the keystore for `deposit`, `bind` and
    /// `unbind`, which it signs.
    #[arg(long)]
    pub node: Address,
    /// The wallet that sends the transaction (owns the stake).
    #[arg(long)]
    pub from: Address,
    /// Password file of the node key if it differs from --password.
    #[arg(long = "node-password", value_name = "FILE")]
    pub node_password: Option<PathBuf>,
    /// Do not sign or send: print the transaction (to, value, calldata) and the node key's
    /// signature over the wallet address, for MetaMask or a hardware wallet.
    #[arg(long = "print-unsigned")]
    pub print_unsigned: bool,
    /// Gas price in wei [default: eth_gasPrice].
    #[arg(long = "gas-price", value_name = "WEI")]
    pub gas_price: Option<u128>,
}
