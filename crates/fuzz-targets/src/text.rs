//! Files and JSON: chain files, genesis JSON, keystore JSON, JSON-RPC parameters.

use std::{
    io::Cursor,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use spectrum_chainspec::ChainSpec;
use spectrum_import::ChainFileReader;
use spectrum_primitives::{Block, Limits};

use crate::rlp::encode;

/// Most blocks read from one input (a chain file of tiny blocks is still bounded by the input,
/// but a gzip member can inflate a thousandfold).
const MAX_CHAIN_FILE_BLOCKS: usize = 4096;

/// A chain file (plain or gzip) through the streaming reader: every block it yields decodes
/// again from its encoding to the same block.
pub fn chain_file(data: &[u8]) {
    let Ok(reader) = ChainFileReader::new(Cursor::new(data.to_vec())) else {
        return;
    };
    for item in reader.take(MAX_CHAIN_FILE_BLOCKS) {
        let Ok(block) = item else { return };
        let again = Block::decode_bounded(&encode(&block), &Limits::DEFAULT)
            .expect("a block the reader yields re-decodes");
        assert_eq!(again, block, "chain file block round trip");
    }
}

/// A genesis file (`spectrum init`, `--chain FILE`): parsed, and its genesis header built.
pub fn genesis_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = ChainSpec::from_json("fuzz", text) else {
        return;
    };
    let header = spec.genesis_header();
    assert_eq!(header.hash(), header.header().hash_slow());
}

/// A scrypt or pbkdf2 cost above this is not run (a key file's KDF is meant to be slow; the
/// decoder's own bounds allow seconds per file). Such inputs still go through listing.
const MAX_FUZZ_KDF_WORK: u64 = 1 << 12;

/// A v3 key file (`--password` unlock, `spectrum account list`): decrypted with the empty
/// password (the password of the geth seed file), and listed.
pub fn keystore_json(data: &[u8]) {
    let path = keystore_file();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let _ = spectrum_keystore::Keystore::open(dir).list();
    if cheap_kdf(data) {
        let _ = spectrum_keystore::decrypt_key_file(path, "");
    }
}

/// The file the keystore target writes its input to: `fuzz-key.json` in a directory of its own
/// per process (the decoder reads files).
fn keystore_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("spectrum-fuzz-keystore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory for the keystore target");
        dir.join("UTC--fuzz-key.json")
    })
}

/// Whether the key file's KDF parameters, if any, are cheap enough to run.
fn cheap_kdf(data: &[u8]) -> bool {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return true; // refused before any KDF runs
    };
    let crypto = json.get("crypto").or_else(|| json.get("Crypto"));
    let Some(params) = crypto.and_then(|c| c.get("kdfparams")) else {
        return true;
    };
    let field = |name| params.get(name).and_then(serde_json::Value::as_u64);
    let scrypt = [field("n"), field("r"), field("p")]
        .into_iter()
        .map(|v| v.unwrap_or(1))
        .try_fold(1u64, u64::checked_mul);
    scrypt.is_some_and(|work| work <= MAX_FUZZ_KDF_WORK)
        && field("c").unwrap_or(1) <= MAX_FUZZ_KDF_WORK
}

/// JSON-RPC parameters as a client sends them: the positional array, then every parameter
/// decoder on every value.
#[cfg(feature = "rpc")]
pub fn rpc_params(data: &[u8]) {
    use spectrum_rpc::params;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(values) = params::positional(&jsonrpsee::types::Params::new(Some(text))) else {
        return;
    };
    let _ = params::at_most(&values, 3);
    for (index, value) in values.iter().enumerate() {
        let _ = params::required(&values, index);
        let _ = params::optional(&values, index);
        if let Ok(quantity) = params::quantity_u64(value, index) {
            assert_eq!(
                params::quantity(value, index).ok(),
                Some(alloy_primitives::U256::from(quantity))
            );
        }
        let _ = params::address(value, index);
        let _ = params::hash(value, index);
        let _ = params::data(value, index);
        let _ = params::storage_slot(value, index);
        let _ = params::boolean(value, index);
        let _ = params::block_id(Some(value), index);
        let _ = params::block_number_param(value, index);
        let _ = params::call_args(value, index);
        let _ = params::log_filter(value, index);
    }
}
