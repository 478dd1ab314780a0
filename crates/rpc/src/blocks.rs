//! Blocks, transactions and receipts in geth's shapes, and the methods that read them.
//!
//! Spectrum's chief-update transaction (index 0 of every block from 4) is left out of a block
//! object's `transactions`, as the reference node does; transaction counts, index lookups and
//! receipts include it.

use alloy_primitives::{Address, B256, U256};
use alloy_rlp::Encodable;
use serde_json::{Map, Value, json};
use spectrum_primitives::{
    Log, ReceiptWithBloom, SealedBlock, SealedHeader, TransactionSigned, recover_signer_unchecked,
};

use crate::{
    api::{Api, Method, inline},
    error::{ApiResult, internal},
    params::{self, BlockId, at_most, required},
};

pub(crate) const METHODS: &[Method<Value>] = &[
    inline("eth_getBlockByHash", get_block_by_hash),
    inline("eth_getBlockByNumber", get_block_by_number),
    inline("eth_getBlockTransactionCountByHash", tx_count_by_hash),
    inline("eth_getBlockTransactionCountByNumber", tx_count_by_number),
    inline("eth_getUncleCountByBlockHash", uncle_count_by_hash),
    inline("eth_getUncleCountByBlockNumber", uncle_count_by_number),
    inline("eth_getUncleByBlockHashAndIndex", uncle_by_hash),
    inline("eth_getUncleByBlockNumberAndIndex", uncle_by_number),
    inline("eth_getTransactionByHash", tx_by_hash),
    inline(
        "eth_getTransactionByBlockHashAndIndex",
        tx_by_hash_and_index,
    ),
    inline(
        "eth_getTransactionByBlockNumberAndIndex",
        tx_by_number_and_index,
    ),
    inline("eth_getRawTransactionByHash", raw_tx_by_hash),
    inline(
        "eth_getRawTransactionByBlockHashAndIndex",
        raw_tx_by_hash_and_index,
    ),
    inline(
        "eth_getRawTransactionByBlockNumberAndIndex",
        raw_tx_by_number_and_index,
    ),
    inline("eth_getTransactionReceipt", receipt_by_hash),
    inline("eth_getBlockReceipts", block_receipts),
];

pub(crate) fn hex_u64(value: u64) -> Value {
    Value::String(format!("{value:#x}"))
}

pub(crate) fn hex_u256(value: U256) -> Value {
    Value::String(format!("{value:#x}"))
}

fn hex_usize(value: usize) -> Value {
    hex_u64(u64::try_from(value).unwrap_or(u64::MAX))
}

/// Where a transaction sits in a canonical block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TxPosition {
    pub(crate) block_hash: B256,
    pub(crate) block_number: u64,
    pub(crate) index: usize,
}

/// A transaction's sender. Block transactions were validated on import; a sender that does not
/// recover under EIP-2 (pre-Homestead history) is recovered without the low-s rule.
pub(crate) fn sender_of(tx: &TransactionSigned) -> ApiResult<Address> {
    tx.recover_sender()
        .or_else(|_| recover_signer_unchecked(tx.signature(), tx.signature_hash()))
        .map_err(internal)
}

/// A transaction as today's geth shows a legacy one (`type` 0x0, `chainId` when protected).
pub(crate) fn tx_json(tx: &TransactionSigned, sender: Address, at: Option<TxPosition>) -> Value {
    let fields = tx.tx();
    let signature = tx.signature();
    let v = match fields.chain_id {
        // EIP-155: v = 2·chainId + 35 + parity.
        Some(id) => U256::from(id)
            .saturating_mul(U256::from(2))
            .saturating_add(U256::from(35u8 + u8::from(signature.v()))),
        None => U256::from(27u8 + u8::from(signature.v())),
    };
    let mut object = Map::new();
    object.insert("blockHash".into(), json!(at.map(|p| p.block_hash)));
    object.insert(
        "blockNumber".into(),
        at.map_or(Value::Null, |p| hex_u64(p.block_number)),
    );
    object.insert("from".into(), json!(sender));
    object.insert("gas".into(), hex_u64(fields.gas_limit));
    object.insert("gasPrice".into(), hex_u256(U256::from(fields.gas_price)));
    object.insert("hash".into(), json!(tx.hash()));
    object.insert("input".into(), json!(fields.input));
    object.insert("nonce".into(), hex_u64(fields.nonce));
    object.insert("to".into(), json!(fields.to.to()));
    object.insert(
        "transactionIndex".into(),
        at.map_or(Value::Null, |p| hex_usize(p.index)),
    );
    object.insert("value".into(), hex_u256(fields.value));
    object.insert("type".into(), json!("0x0"));
    if let Some(id) = fields.chain_id {
        object.insert("chainId".into(), hex_u64(id));
    }
    object.insert("v".into(), hex_u256(v));
    object.insert("r".into(), hex_u256(signature.r()));
    object.insert("s".into(), hex_u256(signature.s()));
    Value::Object(object)
}

