//! `eth_call` and `eth_estimateGas`: a transaction run on the state of a block and thrown away.
//!
//! A revert is geth's error `{code: 3, message: "execution reverted: <reason>", data}` (the
//! reference node returns revert data as a result; today's clients expect the error). Spectrum's
//! extra third parameter of `eth_call`, a block hash, is honoured.

use alloy_primitives::{Address, Bytes, U256};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::Value;
use spectrum_execution::{CallOutcome, CallRequest, ExecutionError, TxError};
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::StateProvider;

use crate::{
    api::{Api, Method, blocking},
    blocks::hex_u64,
    error::{ApiResult, internal, reverted, server_error},
    params::{self, BlockId, CallArgs, at_most, invalid, optional, required},
    state::state_at,
};

pub(crate) const METHODS: &[Method<Value>] = &[
    blocking("eth_call", eth_call),
    blocking("eth_estimateGas", estimate_gas),
];

/// Gas of a plain transfer: nothing estimates lower.
const TX_GAS: u64 = 21_000;

/// The call request `args` describes, with the gas limit capped.
fn request(args: &CallArgs, gas: u64) -> ApiResult<CallRequest> {
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

/// geth's words for a transaction the call cannot even start.
fn call_error(error: ExecutionError) -> ErrorObjectOwned {
    match error {
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

fn run(
    api: &Api,
    header: &SealedHeader,
    state: &dyn StateProvider,
    request: &CallRequest,
) -> Result<CallOutcome, ExecutionError> {
    api.executor.call_with(header.header(), state, request)
}

fn eth_call(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 3)?;
    let args = params::call_args(required(values, 0)?, 0)?;
    let block = match optional(values, 2) {
        // Spectrum: a block hash as third parameter picks the state, whatever the second says.
        Some(Value::String(_)) => BlockId::Hash {
            hash: params::hash(required(values, 2)?, 2)?,
            require_canonical: false,
        },
        Some(Value::Object(_)) => return Err(invalid(2, "state overrides are not supported")),
        Some(_) => return Err(invalid(2, "expected a block hash")),
        None => params::block_id(values.get(1), 1)?,
    };
    let (header, state) = state_at(api, block)?;
    let gas = args
        .gas
        .unwrap_or(api.limits.gas_cap)
        .min(api.limits.gas_cap);
    let outcome = run(api, &header, state.provider(), &request(&args, gas)?).map_err(call_error)?;
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

fn estimate_gas(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    let args = params::call_args(required(values, 0)?, 0)?;
    let block = params::block_id(values.get(1), 1)?;
    let (header, state) = state_at(api, block)?;
    let state = state.provider();
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
        match run(api, &header, state, &request) {
            Ok(outcome) => Ok(Some(outcome)),
            // Too little gas even to start: a failed attempt, not an error.
            Err(ExecutionError::Transaction {
                error: TxError::IntrinsicGas { .. },
                ..
            }) => Ok(None),
            Err(e) => Err(call_error(e)),
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
