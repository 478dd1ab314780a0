//! `--dev` only (issue 19): the methods Hardhat, anvil, Foundry and viem drive a dev chain
//! with, under their names, so existing tools work unchanged. Each is a command through
//! [`crate::DevControlApi`], which the node forwards to its block producer (it serves them one
//! at a time between blocks); blocks made this way are real Tribe blocks (see the producer's `dev_control` module).
//!
//! | method | parameters | answer |
//! |---|---|---|
//! | `evm_mine` | `[]`, `[timestamp]` or `[{timestamp, blocks}]` | `"0x0"` |
//! | `anvil_mine` / `hardhat_mine` | `[blocks?, interval?]` (interval in seconds) | `null` / `true` |
//! | `evm_setAutomine` | `[bool]` | `true` |
//! | `anvil_getAutomine` / `hardhat_getAutomine` | `[]` | bool |
//! | `evm_setIntervalMining` (ms) / `anvil_setIntervalMining` (s) | `[n]`, 0 = off | `true` / `null` |
//! | `evm_increaseTime` | `[seconds]` | the total offset (seconds) |
//! | `evm_setNextBlockTimestamp` | `[timestamp]` | `null` |
//! | `evm_snapshot` | `[]` | id (`"0x1"`…) |
//! | `evm_revert` | `[id]` | bool |
//! | `anvil_reset` / `hardhat_reset` | `[]` (no forking) | `null` / `true` |
//! | `anvil_dumpState` / `anvil_loadState` | `[]` / `[dump]` | the hex of the state as anvil's JSON / `true` (`dump.rs`) |
//! | `anvil_setBalance` / `setNonce` / `setCode` / `setStorageAt` (+ `hardhat_`) | as anvil | `null` or `true`; a block carrying the patch is sealed (`state.rs`) |
//! | `anvil_impersonateAccount` / `stopImpersonatingAccount` (+ `hardhat_`), `anvil_autoImpersonateAccount` | as anvil | `null` / `true`; sends from it are run and committed as state patches (`impersonate.rs`) |

mod dump;
mod impersonate;
mod params;
mod state;
mod tribe;

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use jsonrpsee::{RpcModule, core::RegisterMethodError, types::Params};
use serde_json::{Value, json};

pub(crate) use impersonate::{Impersonation, send as send_impersonated};

use crate::{DevControlApi, DevControlError};

use crate::{
    api::Api,
    error::{ApiResult, internal, invalid_param, server_error},
    params::{at_most, positional},
};

/// A handler's answer, to come.
type Answer = Pin<Box<dyn Future<Output = ApiResult<Value>> + Send>>;

/// A handler: the control handle and the positional parameters in, the answer out.
type Handler = fn(Control, Vec<Value>) -> Answer;

/// The control handle the handlers own.
type Control = Arc<dyn DevControlApi>;

/// Registers every dev-control method (only called when the node has dev controls).
pub(crate) fn register(module: &mut RpcModule<Api>) -> Result<(), RegisterMethodError> {
    for (name, handler) in METHODS {
        let handler = *handler;
        module.register_async_method(name, move |raw: Params<'static>, api, _| async move {
            let values = positional(&raw)?;
            let control = dev_controls(&api)?;
            handler(control, values).await
        })?;
    }
    // Tribe's own (extensions): they read the chain and send from dev accounts too.
    module.register_async_method("dev_stake", |raw: Params<'static>, api, _| async move {
        tribe::stake(api, positional(&raw)?).await
    })?;
    module.register_async_method("dev_setLeaders", |raw: Params<'static>, api, _| async move {
        tribe::set_leaders(api, positional(&raw)?).await
    })?;
    module.register_async_method("anvil_dumpState", |raw: Params<'static>, api, _| async move {
        dump::dump_state(api, positional(&raw)?).await
    })?;
    module.register_async_method("anvil_loadState", |raw: Params<'static>, api, _| async move {
        dump::load_state(api, positional(&raw)?).await
    })?;
    module.register_async_method("dev_advanceEpoch", |raw: Params<'static>, api, _| async move {
        tribe::advance_epoch(api, positional(&raw)?).await
    })?;
    module.register_async_method("dev_skipSlot", |raw: Params<'static>, api, _| async move {
        tribe::skip_slot(api, positional(&raw)?).await
    })?;
    register_impersonation(module)
}

fn register_impersonation(module: &mut RpcModule<Api>) -> Result<(), RegisterMethodError> {
    for (name, start, answer) in [
        ("anvil_impersonateAccount", true, Value::Null),
        ("hardhat_impersonateAccount", true, json!(true)),
        ("anvil_stopImpersonatingAccount", false, Value::Null),
        ("hardhat_stopImpersonatingAccount", false, json!(true)),
    ] {
        module.register_method(name, move |raw, api, _| {
            impersonate::set(api, &positional(&raw)?, start, answer.clone())
        })?;
    }
    module.register_method("anvil_autoImpersonateAccount", |raw, api, _| {
        impersonate::set_auto(api, &positional(&raw)?)
    })?;
    Ok(())
}

fn dev_controls(api: &Arc<Api>) -> ApiResult<Control> {
    api.ctx
        .dev_controls
        .clone()
        .ok_or_else(|| server_error("dev controls are served on --dev only"))
}

/// The producer's refusal as a JSON-RPC error: the caller's mistake is -32602 / -32000 with
/// the rule in words; the node's own failure -32603.
fn dev_error(error: DevControlError) -> jsonrpsee::types::ErrorObjectOwned {
    match error {
        DevControlError::InvalidParam(message) => invalid_param(0, message),
        DevControlError::Refused(message) => server_error(message),
        DevControlError::Internal(message) => internal(message),
    }
}

