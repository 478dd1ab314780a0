//! The node's network settings from the command line: whether it joins a network, its identity
//! (the node key), and the launcher's [`P2pConfig`]. The network, sync and transaction
//! propagation themselves run in `spectrum-node`.

use std::{io::Write, path::Path, time::Duration};

use eyre::WrapErr;
use secp256k1::SecretKey;
use spectrum_node::P2pConfig;
use spectrum_sync::CatchUp;

use spectrum_chainspec::ChainSelector;
use spectrum_node::devp2p::Devp2pSettings;

use crate::cli::{Bootnode, Cli};

/// The node key file in the datadir of a node that does not seal (hex, as geth's `nodekey`).
const NODE_KEY_FILE: &str = "nodekey";

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

/// The launcher's network settings.
pub(super) fn config(cli: &Cli, node_key: [u8; 32]) -> P2pConfig {
    let args = &cli.network;
    let devp2p = devp2p_settings(cli);
    // The chain's compiled-in devp2p bootnodes (mainnet, testnet) are a network to catch up
    // with before sealing, as much as --bootnodes are.
    let has_bootnodes =
        !args.bootnodes.is_empty() || devp2p.as_ref().is_some_and(|d| !d.bootnodes.is_empty());
    P2pConfig {
        node_key,
        listen_addr: args.listen_addr,
        port: args.port.unwrap_or(spectrum_network::DEFAULT_PORT),
        bootnodes: libp2p_bootnodes(cli),
        max_peers: args.maxpeers,
        discovery: !args.nodiscover,
        mdns: args.mdns,
        catch_up: CatchUp {
            has_bootnodes,
            stall_limit: Duration::from_secs(args.catchup_timeout),
        },
        devp2p,
    }
}

// devp2p (the reference node's wire)

fn libp2p_bootnodes(cli: &Cli) -> Vec<spectrum_network::Multiaddr> {
    cli.network
        .bootnodes
        .iter()
        .filter_map(|b| match b {
            Bootnode::Libp2p(addr) => Some(addr.clone()),
            Bootnode::Enode(_) => None,
        })
        .collect()
}

/// devp2p's settings: `enode://` bootnodes given, else the chain's compiled-in ones (the
/// reference's, mainnet and testnet); port 44944 as the reference unless told, a free one when
/// `--port` is given without `--devp2p.port` (several nodes on one host never collide).
fn devp2p_settings(cli: &Cli) -> Option<Devp2pSettings> {
    let args = &cli.network;
    if args.no_devp2p {
        return None;
    }
    let mut bootnodes: Vec<_> = args
        .bootnodes
        .iter()
        .filter_map(|b| match b {
            Bootnode::Enode(node) => Some(*node),
            Bootnode::Libp2p(_) => None,
        })
        .collect();
    if bootnodes.is_empty() {
        bootnodes = match &cli.global.chain {
            ChainSelector::Builtin("mainnet") => {
                spectrum_devp2p::enode::parse_all(spectrum_devp2p::MAINNET_BOOTNODES)
            }
            ChainSelector::Builtin("testnet") => {
                spectrum_devp2p::enode::parse_all(spectrum_devp2p::TESTNET_BOOTNODES)
            }
            _ => Vec::new(),
        };
    }
    // With --port given (several nodes on one host, tests), a free port: never a clash on
    // the reference default.
    let port = args
        .devp2p_port
        .unwrap_or(if args.port.is_some() { 0 } else { DEVP2P_PORT });
    Some(Devp2pSettings {
        port,
        bootnodes,
        discovery: !args.nodiscover,
        max_peers: usize::try_from(args.maxpeers).unwrap_or(usize::MAX),
    })
}

/// The reference node's default port.
const DEVP2P_PORT: u16 = 44944;

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn parse(args: &[&str]) -> Cli {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("spectrum").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn devp2p_defaults_follow_the_chain_and_the_reference_port() {
        let mainnet = devp2p_settings(&parse(&[])).unwrap();
        assert_eq!(mainnet.port, 44944);
        assert_eq!(
            mainnet.bootnodes.len(),
            6,
            "the reference's mainnet bootnodes"
        );
        assert!(mainnet.discovery);
        let testnet = devp2p_settings(&parse(&["--chain", "testnet"])).unwrap();
        assert_eq!(testnet.bootnodes.len(), 1);
        let devnet = devp2p_settings(&parse(&["--chain", "devnet"])).unwrap();
        assert!(devnet.bootnodes.is_empty());
        assert_eq!(devp2p_settings(&parse(&["--port", "0"])).unwrap().port, 0);
        assert_eq!(
            devp2p_settings(&parse(&["--port", "0", "--devp2p.port", "30303"]))
                .unwrap()
                .port,
            30303
        );
        assert!(devp2p_settings(&parse(&["--nodevp2p"])).is_none());
        assert!(
            !devp2p_settings(&parse(&["--nodiscover"]))
                .unwrap()
                .discovery
        );
    }

    #[test]
    fn a_validator_waits_to_catch_up_on_the_compiled_in_devp2p_bootnodes() {
        // mainnet and testnet have a network (the reference's bootnodes) without --bootnodes:
        // a validator there must catch up before sealing, not seal on its stale head.
        let key = [7u8; 32];
        assert!(config(&parse(&[]), key).catch_up.has_bootnodes);
        assert!(
            config(&parse(&["--chain", "testnet"]), key)
                .catch_up
                .has_bootnodes
        );
        // The first node of a devnet or private network seals at once.
        assert!(
            !config(&parse(&["--chain", "devnet"]), key)
                .catch_up
                .has_bootnodes
        );
        // Without devp2p only libp2p's bootnodes count.
        assert!(!config(&parse(&["--nodevp2p"]), key).catch_up.has_bootnodes);
    }

    #[test]
    fn bootnodes_take_enode_urls_beside_multiaddrs() {
        let enode = spectrum_devp2p::MAINNET_BOOTNODES[0];
        let multiaddr =
            "/ip4/127.0.0.1/tcp/60303/p2p/12D3KooWGzXTVn5HfqkGbm4g3zmcLYH9WNM5MJ4ChtXdHJdxDPox";
        let cli = parse(&["--bootnodes", &format!("{enode},{multiaddr}")]);
        let settings = devp2p_settings(&cli).unwrap();
        assert_eq!(
            settings.bootnodes.len(),
            1,
            "given enodes replace the built-in ones"
        );
        assert_eq!(settings.bootnodes[0].to_string(), enode);
        assert_eq!(libp2p_bootnodes(&cli).len(), 1);
        let bad = {
            use clap::Parser;
            Cli::try_parse_from(["spectrum", "--bootnodes", "enode://nothex@1.2.3.4:1"])
        };
        assert!(bad.is_err(), "a malformed enode is refused at parse time");
    }

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
}
