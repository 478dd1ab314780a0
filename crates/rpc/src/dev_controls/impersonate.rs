//! `anvil_impersonateAccount` / `anvil_stopImpersonatingAccount` /
//! `anvil_autoImpersonateAccount` (+ `hardhat_` aliases): `eth_sendTransaction` from an
//! impersonated account (one whose key the node does not hold) runs as that account.
//!
//! A transaction from it could not be put in a block (no signature passes sender recovery),
//! so the call is run on the head's state as a transaction from that account (its nonce
//! consumed, gas price 0: impersonated sends are free), and the accounts it changed are
//! written by a block that carries them as state patches (`spectrum_chain::dev_patch`), which
//! our verifier re-imports. The answer is the hash of the block's patch transaction: its
//! receipt is the carrier's (from the dev validator to 0x5ec7…0de7, status 1, no logs); the
//! call's own logs are not emitted. A call that reverts or halts mines nothing and is an
//! error, as `eth_call` reports it.

use std::{collections::HashSet, sync::Mutex};

use alloy_primitives::Address;
use serde_json::{Value, json};
use spectrum_chain::{DEV_PATCH_ADDRESS, DevPatch};
use spectrum_execution::{CallRequest, ChangedAccount};
use spectrum_storage_api::StateProvider;

use super::dev_error;
use crate::{
    api::Api,
    error::{ApiResult, internal, invalid_param, server_error},
    params::{CallArgs, address, at_most, boolean, required},
};

/// Who is impersonated (RPC-wide, like anvil's).
#[derive(Debug, Default)]
pub(crate) struct Impersonation {
    accounts: Mutex<(HashSet<Address>, bool)>,
}

impl Impersonation {
    /// Whether `eth_sendTransaction` from `who` runs as `who`.
    pub(crate) fn covers(&self, who: &Address) -> bool {
        self.accounts
            .lock()
            .is_ok_and(|guard| guard.1 || guard.0.contains(who))
    }

    fn edit(&self, edit: impl FnOnce(&mut (HashSet<Address>, bool))) -> ApiResult<()> {
        let mut guard = self.accounts.lock().map_err(internal)?;
        edit(&mut guard);
        Ok(())
    }
}

/// `*_impersonateAccount [address]` (`start`) and `*_stopImpersonatingAccount [address]`.
pub(super) fn set(api: &Api, values: &[Value], start: bool, answer: Value) -> ApiResult<Value> {
    at_most(values, 1)?;
    dev_controls_on(api)?;
    let who = address(required(values, 0)?, 0)?;
    api.impersonation.edit(|(accounts, _)| {
        if start {
            accounts.insert(who);
        } else {
            accounts.remove(&who);
        }
    })?;
    Ok(answer)
}

/// `anvil_autoImpersonateAccount [bool]`: every sender is impersonated.
pub(super) fn set_auto(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    dev_controls_on(api)?;
    let on = boolean(required(values, 0)?, 0)?;
    api.impersonation.edit(|(_, auto)| *auto = on)?;
    Ok(Value::Null)
}

fn dev_controls_on(api: &Api) -> ApiResult<()> {
    api.ctx
        .dev_controls
        .as_ref()
        .map(|_| ())
        .ok_or_else(|| server_error("dev controls are served on --dev only"))
}

/// `eth_sendTransaction` from impersonated `from` (runs on a heavy-method thread, so it may
/// wait for the block).
pub(crate) fn send(api: &Api, from: Address, args: &CallArgs) -> ApiResult<Value> {
    let control = api
        .ctx
        .dev_controls
        .clone()
        .ok_or_else(|| server_error("dev controls are served on --dev only"))?;
    let head = api.head_header()?;
    let state = api.ctx.db.latest().map_err(internal)?;
    let request = CallRequest {
        from,
        to: args.to,
        gas_limit: args.gas.unwrap_or(head.gas_limit),
        gas_price: 0,
        value: args.value,
        data: args.data.clone(),
    };
    let (outcome, changed) = api
        .executor
        .call_changes(&head, &*state, &request)
        .map_err(|e| server_error(e.to_string()))?;
    if !outcome.success {
        let why = outcome.halt.unwrap_or_else(|| "execution reverted".into());
        return Err(server_error(format!(
            "{why}: the impersonated transaction was not mined"
        )));
    }
    let patches = patches(&*state, &changed)?;
    if patches.len() > spectrum_chain::DEV_PATCH_MAX_RECORDS {
        return Err(server_error(format!(
            "the transaction changes more than {} account fields and slots",
            spectrum_chain::DEV_PATCH_MAX_RECORDS
        )));
    }
    let (_, block) = futures::executor::block_on(control.patch(patches)).map_err(dev_error)?;
    let body = api
        .ctx
        .db
        .body(&block)
        .map_err(internal)?
        .ok_or_else(|| internal("the patch block is missing"))?;
    let carrier = body
        .transactions
        .iter()
        .rev()
        .find(|tx| tx.tx().to.to() == Some(&DEV_PATCH_ADDRESS))
        .ok_or_else(|| internal("the patch block carries no patch transaction"))?;
    Ok(json!(carrier.hash()))
}

/// The patches that make `state` look as the call left it: each field that changed.
fn patches(state: &dyn StateProvider, changed: &[ChangedAccount]) -> ApiResult<Vec<DevPatch>> {
    let mut out = Vec::new();
    for account in changed {
        if account.destroyed {
            return Err(server_error(
                "a self-destruct cannot be replayed as a state patch on spectrum --dev",
            ));
        }
        let before = state
            .account(&account.address)
            .map_err(internal)?
            .unwrap_or_default();
        if before.balance != account.balance {
            out.push(DevPatch::Balance(account.address, account.balance));
        }
        if before.nonce != account.nonce {
            out.push(DevPatch::Nonce(account.address, account.nonce));
        }
        if let Some(code) = account.created_code.as_ref().filter(|c| !c.is_empty()) {
            if code.len() > spectrum_chain::DEV_PATCH_MAX_CODE {
                return Err(invalid_param(0, "created code above the patch limit"));
            }
            out.push(DevPatch::Code(account.address, code.clone()));
        }
        for (slot, value) in &account.storage {
            out.push(DevPatch::Storage(account.address, *slot, *value));
        }
    }
    Ok(out)
}
