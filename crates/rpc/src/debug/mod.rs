//! The `debug` namespace: geth's tracers (`debug_traceTransaction`, `debug_traceCall`,
//! `debug_traceBlockByNumber` / `ByHash`) and the raw encodings (`debug_getRaw*`). Off by
//! default (a trace can cost seconds of a core); on with `--dev` or `--http.api debug`.
//!
//! Traces run on the heavy pool, each under the `--rpc.evmtimeout` budget (a tracer's own
//! `timeout` option may only shorten it) and a memory budget
//! ([`spectrum_execution::MAX_TRACE_BYTES`]). State is archived, so any canonical block can be
//! traced: the block's transactions are replayed on its parent's state.

mod raw;

use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256};
use serde_json::Value;
use spectrum_execution::{ExecutionError, GethDebugTracingOptions, TraceError};
use spectrum_primitives::{Header, SealedBlock};

use crate::{
    api::{Api, Method, heavy},
    call::{go_duration, parse_duration},
    error::{ApiResult, internal, server_error},
    overrides::{Overridden, StateOverrides, block_overrides},
    params::{self, BlockId, at_most, invalid, optional, required},
    state::state_at,
};

pub(crate) const METHODS: &[Method<Value>] = &[
    heavy("debug_traceTransaction", trace_transaction),
    heavy("debug_traceBlockByNumber", trace_block_by_number),
    heavy("debug_traceBlockByHash", trace_block_by_hash),
    heavy("debug_traceCall", trace_call),
    raw::GET_RAW_HEADER,
    raw::GET_RAW_BLOCK,
    raw::GET_RAW_RECEIPTS,
    raw::GET_RAW_TRANSACTION,
];

/// The tracer options at `index` (geth's `TraceConfig` / `TraceCallConfig`; absent = the
/// struct logger with its defaults).
fn options(values: &[Value], index: usize) -> ApiResult<GethDebugTracingOptions> {
    match optional(values, index) {
        None | Some(Value::Null) => Ok(GethDebugTracingOptions::default()),
        Some(value @ Value::Object(_)) => serde_json::from_value(value.clone())
            .map_err(|e| invalid(index, format!("tracer options: {e}"))),
        Some(_) => Err(invalid(index, "expected a tracer options object")),
    }
}

/// When a trace started now must stop: the node's budget, shortened by the request's
/// `timeout`; `None` when neither sets one.
fn deadline(
    api: &Api,
    options: &GethDebugTracingOptions,
) -> ApiResult<(Option<Instant>, Duration)> {
    let node = api.limits.evm_timeout;
    let asked = options
        .timeout
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(|e| server_error(format!("bad timeout: {e}")))?;
    let budget = match asked {
        Some(asked) if node.is_zero() || asked < node => asked,
        _ => node,
    };
    Ok(((!budget.is_zero()).then(|| Instant::now() + budget), budget))
}

fn trace_error(error: TraceError, budget: Duration) -> jsonrpsee::types::ErrorObjectOwned {
    match error {
        TraceError::Execution(ExecutionError::CallTimeout) => server_error(format!(
            "execution timeout (trace aborted after {})",
            go_duration(budget)
        )),
        TraceError::Execution(ExecutionError::State(e)) => internal(e),
        other => server_error(other.to_string()),
    }
}

/// Who receives the block's fees on Spectrum: the coinbase, or the seal signer when it is zero
/// (chain.md §6).
fn fee_recipient(header: &Header) -> ApiResult<Address> {
    if header.beneficiary != Address::ZERO {
        return Ok(header.beneficiary);
    }
    spectrum_consensus::seal::block_signer(header).map_err(internal)
}

