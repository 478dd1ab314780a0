//! The small methods: `web3_*`, `net_*`, and `eth_*` about the node and chain rather than
//! state (chain id, head number, sync, gas price, fee history, accounts, submitting a raw
//! transaction).

use alloy_primitives::{U256, keccak256};
use serde_json::{Value, json};
use spectrum_txpool::{PoolError, TxOrigin};

use crate::{
    api::{Api, Method, heavy, inline},
    blocks::{hex_u64, hex_u256, is_hidden},
    error::{ApiResult, internal, invalid_param, server_error},
    params::{self, at_most, optional, required},
};

pub(crate) const WEB3_METHODS: &[Method<Value>] = &[
    inline("web3_clientVersion", client_version),
    inline("web3_sha3", sha3),
];

pub(crate) const NET_METHODS: &[Method<Value>] = &[
    inline("net_version", net_version),
    inline("net_listening", net_listening),
    inline("net_peerCount", net_peer_count),
];

pub(crate) const ETH_METHODS: &[Method<Value>] = &[
    inline("eth_chainId", chain_id),
    inline("eth_blockNumber", block_number),
    inline("eth_syncing", syncing),
    inline("eth_gasPrice", gas_price),
    inline("eth_maxPriorityFeePerGas", gas_price),
    heavy("eth_feeHistory", fee_history),
    inline("eth_accounts", accounts),
    inline("eth_coinbase", coinbase),
    inline("eth_mining", mining),
    inline("eth_hashrate", hashrate),
    inline("eth_protocolVersion", protocol_version),
    inline("eth_sendRawTransaction", send_raw_transaction),
];

fn client_version(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(json!(api.ctx.client_version))
}

fn sha3(_: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let data = params::data(required(values, 0)?, 0)?;
    Ok(json!(keccak256(&data)))
}

fn net_version(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(json!(api.ctx.spec.network_id.to_string()))
}

fn net_listening(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(json!(api.ctx.network.listening()))
}

fn net_peer_count(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    let peers = u64::try_from(api.ctx.network.peer_count()).unwrap_or(u64::MAX);
    Ok(hex_u64(peers))
}

fn chain_id(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(hex_u64(api.ctx.spec.chain_id))
}

fn block_number(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    let (number, _) = api.head()?;
    Ok(hex_u64(number))
}

fn syncing(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(match api.ctx.network.syncing() {
        None => Value::Bool(false),
        Some(progress) => json!({
            "startingBlock": hex_u64(progress.starting_block),
            "currentBlock": hex_u64(progress.current_block),
            "highestBlock": hex_u64(progress.highest_block),
        }),
    })
}

/// Blocks the gas price oracle looks back over.
const ORACLE_BLOCKS: u64 = 20;

/// geth 1.8's oracle: the median of the cheapest price in each recent block (the chief update
/// left out), never below the pool's minimum; cached per head.
pub(crate) fn suggested_gas_price(api: &Api) -> ApiResult<U256> {
    let (head, head_hash) = api.head()?;
    let cache = |value: Option<(alloy_primitives::B256, U256)>| {
        let mut guard = api
            .gas_price_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match value {
            Some(v) => {
                *guard = Some(v);
                None
            }
            None => *guard,
        }
    };
    if let Some((hash, price)) = cache(None)
        && hash == head_hash
    {
        return Ok(price);
    }
    let db = &api.ctx.db;
    let mut cheapest = Vec::new();
    for number in (head.saturating_sub(ORACLE_BLOCKS - 1)..=head).rev() {
        let Some(hash) = db.canonical_hash(number).map_err(internal)? else {
            continue;
        };
        let Some(body) = db.body(&hash).map_err(internal)? else {
            continue;
        };
        let min = body
            .transactions
            .iter()
            .filter(|tx| !is_hidden(api, number, tx))
            .map(|tx| U256::from(tx.tx().gas_price))
            .min();
        cheapest.extend(min);
    }
    cheapest.sort_unstable();
    let median = cheapest
        .get(cheapest.len() / 2)
        .copied()
        .unwrap_or_default();
    let price = median.max(api.ctx.min_gas_price);
    cache(Some((head_hash, price)));
    Ok(price)
}

