//! `anvil_dumpState` / `anvil_loadState` (`--dev` only).
//!
//! The dump is the head's whole state as anvil's JSON shape, hex-encoded **without gzip**:
//! `"0x" ‖ hex(utf8({"block": {"number", "hash"}, "accounts": {address: {"nonce": n,
//! "balance": "0x…", "code": "0x…", "storage": {slot: value}}}}))`. Loading applies such a
//! dump (hex as above, or the JSON object itself) as state patches (`state.rs`'s mechanism),
//! in as many sealed blocks as the patch bounds need. Loading writes the listed accounts;
//! it does not delete others (as anvil's load merges).

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spectrum_chain::DevPatch;
use spectrum_storage_api::{ProviderError, WalkedAccount};

use super::dev_error;
use crate::{
    api::Api,
    error::{ApiResult, internal, invalid_param, limit_exceeded},
    params::{at_most, required},
};

/// The most accounts a dump holds.
pub(crate) const MAX_DUMP_ACCOUNTS: usize = 100_000;
/// About the most bytes of state (addresses, fields, code, slots) a dump holds.
pub(crate) const MAX_DUMP_BYTES: usize = 64 * 1024 * 1024;
/// The most patch input bytes per loading block (a code patch of the largest size fits).
const MAX_BLOCK_PATCH_BYTES: usize = 60_000;

/// One account as anvil writes it.
#[derive(Debug, Serialize, Deserialize)]
struct DumpedAccount {
    nonce: u64,
    balance: U256,
    #[serde(default)]
    code: Bytes,
    #[serde(default)]
    storage: BTreeMap<B256, U256>,
}

#[derive(Debug, Deserialize)]
struct Dump {
    accounts: BTreeMap<Address, DumpedAccount>,
}

/// `anvil_dumpState []`.
pub(super) async fn dump_state(api: Arc<Api>, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 0)?;
    super::dev_controls(&api)?;
    tokio::task::spawn_blocking(move || dump(&api))
        .await
        .map_err(internal)?
}

fn dump(api: &Api) -> ApiResult<Value> {
    let state = api.ctx.db.latest().map_err(internal)?;
    let walked = state
        .walk_accounts(MAX_DUMP_ACCOUNTS, MAX_DUMP_BYTES)
        .map_err(|e| match e {
            ProviderError::WalkTooLarge { .. } => limit_exceeded(e.to_string()),
            other => internal(other),
        })?;
    let accounts: BTreeMap<Address, DumpedAccount> = walked
        .into_iter()
        .map(
            |WalkedAccount {
                 address,
                 account,
                 code,
                 storage,
             }| {
                let account = DumpedAccount {
                    nonce: account.nonce,
                    balance: account.balance,
                    code,
                    storage: storage.into_iter().collect(),
                };
                (address, account)
            },
        )
        .collect();
    let document = json!({
        "block": { "number": format!("{:#x}", state.number()), "hash": state.hash() },
        "accounts": accounts,
    });
    let text = serde_json::to_vec(&document).map_err(internal)?;
    Ok(json!(format!("0x{}", hex::encode(text))))
}

/// `anvil_loadState [dump]`: `true` once every block is sealed.
pub(super) async fn load_state(api: Arc<Api>, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 1)?;
    let control = super::dev_controls(&api)?;
    let dump = parse(required(&values, 0)?)?;
    for chunk in chunks(patches(dump)) {
        control.patch(chunk).await.map_err(dev_error)?;
    }
    Ok(json!(true))
}

fn parse(value: &Value) -> ApiResult<Dump> {
    let parsed = match value {
        Value::String(text) => {
            let bytes = hex::decode(text).map_err(|e| invalid_param(0, e))?;
            if bytes.starts_with(&[0x1f, 0x8b]) {
                return Err(invalid_param(
                    0,
                    "a gzip-compressed dump is not read: pass the hex of the JSON, as anvil_dumpState here answers",
                ));
            }
            serde_json::from_slice(&bytes)
        }
        // Read from the borrowed tree: no copy of a large dump.
        other => Dump::deserialize(other),
    };
    let dump: Dump = parsed.map_err(|e| invalid_param(0, format!("not a state dump: {e}")))?;
    if dump.accounts.len() > MAX_DUMP_ACCOUNTS {
        return Err(invalid_param(
            0,
            format!("more than {MAX_DUMP_ACCOUNTS} accounts"),
        ));
    }
    if let Some((address, _)) = dump
        .accounts
        .iter()
        .find(|(_, a)| a.code.len() > spectrum_chain::DEV_PATCH_MAX_CODE)
    {
        return Err(invalid_param(
            0,
            format!("code of {address} above the patch limit"),
        ));
    }
    Ok(dump)
}

fn patches(dump: Dump) -> Vec<DevPatch> {
    let mut out = Vec::new();
    for (address, account) in dump.accounts {
        out.push(DevPatch::Balance(address, account.balance));
        out.push(DevPatch::Nonce(address, account.nonce));
        if !account.code.is_empty() {
            out.push(DevPatch::Code(address, account.code));
        }
        for (slot, value) in account.storage {
            out.push(DevPatch::Storage(address, slot, value));
        }
    }
    out
}

/// Splits `patches` into blocks within the patch bounds (records and input bytes).
fn chunks(patches: Vec<DevPatch>) -> Vec<Vec<DevPatch>> {
    let mut blocks: Vec<Vec<DevPatch>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0usize;
    for patch in patches {
        let size = match &patch {
            DevPatch::Balance(..) => 53,
            DevPatch::Nonce(..) => 29,
            DevPatch::Code(_, code) => 25usize.saturating_add(code.len()),
            DevPatch::Storage(..) => 85,
        };
        if !current.is_empty()
            && (current.len() >= spectrum_chain::DEV_PATCH_MAX_RECORDS
                || bytes.saturating_add(size) > MAX_BLOCK_PATCH_BYTES)
        {
            blocks.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes = bytes.saturating_add(size);
        current.push(patch);
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}
