//! The `debug` namespace over the reference devnet chain: geth's tracers checked by hand on a
//! revert, a nested CREATE2, a contract creation and Tribe's chief transactions, every tracer
//! on every transaction of the chain, and the raw encodings.

use std::sync::OnceLock;

use alloy_primitives::{hex, keccak256};
use serde_json::{Value, json};
use spectrum_rpc::Namespace;

use crate::harness::{Node, blocks, expected, shared};

const USER1: &str = "0xbf1736a65f8beadd71b321be585fd883503fdeaa";
const FEATURES: &str = "0x3b101062d16826f368b315d8ba2bad086e64fce1";

/// The devnet node with `debug` on (it is off by default).
fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| Node::devnet(220, |c| c.http_apis.push(Namespace::Debug)))
}

/// The reference node's record of transaction `index` of block `number`.
fn reference_tx(number: usize, index: usize) -> &'static Value {
    &expected()["blocks"][number]["transactions"][index]
}

fn hex_u64(value: u64) -> String {
    format!("{value:#x}")
}

#[test]
fn debug_is_off_unless_asked_for() {
    let tx = reference_tx(100, 5)["hash"].clone();
    let (code, message, _) = shared().error("debug_traceTransaction", json!([tx]));
    assert_eq!(code, -32601, "{message}");
}

/// Features.fail(2) in block 100: `store[7] = x; revert("Features: fail")`, gas 80000, and
/// the reference receipt says status 0, gas used 41818.
#[test]
fn revert_as_geth_traces_it() {
    let tx = reference_tx(100, 5);
    assert_eq!(tx["receipt"]["gasUsed"], 41818);
    let call = node().result(
        "debug_traceTransaction",
        json!([tx["hash"], {"tracer": "callTracer"}]),
    );
    assert_eq!(call["type"], "CALL");
    assert_eq!(call["from"], USER1);
    assert_eq!(call["to"], FEATURES);
    assert_eq!(call["gas"], hex_u64(80_000));
    assert_eq!(call["gasUsed"], hex_u64(41_818));
    assert_eq!(call["input"], tx["input"]);
    assert_eq!(call["error"], "execution reverted");
    assert_eq!(call["revertReason"], "Features: fail");
    assert!(call.get("calls").is_none(), "{call}");

    let structs = node().result("debug_traceTransaction", json!([tx["hash"]]));
    assert_eq!(structs["failed"], true);
    assert_eq!(structs["gas"], 41_818);
    let logs = structs["structLogs"].as_array().unwrap();
    assert_eq!(logs.first().unwrap()["op"], "PUSH1");
    assert_eq!(logs.first().unwrap()["pc"], 0);
    assert_eq!(logs.first().unwrap()["depth"], 1);
    assert_eq!(logs.last().unwrap()["op"], "REVERT");
    // store[7] = 2: the SSTORE sees slot keccak(7 . slot-of-store)'s new value 2.
    let sstore = logs.iter().find(|l| l["op"] == "SSTORE").unwrap();
    let stack = sstore["stack"].as_array().unwrap();
    assert_eq!(stack[stack.len() - 2], "0x2", "value on top-1: {sstore}");
    let storage = sstore["storage"].as_object().unwrap();
    assert_eq!(storage.len(), 1);
    assert!(
        storage
            .values()
            .all(|v| v.as_str().unwrap().ends_with("02")),
        "{sstore}"
    );

    // disableStack / disableStorage drop those fields.
    let bare = node().result(
        "debug_traceTransaction",
        json!([tx["hash"], {"disableStack": true, "disableStorage": true}]),
    );
    let logs = bare["structLogs"].as_array().unwrap();
    assert!(
        logs.iter()
            .all(|l| l.get("stack").is_none() && l.get("storage").is_none())
    );
}