/// The header fields of a block object (also the `newHeads` payload).
pub(crate) fn header_json(header: &SealedHeader) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("number".into(), hex_u64(header.number));
    object.insert("hash".into(), json!(header.hash()));
    object.insert("parentHash".into(), json!(header.parent_hash));
    object.insert("nonce".into(), json!(header.nonce));
    object.insert("mixHash".into(), json!(header.mix_hash));
    object.insert("sha3Uncles".into(), json!(header.ommers_hash));
    object.insert("logsBloom".into(), json!(header.logs_bloom));
    object.insert("stateRoot".into(), json!(header.state_root));
    object.insert("miner".into(), json!(header.beneficiary));
    object.insert("difficulty".into(), hex_u256(header.difficulty));
    object.insert("extraData".into(), json!(header.extra_data));
    object.insert("gasLimit".into(), hex_u64(header.gas_limit));
    object.insert("gasUsed".into(), hex_u64(header.gas_used));
    object.insert("timestamp".into(), hex_u64(header.timestamp));
    object.insert("transactionsRoot".into(), json!(header.transactions_root));
    object.insert("receiptsRoot".into(), json!(header.receipts_root));
    object
}

/// Whether the block object leaves `tx` out (the chief update, tribe.md §8).
pub(crate) fn is_hidden(api: &Api, number: u64, tx: &TransactionSigned) -> bool {
    spectrum_consensus::is_chief_update(&api.ctx.spec, number, tx)
}

/// A block object: header fields, total difficulty, size, the visible transactions (hashes
/// or full objects) and no uncles.
pub(crate) fn block_json(api: &Api, block: &SealedBlock, full: bool) -> ApiResult<Value> {
    let hash = block.hash();
    let number = block.number();
    let mut object = header_json(&block.header);
    let td = api.ctx.db.total_difficulty(&hash).map_err(internal)?;
    object.insert(
        "totalDifficulty".into(),
        json!(td.map(|t| format!("{t:#x}"))),
    );
    let size = block.clone().unseal().length();
    object.insert("size".into(), hex_usize(size));
    let mut transactions = Vec::with_capacity(block.body.transactions.len());
    for (index, tx) in block.body.transactions.iter().enumerate() {
        if is_hidden(api, number, tx) {
            continue;
        }
        transactions.push(if full {
            let at = TxPosition {
                block_hash: hash,
                block_number: number,
                index,
            };
            tx_json(tx, sender_of(tx)?, Some(at))
        } else {
            json!(tx.hash())
        });
    }
    object.insert("transactions".into(), Value::Array(transactions));
    object.insert("uncles".into(), json!([]));
    Ok(Value::Object(object))
}

/// A log as geth shows it.
pub(crate) fn log_json(
    log: &Log,
    tx_hash: B256,
    at: TxPosition,
    log_index: usize,
    removed: bool,
) -> Value {
    json!({
        "address": log.address,
        "topics": log.data.topics(),
        "data": log.data.data,
        "blockNumber": hex_u64(at.block_number),
        "blockHash": at.block_hash,
        "transactionHash": tx_hash,
        "transactionIndex": hex_usize(at.index),
        "logIndex": hex_usize(log_index),
        "removed": removed,
    })
}

/// A receipt as today's geth shows a legacy one (`effectiveGasPrice`, `type` 0x0).
struct ReceiptInput<'a> {
    tx: &'a TransactionSigned,
    sender: Address,
    receipt: &'a ReceiptWithBloom,
    at: TxPosition,
    previous_cumulative: u64,
    first_log_index: usize,
}

fn receipt_json(input: ReceiptInput<'_>) -> Value {
    let ReceiptInput {
        tx,
        sender,
        receipt,
        at,
        previous_cumulative,
        first_log_index,
    } = input;
    let hash = tx.hash();
    let logs: Vec<Value> = receipt
        .receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, log)| log_json(log, hash, at, first_log_index.saturating_add(i), false))
        .collect();
    let fields = tx.tx();
    let gas_used = receipt
        .receipt
        .cumulative_gas_used
        .saturating_sub(previous_cumulative);
    // geth 1.8 gives a failed creation its would-be address too.
    let contract_address = fields.to.is_create().then(|| sender.create(fields.nonce));
    json!({
        "transactionHash": hash,
        "transactionIndex": hex_usize(at.index),
        "blockHash": at.block_hash,
        "blockNumber": hex_u64(at.block_number),
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
    })
}

