//! Private networks of `spectrum` processes: keys imported into datadirs, a genesis made by
//! `spectrum genesis new`, the command line of a node on ephemeral ports, and reads of its
//! chain over JSON-RPC that several tests make.

use std::path::Path;

use alloy_primitives::{Address, U256, hex};
use secp256k1::SecretKey;
use serde_json::json;

use super::{Node, quantity, spectrum};

/// A temporary path as `&str` (the test directories are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The address of a raw secret key.
pub fn address_of(key: &[u8; 32]) -> Address {
    let secret = SecretKey::from_byte_array(*key).expect("a valid key");
    spectrum_primitives::public_key_to_address(&secret.public_key(secp256k1::SECP256K1))
}

/// Imports `key` into the keystore of `datadir` (light scrypt), encrypted with the first line
/// of `password`; the key file is written beside the datadir and removed after.
pub fn import_key(key: &[u8; 32], datadir: &Path, password: &Path) {
    let mut file = datadir.as_os_str().to_owned();
    file.push(".key.txt");
    let file = std::path::PathBuf::from(file);
    std::fs::write(&file, hex::encode(key)).expect("write the key file");
    spectrum(&[
        "account",
        "import",
        path_str(&file),
        "--lightkdf",
        "--datadir",
        path_str(datadir),
        "--password",
        path_str(password),
    ]);
    std::fs::remove_file(&file).expect("remove the key file");
}

/// What `spectrum genesis new` is given (epoch 1000; the rest are its defaults).
pub struct Genesis<'a> {
    /// The chain's name.
    pub name: &'a str,
    pub chain_id: u64,
    /// Seconds.
    pub period: u64,
    pub signer_limit: u64,
    /// The leaders; the first is the genesis signer.
    pub validators: &'a [Address],
    /// Funded accounts and their balances in wei.
    pub alloc: &'a [(Address, U256)],
    /// More `genesis new` arguments (`--withdraw-wait 3`, …).
    pub extra: &'a [&'a str],
}

impl Genesis<'_> {
    /// Writes the genesis file to `out`.
    pub fn write(&self, out: &Path) {
        let chain_id = self.chain_id.to_string();
        let period = self.period.to_string();
        let signer_limit = self.signer_limit.to_string();
        let validators = self
            .validators
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut args = vec![
            "genesis",
            "new",
            "--name",
            self.name,
            "--chain-id",
            &chain_id,
            "--period",
            &period,
            "--signer-limit",
            &signer_limit,
            "--epoch",
            "1000",
            "--validators",
            &validators,
            "--out",
            path_str(out),
        ];
        let alloc: Vec<String> = self
            .alloc
            .iter()
            .map(|(address, wei)| format!("{address}={wei}"))
            .collect();
        for entry in &alloc {
            args.extend(["--alloc", entry.as_str()]);
        }
        args.extend(self.extra);
        spectrum(&args);
    }
}

/// The arguments of a node of `genesis` with its data in `datadir`: p2p on 127.0.0.1 and HTTP
/// JSON-RPC, both on ephemeral ports (the node prints them), no discovery.
pub fn node_args(genesis: &Path, datadir: &Path) -> Vec<String> {
    [
        "--chain",
        path_str(genesis),
        "--datadir",
        path_str(datadir),
        "--listen-addr",
        "127.0.0.1",
        "--port",
        "0",
        "--nodiscover",
        "--http",
        "--http.port",
        "0",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `--bootnodes` naming the p2p addresses of `nodes` (nothing for none).
pub fn bootnodes(nodes: &[&Node]) -> Vec<String> {
    if nodes.is_empty() {
        return Vec::new();
    }
    let list = nodes
        .iter()
        .map(|node| node.p2p.as_str())
        .collect::<Vec<_>>()
        .join(",");
    vec!["--bootnodes".to_owned(), list]
}

/// Copies a directory tree (a datadir, to restart from an old copy).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the directory") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy a file");
        }
    }
}

impl Node {
    /// The coinbase (`miner`) of its canonical block `number`.
    pub fn miner_at(&self, number: u64) -> Option<Address> {
        self.block(number).map(|block| {
            block["miner"]
                .as_str()
                .expect("a miner")
                .parse()
                .expect("an address")
        })
    }

    /// The balance of `who` at the head.
    pub fn balance(&self, who: Address) -> U256 {
        quantity(&self.result("eth_getBalance", json!([who, "latest"])))
    }
}
