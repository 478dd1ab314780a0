//! What a hostile client or web page must not get: DNS rebinding and cross-origin requests
//! refused before they run (403), EVM calls stopped at their time budget, heavy requests beyond
//! the pool's admission refused (batches included) while cheap ones still answer, and
//! node-wide caps on filters and subscriptions.

use std::time::Duration;

use alloy_primitives::{Address, U256};
use jsonrpsee::{
    core::client::{ClientT, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::{Value, json};

use crate::harness::{
    Node, USER1_KEY, limit_heavy, limit_subscriptions, post_raw, raw_request, signed, transfer,
    wait_for,
};

const GWEI: u128 = 1_000_000_000;

/// Creation code `JUMPDEST PUSH1 0 JUMP`: loops until its gas runs out.
const LOOP: &str = "0x5b600056";
/// Ten billion gas of that loop: seconds of CPU, far beyond any budget below.
const LOOP_GAS: &str = "0x2540be400";

fn loop_call() -> Value {
    json!({"from": Address::ZERO, "data": LOOP, "gas": LOOP_GAS})
}

/// A POST with an explicit `Host` (the harness sends the listening IP).
fn post_as(node: &Node, host: &str, origin: Option<&str>, body: &str) -> (u16, String) {
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    let (status, _, text) = raw_request(
        node.http,
        &format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    (status, text)
}

fn pending_count(node: &Node) -> Value {
    node.result("txpool_status", json!([]))["pending"].clone()
}

#[test]
fn dns_rebinding_and_foreign_origins_are_refused_before_running() {
    // Defaults: --http.vhosts localhost, no --http.corsdomain.
    let node = Node::devnet(140, |_| {});
    let to = Address::repeat_byte(0x44);
    let nonce = |n: u64| signed(USER1_KEY, transfer(n, to, U256::from(1), 18 * GWEI));
    let first = node.result(
        "eth_getTransactionCount",
        json!([crate::harness::address_of(USER1_KEY), "latest"]),
    );
    let first = crate::harness::quantity(&first).to::<u64>();
    let (raw, hash) = nonce(first);
    let send =
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [raw]})
            .to_string();
    let port = node.http.port();

    // A page on evil.example whose name was rebound to 127.0.0.1.
    let (status, text) = post_as(&node, &format!("evil.example:{port}"), None, &send);
    assert_eq!((status, text.trim()), (403, "invalid host specified"));
    // A page elsewhere posting to localhost: its Origin is not allowed.
    let (status, text) = post_as(
        &node,
        &format!("localhost:{port}"),
        Some("http://evil.example"),
        &send,
    );
    assert_eq!((status, text.trim()), (403, "origin not allowed"));
    // Both at once: the Host is checked first.
    let (status, text) = post_as(&node, "evil.example", Some("http://evil.example"), &send);
    assert_eq!((status, text.trim()), (403, "invalid host specified"));
    // Neither ran: the pool holds nothing and the transaction is unknown.
    assert_eq!(pending_count(&node), json!("0x0"));
    assert_eq!(
        node.result("eth_getTransactionByHash", json!([hash])),
        Value::Null
    );

    // Allowed: localhost by name, any IP literal, and no Host at all (not a browser).
    let (status, text) = post_as(&node, &format!("LocalHost:{port}"), None, &send);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(&hash.to_string()), "{text}");
    let chain_id = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).to_string();
    for host in [format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        let (status, text) = post_as(&node, &host, None, &chain_id);
        assert_eq!(
            (status, text.contains("0x4")),
            (200, true),
            "{host}: {text}"
        );
    }
    let (status, _, text) = raw_request(
        node.http,
        &format!(
            "POST / HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{chain_id}",
            chain_id.len()
        ),
    );
    assert_eq!((status, text.contains("0x4")), (200, true), "{text}");
    assert_eq!(pending_count(&node), json!("0x1"));
}

