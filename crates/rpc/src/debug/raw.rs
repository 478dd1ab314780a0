//! `debug_getRawHeader`, `debug_getRawBlock`, `debug_getRawReceipts`,
//! `debug_getRawTransaction`: the consensus RLP encodings, hex.

use alloy_rlp::Encodable;
use serde_json::Value;

use crate::{
    api::{Api, Method, inline},
    error::{ApiResult, internal, server_error},
    params::{self, at_most, required},
};

pub(super) const GET_RAW_HEADER: Method<Value> = inline("debug_getRawHeader", raw_header);
pub(super) const GET_RAW_BLOCK: Method<Value> = inline("debug_getRawBlock", raw_block);
pub(super) const GET_RAW_RECEIPTS: Method<Value> = inline("debug_getRawReceipts", raw_receipts);
pub(super) const GET_RAW_TRANSACTION: Method<Value> =
    inline("debug_getRawTransaction", raw_transaction);

fn hex(item: &impl Encodable) -> Value {
    Value::String(format!(
        "0x{}",
        alloy_primitives::hex::encode(alloy_rlp::encode(item))
    ))
}

/// The block a number-or-hash parameter names (geth: `rpc.BlockNumberOrHash`).
fn block(api: &Api, values: &[Value]) -> ApiResult<spectrum_primitives::SealedBlock> {
    at_most(values, 1)?;
    let id = params::block_id(Some(required(values, 0)?), 0)?;
    let header = api.header_for(id)?;
    api.ctx
        .db
        .block(&header.hash())
        .map_err(internal)?
        .ok_or_else(|| server_error("block not found"))
}

fn raw_header(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let id = params::block_id(Some(required(values, 0)?), 0)?;
    Ok(hex(api.header_for(id)?.header()))
}

fn raw_block(api: &Api, values: &[Value]) -> ApiResult<Value> {
    Ok(hex(&block(api, values)?.unseal()))
}

fn raw_receipts(api: &Api, values: &[Value]) -> ApiResult<Value> {
    let block = block(api, values)?;
    let receipts = api
        .ctx
        .db
        .receipts(&block.hash())
        .map_err(internal)?
        .ok_or_else(|| server_error("receipts not found"))?;
    Ok(Value::Array(receipts.iter().map(hex).collect()))
}

fn raw_transaction(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let hash = params::hash(required(values, 0)?, 0)?;
    let db = &api.ctx.db;
    let Some(location) = db.tx_location(&hash).map_err(internal)? else {
        return Ok(Value::String("0x".to_owned()));
    };
    let block = db
        .block(&location.block_hash)
        .map_err(internal)?
        .ok_or_else(|| server_error("block not found"))?;
    let index = usize::try_from(location.index).map_err(internal)?;
    Ok(block
        .body
        .transactions
        .get(index)
        .map_or(Value::String("0x".to_owned()), hex))
}