fn gas_price(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    suggested_gas_price(api).map(hex_u256)
}

/// Most blocks one `eth_feeHistory` covers (geth's limit).
const MAX_FEE_HISTORY: u64 = 1024;

/// A pre-London answer: zero base fees, each block's gas used ratio, and as "reward" the
/// gas price percentiles of its transactions, so a wallet that asks still picks a working
/// legacy price.
fn fee_history(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 3)?;
    let count = match required(values, 0)? {
        // Some clients send a plain number here; geth accepts both.
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| invalid_param(0, "block count must be a positive integer"))?,
        other => params::quantity_u64(other, 0)?,
    }
    .min(MAX_FEE_HISTORY);
    let newest = params::block_number_param(required(values, 1)?, 1)?;
    let percentiles: Vec<f64> = match optional(values, 2) {
        None => Vec::new(),
        Some(Value::Array(items)) if items.len() <= 100 => items
            .iter()
            .map(|v| v.as_f64().filter(|p| (0.0..=100.0).contains(p)))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid_param(2, "percentiles must be numbers from 0 to 100"))?,
        Some(_) => return Err(invalid_param(2, "expected at most 100 percentiles")),
    };
    let Some((newest, _)) = api.resolve(newest)? else {
        return Err(server_error("header not found"));
    };
    let oldest = newest.saturating_sub(count.saturating_sub(1));
    let db = &api.ctx.db;
    let (mut ratios, mut rewards) = (Vec::new(), Vec::new());
    for number in oldest..=newest {
        if count == 0 {
            break;
        }
        let header = db
            .header_by_number(number)
            .map_err(internal)?
            .ok_or_else(|| server_error("header not found"))?;
        let ratio = if header.gas_limit == 0 {
            0.0
        } else {
            // f64 is what the JSON carries; the ratio is informative, not money.
            header.gas_used as f64 / header.gas_limit as f64
        };
        ratios.push(json!(ratio));
        if !percentiles.is_empty() {
            let body = db
                .body(&header.hash())
                .map_err(internal)?
                .unwrap_or_default();
            let mut prices: Vec<U256> = body
                .transactions
                .iter()
                .filter(|tx| !is_hidden(api, number, tx))
                .map(|tx| U256::from(tx.tx().gas_price))
                .collect();
            prices.sort_unstable();
            let row: Vec<Value> = percentiles
                .iter()
                .map(|p| {
                    let last = prices.len().saturating_sub(1);
                    let at = ((*p / 100.0) * last as f64).round() as usize;
                    hex_u256(prices.get(at.min(last)).copied().unwrap_or_default())
                })
                .collect();
            rewards.push(Value::Array(row));
        }
    }
    let blocks = ratios.len();
    let mut answer = json!({
        "oldestBlock": hex_u64(oldest),
        "baseFeePerGas": vec![hex_u64(0); if blocks == 0 { 0 } else { blocks + 1 }],
        "gasUsedRatio": ratios,
    });
    if !percentiles.is_empty() {
        answer["reward"] = Value::Array(rewards);
    }
    Ok(answer)
}

fn accounts(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    // The node holds no user keys (wallets sign and send raw transactions), except the dev
    // accounts' on `--dev` (`dev.rs`).
    Ok(json!(api.dev.addresses()))
}

fn coinbase(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    api.ctx
        .validator
        .map(|a| json!(a))
        .ok_or_else(|| server_error("etherbase must be explicitly specified"))
}

fn mining(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(json!(api.ctx.validator.is_some()))
}

fn hashrate(_: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(hex_u64(0))
}

fn protocol_version(_: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    // eth/63, as the reference node.
    Ok(hex_u64(63))
}

fn send_raw_transaction(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let raw = params::data(required(values, 0)?, 0)?;
    match api.ctx.pool.add_raw(&raw, TxOrigin::Local) {
        Ok(hash) => Ok(json!(hash)),
        Err(PoolError::State(e)) => Err(internal(e)),
        Err(e) => Err(server_error(e.to_string())),
    }
}
