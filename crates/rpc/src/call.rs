//! `eth_call` and `eth_estimateGas`: a transaction run on the state of a block and thrown away.
//!
//! A revert is geth's error `{code: 3, message: "execution reverted: <reason>", data}` (the
//! reference node returns revert data as a result; today's clients expect the error). Spectrum's
//! extra third parameter of `eth_call`, a block hash, is honoured.

use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, U256};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::Value;
use spectrum_execution::{CallOutcome, CallRequest, ExecutionError, TxError};
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::StateProvider;

use crate::{
    api::{Api, Method, heavy},
    blocks::hex_u64,
    error::{ApiResult, internal, reverted, server_error},
    overrides::{Overridden, StateOverrides, block_overrides},
    params::{self, BlockId, CallArgs, at_most, invalid, optional, required},
    state::state_at,
};

pub(crate) const METHODS: &[Method<Value>] = &[
    heavy("eth_call", eth_call),
    heavy("eth_estimateGas", estimate_gas),
];

/// Gas of a plain transfer: nothing estimates lower.
use spectrum_txpool::TX_GAS;

/// The call request `args` describes, with the gas limit capped.
pub(crate) fn request(args: &CallArgs, gas: u64) -> ApiResult<CallRequest> {
    let gas_price = match args.gas_price {
        Some(price) => u128::try_from(price).map_err(|_| invalid(0, "gasPrice above 2^128"))?,
        None => 0,
    };
    Ok(CallRequest {
        from: args.from.unwrap_or(Address::ZERO),
        to: args.to,
        gas_limit: gas,
        gas_price,
        value: args.value,
        data: args.data.clone(),
    })
}

/// A duration as Go prints one (`5s`, `100ms`, `1.5s`), for geth's timeout message.
pub(crate) fn go_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// Parses a duration as geth's flags take one: `5s`, `500ms`, `1m`, `0` (no budget).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?}: a unit is missing (ms, s or m)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a whole number and a unit, e.g. 5s"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => number
            .checked_mul(60)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{text:?}: too long")),
        other => Err(format!("{text:?}: unknown unit {other:?} (ms, s or m)")),
    }
}

/// geth's words for a transaction the call cannot even start, or a call stopped by the
/// `--rpc.evmtimeout` budget.
fn call_error(api: &Api, error: ExecutionError) -> ErrorObjectOwned {
    match error {
        ExecutionError::CallTimeout => server_error(format!(
            "execution aborted (timeout = {})",
            go_duration(api.limits.evm_timeout)
        )),
        ExecutionError::Transaction { error, .. } => match error {
            TxError::InsufficientFunds { .. } => {
                server_error("insufficient funds for gas * price + value")
            }
            TxError::IntrinsicGas { .. } => server_error("intrinsic gas too low"),
            other => server_error(other.to_string()),
        },
        ExecutionError::State(e) => internal(e),
        other => server_error(other.to_string()),
    }
}

/// When a call (or a whole estimate) started now must stop; `None` without a budget.
fn deadline(api: &Api) -> Option<Instant> {
    let budget = api.limits.evm_timeout;
    (!budget.is_zero()).then(|| Instant::now() + budget)
}

fn run(
    api: &Api,
    header: &SealedHeader,
    state: &dyn StateProvider,
    request: &CallRequest,
    deadline: Option<Instant>,
) -> Result<CallOutcome, ExecutionError> {
    match deadline {
        Some(deadline) => api
            .executor
            .call_until(header.header(), state, request, deadline),
        None => api.executor.call_with(header.header(), state, request),
    }
}

fn eth_call(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 4)?;
    let args = params::call_args(required(values, 0)?, 0)?;
    let mut overrides = None;
    let block = match optional(values, 2) {
        // Spectrum: a block hash as third parameter picks the state, whatever the second says.
        Some(Value::String(_)) => BlockId::Hash {
            hash: params::hash(required(values, 2)?, 2)?,
            require_canonical: false,
        },
        // geth: a state override set (`overrides.rs`).
        Some(value @ Value::Object(_)) => {
            overrides = Some(StateOverrides::parse(value, 2)?);
            params::block_id(values.get(1), 1)?
        }
        Some(Value::Null) | None => params::block_id(values.get(1), 1)?,
        Some(_) => {
            return Err(invalid(
                2,
                "expected a block hash or a state override object",
            ));
        }
    };
    let (header, state) = state_at(api, block)?;
    let header = match optional(values, 3) {
        Some(Value::Null) | None => header,
        Some(value) => block_overrides(&header, value, 3)?,
    };
    let overrides = overrides.unwrap_or_default();
    let state = Overridden::new(&*state, &overrides);
    let gas = args
        .gas
        .unwrap_or(api.limits.gas_cap)
        .min(api.limits.gas_cap);
    let outcome = run(api, &header, &state, &request(&args, gas)?, deadline(api))
        .map_err(|e| call_error(api, e))?;
    outcome_result(outcome).map(|output| Value::String(output.to_string()))
}

