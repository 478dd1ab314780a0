//! JSON-RPC 2.0 exactly: batches, parse errors, invalid requests, unknown methods, invalid
//! params naming the parameter, limits; hundreds of malformed requests, each answered with the
//! right id, and the node answers after them.

use serde_json::{Value, json};

use crate::harness::{Node, post_raw, shared};

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn parse_error_has_null_id() {
    let node = shared();
    for garbage in [
        "{",
        "not json",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":",
        "\u{0}\u{1}",
        "[1,",
    ] {
        let (status, text) = node.post(garbage);
        let response = parse(&text);
        assert_eq!(
            response["error"]["code"],
            json!(-32700),
            "{garbage:?}: {text} ({status})"
        );
        assert_eq!(response["id"], Value::Null);
    }
}

#[test]
fn invalid_requests_and_unknown_methods() {
    let node = shared();
    let response = parse(&node.post(r#"{"jsonrpc":"2.0","id":7,"method":1}"#).1);
    assert_eq!(response["error"]["code"], json!(-32600));
    assert_eq!(response["id"], json!(7));
    let response = parse(
        &node
            .post(r#"{"jsonrpc":"1.0","id":8,"method":"eth_chainId"}"#)
            .1,
    );
    assert_eq!(response["error"]["code"], json!(-32600));
    let response = parse(
        &node
            .post(r#"{"jsonrpc":"2.0","id":"x","method":"eth_nope"}"#)
            .1,
    );
    assert_eq!(response["error"]["code"], json!(-32601));
    assert_eq!(response["id"], json!("x"));
    // Key and admin namespaces are not served.
    for method in [
        "personal_listAccounts",
        "admin_peers",
        "debug_traceTransaction",
        "eth_sign",
        "eth_sendTransaction",
    ] {
        let response = node.request(method, json!([]));
        assert_eq!(response["error"]["code"], json!(-32601), "{method}");
    }
}

#[test]
fn batches() {
    let node = shared();
    // An empty batch is one invalid-request error.
    let response = parse(&node.post("[]").1);
    assert_eq!(response["error"]["code"], json!(-32600), "{response}");
    // Calls answered in a list, notifications (no id) get no entry, bad entries their error.
    let body = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "method": "eth_blockNumber"},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_getBalance", "params": ["0x1", "latest"]},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_unknown"},
        5,
    ]);
    let response = parse(&node.post(&body.to_string()).1);
    let entries = response.as_array().unwrap();
    assert_eq!(entries.len(), 4, "{response}");
    let by_id = |id: Value| entries.iter().find(|e| e["id"] == id).cloned().unwrap();
    assert_eq!(by_id(json!(1))["result"], json!("0x4"));
    assert_eq!(by_id(json!(2))["error"]["code"], json!(-32602));
    assert_eq!(by_id(json!(3))["error"]["code"], json!(-32601));
    assert_eq!(by_id(Value::Null)["error"]["code"], json!(-32600));
    // Only notifications: no body to answer.
    let (status, text) =
        node.post(&json!([{"jsonrpc": "2.0", "method": "eth_chainId"}]).to_string());
    assert!(status == 200 || status == 204, "{status}");
    // jsonrpsee writes `null` where the specification asks for nothing; clients ignore both.
    assert!(text.trim().is_empty() || text.trim() == "null", "{text}");
}

#[test]
fn batch_and_body_limits() {
    let node = Node::devnet(5, |config| {
        config.limits.max_batch_len = 3;
        config.limits.max_request_bytes = 64 * 1024;
    });
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"});
    let response = parse(&node.post(&json!([call, call, call, call]).to_string()).1);
    assert_eq!(response["error"]["code"], json!(-32010), "{response}");
    assert_eq!(response["error"]["data"], json!("Exceeded max limit of 3"));
    let ok = parse(&node.post(&json!([call, call, call]).to_string()).1);
    assert_eq!(ok.as_array().unwrap().len(), 3);
    // A body over the limit: HTTP 413 with an error object, and the node keeps answering.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"web3_sha3","params":["0x{}"]}}"#,
        "00".repeat(64 * 1024)
    );
    let (status, text) = node.post(&big);
    assert_eq!(status, 413, "{text}");
    assert_eq!(node.result("eth_chainId", json!([])), json!("0x4"));
}

#[test]
fn ten_megabyte_body_is_refused() {
    let node = shared();
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"web3_sha3","params":["0x{}"]}}"#,
        "ab".repeat(5 * 1024 * 1024)
    );
    let (status, _) = post_raw(node.http, &big, &[]);
    assert_eq!(status, 413);
    assert_eq!(node.result("eth_chainId", json!([])), json!("0x4"));
}

