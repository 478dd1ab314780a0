//! The methods, with geth's result shapes.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use jsonrpsee::{
    RpcModule,
    core::RegisterMethodError,
    types::{ErrorObjectOwned, Params, error::INTERNAL_ERROR_CODE},
};
use serde_json::{Value, json};
use spectrum_storage::HistoricalState;
use spectrum_storage_api::StateProvider;
use spectrum_txpool::TxOrigin;

use crate::{
    RpcContext,
    params::{self, BlockId, positional, required},
};

/// geth's code for errors that are not JSON-RPC's own (pool rejections, missing state).
const SERVER_ERROR_CODE: i32 = -32000;

type RpcResult = Result<Value, ErrorObjectOwned>;

fn server_error(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(SERVER_ERROR_CODE, message.into(), None::<()>)
}

fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(INTERNAL_ERROR_CODE, error.to_string(), None::<()>)
}

fn hex_u64(value: u64) -> Value {
    Value::String(format!("{value:#x}"))
}

fn hex_u256(value: U256) -> Value {
    Value::String(format!("{value:#x}"))
}

/// Registers every method on one module over `ctx`.
pub(crate) fn module(ctx: Arc<RpcContext>) -> Result<RpcModule<Arc<RpcContext>>, RegisterMethodError> {
    let mut module = RpcModule::new(ctx);
    let methods: [(&'static str, fn(&RpcContext, &[Value]) -> RpcResult); 9] = [
        ("web3_clientVersion", |c, _| Ok(json!(c.client_version))),
        ("net_version", |c, _| Ok(json!(c.spec.network_id.to_string()))),
        ("eth_chainId", |c, _| Ok(hex_u64(c.spec.chain_id))),
        ("eth_blockNumber", block_number),
        ("eth_gasPrice", |c, _| Ok(hex_u256(c.gas_price))),
        ("eth_getBalance", get_balance),
        ("eth_getTransactionCount", get_transaction_count),
        ("eth_sendRawTransaction", send_raw_transaction),
        ("eth_getTransactionReceipt", get_transaction_receipt),
    ];
    for (name, method) in methods {
        module.register_method(name, move |raw: Params<'_>, ctx: &Arc<RpcContext>, _| {
            let values = positional(&raw)?;
            method(ctx, &values)
        })?;
    }
    Ok(module)
}

fn block_number(ctx: &RpcContext, _: &[Value]) -> RpcResult {
    let (number, _) = ctx.db.head().map_err(internal)?.ok_or_else(|| internal("no head"))?;
    Ok(hex_u64(number))
}

/// The state a block parameter names: the head's, or a canonical block's history.
enum StateAt<'a> {
    Latest(spectrum_storage::LatestState<'a>),
    Historical(HistoricalState<'a>),
}

impl StateAt<'_> {
    fn provider(&self) -> &dyn StateProvider {
        match self {
            Self::Latest(state) => state,
            Self::Historical(state) => state,
        }
    }
}

fn state_at<'a>(ctx: &'a RpcContext, block: BlockId) -> Result<StateAt<'a>, ErrorObjectOwned> {
    let (head, _) = ctx.db.head().map_err(internal)?.ok_or_else(|| internal("no head"))?;
    let number = match block {
        BlockId::Latest | BlockId::Pending => return Ok(StateAt::Latest(ctx.db.latest_state())),
        BlockId::Earliest => 0,
        BlockId::Number(n) => n,
        BlockId::Hash {
            hash,
            require_canonical,
        } => {
            let number = ctx
                .db
                .block_number(&hash)
                .map_err(internal)?
                .ok_or_else(|| server_error("header not found"))?;
            let canonical = ctx.db.canonical_hash(number).map_err(internal)? == Some(hash);
            if !canonical {
                return Err(server_error(if require_canonical {
                    "hash is not currently canonical"
                } else {
                    "header not found"
                }));
            }
            number
        }
    };
    if number > head {
        return Err(server_error("header not found"));
    }
    if number == head {
        return Ok(StateAt::Latest(ctx.db.latest_state()));
    }
    ctx.db
        .state_at(number)
        .map(StateAt::Historical)
        .map_err(|e| server_error(format!("state of block {number} unavailable: {e}")))
}

fn get_balance(ctx: &RpcContext, values: &[Value]) -> RpcResult {
    let address = params::address(required(values, 0)?, 0)?;
    let block = params::block_id(values.get(1), 1)?;
    let state = state_at(ctx, block)?;
    let account = state.provider().account(&address).map_err(internal)?;
    Ok(hex_u256(account.map(|a| a.balance).unwrap_or_default()))
}