/// Features.deployChild(salt, 0x111) with 7777 wei in block 60: a CALL with one CREATE2 child
/// at 0x07447b… (the address of the child's constructor log in the reference receipt).
#[test]
fn nested_create2_with_logs() {
    let tx = reference_tx(60, 6);
    let call = node().result(
        "debug_traceTransaction",
        json!([tx["hash"], {"tracer": "callTracer", "tracerConfig": {"withLog": true}}]),
    );
    assert_eq!(call["type"], "CALL");
    assert_eq!(call["value"], hex_u64(7777));
    assert_eq!(call["gasUsed"], hex_u64(177_909));
    let calls = call["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{call}");
    let child = &calls[0];
    assert_eq!(child["type"], "CREATE2");
    assert_eq!(child["from"], FEATURES);
    assert_eq!(child["to"], "0x07447bf99fa688051f0196c08b7de156903ea317");
    assert_eq!(child["value"], hex_u64(7777));
    // Each frame carries the logs it emitted, as in the reference receipt.
    let receipt_logs = tx["receipt"]["logs"].as_array().unwrap();
    assert_eq!(child["logs"][0]["address"], receipt_logs[0]["address"]);
    assert_eq!(child["logs"][0]["topics"], receipt_logs[0]["topics"]);
    assert_eq!(child["logs"][0]["data"], receipt_logs[0]["data"]);
    assert_eq!(call["logs"][0]["address"], FEATURES);
    assert_eq!(call["logs"][0]["topics"], receipt_logs[1]["topics"]);

    let top = node().result(
        "debug_traceTransaction",
        json!([tx["hash"], {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": true}}]),
    );
    assert!(top.get("calls").is_none(), "{top}");

    let four = node().result(
        "debug_traceTransaction",
        json!([tx["hash"], {"tracer": "4byteTracer"}]),
    );
    // deployChild(bytes32,uint256): two words of arguments.
    assert_eq!(four, json!({"0x2354c9da-64": 1}));
}

/// The HarnessToken deployment in block 58: a CREATE of the expected address.
#[test]
fn contract_creation() {
    let tx = reference_tx(58, 2);
    let call = node().result(
        "debug_traceTransaction",
        json!([tx["hash"], {"tracer": "callTracer"}]),
    );
    assert_eq!(call["type"], "CREATE");
    assert_eq!(call["from"], USER1);
    assert_eq!(call["to"], tx["receipt"]["contractAddress"]);
    assert_eq!(call["gasUsed"], hex_u64(778_092));
    assert!(call.get("error").is_none(), "{call}");

    let pre = node().result(
        "debug_traceTransaction",
        json!([tx["hash"], {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]),
    );
    let created = tx["receipt"]["contractAddress"].as_str().unwrap();
    assert!(pre["pre"].get(created).is_none(), "{pre}");
    let post = &pre["post"][created];
    assert!(post["code"].as_str().unwrap().len() > 2, "{post}");
    assert_eq!(pre["post"][USER1]["nonce"], 26);
}

/// Tribe's chief-update transaction (block 100, index 0): no gas bought, the chief frame
/// runs unmetered, so every opcode costs 0 and the trace uses no gas, as its receipt says.
/// A user's call to the chief (block 60, index 7) pays only its intrinsic gas.
#[test]
fn chief_transactions_run_unmetered() {
    let tx = reference_tx(100, 0);
    assert_eq!(tx["receipt"]["gasUsed"], 0);
    let structs = node().result("debug_traceTransaction", json!([tx["hash"]]));
    assert_eq!(structs["failed"], false);
    assert_eq!(structs["gas"], 0);
    let logs = structs["structLogs"].as_array().unwrap();
    assert!(logs.len() > 100, "the chief's update runs code");
    assert!(logs.iter().all(|l| l["gasCost"] == 0), "metered opcode");
    let call = node().result(
        "debug_traceTransaction",
        json!([tx["hash"], {"tracer": "callTracer"}]),
    );
    assert_eq!(call["to"], "0x21c5dc409138205291d6a7ef2dbb1701ac02ff96");
    assert_eq!(call["gas"], "0x0");
    assert!(call["input"].as_str().unwrap().starts_with("0x1c1b8772"));

    let user = reference_tx(60, 7);
    assert_eq!(user["receipt"]["gasUsed"], 21272);
    let structs = node().result("debug_traceTransaction", json!([user["hash"]]));
    assert_eq!(structs["gas"], 21272);
    let logs = structs["structLogs"].as_array().unwrap();
    assert!(!logs.is_empty());
    assert!(logs.iter().all(|l| l["gasCost"] == 0), "metered opcode");
}

/// Every tracer over every transaction of the chain: no error, one result per transaction
/// (the hidden chief transaction included), and the struct logger's gas and failure equal
/// the reference receipts.
#[test]
fn every_tracer_on_every_reference_transaction() {
    let tracers = [
        json!({}),
        json!({"enableMemory": true, "enableReturnData": true}),
        json!({"tracer": "callTracer", "tracerConfig": {"withLog": true}}),
        json!({"tracer": "prestateTracer"}),
        json!({"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}),
        json!({"tracer": "4byteTracer"}),
        json!({"tracer": "noopTracer"}),
    ];
    let mut traced = 0;
    for block in &expected()["blocks"].as_array().unwrap()[1..] {
        let number = block["number"].as_u64().unwrap();
        let txs = block["transactions"].as_array().unwrap();
        if txs.is_empty() {
            continue;
        }
        for options in &tracers {
            let result = node().result(
                "debug_traceBlockByNumber",
                json!([hex_u64(number), options]),
            );
            let result = result.as_array().unwrap();
            assert_eq!(result.len(), txs.len(), "block {number} {options}");
            for (trace, tx) in result.iter().zip(txs) {
                assert_eq!(trace["txHash"], tx["hash"], "block {number}");
                if options.get("tracer").is_none() {
                    let receipt = &tx["receipt"];
                    assert_eq!(trace["result"]["gas"], receipt["gasUsed"], "{}", tx["hash"]);
                    assert_eq!(
                        trace["result"]["failed"],
                        receipt["status"] == 0,
                        "{}",
                        tx["hash"]
                    );
                }
                traced += 1;
            }
        }
    }
    assert!(traced > 7 * 300, "{traced} traces");
    // By hash too.
    let head = &expected()["blocks"][220];
    let by_hash = node().result(
        "debug_traceBlockByHash",
        json!([head["hash"], {"tracer": "noopTracer"}]),
    );
    assert_eq!(
        by_hash.as_array().unwrap().len(),
        head["txCount"].as_u64().unwrap() as usize
    );
}

#[test]
fn trace_call_and_bad_requests() {
    // Features.fail(9) as a call at block 100: reverted, in the call tracer's shape.
    let call = node().result(
        "debug_traceCall",
        json!([
            {"from": USER1, "to": FEATURES, "gas": "0x20000",
             "data": "0x132e4f3c0000000000000000000000000000000000000000000000000000000000000009"},
            "0x64",
            {"tracer": "callTracer"}
        ]),
    );
    assert_eq!(call["error"], "execution reverted");
    assert_eq!(call["revertReason"], "Features: fail");
    assert_eq!(call["gas"], "0x20000");

    let tx = reference_tx(100, 5)["hash"].clone();
    let (code, message, _) = node().error(
        "debug_traceTransaction",
        json!([tx, {"tracer": "function() { return 1; }"}]),
    );
    assert_eq!(
        (code, message.as_str()),
        (-32000, "JavaScript tracers are not supported")
    );
    let (code, message, _) = node().error(
        "debug_traceTransaction",
        json!(["0x0000000000000000000000000000000000000000000000000000000000000001"]),
    );
    assert_eq!(code, -32000);
    assert!(message.contains("not found"), "{message}");
    let (code, _, _) = node().error("debug_traceTransaction", json!([tx, "callTracer"]));
    assert_eq!(code, -32602);
}

#[test]
fn raw_encodings_match_the_chain_file() {
    for number in [1u64, 60, 100, 220] {
        let block = &blocks()[number as usize];
        let raw_block = node().result("debug_getRawBlock", json!([hex_u64(number)]));
        let encoded = alloy_rlp::encode(block.clone().unseal());
        assert_eq!(raw_block, format!("0x{}", hex::encode(&encoded)));
        let raw_header = node().result("debug_getRawHeader", json!([hex_u64(number)]));
        let header = hex::decode(raw_header.as_str().unwrap()).unwrap();
        assert_eq!(keccak256(&header), block.hash());
        let receipts = node().result("debug_getRawReceipts", json!([hex_u64(number)]));
        assert_eq!(
            receipts.as_array().unwrap().len(),
            block.body.transactions.len()
        );
    }
    let tx = &blocks()[100].body.transactions[5];
    let raw = node().result("debug_getRawTransaction", json!([tx.hash()]));
    assert_eq!(raw, format!("0x{}", hex::encode(alloy_rlp::encode(tx))));
}

#[test]
fn trace_call_with_overrides_and_a_deadline() {
    // geth's TraceCallConfig: code and block number overridden.
    let target = "0x00000000000000000000000000000000000c0de5";
    let trace = node().result(
        "debug_traceCall",
        json!([
            {"to": target},
            "latest",
            {"tracer": "callTracer",
             "stateOverrides": {target: {"code": "0x4360005260206000f3"}},
             "blockOverrides": {"number": "0x1000"}}
        ]),
    );
    assert_eq!(trace["output"], format!("{:#066x}", 0x1000));

    // Init code that jumps to itself until its 50M gas run out: stopped at the request's
    // shorter budget.
    let (code, message, _) = node().error(
        "debug_traceCall",
        json!([{"data": "0x5b600056"}, "latest", {"tracer": "callTracer", "timeout": "10ms"}]),
    );
    assert_eq!(
        (code, message.as_str()),
        (-32000, "execution timeout (trace aborted after 10ms)")
    );
}