/// Invalid params name their position and what is wrong.
#[test]
fn invalid_params_say_which() {
    let node = shared();
    let address = "0xbf1736a65f8beadd71b321be585fd883503fdeaa";
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "eth_getBalance",
            json!([]),
            "invalid argument 0: missing value",
        ),
        (
            "eth_getBalance",
            json!(["0x12", "latest"]),
            "invalid argument 0: address must be 20 bytes",
        ),
        (
            "eth_getBalance",
            json!([address, "0x01"]),
            "invalid argument 1: hex number with leading zero",
        ),
        (
            "eth_getBalance",
            json!([address, 1]),
            "invalid argument 1: expected a block number",
        ),
        (
            "eth_getBalance",
            json!([address, "16"]),
            "invalid argument 1: hex string without 0x prefix",
        ),
        (
            "eth_getBalance",
            json!([address, "latest", 3]),
            "invalid argument 2: too many arguments",
        ),
        (
            "eth_getBalance",
            json!({"address": address}),
            "invalid argument 0: parameters must be an array",
        ),
        (
            "eth_getBlockByNumber",
            json!(["0x1"]),
            "invalid argument 1: missing value",
        ),
        (
            "eth_getBlockByNumber",
            json!(["0x1", "true"]),
            "invalid argument 1: expected a boolean",
        ),
        (
            "eth_getBlockByHash",
            json!(["0x1234", false]),
            "invalid argument 0: hash must be 32 bytes",
        ),
        (
            "eth_getStorageAt",
            json!([address, "0xzz", "latest"]),
            "invalid argument 1: invalid hex storage slot",
        ),
        (
            "eth_getTransactionByBlockNumberAndIndex",
            json!(["0x1", 0]),
            "invalid argument 1: expected a 0x-prefixed hex string",
        ),
        (
            "eth_sendRawTransaction",
            json!(["0xabc"]),
            "invalid argument 0: hex string of odd length",
        ),
        (
            "eth_call",
            json!([{"to": address, "gas": 100}]),
            "invalid argument 0: field \"gas\"",
        ),
        (
            "eth_call",
            json!([{"to": address, "value": "0x00"}]),
            "invalid argument 0: field \"value\"",
        ),
        (
            "eth_getLogs",
            json!([{"fromBlock": 1}]),
            "invalid argument 0: expected a block number",
        ),
        (
            "eth_getLogs",
            json!([{"topics": "0x00"}]),
            "invalid argument 0: topics must be an array",
        ),
        (
            "web3_sha3",
            json!([format!("0x1{}", "0".repeat(70))]),
            "invalid argument 0: hex string of odd length",
        ),
        (
            "eth_getBalance",
            json!([address, format!("0x1{}", "0".repeat(64))]),
            "invalid argument 1: hex number > 256 bits",
        ),
        (
            "eth_getBalance",
            json!([address, "0x10000000000000000"]),
            "invalid argument 1: hex number > 64 bits",
        ),
    ];
    for (method, params, want) in cases {
        let (code, message, _) = node.error(method, params.clone());
        assert_eq!(code, -32602, "{method} {params}: {message}");
        assert!(
            message.starts_with(want),
            "{method} {params}: {message:?} does not start with {want:?}"
        );
    }
}

/// Hundreds of malformed requests: wrong types in every position of every method, huge
/// numbers, deep nesting. Each gets an error object with its own id, and the node answers
/// after all of them.
#[test]
fn malformed_requests_in_every_position() {
    let node = shared();
    let methods = [
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getTransactionCount",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getTransactionByHash",
        "eth_getTransactionReceipt",
        "eth_call",
        "eth_estimateGas",
        "eth_getLogs",
        "eth_newFilter",
        "eth_getFilterChanges",
        "eth_sendRawTransaction",
        "eth_getTransactionByBlockHashAndIndex",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getBlockTransactionCountByNumber",
        "eth_getBlockReceipts",
        "eth_feeHistory",
        "web3_sha3",
        "tribe_getStatus",
        "tribe_bindInfo",
        "eth_uninstallFilter",
    ];
    let bad_values = [
        json!(1e300),
        json!(-1),
        json!(18446744073709551616u128 as f64),
        json!("0x"),
        json!("0xZZ"),
        json!({"nested": {"a": [1, 2, {"b": null}]}}),
        json!([[[[[[[[[[]]]]]]]]]]),
        json!(true),
        json!("x".repeat(1000)),
    ];
    let mut id = 1000u64;
    let mut errors = 0;
    for method in methods {
        for position in 0..3 {
            for bad in &bad_values {
                let mut params = vec![Value::Null; position];
                params.push(bad.clone());
                id += 1;
                let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
                let response = parse(&node.post(&body.to_string()).1);
                assert_eq!(response["id"], json!(id), "{body}: {response}");
                if let Some(error) = response.get("error") {
                    let code = error["code"].as_i64().unwrap();
                    assert!(
                        [-32602, -32000, -32005].contains(&code),
                        "{body}: {response}"
                    );
                    errors += 1;
                }
            }
        }
    }
    assert!(errors > 500, "errors: {errors}");
    // Deep nesting beyond the JSON parser's depth limit: a parse error, not a crash.
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let response = parse(&node.post(&deep).1);
    assert!(response.get("error").is_some(), "{response}");
    // Huge numbers as ids and params.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0xbf1736a65f8beadd71b321be585fd883503fdeaa", {}]}}"#,
        "9".repeat(5000)
    );
    let response = parse(&node.post(&huge).1);
    assert!(response.get("error").is_some(), "{response}");
    assert_eq!(node.result("eth_blockNumber", json!([])), json!("0xdc"));
}
