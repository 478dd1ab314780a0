//! `eth_call` / `eth_estimateGas` state overrides (third parameter) and block overrides
//! (fourth), geth's shapes, on the reference devnet chain.

use alloy_primitives::{Address, U256};
use serde_json::{Value, json};

use crate::harness::shared;

const FEATURES: &str = "0x3b101062d16826f368b315d8ba2bad086e64fce1";
const TARGET: &str = "0x00000000000000000000000000000000000c0de5";
const POOR: &str = "0x0000000000000000000000000000000000000bad";

/// Code that returns one 32-byte word computed by `push_word` (bytecode leaving it on the
/// stack): `<push_word> PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`.
fn returning(push_word: &str) -> String {
    format!("0x{push_word}60005260206000f3")
}

fn word(value: u64) -> String {
    format!("{:#066x}", value)
}

fn call(params: Value) -> Value {
    shared().result("eth_call", params)
}

#[test]
fn code_balance_and_storage_overrides() {
    // SLOAD(0) from an account that has no code on chain.
    let out = call(json!([
        {"to": TARGET},
        "latest",
        {TARGET: {"code": returning("600054"), "stateDiff": {"0x0": "0x2a"}}}
    ]));
    assert_eq!(out, word(0x2a));

    // BALANCE(CALLER) of a caller given a balance.
    let out = call(json!([
        {"from": POOR, "to": TARGET},
        "latest",
        {TARGET: {"code": returning("3331")}, POOR: {"balance": "0x1234"}}
    ]));
    assert_eq!(out, word(0x1234));

    // Features' slot 1 holds 0x3a33a9b4b63e0efb62ac1f (the reference dump): `stateDiff` keeps
    // it, `state` replaces the whole storage.
    let reader = returning("600154");
    let kept = call(json!([
        {"to": FEATURES}, "latest",
        {FEATURES: {"code": reader, "stateDiff": {"0x0": "0x5"}}}
    ]));
    assert_eq!(
        kept,
        format!(
            "{:#066x}",
            U256::from_str_radix("3a33a9b4b63e0efb62ac1f", 16).unwrap()
        )
    );
    let replaced = call(json!([
        {"to": FEATURES}, "latest",
        {FEATURES: {"code": reader, "state": {"0x0": "0x5"}}}
    ]));
    assert_eq!(replaced, word(0));
}

#[test]
fn nonce_override_moves_the_created_address() {
    // Init code returning ADDRESS: the call's output is the new contract's address.
    let from: Address = POOR.parse().unwrap();
    let out = call(json!([
        {"from": POOR, "data": returning("30")},
        "latest",
        {POOR: {"nonce": "0x7"}}
    ]));
    assert_eq!(
        out,
        format!("{:#066x}", U256::from_be_slice(from.create(7).as_slice()))
    );
}

#[test]
fn block_overrides_are_the_fourth_parameter() {
    let code = json!({TARGET: {"code": returning("43")}});
    let number = call(json!([
        {"to": TARGET}, "latest",
        {TARGET: {"code": returning("43")}},
        {"number": "0x1000"}
    ]));
    assert_eq!(number, word(0x1000));
    let time = call(json!([
        {"to": TARGET}, "latest",
        {TARGET: {"code": returning("42")}},
        {"time": "0x5f5e100"}
    ]));
    assert_eq!(time, word(100_000_000));
    let coinbase = call(json!([
        {"to": TARGET}, "latest",
        {TARGET: {"code": returning("41")}},
        {"feeRecipient": POOR}
    ]));
    assert_eq!(coinbase, word(0xbad));
    let (code_, message, _) = shared().error(
        "eth_call",
        json!([{"to": TARGET}, "latest", code, {"baseFeePerGas": "0x1"}]),
    );
    assert_eq!(code_, -32602);
    assert!(message.contains("baseFeePerGas"), "{message}");
}

#[test]
fn estimate_gas_sees_the_overridden_code() {
    let plain = shared().result("eth_estimateGas", json!([{"to": TARGET}]));
    assert_eq!(plain, "0x5208");
    // PUSH1 42 PUSH1 0 SSTORE: a fresh slot costs 20000 more.
    let with_code = shared().result(
        "eth_estimateGas",
        json!([{"to": TARGET}, "latest", {TARGET: {"code": "0x602a600055"}}]),
    );
    let gas = u64::from_str_radix(&with_code.as_str().unwrap()[2..], 16).unwrap();
    assert!((41_006..=43_400).contains(&gas), "{gas}");
}

#[test]
fn bad_override_parameters() {
    let (code, message, _) = shared().error(
        "eth_call",
        json!([{"to": TARGET}, "latest", {TARGET: {"state": {}, "stateDiff": {}}}]),
    );
    assert_eq!(code, -32602);
    assert!(message.contains("both state and stateDiff"), "{message}");
    let (code, message, _) = shared().error(
        "eth_call",
        json!([{"to": TARGET}, "latest", {TARGET: {"balanse": "0x1"}}]),
    );
    assert_eq!(code, -32602);
    assert!(message.contains("balanse"), "{message}");
    let (code, _, _) = shared().error("eth_call", json!([{"to": TARGET}, "latest", 5]));
    assert_eq!(code, -32602);
}
