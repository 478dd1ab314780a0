//! Our answers against the reference node's recorded answers for the same chain.

use alloy_primitives::U256;
use serde_json::{Value, json};

use crate::harness::{expected, lower, quantity, shared};

fn hex(n: u64) -> String {
    format!("{n:#x}")
}

#[test]
fn chain_identity() {
    let node = shared();
    assert_eq!(node.result("eth_chainId", json!([])), json!("0x4"));
    assert_eq!(node.result("net_version", json!([])), json!("1"));
    assert_eq!(node.result("eth_blockNumber", json!([])), json!("0xdc"));
    assert_eq!(
        node.result("web3_clientVersion", json!([])),
        json!("spectrum-rs/test")
    );
    assert_eq!(node.result("eth_syncing", json!([])), json!(false));
    assert_eq!(node.result("net_peerCount", json!([])), json!("0x0"));
    assert_eq!(node.result("eth_accounts", json!([])), json!([]));
    assert_eq!(
        node.result("web3_sha3", json!(["0x68656c6c6f20776f726c64"])),
        json!("0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad")
    );
    let genesis = node.result("eth_getBlockByNumber", json!(["earliest", false]));
    assert_eq!(genesis["hash"], expected()["genesisHash"]);
}

/// Every recorded header field of every block, by number and by hash.
#[test]
fn blocks_equal_the_reference() {
    let node = shared();
    for want in expected()["blocks"].as_array().unwrap() {
        let n = want["number"].as_u64().unwrap();
        let got = node.result("eth_getBlockByNumber", json!([hex(n), false]));
        for field in [
            "hash",
            "parentHash",
            "stateRoot",
            "transactionsRoot",
            "receiptsRoot",
            "logsBloom",
            "miner",
            "extraData",
            "mixHash",
            "nonce",
            "sha3Uncles",
        ] {
            assert_eq!(lower(&got[field]), lower(&want[field]), "block {n} {field}");
        }
        for field in [
            "gasUsed",
            "gasLimit",
            "difficulty",
            "totalDifficulty",
            "timestamp",
            "size",
        ] {
            assert_eq!(
                quantity(&got[field]),
                quantity(&want[field]),
                "block {n} {field}"
            );
        }
        assert_eq!(got["number"], json!(hex(n)));
        assert_eq!(got["uncles"], json!([]));
        // The chief-update transaction is hidden from the block object only.
        assert_eq!(
            got["transactions"].as_array().unwrap().len() as u64,
            want["rpcTransactionsLen"].as_u64().unwrap(),
            "visible transactions of block {n}"
        );
        let count = node.result("eth_getBlockTransactionCountByNumber", json!([hex(n)]));
        assert_eq!(
            quantity(&count),
            U256::from(want["txCount"].as_u64().unwrap())
        );
        let by_hash = node.result("eth_getBlockByHash", json!([want["hash"], false]));
        assert_eq!(by_hash, got, "block {n} by hash");
        assert_eq!(
            node.result("eth_getUncleCountByBlockNumber", json!([hex(n)])),
            json!("0x0")
        );
    }
}

fn assert_tx(got: &Value, want: &Value, n: u64, block_hash: &Value) {
    let i = want["index"].as_u64().unwrap();
    let what = format!("block {n} tx {i}");
    for field in ["hash", "from", "input", "r", "s", "v"] {
        assert_eq!(lower(&got[field]), lower(&want[field]), "{what} {field}");
    }
    assert_eq!(
        got["to"].as_str().map(str::to_ascii_lowercase),
        want["to"].as_str().map(str::to_ascii_lowercase),
        "{what} to"
    );
    for field in ["nonce", "value", "gas", "gasPrice"] {
        assert_eq!(
            quantity(&got[field]),
            quantity(&want[field]),
            "{what} {field}"
        );
    }
    assert_eq!(got["blockHash"], *block_hash, "{what}");
    assert_eq!(got["transactionIndex"], json!(hex(i)), "{what}");
    assert_eq!(got["type"], json!("0x0"));
    assert_eq!(got["chainId"], json!("0x4"));
}

