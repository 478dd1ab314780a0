//! Logs, polling filters and WebSocket subscriptions while new blocks arrive (reference blocks
//! imported into a node that started at block 100).

use std::time::Duration;

use jsonrpsee::{
    core::client::{ClientT, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::{Value, json};

use crate::harness::{Node, quantity, wait_for};

const TOKEN: &str = "0xe790522785350a8e005050424d2820f5f79754af";

fn hex(n: u64) -> String {
    format!("{n:#x}")
}

#[test]
fn polling_filters_follow_new_blocks() {
    let node = Node::devnet(57, |_| {});
    let blocks = node.result("eth_newBlockFilter", json!([]));
    let logs = node.result(
        "eth_newFilter",
        json!([{"fromBlock": "0x1", "address": TOKEN}]),
    );
    let all_logs = node.result("eth_newFilter", json!([{}]));
    assert_ne!(blocks, logs);
    assert_eq!(
        node.result("eth_getFilterChanges", json!([blocks])),
        json!([])
    );
    node.import(58, 80);
    // The upkeep task feeds filters asynchronously: wait until the last block arrived.
    let mut hashes: Vec<Value> = Vec::new();
    wait_for("block filter", Duration::from_secs(30), || {
        let changes = node.result("eth_getFilterChanges", json!([blocks]));
        hashes.extend(changes.as_array().unwrap().iter().cloned());
        (hashes.len() >= 23).then_some(())
    });
    let want: Vec<Value> = (58..=80)
        .map(|n| node.result("eth_getBlockByNumber", json!([hex(n), false]))["hash"].clone())
        .collect();
    assert_eq!(hashes, want);
    let range_logs = node.result(
        "eth_getLogs",
        json!([{"fromBlock": "0x3a", "toBlock": "0x50", "address": TOKEN}]),
    );
    let wanted = range_logs.as_array().unwrap().len();
    assert!(wanted >= 4, "token logs in 58..80: {range_logs}");
    let mut token_changes = Vec::new();
    wait_for("log filter", Duration::from_secs(30), || {
        let changes = node.result("eth_getFilterChanges", json!([logs]));
        token_changes.extend(changes.as_array().unwrap().iter().cloned());
        (token_changes.len() >= wanted).then_some(())
    });
    assert_eq!(Value::Array(token_changes), range_logs);
    assert_eq!(
        node.result("eth_getFilterChanges", json!([logs])),
        json!([])
    );
    let every_range = node.result(
        "eth_getLogs",
        json!([{"fromBlock": "0x3a", "toBlock": "0x50"}]),
    );
    let mut every_log = Vec::new();
    wait_for("all-logs filter", Duration::from_secs(30), || {
        let changes = node.result("eth_getFilterChanges", json!([all_logs]));
        every_log.extend(changes.as_array().unwrap().iter().cloned());
        (every_log.len() >= every_range.as_array().unwrap().len()).then_some(())
    });
    assert_eq!(Value::Array(every_log), every_range);
    // getFilterLogs is independent of polling: everything from block 1 on.
    let from_one = node.result(
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "address": TOKEN}]),
    );
    assert_eq!(node.result("eth_getFilterLogs", json!([logs])), from_one);
    // The token's every log is in 58..80: polling them all did not empty getFilterLogs.
    assert_eq!(from_one, range_logs);
    assert_eq!(
        node.result("eth_uninstallFilter", json!([logs])),
        json!(true)
    );
    assert_eq!(
        node.result("eth_uninstallFilter", json!([logs])),
        json!(false)
    );
    let (code, message, _) = node.error("eth_getFilterChanges", json!([logs]));
    assert_eq!((code, message.as_str()), (-32000, "filter not found"));
}

#[test]
fn get_logs_limits_and_criteria() {
    let node = Node::devnet(140, |config| {
        config.limits.max_logs_block_range = 50;
        config.limits.max_logs = 5;
    });
    let (code, message, _) = node.error(
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "0x64"}]),
    );
    assert_eq!(code, -32005, "{message}");
    assert!(message.contains("50"), "{message}");
    let (code, message, _) = node.error(
        "eth_getLogs",
        json!([{"fromBlock": "0x5a", "toBlock": "0x8a"}]),
    );
    assert_eq!(
        (code, message.as_str()),
        (-32005, "query returned more than 5 results")
    );
    let (code, _, _) = node.error(
        "eth_getLogs",
        json!([{"fromBlock": "0x10", "toBlock": "0x5"}]),
    );
    assert_eq!(code, -32000);
    // One block by hash, and topic criteria.
    let some = node.result(
        "eth_getLogs",
        json!([{"fromBlock": "0x3a", "toBlock": "0x3c", "address": TOKEN}]),
    );
    let some = some.as_array().unwrap();
    assert!(!some.is_empty() && some.len() <= 5);
    let log = &some[0];
    let by_hash = node.result(
        "eth_getLogs",
        json!([{"blockHash": log["blockHash"], "address": TOKEN}]),
    );
    assert!(by_hash.as_array().unwrap().contains(log));
    let topic0 = log["topics"][0].clone();
    let with_topic = node.result(
        "eth_getLogs",
        json!([{"blockHash": log["blockHash"], "topics": [[topic0, format!("0x{}", "00".repeat(32))]]}]),
    );
    assert!(
        with_topic
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["topics"][0] == topic0)
    );
    let none = node.result(
        "eth_getLogs",
        json!([{"blockHash": log["blockHash"], "topics": [format!("0x{}", "00".repeat(32))]}]),
    );
    assert_eq!(none, json!([]));
}

