//! `eth_subscribe` / `eth_unsubscribe` over WebSocket: `newHeads`, `logs`,
//! `newPendingTransactions` and `syncing`.
//!
//! Each subscription is a task that forwards events into the connection's bounded message
//! buffer with `try_send`: a client that stops reading loses the subscription (and gets no
//! more notifications) instead of making the node queue without bound. Their number is capped
//! per connection (by jsonrpsee) and over all connections (`max_subscriptions`, here), so their
//! memory is bounded by the caps times the message buffer. Matching a block's logs against a
//! `logs` subscription reads the database: it runs on the heavy pool.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use jsonrpsee::{
    PendingSubscriptionSink, RpcModule, SubscriptionMessage, SubscriptionSink,
    core::{RegisterMethodError, server::TrySendError},
    types::ErrorObjectOwned,
};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::{
    api::Api,
    blocks::{header_json, hex_u64, tx_json},
    error::limit_exceeded,
    filters::change_logs,
    params::{self, LogFilter, invalid, positional},
};

/// What a subscription sends.
enum Topic {
    NewHeads,
    Logs(Box<LogFilter>),
    PendingTxs { full: bool },
    Syncing,
}

fn topic(values: &[Value]) -> Result<Topic, ErrorObjectOwned> {
    let name = values
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(0, "expected a subscription name"))?;
    let extra = values.get(1).filter(|v| !v.is_null());
    if values.len() > 2 {
        return Err(invalid(2, "too many arguments"));
    }
    match name {
        "newHeads" if extra.is_none() => Ok(Topic::NewHeads),
        "syncing" if extra.is_none() => Ok(Topic::Syncing),
        "logs" => Ok(Topic::Logs(Box::new(match extra {
            Some(filter) => params::log_filter(filter, 1)?,
            None => LogFilter::default(),
        }))),
        "newPendingTransactions" => Ok(Topic::PendingTxs {
            full: extra
                .map(|v| params::boolean(v, 1))
                .transpose()?
                .unwrap_or(false),
        }),
        "newHeads" | "syncing" => Err(invalid(1, format!("{name} takes no arguments"))),
        other => Err(invalid(0, format!("no such subscription: {other:?}"))),
    }
}

/// Registers `eth_subscribe` / `eth_unsubscribe`.
pub(crate) fn register(module: &mut RpcModule<Api>) -> Result<(), RegisterMethodError> {
    module.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        |raw, pending, api, _| async move {
            let topic = match positional(&raw).and_then(|values| topic(&values)) {
                Ok(topic) => topic,
                Err(error) => {
                    pending.reject(error).await;
                    return;
                }
            };
            let Some(slot) = Slot::take(&api) else {
                pending
                    .reject(limit_exceeded(format!(
                        "too many subscriptions on this node (limit {})",
                        api.limits.max_subscriptions
                    )))
                    .await;
                return;
            };
            serve(api, pending, topic).await;
            drop(slot);
        },
    )?;
    Ok(())
}

/// One of the node-wide subscription places, given back when dropped.
struct Slot(Arc<Api>);