/// Every transaction by index and by hash, and every receipt, as recorded.
#[test]
fn transactions_and_receipts_equal_the_reference() {
    let node = shared();
    let mut full_checked = 0;
    for block in expected()["blocks"].as_array().unwrap() {
        let n = block["number"].as_u64().unwrap();
        let mut cumulative_logs = 0u64;
        for want in block["transactions"].as_array().unwrap() {
            let i = want["index"].as_u64().unwrap();
            let by_index = node.result(
                "eth_getTransactionByBlockNumberAndIndex",
                json!([hex(n), hex(i)]),
            );
            assert_tx(&by_index, want, n, &block["hash"]);
            let by_hash = node.result("eth_getTransactionByHash", json!([want["hash"]]));
            assert_eq!(by_hash, by_index);
            let receipt = node.result("eth_getTransactionReceipt", json!([want["hash"]]));
            let w = &want["receipt"];
            let what = format!("receipt of block {n} tx {i}");
            for field in ["status", "gasUsed", "cumulativeGasUsed"] {
                assert_eq!(
                    quantity(&receipt[field]),
                    quantity(&w[field]),
                    "{what} {field}"
                );
            }
            assert_eq!(
                lower(&receipt["logsBloom"]),
                lower(&w["logsBloom"]),
                "{what}"
            );
            assert_eq!(
                receipt["contractAddress"]
                    .as_str()
                    .map(str::to_ascii_lowercase),
                w["contractAddress"].as_str().map(str::to_ascii_lowercase),
                "{what} contractAddress"
            );
            assert_eq!(receipt["effectiveGasPrice"], by_index["gasPrice"]);
            assert_eq!(receipt["type"], json!("0x0"));
            let logs = receipt["logs"].as_array().unwrap();
            let want_logs = w["logs"].as_array().unwrap();
            assert_eq!(logs.len(), want_logs.len(), "{what} logs");
            for (got, want_log) in logs.iter().zip(want_logs) {
                assert_eq!(lower(&got["address"]), lower(&want_log["address"]));
                assert_eq!(got["topics"], want_log["topics"]);
                assert_eq!(got["data"], want_log["data"]);
                assert_eq!(quantity(&got["logIndex"]), U256::from(cumulative_logs));
                assert_eq!(quantity(&got["logIndex"]), quantity(&want_log["logIndex"]));
                assert_eq!(got["transactionHash"], want["hash"]);
                assert_eq!(got["blockHash"], block["hash"]);
                assert_eq!(got["removed"], json!(false));
                cumulative_logs += 1;
            }
        }
        // Full transaction objects in the block are the visible ones, equal to the lookups.
        let full = node.result("eth_getBlockByNumber", json!([hex(n), true]));
        for tx in full["transactions"].as_array().unwrap() {
            let by_hash = node.result("eth_getTransactionByHash", json!([tx["hash"]]));
            assert_eq!(*tx, by_hash);
            full_checked += 1;
        }
        let receipts = node.result("eth_getBlockReceipts", json!([hex(n)]));
        assert_eq!(
            receipts.as_array().unwrap().len(),
            block["transactions"].as_array().unwrap().len()
        );
    }
    assert!(
        full_checked > 90,
        "user transactions checked: {full_checked}"
    );
}

/// Head state of every recorded account: balance, nonce, code, storage slots 0..7.
#[test]
fn head_state_equals_the_reference() {
    let node = shared();
    for (address, want) in expected()["state"].as_object().unwrap() {
        let balance = node.result("eth_getBalance", json!([address, "latest"]));
        assert_eq!(
            quantity(&balance),
            quantity(&want["balance"]),
            "{address} balance"
        );
        let nonce = node.result("eth_getTransactionCount", json!([address, "latest"]));
        assert_eq!(
            quantity(&nonce),
            U256::from(want["nonce"].as_u64().unwrap())
        );
        let code = node.result("eth_getCode", json!([address, "latest"]));
        match want.get("code").and_then(Value::as_str) {
            Some(recorded) => assert_eq!(
                lower(&code),
                recorded.to_ascii_lowercase(),
                "{address} code"
            ),
            // Large code is recorded by its hash only.
            None => {
                let bytes = alloy_primitives::hex::decode(code.as_str().unwrap()).unwrap();
                assert_eq!(
                    format!("{}", alloy_primitives::keccak256(&bytes)),
                    lower(&want["codeHash"]),
                    "{address} code hash"
                );
            }
        }
        for (slot, value) in want["storageAt_0_7"].as_object().unwrap() {
            let got = node.result("eth_getStorageAt", json!([address, slot, "latest"]));
            assert_eq!(quantity(&got), quantity(value), "{address} slot {slot}");
        }
    }
}

/// State at older blocks: by number, EIP-1898 objects, and a canonical requirement.
#[test]
fn historical_state_and_block_parameters() {
    let node = shared();
    let user1 = "0xbf1736a65f8beadd71b321be585fd883503fdeaa";
    let blocks = expected()["blocks"].as_array().unwrap();
    // user1's nonce only grows; at genesis it is zero.
    let at =
        |block: Value| quantity(&node.result("eth_getTransactionCount", json!([user1, block])));
    assert_eq!(at(json!("earliest")), U256::ZERO);
    assert_eq!(at(json!("0x0")), U256::ZERO);
    let mid = at(json!("0x40"));
    let head = at(json!("latest"));
    assert!(mid > U256::ZERO && mid < head, "{mid} {head}");
    assert_eq!(at(json!({"blockNumber": "0x40"})), mid);
    assert_eq!(
        at(json!({"blockHash": blocks[64]["hash"], "requireCanonical": true})),
        mid
    );
    assert_eq!(at(json!("pending")), head);
    // A block after the head is unknown.
    let (code, message, _) = node.error("eth_getBalance", json!([user1, "0x1000"]));
    assert_eq!((code, message.as_str()), (-32000, "header not found"));
    let unknown = format!("0x{}", "ab".repeat(32));
    let (code, _, _) = node.error("eth_getBalance", json!([user1, {"blockHash": unknown}]));
    assert_eq!(code, -32000);
}