/// Traces block `block` (all its transactions, or the one at `only`), on its parent's state.
fn trace_block(
    api: &Api,
    block: SealedBlock,
    only: Option<usize>,
    options: &GethDebugTracingOptions,
) -> ApiResult<Vec<(B256, Value)>> {
    let number = block.number();
    if number == 0 {
        return Err(server_error("genesis is not traceable"));
    }
    let parent = BlockId::Hash {
        hash: block.header.parent_hash,
        require_canonical: false,
    };
    let (_, state) = state_at(api, parent)?;
    let hashes: Vec<B256> = block.body.transactions.iter().map(|t| t.hash()).collect();
    let block = block
        .try_recover()
        .map_err(|(i, e)| internal(format!("transaction {i} of block {number}: {e}")))?;
    let recipient = fee_recipient(block.header().header())?;
    let (deadline, budget) = deadline(api, options)?;
    let traces = api
        .executor
        .trace_block(&block, recipient, &*state, only, options, deadline)
        .map_err(|e| trace_error(e, budget))?;
    let picked = hashes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| only.is_none_or(|o| o == *i))
        .map(|(_, h)| h);
    picked
        .zip(traces)
        .map(|(hash, trace)| Ok((hash, serde_json::to_value(trace).map_err(internal)?)))
        .collect()
}

fn trace_transaction(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    let hash = params::hash(required(values, 0)?, 0)?;
    let options = options(values, 1)?;
    let db = &api.ctx.db;
    let location = db
        .tx_location(&hash)
        .map_err(internal)?
        .filter(|l| {
            db.canonical_hash(l.block_number)
                .is_ok_and(|h| h == Some(l.block_hash))
        })
        .ok_or_else(|| server_error(format!("transaction {hash} not found")))?;
    let block = db
        .block(&location.block_hash)
        .map_err(internal)?
        .ok_or_else(|| server_error(format!("transaction {hash} not found")))?;
    let index = usize::try_from(location.index).map_err(internal)?;
    let mut traces = trace_block(api, block, Some(index), &options)?;
    traces
        .pop()
        .map(|(_, trace)| trace)
        .ok_or_else(|| internal("the traced transaction produced no trace"))
}

fn block_traces(api: &Api, block: BlockId, values: &[Value]) -> ApiResult<Value> {
    let options = options(values, 1)?;
    let header = api.header_for(block)?;
    let block = api
        .ctx
        .db
        .block(&header.hash())
        .map_err(internal)?
        .ok_or_else(|| server_error("block not found"))?;
    let traces = trace_block(api, block, None, &options)?;
    Ok(Value::Array(
        traces
            .into_iter()
            .map(|(hash, result)| serde_json::json!({ "txHash": hash, "result": result }))
            .collect(),
    ))
}

fn trace_block_by_number(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    let block = params::block_number_param(required(values, 0)?, 0)?;
    block_traces(api, block, values)
}

fn trace_block_by_hash(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    let hash = params::hash(required(values, 0)?, 0)?;
    let block = BlockId::Hash {
        hash,
        require_canonical: false,
    };
    block_traces(api, block, values)
}

fn trace_call(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 3)?;
    let args = params::call_args(required(values, 0)?, 0)?;
    let block = params::block_id(values.get(1), 1)?;
    let options = options(values, 2)?;
    // geth's TraceCallConfig: the tracer options plus `stateOverrides` and `blockOverrides`.
    let extra = |name: &str| {
        optional(values, 2)
            .and_then(|o| o.get(name))
            .filter(|v| !v.is_null())
    };
    let overrides = extra("stateOverrides")
        .map(|v| StateOverrides::parse(v, 2))
        .transpose()?
        .unwrap_or_default();
    let (header, state) = state_at(api, block)?;
    let header = match extra("blockOverrides") {
        Some(value) => block_overrides(&header, value, 2)?,
        None => header,
    };
    let state = Overridden::new(&*state, &overrides);
    let gas = args
        .gas
        .unwrap_or(api.limits.gas_cap)
        .min(api.limits.gas_cap);
    let request = crate::call::request(&args, gas)?;
    let (deadline, budget) = deadline(api, &options)?;
    let trace = api
        .executor
        .trace_call(header.header(), &state, &request, &options, deadline)
        .map_err(|e| trace_error(e, budget))?;
    serde_json::to_value(trace).map_err(internal)
}
