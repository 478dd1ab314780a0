//! eth_call and eth_estimateGas on the reference chain's contracts: results, reverts with
//! geth's error shape, halts, creation, historical state, exact gas estimates.

use alloy_primitives::{U256, keccak256};
use serde_json::{Value, json};

use crate::harness::{quantity, shared};

/// HarnessToken (ERC20) deployed by gen.py.
const TOKEN: &str = "0xe790522785350a8e005050424d2820f5f79754af";
/// The Features test contract.
const FEATURES: &str = "0x3b101062d16826f368b315d8ba2bad086e64fce1";
const USER1: &str = "0xbf1736a65f8beadd71b321be585fd883503fdeaa";

fn selector(signature: &str) -> String {
    alloy_primitives::hex::encode(&keccak256(signature.as_bytes())[..4])
}

fn word(value: &str) -> String {
    format!("{:0>64}", value.trim_start_matches("0x"))
}

fn balance_of_call(holder: &str) -> Value {
    json!({"to": TOKEN, "data": format!("0x{}{}", selector("balanceOf(address)"), word(holder))})
}

#[test]
fn view_calls_at_head_and_in_history() {
    let node = shared();
    let call = balance_of_call(USER1);
    let at_head = node.result("eth_call", json!([call, "latest"]));
    assert_eq!(at_head.as_str().unwrap().len(), 66, "{at_head}");
    // Same answer by number, by EIP-1898 object and by Spectrum's third (hash) parameter.
    let head_hash = node.result("eth_getBlockByNumber", json!(["latest", false]))["hash"].clone();
    assert_eq!(node.result("eth_call", json!([call, "0xdc"])), at_head);
    assert_eq!(
        node.result("eth_call", json!([call, {"blockHash": head_hash}])),
        at_head
    );
    assert_eq!(
        node.result("eth_call", json!([call, "0x0", head_hash])),
        at_head
    );
    // Before the token existed the call finds no code and returns nothing.
    assert_eq!(node.result("eth_call", json!([call, "0x1"])), json!("0x"));
    // The ERC20 balance moves exactly as the recorded Transfer logs say between two blocks.
    let transfer_topic = format!(
        "0x{}",
        alloy_primitives::hex::encode(keccak256("Transfer(address,address,uint256)"))
    );
    let logs = node.result(
        "eth_getLogs",
        json!([{"fromBlock": "0x1", "toBlock": "latest", "address": TOKEN, "topics": [transfer_topic]}]),
    );
    let first = &logs.as_array().unwrap()[0];
    let to = format!("0x{}", &first["topics"][2].as_str().unwrap()[26..]);
    let block = quantity(&first["blockNumber"]).to::<u64>();
    let received: U256 = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| quantity(&l["blockNumber"]) == U256::from(block))
        .filter(|l| l["topics"][2].as_str().unwrap().ends_with(&to[2..]))
        .map(|l| quantity(&l["data"]))
        .sum();
    let sent: U256 = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| quantity(&l["blockNumber"]) == U256::from(block))
        .filter(|l| l["topics"][1].as_str().unwrap().ends_with(&to[2..]))
        .map(|l| quantity(&l["data"]))
        .sum();
    let before = quantity(&node.result(
        "eth_call",
        json!([balance_of_call(&to), format!("{:#x}", block - 1)]),
    ));
    let after = quantity(&node.result(
        "eth_call",
        json!([balance_of_call(&to), format!("{block:#x}")]),
    ));
    assert_eq!(
        after + sent,
        before + received,
        "token balance of {to} across block {block}"
    );
}

#[test]
fn revert_has_geths_error_shape() {
    let node = shared();
    let call = json!({"from": USER1, "to": FEATURES, "data": format!("0x{}{}", selector("fail(uint256)"), word("0x7"))});
    for method in ["eth_call", "eth_estimateGas"] {
        let (code, message, data) = node.error(method, json!([call]));
        assert_eq!(code, 3, "{method}");
        assert_eq!(message, "execution reverted: Features: fail", "{method}");
        let data = data.as_str().unwrap();
        assert!(data.starts_with("0x08c379a0"), "{method}: {data}");
        let reason = alloy_primitives::hex::decode(&data[2 + 8 + 128..]).unwrap();
        assert!(String::from_utf8_lossy(&reason).starts_with("Features: fail"));
    }
}

#[test]
fn creation_and_halts() {
    let node = shared();
    // Init code that returns the 10-byte runtime `PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`.
    let init = "0x600a600c600039600a6000f3602a60005260206000f3";
    assert_eq!(
        node.result("eth_call", json!([{"data": init}])),
        json!("0x602a60005260206000f3")
    );
    let (code, message, _) = node.error("eth_call", json!([{"data": "0xfe"}]));
    assert_eq!(
        (code, message.as_str()),
        (-32000, "invalid opcode: INVALID")
    );
    // An infinite loop runs out of the (capped) gas.
    let (code, message, _) = node.error(
        "eth_call",
        json!([{"data": "0x5b600056", "gas": "0xffffffffffffffff"}]),
    );
    assert_eq!((code, message.as_str()), (-32000, "out of gas"));
    // A sender that cannot pay.
    let poor = "0x00000000000000000000000000000000000000aa";
    let (code, message, _) = node.error(
        "eth_call",
        json!([{"from": poor, "to": USER1, "value": "0x1"}]),
    );
    assert_eq!(
        (code, message.as_str()),
        (-32000, "insufficient funds for gas * price + value")
    );
    let (_, message, _) = node.error(
        "eth_call",
        json!([{"from": poor, "to": USER1, "gas": "0x5208", "gasPrice": "0x1"}]),
    );
    assert_eq!(message, "insufficient funds for gas * price + value");
    let (code, _, _) = node.error("eth_call", json!([{"to": USER1}, "latest", {"0x00": {}}]));
    assert_eq!(code, -32602);
}

#[test]
fn estimates_are_exact() {
    let node = shared();
    let transfer =
        json!({"from": USER1, "to": "0x00000000000000000000000000000000000000bb", "value": "0x1"});
    assert_eq!(
        node.result("eth_estimateGas", json!([transfer])),
        json!("0x5208")
    );
    assert_eq!(
        node.result("eth_estimateGas", json!([transfer, "latest"])),
        json!("0x5208")
    );
    // A token transfer: the estimate is the least gas that succeeds.
    let balance = quantity(&node.result("eth_call", json!([balance_of_call(USER1)])));
    assert!(balance > U256::ZERO, "user1 holds tokens");
    let data = format!(
        "0x{}{}{}",
        selector("transfer(address,uint256)"),
        word("0x00000000000000000000000000000000000000cc"),
        word("0x1")
    );
    let call = json!({"from": USER1, "to": TOKEN, "data": data});
    let estimate = quantity(&node.result("eth_estimateGas", json!([call]))).to::<u64>();
    assert!((21_000..200_000).contains(&estimate), "{estimate}");
    let with_gas = |gas: u64| {
        let mut call = call.clone();
        call["gas"] = json!(format!("{gas:#x}"));
        node.request("eth_call", json!([call]))
    };
    let ok = with_gas(estimate);
    assert_eq!(ok["result"], json!(format!("0x{}", word("0x1"))), "{ok}");
    let short = with_gas(estimate - 1);
    assert!(short.get("error").is_some(), "{short}");
    // A sender who cannot afford the price caps the search.
    let (code, message, _) = node.error(
        "eth_estimateGas",
        json!([{"from": "0x00000000000000000000000000000000000000aa", "to": USER1, "gasPrice": "0x1"}]),
    );
    assert_eq!(code, -32000, "{message}");
}