const METHODS: &[(&str, Handler)] = &[
    ("evm_mine", |c, v| Box::pin(evm_mine(c, v))),
    ("anvil_mine", |c, v| {
        Box::pin(mine_blocks(c, v, Value::Null))
    }),
    ("hardhat_mine", |c, v| {
        Box::pin(mine_blocks(c, v, json!(true)))
    }),
    ("evm_setAutomine", |c, v| Box::pin(set_automine(c, v))),
    ("anvil_getAutomine", |c, v| Box::pin(get_automine(c, v))),
    ("hardhat_getAutomine", |c, v| Box::pin(get_automine(c, v))),
    ("evm_setIntervalMining", |c, v| {
        Box::pin(set_interval(c, v, Duration::from_millis, json!(true)))
    }),
    ("anvil_setIntervalMining", |c, v| {
        Box::pin(set_interval(c, v, Duration::from_secs, Value::Null))
    }),
    ("evm_increaseTime", |c, v| Box::pin(increase_time(c, v))),
    ("evm_setNextBlockTimestamp", |c, v| {
        Box::pin(set_next_timestamp(c, v))
    }),
    ("evm_snapshot", |c, v| Box::pin(snapshot(c, v))),
    ("evm_revert", |c, v| Box::pin(revert(c, v))),
    ("anvil_reset", |c, v| Box::pin(reset(c, v, Value::Null))),
    ("hardhat_reset", |c, v| Box::pin(reset(c, v, json!(true)))),
    ("anvil_setBalance", |c, v| {
        Box::pin(state::set_balance(c, v, Value::Null))
    }),
    ("hardhat_setBalance", |c, v| {
        Box::pin(state::set_balance(c, v, json!(true)))
    }),
    ("anvil_setNonce", |c, v| {
        Box::pin(state::set_nonce(c, v, Value::Null))
    }),
    ("hardhat_setNonce", |c, v| {
        Box::pin(state::set_nonce(c, v, json!(true)))
    }),
    ("anvil_setCode", |c, v| {
        Box::pin(state::set_code(c, v, Value::Null))
    }),
    ("hardhat_setCode", |c, v| {
        Box::pin(state::set_code(c, v, json!(true)))
    }),
    ("anvil_setStorageAt", |c, v| {
        Box::pin(state::set_storage_at(c, v, json!(true)))
    }),
    ("hardhat_setStorageAt", |c, v| {
        Box::pin(state::set_storage_at(c, v, json!(true)))
    }),
];

/// `evm_mine`: one block (or `blocks`), optionally at `timestamp`.
async fn evm_mine(control: Control, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 1)?;
    let (blocks, timestamp) = params::mine_options(values.first())?;
    control
        .mine(blocks, 0, timestamp)
        .await
        .map_err(dev_error)?;
    Ok(json!("0x0"))
}

/// `anvil_mine` / `hardhat_mine`: `blocks` (default 1), `interval` seconds apart (default
/// 1, as both tools).
async fn mine_blocks(control: Control, values: Vec<Value>, answer: Value) -> ApiResult<Value> {
    at_most(&values, 2)?;
    let blocks = params::optional_number(&values, 0)?.unwrap_or(1);
    let interval = params::optional_number(&values, 1)?.unwrap_or(1);
    control
        .mine(blocks, interval, None)
        .await
        .map_err(dev_error)?;
    Ok(answer)
}

async fn set_automine(control: Control, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 1)?;
    let on = crate::params::boolean(crate::params::required(&values, 0)?, 0)?;
    control.set_automine(on).await.map_err(dev_error)?;
    Ok(json!(true))
}

async fn get_automine(control: Control, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 0)?;
    Ok(json!(control.automine().await.map_err(dev_error)?))
}

async fn set_interval(
    control: Control,
    values: Vec<Value>,
    unit: fn(u64) -> Duration,
    answer: Value,
) -> ApiResult<Value> {
    at_most(&values, 1)?;
    let every = params::required_number(&values, 0)?;
    let every = (every > 0).then(|| unit(every));
    control.set_interval(every).await.map_err(dev_error)?;
    Ok(answer)
}

async fn increase_time(control: Control, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 1)?;
    let seconds = params::required_number(&values, 0)?;
    Ok(json!(
        control.increase_time(seconds).await.map_err(dev_error)?
    ))
}

async fn set_next_timestamp(control: Control, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 1)?;
    let timestamp = params::required_number(&values, 0)?;
    control
        .set_next_timestamp(timestamp)
        .await
        .map_err(dev_error)?;
    Ok(Value::Null)
}

async fn snapshot(control: Control, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 0)?;
    let id = control.snapshot().await.map_err(dev_error)?;
    Ok(json!(format!("{id:#x}")))
}

async fn revert(control: Control, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 1)?;
    let id = params::required_number(&values, 0)?;
    Ok(json!(control.revert(id).await.map_err(dev_error)?))
}

async fn reset(control: Control, values: Vec<Value>, answer: Value) -> ApiResult<Value> {
    at_most(&values, 1)?;
    if let Some(options) = crate::params::optional(&values, 0)
        && options.get("forking").is_some_and(|f| !f.is_null())
    {
        return Err(server_error(
            "forking is not supported: spectrum --dev resets to its own genesis",
        ));
    }
    control.reset().await.map_err(dev_error)?;
    Ok(answer)
}