impl Slot {
    fn take(api: &Arc<Api>) -> Option<Self> {
        let max = api.limits.max_subscriptions;
        api.subscriptions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(api.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.subscriptions.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn serve(api: Arc<Api>, pending: PendingSubscriptionSink, topic: Topic) {
    match topic {
        Topic::NewHeads | Topic::Logs(_) => chain_feed(api, pending, topic).await,
        Topic::PendingTxs { full } => pending_feed(api, pending, full).await,
        Topic::Syncing => syncing_feed(api, pending).await,
    }
}

/// Sends one notification; `false` if the subscription is over (closed, or the client too slow).
fn send(sink: &mut SubscriptionSink, value: &Value) -> bool {
    let Ok(raw) = serde_json::value::to_raw_value(value) else {
        return false;
    };
    match sink.try_send(SubscriptionMessage::from(raw)) {
        Ok(()) => true,
        Err(TrySendError::Closed(_)) => false,
        Err(TrySendError::Full(_)) => {
            tracing::debug!("dropping a subscription whose client does not keep up");
            false
        }
    }
}

async fn chain_feed(api: Arc<Api>, pending: PendingSubscriptionSink, topic: Topic) {
    let mut changes = api.ctx.events.subscribe();
    let Ok(mut sink) = pending.accept().await else {
        return;
    };
    loop {
        let change = tokio::select! {
            () = sink.closed() => return,
            change = changes.recv() => change,
        };
        let change = match change {
            Ok(change) => change,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let payloads: Vec<Value> = match &topic {
            Topic::NewHeads => change
                .added
                .iter()
                .map(|h| Value::Object(header_json(h)))
                .collect(),
            Topic::Logs(filter) => match logs_on_pool(&api, change, filter).await {
                Ok(logs) => logs,
                Err(error) => {
                    tracing::warn!(error = %error.message(), "logs subscription");
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        for payload in &payloads {
            if !send(&mut sink, payload) {
                return;
            }
        }
    }
}

/// The logs of `change` that `filter` wants, matched on the heavy pool.
async fn logs_on_pool(
    api: &Arc<Api>,
    change: Arc<spectrum_chain::CanonicalChange>,
    filter: &LogFilter,
) -> Result<Vec<Value>, ErrorObjectOwned> {
    let (worker, filter) = (api.clone(), filter.clone());
    api.heavy
        .internal(move || change_logs(&worker, &change, &filter))
        .await
}

async fn pending_feed(api: Arc<Api>, pending: PendingSubscriptionSink, full: bool) {
    let mut hashes = api.ctx.pool.subscribe_pending();
    let Ok(mut sink) = pending.accept().await else {
        return;
    };
    loop {
        let hash = tokio::select! {
            () = sink.closed() => return,
            hash = hashes.recv() => hash,
        };
        let hash = match hash {
            Ok(hash) => hash,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        let payload = if full {
            match api.ctx.pool.get(&hash) {
                Some(pooled) => tx_json(&pooled.tx, pooled.sender, None),
                None => continue,
            }
        } else {
            json!(hash)
        };
        if !send(&mut sink, &payload) {
            return;
        }
    }
}

/// geth's `syncing` notification: the sync state when it changes.
fn syncing_payload(api: &Api) -> Value {
    match api.ctx.network.syncing() {
        None => json!({"syncing": false}),
        Some(progress) => json!({
            "syncing": true,
            "status": {
                "startingBlock": hex_u64(progress.starting_block),
                "currentBlock": hex_u64(progress.current_block),
                "highestBlock": hex_u64(progress.highest_block),
            }
        }),
    }
}

async fn syncing_feed(api: Arc<Api>, pending: PendingSubscriptionSink) {
    let Ok(mut sink) = pending.accept().await else {
        return;
    };
    let mut last = api.ctx.network.syncing().is_some();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = sink.closed() => return,
            _ = tick.tick() => {}
        }
        let now = api.ctx.network.syncing().is_some();
        if now != last {
            last = now;
            if !send(&mut sink, &syncing_payload(&api)) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_names() {
        assert!(matches!(topic(&[json!("newHeads")]), Ok(Topic::NewHeads)));
        assert!(matches!(
            topic(&[json!("newPendingTransactions"), json!(true)]),
            Ok(Topic::PendingTxs { full: true })
        ));
        assert!(matches!(
            topic(&[
                json!("logs"),
                json!({"address": format!("0x{}", "00".repeat(20))})
            ]),
            Ok(Topic::Logs(_))
        ));
        assert!(topic(&[json!("newBlocks")]).is_err());
        assert!(topic(&[json!("newHeads"), json!({})]).is_err());
        assert!(topic(&[json!(1)]).is_err());
        assert!(topic(&[]).is_err());
        assert!(topic(&[json!("logs"), json!({"address": "0x1"})]).is_err());
    }
}