fn outcome_result(outcome: CallOutcome) -> ApiResult<Bytes> {
    if outcome.success {
        return Ok(outcome.output);
    }
    if outcome.reverted {
        return Err(reverted(&outcome.output));
    }
    Err(server_error(
        outcome
            .halt
            .unwrap_or_else(|| "execution failed".to_owned()),
    ))
}

/// The gas the sender can pay for at `gas_price` after `value` (geth caps the search there).
fn affordable_gas(
    state: &dyn StateProvider,
    args: &CallArgs,
    price: u128,
) -> ApiResult<Option<u64>> {
    if price == 0 {
        return Ok(None);
    }
    let from = args.from.unwrap_or(Address::ZERO);
    let balance = state
        .account(&from)
        .map_err(internal)?
        .map(|a| a.balance)
        .unwrap_or_default();
    let available = balance
        .checked_sub(args.value)
        .ok_or_else(|| server_error("insufficient funds for transfer"))?;
    let gas = available / U256::from(price);
    Ok(Some(u64::try_from(gas).unwrap_or(u64::MAX)))
}

pub(crate) fn estimate_gas(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 4)?;
    let args = params::call_args(required(values, 0)?, 0)?;
    let block = params::block_id(values.get(1), 1)?;
    let overrides = match optional(values, 2) {
        Some(Value::Null) | None => StateOverrides::default(),
        Some(value) => StateOverrides::parse(value, 2)?,
    };
    let (header, state) = state_at(api, block)?;
    let header = match optional(values, 3) {
        Some(Value::Null) | None => header,
        Some(value) => block_overrides(&header, value, 3)?,
    };
    let state = Overridden::new(&*state, &overrides);
    let state: &dyn StateProvider = &state;
    // One budget for the whole search, not one per attempt.
    let deadline = deadline(api);
    let mut hi = match args.gas {
        Some(gas) if gas >= TX_GAS => gas,
        _ => header.gas_limit,
    };
    hi = hi.min(api.limits.gas_cap);
    let template = request(&args, hi)?;
    if let Some(affordable) = affordable_gas(state, &args, template.gas_price)? {
        hi = hi.min(affordable);
    }
    let attempt = |gas: u64| -> ApiResult<Option<CallOutcome>> {
        let request = CallRequest {
            gas_limit: gas,
            ..template.clone()
        };
        match run(api, &header, state, &request, deadline) {
            Ok(outcome) => Ok(Some(outcome)),
            // Too little gas even to start: a failed attempt, not an error.
            Err(ExecutionError::Transaction {
                error: TxError::IntrinsicGas { .. },
                ..
            }) => Ok(None),
            Err(e) => Err(call_error(api, e)),
        }
    };
    // At the cap it must succeed, or no gas limit will do.
    let first = attempt(hi)?
        .ok_or_else(|| server_error(format!("gas required exceeds allowance ({hi})")))?;
    if !first.success {
        if first.reverted {
            return Err(reverted(&first.output));
        }
        return Err(match first.halt.as_deref() {
            Some("out of gas") => server_error(format!("gas required exceeds allowance ({hi})")),
            Some(reason) => server_error(reason.to_owned()),
            None => server_error("execution failed"),
        });
    }
    // Gas used is a lower bound (refunds and the 63/64 rule can make the need larger).
    let mut lo = first.gas_used.saturating_sub(1).max(TX_GAS - 1);
    let succeeds =
        |gas: u64| -> ApiResult<bool> { Ok(attempt(gas)?.is_some_and(|outcome| outcome.success)) };
    // Usually the need is within 64/63 of the gas used: try that first.
    let optimistic = first
        .gas_used
        .saturating_mul(64)
        .checked_div(63)
        .unwrap_or(hi)
        .saturating_add(2300);
    if optimistic < hi && optimistic > lo {
        if succeeds(optimistic)? {
            hi = optimistic;
        } else {
            lo = optimistic;
        }
    }
    while lo.saturating_add(1) < hi {
        let mid = lo + (hi - lo) / 2;
        if succeeds(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hex_u64(hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_geth_writes_them() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(go_duration(Duration::from_secs(5)), "5s");
        assert_eq!(go_duration(Duration::from_millis(100)), "100ms");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    }
}