fn get_transaction_count(ctx: &RpcContext, values: &[Value]) -> RpcResult {
    let address = params::address(required(values, 0)?, 0)?;
    let block = params::block_id(values.get(1), 1)?;
    let state = state_at(ctx, block)?;
    let nonce = state
        .provider()
        .account(&address)
        .map_err(internal)?
        .map(|a| a.nonce)
        .unwrap_or_default();
    // `pending` counts the sender's executable pool transactions too.
    let nonce = match block {
        BlockId::Pending => ctx.pool.pending_nonce(&address).map_or(nonce, |p| p.max(nonce)),
        _ => nonce,
    };
    Ok(hex_u64(nonce))
}

fn send_raw_transaction(ctx: &RpcContext, values: &[Value]) -> RpcResult {
    let raw = params::data(required(values, 0)?, 0)?;
    let hash = ctx
        .pool
        .add_raw(&raw, TxOrigin::Local)
        .map_err(|e| server_error(e.to_string()))?;
    Ok(json!(hash))
}

fn get_transaction_receipt(ctx: &RpcContext, values: &[Value]) -> RpcResult {
    let hash = params::hash(required(values, 0)?, 0)?;
    receipt_json(ctx, hash)
}

/// A receipt as geth shows it (with today's `effectiveGasPrice` and `type`), or null.
fn receipt_json(ctx: &RpcContext, hash: B256) -> RpcResult {
    let Some(location) = ctx.db.tx_location(&hash).map_err(internal)? else {
        return Ok(Value::Null);
    };
    if ctx.db.canonical_hash(location.block_number).map_err(internal)? != Some(location.block_hash) {
        return Ok(Value::Null);
    }
    let block = ctx
        .db
        .block(&location.block_hash)
        .map_err(internal)?
        .ok_or_else(|| internal("block of a located transaction is missing"))?;
    let receipts = ctx
        .db
        .receipts(&location.block_hash)
        .map_err(internal)?
        .ok_or_else(|| internal("receipts of a stored block are missing"))?;
    let index = usize::try_from(location.index).map_err(internal)?;
    let (Some(tx), Some(receipt)) = (block.body.transactions.get(index), receipts.get(index)) else {
        return Err(internal("transaction index outside its block"));
    };
    let sender: Address = tx
        .recover_sender()
        .or_else(|_| spectrum_primitives::recover_signer_unchecked(tx.signature(), tx.signature_hash()))
        .map_err(internal)?;
    let previous = index
        .checked_sub(1)
        .and_then(|i| receipts.get(i))
        .map_or(0, |r| r.receipt.cumulative_gas_used);
    let gas_used = receipt.receipt.cumulative_gas_used.saturating_sub(previous);
    let first_log_index: usize = receipts
        .iter()
        .take(index)
        .map(|r| r.receipt.logs.len())
        .sum();
    let logs: Vec<Value> = receipt
        .receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, log)| {
            json!({
                "address": log.address,
                "topics": log.data.topics(),
                "data": log.data.data,
                "blockNumber": hex_u64(location.block_number),
                "blockHash": location.block_hash,
                "transactionHash": hash,
                "transactionIndex": hex_u64(u64::from(location.index)),
                "logIndex": hex_u64(u64::try_from(first_log_index.saturating_add(i)).unwrap_or(u64::MAX)),
                "removed": false,
            })
        })
        .collect();
    let fields = tx.tx();
    let contract_address = fields
        .to
        .is_create()
        .then(|| sender.create(fields.nonce));
    Ok(json!({
        "transactionHash": hash,
        "transactionIndex": hex_u64(u64::from(location.index)),
        "blockHash": location.block_hash,
        "blockNumber": hex_u64(location.block_number),
        "from": sender,
        "to": fields.to.to(),
        "cumulativeGasUsed": hex_u64(receipt.receipt.cumulative_gas_used),
        "gasUsed": hex_u64(gas_used),
        "effectiveGasPrice": hex_u256(U256::from(fields.gas_price)),
        "contractAddress": contract_address,
        "logs": logs,
        "logsBloom": receipt.logs_bloom,
        "status": if receipt.receipt.status.coerce_status() { "0x1" } else { "0x0" },
        "type": "0x0",
    }))
}