#[test]
fn listed_vhosts_and_origins_are_served() {
    let node = Node::devnet(3, |config| {
        config.http_vhosts = vec!["node.example".to_owned()];
        config.http_cors = vec!["https://wallet.example".to_owned()];
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).to_string();
    let (status, text) = post_as(
        &node,
        "node.example:8545",
        Some("https://wallet.example"),
        &body,
    );
    assert_eq!((status, text.contains("0x4")), (200, true), "{text}");
    // localhost is no longer listed.
    let (status, text) = post_as(&node, "localhost", None, &body);
    assert_eq!((status, text.trim()), (403, "invalid host specified"));
    let (status, text) = post_as(&node, "node.example", Some("https://evil.example"), &body);
    assert_eq!((status, text.trim()), (403, "origin not allowed"));
    let any = Node::devnet(3, |config| config.http_vhosts = vec!["*".to_owned()]);
    let (status, _) = post_as(&any, "whatever.example", None, &body);
    assert_eq!(status, 200);
}

#[test]
fn evm_calls_stop_at_their_time_budget() {
    let node = Node::devnet(20, |config| {
        config.limits.gas_cap = 100_000_000_000;
        limit_heavy(config, 1, 4, Duration::from_millis(300));
    });
    let (code, message, _) = node.error("eth_call", json!([loop_call(), "latest"]));
    assert_eq!(
        (code, message.as_str()),
        (-32000, "execution aborted (timeout = 300ms)")
    );
    // One budget for the whole estimate, not one per attempt of its search.
    let (code, message, _) = node.error("eth_estimateGas", json!([loop_call()]));
    assert_eq!(
        (code, message.as_str()),
        (-32000, "execution aborted (timeout = 300ms)")
    );
    // The node is whole afterwards: the pool is free and calls that fit their budget answer.
    assert_eq!(node.result("eth_blockNumber", json!([])), json!("0x14"));
    let quick = json!({"from": Address::ZERO, "data": "0x60016000f3", "gas": "0x186a0"});
    assert_eq!(
        node.result("eth_call", json!([quick, "latest"])),
        json!("0x00")
    );
}

/// The exact refusal of a heavy request beyond `1 running + 1 queued`.
const REFUSED: (i64, &str) = (
    -32005,
    "too many heavy requests in progress (limit 1 running + 1 queued)",
);

/// What a JSON-RPC answer's error is: code and message.
fn outcome(text: &str) -> (i64, String) {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (
        v["error"]["code"].as_i64().unwrap_or(0),
        v["error"]["message"].as_str().unwrap_or("").to_owned(),
    )
}

#[test]
fn heavy_requests_beyond_the_pool_are_refused_and_cheap_ones_still_answer() {
    let node = Node::devnet(20, |config| {
        config.limits.gas_cap = 100_000_000_000;
        limit_heavy(config, 1, 1, Duration::from_secs(2));
    });
    let addr = node.http;
    let call =
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [loop_call(), "latest"]})
            .to_string();
    let refused = (REFUSED.0, REFUSED.1.to_owned());
    let timeout = (-32000, "execution aborted (timeout = 2s)".to_owned());
    // Three clients send loops back to back: two of their calls fill the one thread and the
    // one queue place nearly all the time.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood: Vec<_> = (0..3)
        .map(|_| {
            let (call, stop) = (call.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let (status, text) = post_raw(addr, &call, &[]);
                    assert_eq!(status, 200, "{text}");
                    outcomes.push(outcome(&text));
                }
                outcomes
            })
        })
        .collect();
    // A fourth loop is refused at once.
    wait_for("a refused eth_call", Duration::from_secs(60), || {
        let (_, text) = node.post(&call);
        (outcome(&text) == refused).then_some(())
    });
    // Every call of a batch needs its own place; the cheap call in it is answered.
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [loop_call(), "latest"]},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_estimateGas", "params": [loop_call()]},
        {"jsonrpc": "2.0", "id": 4, "method": "eth_getLogs", "params": [{"fromBlock": "0x0"}]},
    ])
    .to_string();
    let (status, text) = node.post(&batch);
    assert_eq!(status, 200, "{text}");
    let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.len(), 4);
    for answer in &answers {
        if answer["id"] == json!(2) {
            assert_eq!(answer["result"], json!("0x14"), "{answer}");
        } else {
            assert_eq!(answer["error"]["code"], json!(REFUSED.0), "{answer}");
            assert_eq!(answer["error"]["message"], json!(REFUSED.1), "{answer}");
        }
    }
    // Cheap methods never wait behind the heavy ones.
    assert_eq!(node.result("eth_blockNumber", json!([])), json!("0x14"));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    // The flood's calls ended at their time budget or were refused: nothing else.
    let mut seen = Vec::new();
    for thread in flood {
        seen.extend(thread.join().unwrap());
    }
    assert!(seen.contains(&timeout), "{seen:?}");
    assert!(
        seen.iter().all(|o| *o == timeout || *o == refused),
        "{seen:?}"
    );
    // Afterwards the places are free again.
    let quick = json!({"from": Address::ZERO, "data": "0x60016000f3"});
    assert_eq!(
        node.result("eth_call", json!([quick, "latest"])),
        json!("0x00")
    );
    assert_eq!(node.result("eth_blockNumber", json!([])), json!("0x14"));
}