/// The error a call got is exactly `code` and `message`.
fn assert_call_error(error: jsonrpsee::core::ClientError, code: i32, message: &str) {
    match error {
        jsonrpsee::core::ClientError::Call(error) => {
            assert_eq!((error.code(), error.message()), (code, message));
        }
        other => panic!("expected error {code} {message:?}, got {other}"),
    }
}

#[test]
fn websocket_subscriptions() {
    let node = Node::devnet(57, |config| {
        config.limits.max_subscriptions_per_connection = 3
    });
    let url = format!("ws://{}", node.ws);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = WsClientBuilder::default().build(&url).await.unwrap();
        let chain_id: Value = client.request("eth_chainId", rpc_params![]).await.unwrap();
        assert_eq!(chain_id, json!("0x4"));
        let mut heads = client
            .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
            .await
            .unwrap();
        let mut logs = client
            .subscribe::<Value, _>(
                "eth_subscribe",
                rpc_params!["logs", json!({"address": TOKEN})],
                "eth_unsubscribe",
            )
            .await
            .unwrap();
        // Another connection: its limit is three subscriptions.
        let other = WsClientBuilder::default().build(&url).await.unwrap();
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(
                other
                    .subscribe::<Value, _>(
                        "eth_subscribe",
                        rpc_params!["newPendingTransactions"],
                        "eth_unsubscribe",
                    )
                    .await
                    .unwrap(),
            );
        }
        let fourth = other
            .subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe")
            .await
            .expect_err("a fourth subscription must be refused");
        assert_call_error(fourth, -32006, "Too many subscriptions on the connection");
        let bad = client
            .subscribe::<Value, _>("eth_subscribe", rpc_params!["newBlocks"], "eth_unsubscribe")
            .await
            .expect_err("no such subscription");
        assert_call_error(
            bad,
            -32602,
            "invalid argument 0: no such subscription: \"newBlocks\"",
        );
        let chain = node.chain.clone();
        let importer = tokio::task::spawn_blocking(move || {
            for block in crate::harness::blocks()
                .iter()
                .filter(|b| (58..=80).contains(&b.number()))
            {
                chain.insert_block(block.clone()).unwrap();
            }
        });
        for n in 58..=80u64 {
            let head = tokio::time::timeout(Duration::from_secs(30), heads.next())
                .await
                .expect("a head within 30 s")
                .unwrap()
                .unwrap();
            assert_eq!(head["number"], json!(hex(n)));
            assert!(head.get("transactions").is_none());
        }
        importer.await.unwrap();
        let want: Vec<Value> = client
            .request(
                "eth_getLogs",
                rpc_params![json!({"fromBlock": "0x3a", "toBlock": "0x50", "address": TOKEN})],
            )
            .await
            .unwrap();
        assert!(!want.is_empty());
        let mut got = Vec::new();
        while got.len() < want.len() {
            let log = tokio::time::timeout(Duration::from_secs(30), logs.next())
                .await
                .expect("a log within 30 s")
                .unwrap()
                .unwrap();
            got.push(log);
        }
        assert_eq!(got, want);
        heads.unsubscribe().await.unwrap();
    });
}

#[test]
fn pending_transactions_reach_filters_and_subscribers() {
    use alloy_primitives::{Address, U256};
    let node = Node::devnet(100, |_| {});
    let filter = node.result("eth_newPendingTransactionFilter", json!([]));
    let url = format!("ws://{}", node.ws);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = WsClientBuilder::default().build(&url).await.unwrap();
        let mut full = client
            .subscribe::<Value, _>(
                "eth_subscribe",
                rpc_params!["newPendingTransactions", true],
                "eth_unsubscribe",
            )
            .await
            .unwrap();
        let user1 = crate::harness::address_of(crate::harness::USER1_KEY);
        let nonce =
            quantity(&node.result("eth_getTransactionCount", json!([user1, "latest"]))).to::<u64>();
        let (raw, hash) = crate::harness::signed(
            crate::harness::USER1_KEY,
            crate::harness::transfer(
                nonce,
                Address::repeat_byte(0x42),
                U256::from(5),
                18_000_000_000,
            ),
        );
        assert_eq!(
            node.result("eth_sendRawTransaction", json!([raw])),
            json!(hash)
        );
        let tx = tokio::time::timeout(Duration::from_secs(30), full.next())
            .await
            .expect("a pending transaction within 30 s")
            .unwrap()
            .unwrap();
        assert_eq!(tx["hash"], json!(hash));
        assert_eq!(tx["blockHash"], Value::Null);
        assert_eq!(quantity(&tx["value"]), U256::from(5));
        let changes = wait_for("pending filter", Duration::from_secs(30), || {
            let changes = node.result("eth_getFilterChanges", json!([filter]));
            (!changes.as_array().unwrap().is_empty()).then_some(changes)
        });
        assert_eq!(changes, json!([hash]));
    });
}