/// The canonical block `hash` with its receipts, or `None` if it is not canonical.
fn canonical_block_with_receipts(
    api: &Api,
    number: u64,
    hash: B256,
) -> ApiResult<Option<(SealedBlock, Vec<ReceiptWithBloom>)>> {
    let db = &api.ctx.db;
    if db.canonical_hash(number).map_err(internal)? != Some(hash) {
        return Ok(None);
    }
    let Some(block) = db.block(&hash).map_err(internal)? else {
        return Ok(None);
    };
    let receipts = db
        .receipts(&hash)
        .map_err(internal)?
        .ok_or_else(|| internal(format!("receipts of block {number} are missing")))?;
    if receipts.len() != block.body.transactions.len() {
        return Err(internal(format!(
            "block {number}: receipts do not match its transactions"
        )));
    }
    Ok(Some((block, receipts)))
}

/// Every log of a canonical block that `keep` accepts, in geth's shape.
pub(crate) fn block_logs(
    api: &Api,
    header: &SealedHeader,
    removed: bool,
    keep: &dyn Fn(&Log) -> bool,
) -> ApiResult<Vec<Value>> {
    let db = &api.ctx.db;
    let hash = header.hash();
    let Some(receipts) = db.receipts(&hash).map_err(internal)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut body = None;
    let mut log_index = 0usize;
    for (index, receipt) in receipts.iter().enumerate() {
        for log in &receipt.receipt.logs {
            if keep(log) {
                if body.is_none() {
                    body = db.body(&hash).map_err(internal)?;
                }
                let tx_hash = body
                    .as_ref()
                    .and_then(|b| b.transactions.get(index))
                    .map(TransactionSigned::hash)
                    .unwrap_or_default();
                let at = TxPosition {
                    block_hash: hash,
                    block_number: header.number,
                    index,
                };
                out.push(log_json(log, tx_hash, at, log_index, removed));
            }
            log_index = log_index.saturating_add(1);
        }
    }
    Ok(out)
}

fn full_flag(values: &[Value]) -> ApiResult<bool> {
    params::boolean(required(values, 1)?, 1)
}

fn block_by(api: &Api, block: BlockId, full: bool) -> ApiResult<Value> {
    let Some((_, hash)) = api.resolve(block)? else {
        return Ok(Value::Null);
    };
    match api.ctx.db.block(&hash).map_err(internal)? {
        Some(block) => block_json(api, &block, full),
        None => Ok(Value::Null),
    }
}

fn hash_id(values: &[Value]) -> ApiResult<BlockId> {
    Ok(BlockId::Hash {
        hash: params::hash(required(values, 0)?, 0)?,
        require_canonical: false,
    })
}

fn number_id(values: &[Value]) -> ApiResult<BlockId> {
    params::block_number_param(required(values, 0)?, 0)
}

fn get_block_by_hash(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    block_by(api, hash_id(values)?, full_flag(values)?)
}

fn get_block_by_number(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    block_by(api, number_id(values)?, full_flag(values)?)
}

fn tx_count(api: &Api, block: BlockId) -> ApiResult<Value> {
    let Some((_, hash)) = api.resolve(block)? else {
        return Ok(Value::Null);
    };
    Ok(match api.ctx.db.body(&hash).map_err(internal)? {
        Some(body) => hex_usize(body.transactions.len()),
        None => Value::Null,
    })
}

fn tx_count_by_hash(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    tx_count(api, hash_id(values)?)
}

fn tx_count_by_number(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    tx_count(api, number_id(values)?)
}

fn uncle_count(api: &Api, block: BlockId) -> ApiResult<Value> {
    Ok(match api.resolve(block)? {
        Some(_) => hex_u64(0),
        None => Value::Null,
    })
}

fn uncle_count_by_hash(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    uncle_count(api, hash_id(values)?)
}

fn uncle_count_by_number(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    uncle_count(api, number_id(values)?)
}

fn uncle_by_hash(_: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    hash_id(values)?;
    params::quantity_u64(required(values, 1)?, 1)?;
    Ok(Value::Null)
}

fn uncle_by_number(_: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    number_id(values)?;
    params::quantity_u64(required(values, 1)?, 1)?;
    Ok(Value::Null)
}

/// The canonical transaction `hash` with its block and position.
fn located_tx(api: &Api, hash: B256) -> ApiResult<Option<(SealedBlock, TxPosition)>> {
    let db = &api.ctx.db;
    let Some(location) = db.tx_location(&hash).map_err(internal)? else {
        return Ok(None);
    };
    if db.canonical_hash(location.block_number).map_err(internal)? != Some(location.block_hash) {
        return Ok(None);
    }
    let Some(block) = db.block(&location.block_hash).map_err(internal)? else {
        return Ok(None);
    };
    let at = TxPosition {
        block_hash: location.block_hash,
        block_number: location.block_number,
        index: usize::try_from(location.index).map_err(internal)?,
    };
    Ok(Some((block, at)))
}

