//! `--dev`'s node-held accounts: `eth_accounts` lists them and `eth_sendTransaction` from one
//! is filled in, signed (EIP-155) and pooled. Here the node is given devnet user1's key.

use alloy_primitives::hex;
use serde_json::json;

use crate::harness::{Node, USER1_KEY, shared};

const USER1: &str = "0xbf1736a65f8beadd71b321be585fd883503fdeaa";
const USER2: &str = "0xd3b38478f7edb9bb55270ee5389706dc9ca6d98f";

fn node() -> Node {
    let bytes: [u8; 32] = hex::decode(USER1_KEY).unwrap().try_into().unwrap();
    let key = secp256k1::SecretKey::from_byte_array(bytes).unwrap();
    Node::devnet(220, |c| c.dev_signers = vec![key])
}

#[test]
fn eth_send_transaction_from_a_dev_account() {
    let node = node();
    assert_eq!(node.result("eth_accounts", json!([])), json!([USER1]));
    let nonce = node.result("eth_getTransactionCount", json!([USER1, "latest"]));
    let hash = node.result(
        "eth_sendTransaction",
        json!([{"from": USER1, "to": USER2, "value": "0x1"}]),
    );
    let tx = node.result("eth_getTransactionByHash", json!([hash]));
    assert_eq!(tx["from"], USER1);
    assert_eq!(tx["to"], USER2);
    assert_eq!(tx["nonce"], nonce);
    assert_eq!(tx["gas"], "0x5208", "estimated: a plain transfer");
    assert_eq!(tx["gasPrice"], format!("{:#x}", 18_000_000_000u64));
    assert_eq!(tx["chainId"], "0x4");
    // The next one takes the pool's pending nonce.
    let second = node.result(
        "eth_sendTransaction",
        json!([{"from": USER1, "to": USER2, "value": "0x2", "gas": "0x7530"}]),
    );
    let second = node.result("eth_getTransactionByHash", json!([second]));
    let next = u64::from_str_radix(&nonce.as_str().unwrap()[2..], 16).unwrap() + 1;
    assert_eq!(second["nonce"], format!("{next:#x}"));
    assert_eq!(second["gas"], "0x7530");

    let (code, message, _) = node.error(
        "eth_sendTransaction",
        json!([{"from": USER2, "to": USER1, "value": "0x1"}]),
    );
    let user2: alloy_primitives::Address = USER2.parse().unwrap();
    assert_eq!(
        (code, message),
        (-32000, format!("unknown account {user2}"))
    );
}

#[test]
fn without_dev_keys_there_are_no_accounts() {
    assert_eq!(shared().result("eth_accounts", json!([])), json!([]));
    let (code, _, _) = shared().error(
        "eth_sendTransaction",
        json!([{"from": USER1, "to": USER2, "value": "0x1"}]),
    );
    assert_eq!(code, -32601);
}
