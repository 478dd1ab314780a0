//! Account state at a block: `eth_getBalance`, `eth_getCode`, `eth_getStorageAt`,
//! `eth_getTransactionCount`.

use alloy_primitives::{Address, B256, Bytes, U256};
use serde_json::Value;
use spectrum_primitives::{KECCAK_EMPTY, SealedHeader};
use spectrum_storage_api::{Account, BoxedSnapshot, ProviderError, StateSnapshot};

use crate::{
    api::{Api, Method, inline},
    error::{ApiResult, internal, server_error},
    params::{self, BlockId, at_most, required},
};

pub(crate) const METHODS: &[Method<Value>] = &[
    inline("eth_getBalance", get_balance),
    inline("eth_getCode", get_code),
    inline("eth_getStorageAt", get_storage_at),
    inline("eth_getTransactionCount", get_transaction_count),
];

/// The header a block parameter names and the state after it, from one snapshot. Unknown
/// blocks and blocks that are not canonical have no state here: geth's "header not found".
pub(crate) fn state_at(api: &Api, block: BlockId) -> ApiResult<(SealedHeader, BoxedSnapshot<'_>)> {
    let db = &api.ctx.db;
    if matches!(block, BlockId::Latest | BlockId::Pending) {
        // The head header is the block whose state is read: both from the snapshot.
        let state = db.latest().map_err(internal)?;
        let header = state.header().map_err(internal)?;
        return Ok((header, state));
    }
    let header = api.header_for(block)?;
    match db.by_hash(&header.hash()) {
        Ok(state) => Ok((header, state)),
        Err(ProviderError::StateUnavailable(_)) => Err(server_error("header not found")),
        Err(e) => Err(server_error(format!(
            "state of block {} unavailable: {e}",
            header.number
        ))),
    }
}

fn account(state: &dyn StateSnapshot, address: &Address) -> ApiResult<Option<Account>> {
    state.account(address).map_err(internal)
}

fn hex_u256(value: U256) -> Value {
    Value::String(format!("{value:#x}"))
}

fn get_balance(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    let address = params::address(required(values, 0)?, 0)?;
    let block = params::block_id(values.get(1), 1)?;
    let (_, state) = state_at(api, block)?;
    let balance = account(&*state, &address)?
        .map(|a| a.balance)
        .unwrap_or_default();
    Ok(hex_u256(balance))
}

fn get_code(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    let address = params::address(required(values, 0)?, 0)?;
    let block = params::block_id(values.get(1), 1)?;
    let (_, state) = state_at(api, block)?;
    let code = match account(&*state, &address)? {
        Some(account) if account.code_hash != KECCAK_EMPTY => state
            .code(&account.code_hash)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("code {} missing", account.code_hash)))?,
        _ => Bytes::new(),
    };
    Ok(Value::String(code.to_string()))
}

fn get_storage_at(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 3)?;
    let address = params::address(required(values, 0)?, 0)?;
    let slot = params::storage_slot(required(values, 1)?, 1)?;
    let block = params::block_id(values.get(2), 2)?;
    let (_, state) = state_at(api, block)?;
    let value = state.storage(&address, &slot).map_err(internal)?;
    Ok(Value::String(B256::from(value).to_string()))
}

fn get_transaction_count(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    let address = params::address(required(values, 0)?, 0)?;
    let block = params::block_id(values.get(1), 1)?;
    let (_, state) = state_at(api, block)?;
    let nonce = account(&*state, &address)?
        .map(|a| a.nonce)
        .unwrap_or_default();
    // `pending` counts the sender's transactions waiting in the pool too.
    let nonce = match block {
        BlockId::Pending => api
            .ctx
            .pool
            .pending_nonce(&address)
            .map_or(nonce, |p| p.max(nonce)),
        _ => nonce,
    };
    Ok(Value::String(format!("{nonce:#x}")))
}