#[test]
fn unknown_blocks_and_transactions_are_null() {
    let node = shared();
    let unknown = format!("0x{}", "ab".repeat(32));
    assert_eq!(
        node.result("eth_getBlockByNumber", json!(["0x1000", false])),
        Value::Null
    );
    assert_eq!(
        node.result("eth_getBlockByHash", json!([unknown, true])),
        Value::Null
    );
    assert_eq!(
        node.result("eth_getTransactionByHash", json!([unknown])),
        Value::Null
    );
    assert_eq!(
        node.result("eth_getTransactionReceipt", json!([unknown])),
        Value::Null
    );
    assert_eq!(
        node.result(
            "eth_getTransactionByBlockNumberAndIndex",
            json!(["0x5", "0x99"])
        ),
        Value::Null
    );
    assert_eq!(
        node.result("eth_getBlockTransactionCountByHash", json!([unknown])),
        Value::Null
    );
    assert_eq!(
        node.result("eth_getUncleByBlockNumberAndIndex", json!(["0x5", "0x0"])),
        Value::Null
    );
    assert_eq!(
        node.result("eth_getBlockReceipts", json!(["0x1000"])),
        Value::Null
    );
}

/// The chief-update transaction: hidden in blocks, index 0 everywhere else, receipt gas 0.
#[test]
fn hidden_chief_transaction() {
    let node = shared();
    let block = node.result("eth_getBlockByNumber", json!(["0x3c", true]));
    let chief_tx = node.result(
        "eth_getTransactionByBlockNumberAndIndex",
        json!(["0x3c", "0x0"]),
    );
    assert_eq!(lower(&chief_tx["from"]), crate::harness::SIGNER);
    assert!(
        chief_tx["input"]
            .as_str()
            .unwrap()
            .starts_with("0x1c1b8772")
    );
    let visible: Vec<&Value> = block["transactions"].as_array().unwrap().iter().collect();
    assert!(visible.iter().all(|tx| tx["hash"] != chief_tx["hash"]));
    assert_eq!(visible[0]["transactionIndex"], json!("0x1"));
    let receipt = node.result("eth_getTransactionReceipt", json!([chief_tx["hash"]]));
    assert_eq!(receipt["gasUsed"], json!("0x0"));
    assert_eq!(receipt["transactionIndex"], json!("0x0"));
}

/// tribe_* at every recorded block, as the reference answered them (its miner was the signer).
#[test]
fn tribe_methods_equal_the_reference() {
    let node = shared();
    for (key, want) in expected()["tribe"].as_object().unwrap() {
        if key == "pocGetStatus_head" {
            let got = node.result("tribe_pocGetStatus", json!([]));
            assert_eq!(
                lowercase(got),
                lowercase(want.clone()),
                "tribe_pocGetStatus"
            );
            continue;
        }
        let hash = &want["hash"];
        for method in [
            "tribe_getStatus",
            "tribe_getSigners",
            "tribe_getVolunteers",
            "tribe_getSinners",
        ] {
            let got = node.result(method, json!([hash]));
            assert_eq!(
                lowercase(got),
                lowercase(want[method].clone()),
                "{method} at block {key}"
            );
        }
    }
    // No hash: the head.
    assert_eq!(
        lowercase(node.result("tribe_getStatus", json!([]))),
        lowercase(expected()["tribe"]["220"]["tribe_getStatus"].clone())
    );
    let miner = node.result("tribe_getMiner", json!([]));
    assert_eq!(lower(&miner["address"]), crate::harness::SIGNER);
    assert_eq!(miner["level"], json!("Signer"));
    assert!(miner["balance"].is_number(), "{miner}");
    let history = node.result("tribe_getHistory", json!([3]));
    let rows = history.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["number"], json!(220));
    assert_eq!(rows[0]["hash"], expected()["blocks"][220]["hash"]);
    assert_eq!(lower(&rows[0]["signer"]), crate::harness::SIGNER);
    let unknown = format!("0x{}", "ab".repeat(32));
    let (code, message, _) = node.error("tribe_getStatus", json!([unknown]));
    assert_eq!((code, message.as_str()), (-32000, "block not exist"));
}

/// Lower-cases every string (the reference writes addresses in lower case, we may not).
fn lowercase(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_ascii_lowercase()),
        Value::Array(items) => Value::Array(items.into_iter().map(lowercase).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, lowercase(v))).collect())
        }
        other => other,
    }
}