fn tx_by_hash(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let hash = params::hash(required(values, 0)?, 0)?;
    if let Some((block, at)) = located_tx(api, hash)? {
        let Some(tx) = block.body.transactions.get(at.index) else {
            return Err(internal("transaction index outside its block"));
        };
        return Ok(tx_json(tx, sender_of(tx)?, Some(at)));
    }
    Ok(match api.ctx.pool.get(&hash) {
        Some(pooled) => tx_json(&pooled.tx, pooled.sender, None),
        None => Value::Null,
    })
}

/// The transaction at `index` of a block (the chief update is index 0).
fn tx_at(
    api: &Api,
    block: BlockId,
    index_param: &Value,
) -> ApiResult<Option<(TransactionSigned, TxPosition)>> {
    let index = params::quantity_u64(index_param, 1)?;
    let Some((number, hash)) = api.resolve(block)? else {
        return Ok(None);
    };
    let Some(body) = api.ctx.db.body(&hash).map_err(internal)? else {
        return Ok(None);
    };
    let Ok(index) = usize::try_from(index) else {
        return Ok(None);
    };
    Ok(body.transactions.get(index).map(|tx| {
        let at = TxPosition {
            block_hash: hash,
            block_number: number,
            index,
        };
        (tx.clone(), at)
    }))
}

fn tx_by_hash_and_index(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    match tx_at(api, hash_id(values)?, required(values, 1)?)? {
        Some((tx, at)) => Ok(tx_json(&tx, sender_of(&tx)?, Some(at))),
        None => Ok(Value::Null),
    }
}

fn tx_by_number_and_index(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    match tx_at(api, number_id(values)?, required(values, 1)?)? {
        Some((tx, at)) => Ok(tx_json(&tx, sender_of(&tx)?, Some(at))),
        None => Ok(Value::Null),
    }
}

fn raw(tx: &TransactionSigned) -> Value {
    Value::String(format!(
        "0x{}",
        alloy_primitives::hex::encode(alloy_rlp::encode(tx))
    ))
}

fn raw_tx_by_hash(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let hash = params::hash(required(values, 0)?, 0)?;
    if let Some((block, at)) = located_tx(api, hash)? {
        return Ok(block
            .body
            .transactions
            .get(at.index)
            .map_or(Value::Null, raw));
    }
    Ok(api.ctx.pool.get(&hash).map_or(Value::Null, |p| raw(&p.tx)))
}

fn raw_tx_by_hash_and_index(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    Ok(tx_at(api, hash_id(values)?, required(values, 1)?)?.map_or(Value::Null, |(tx, _)| raw(&tx)))
}

fn raw_tx_by_number_and_index(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 2)?;
    Ok(tx_at(api, number_id(values)?, required(values, 1)?)?
        .map_or(Value::Null, |(tx, _)| raw(&tx)))
}

fn receipt_by_hash(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let hash = params::hash(required(values, 0)?, 0)?;
    let Some((block, at)) = located_tx(api, hash)? else {
        return Ok(Value::Null);
    };
    let receipts = api
        .ctx
        .db
        .receipts(&at.block_hash)
        .map_err(internal)?
        .ok_or_else(|| internal("receipts of a stored block are missing"))?;
    let (Some(tx), Some(receipt)) = (
        block.body.transactions.get(at.index),
        receipts.get(at.index),
    ) else {
        return Err(internal("transaction index outside its block"));
    };
    let previous_cumulative = at
        .index
        .checked_sub(1)
        .and_then(|i| receipts.get(i))
        .map_or(0, |r| r.receipt.cumulative_gas_used);
    let first_log_index = receipts
        .iter()
        .take(at.index)
        .map(|r| r.receipt.logs.len())
        .sum();
    Ok(receipt_json(ReceiptInput {
        tx,
        sender: sender_of(tx)?,
        receipt,
        at,
        previous_cumulative,
        first_log_index,
    }))
}

fn block_receipts(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let block = params::block_id(Some(required(values, 0)?), 0)?;
    let Some((number, hash)) = api.resolve(block)? else {
        return Ok(Value::Null);
    };
    let Some((block, receipts)) = canonical_block_with_receipts(api, number, hash)? else {
        return Ok(Value::Null);
    };
    let mut out = Vec::with_capacity(receipts.len());
    let (mut previous_cumulative, mut first_log_index) = (0u64, 0usize);
    for (index, (tx, receipt)) in block.body.transactions.iter().zip(&receipts).enumerate() {
        out.push(receipt_json(ReceiptInput {
            tx,
            sender: sender_of(tx)?,
            receipt,
            at: TxPosition {
                block_hash: hash,
                block_number: number,
                index,
            },
            previous_cumulative,
            first_log_index,
        }));
        previous_cumulative = receipt.receipt.cumulative_gas_used;
        first_log_index = first_log_index.saturating_add(receipt.receipt.logs.len());
    }
    Ok(Value::Array(out))
}
