//! `txpool_status`, `txpool_content`, `txpool_inspect` (geth's shapes: senders checksummed,
//! nonces as decimal strings).

use serde_json::{Map, Value, json};
use spectrum_txpool::{PooledTx, TxsBySender};

use crate::{
    api::{Api, Method, inline},
    blocks::{hex_u64, tx_json},
    error::ApiResult,
    params::at_most,
};

pub(crate) const METHODS: &[Method<Value>] = &[
    inline("txpool_status", status),
    inline("txpool_content", content),
    inline("txpool_inspect", inspect),
];

fn status(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    let status = api.ctx.pool.status();
    let count = |n: usize| hex_u64(u64::try_from(n).unwrap_or(u64::MAX));
    Ok(json!({"pending": count(status.pending), "queued": count(status.queued)}))
}

fn by_sender(txs: &TxsBySender, shape: fn(&PooledTx) -> Value) -> Value {
    let mut senders = Map::new();
    for (sender, by_nonce) in txs {
        let nonces: Map<String, Value> = by_nonce
            .iter()
            .map(|(nonce, tx)| (nonce.to_string(), shape(tx)))
            .collect();
        senders.insert(sender.to_checksum(None), Value::Object(nonces));
    }
    Value::Object(senders)
}

fn full(tx: &PooledTx) -> Value {
    tx_json(&tx.tx, tx.sender, None)
}

fn summary(tx: &PooledTx) -> Value {
    let fields = tx.tx.tx();
    let to = match fields.to.to() {
        Some(to) => to.to_checksum(None),
        None => "contract creation".to_owned(),
    };
    Value::String(format!(
        "{to}: {} wei + {} gas × {} wei",
        fields.value, fields.gas_limit, fields.gas_price
    ))
}

fn content(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    let content = api.ctx.pool.content();
    Ok(json!({
        "pending": by_sender(&content.pending, full),
        "queued": by_sender(&content.queued, full),
    }))
}

fn inspect(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    let content = api.ctx.pool.content();
    Ok(json!({
        "pending": by_sender(&content.pending, summary),
        "queued": by_sender(&content.queued, summary),
    }))
}