#[test]
fn filters_are_capped_node_wide() {
    let node = Node::devnet(5, |config| config.limits.max_filters = 2);
    let first = node.result("eth_newBlockFilter", json!([]));
    node.result("eth_newPendingTransactionFilter", json!([]));
    let (code, message, _) = node.error("eth_newFilter", json!([{}]));
    assert_eq!(
        (code, message.as_str()),
        (-32005, "too many filters installed (limit 2)")
    );
    assert_eq!(
        node.result("eth_uninstallFilter", json!([first])),
        json!(true)
    );
    let third = node.result("eth_newFilter", json!([{}]));
    assert_eq!(
        node.result("eth_getFilterChanges", json!([third])),
        json!([])
    );
}

#[test]
fn subscriptions_are_capped_node_wide() {
    let node = Node::devnet(5, |config| limit_subscriptions(config, 3));
    let url = format!("ws://{}", node.ws);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let one = WsClientBuilder::default().build(&url).await.unwrap();
        let two = WsClientBuilder::default().build(&url).await.unwrap();
        let mut held = Vec::new();
        for what in ["newHeads", "newPendingTransactions"] {
            held.push(
                one.subscribe::<Value, _>("eth_subscribe", rpc_params![what], "eth_unsubscribe")
                    .await
                    .unwrap(),
            );
        }
        let third = two
            .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
            .await
            .unwrap();
        let refused = two
            .subscribe::<Value, _>("eth_subscribe", rpc_params!["logs"], "eth_unsubscribe")
            .await
            .expect_err("a fourth subscription on the node must be refused");
        match refused {
            jsonrpsee::core::ClientError::Call(error) => {
                assert_eq!(error.code(), -32005);
                assert_eq!(
                    error.message(),
                    "too many subscriptions on this node (limit 3)"
                );
            }
            other => panic!("expected the node's refusal, got {other}"),
        }
        // The connection is still served, and a place freed is a place again.
        let chain_id: Value = two.request("eth_chainId", rpc_params![]).await.unwrap();
        assert_eq!(chain_id, json!("0x4"));
        held.pop().unwrap().unsubscribe().await.unwrap();
        let again = wait_for_subscription(&two).await;
        drop((third, again));
    });
}

/// Subscribes to newHeads, retrying until the node has counted a released place back.
async fn wait_for_subscription(
    client: &jsonrpsee::ws_client::WsClient,
) -> jsonrpsee::core::client::Subscription<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match client
            .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
            .await
        {
            Ok(subscription) => return subscription,
            Err(error) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the released place never came back: {error}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}
