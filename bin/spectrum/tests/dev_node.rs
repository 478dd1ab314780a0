//! `spectrum --dev` as a real process: it prints the funded accounts and RPC URLs, seals
//! blocks, and mines a transfer signed with a printed key, visible over JSON-RPC.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, TxKind, U256, hex};
use common::{DevNode, quantity, wait_for};
use serde_json::json;

fn signed_transfer(key_hex: &str, nonce: u64, to: Address, value: U256) -> String {
    let bytes: [u8; 32] = hex::decode(key_hex).unwrap().try_into().unwrap();
    let key = secp256k1::SecretKey::from_byte_array(bytes).unwrap();
    let tx = TxLegacy {
        chain_id: Some(1337),
        nonce,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        value,
        input: Default::default(),
    };
    let signed = spectrum_primitives::sign_transaction(tx, &key);
    format!("0x{}", hex::encode(alloy_rlp::encode(&signed)))
}

#[test]
fn dev_chain_mines_a_transfer_signed_with_a_printed_key() {
    let node = DevNode::start(&[]);
    assert_eq!(node.result("eth_chainId", json!([])), json!("0x539"));
    assert_eq!(node.result("net_version", json!([])), json!("1337"));

    let sender = node.accounts[0];
    let recipient = Address::repeat_byte(0x77);
    let before = quantity(&node.result("eth_getBalance", json!([sender, "latest"])));
    assert_eq!(
        before,
        U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64))
    );
    let value = U256::from(123_456_789u64);
    let raw = signed_transfer(&node.keys[0], 0, recipient, value);
    let hash = node.result("eth_sendRawTransaction", json!([raw]));

    // A transaction in the pool gets a block at once (no fixed period on --dev).
    let receipt = wait_for("the receipt", Duration::from_secs(20), || {
        let receipt = node.result("eth_getTransactionReceipt", json!([hash]));
        (!receipt.is_null()).then_some(receipt)
    });
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(receipt["from"], json!(sender));
    assert_eq!(receipt["to"], json!(recipient));
    assert_eq!(receipt["gasUsed"], json!("0x5208"));
    assert_eq!(receipt["type"], json!("0x0"));
    assert_eq!(
        receipt["transactionIndex"],
        json!("0x1"),
        "after the chief update"
    );
    let mined_in = quantity(&receipt["blockNumber"]);
    assert!(mined_in >= U256::from(1u64));
    assert!(quantity(&node.result("eth_blockNumber", json!([]))) >= mined_in);
    assert_eq!(
        quantity(&node.result("eth_getBalance", json!([recipient, "latest"]))),
        value
    );
    let after = quantity(&node.result("eth_getBalance", json!([sender, "latest"])));
    let fee = U256::from(21_000u64) * U256::from(1_000_000_000u64);
    assert_eq!(after, before - value - fee);
    // Historical state: before the block, the recipient had nothing.
    let earlier = format!("{:#x}", mined_in - U256::from(1u64));
    assert_eq!(
        quantity(&node.result("eth_getBalance", json!([recipient, earlier]))),
        U256::ZERO
    );

    // Pool errors in geth's words.
    let again = node.call("eth_sendRawTransaction", json!([raw]));
    assert_eq!(again["error"]["message"], json!("nonce too low"), "{again}");
    let broke = signed_transfer(&node.keys[1], 0, recipient, U256::MAX >> 1);
    let refused = node.call("eth_sendRawTransaction", json!([broke]));
    assert_eq!(
        refused["error"]["message"],
        json!("insufficient funds for gas * price + value")
    );
    // Strict parameters: a decimal number is not a quantity.
    let bad = node.call("eth_getBalance", json!([sender, "12"]));
    assert_eq!(bad["error"]["code"], json!(-32602), "{bad}");

    // And empty blocks keep coming without transactions.
    let now = quantity(&node.result("eth_blockNumber", json!([])));
    wait_for("an empty block", Duration::from_secs(20), || {
        (quantity(&node.result("eth_blockNumber", json!([]))) > now).then_some(())
    });
}

/// `--dev` signs for its printed accounts (`eth_accounts`, `eth_sendTransaction`, as
/// Hardhat's and anvil's nodes do) and serves the `debug` tracers.
#[test]
fn dev_node_signs_for_its_accounts_and_traces() {
    let node = DevNode::start(&[]);
    let listed: Vec<Address> =
        serde_json::from_value(node.result("eth_accounts", json!([]))).unwrap();
    assert_eq!(listed, node.accounts);

    let recipient = Address::repeat_byte(0x78);
    let hash = node.result(
        "eth_sendTransaction",
        json!([{"from": node.accounts[1], "to": recipient, "value": "0x3039"}]),
    );
    let receipt = wait_for("the receipt", Duration::from_secs(20), || {
        let receipt = node.result("eth_getTransactionReceipt", json!([hash]));
        (!receipt.is_null()).then_some(receipt)
    });
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(
        quantity(&node.result("eth_getBalance", json!([recipient, "latest"]))),
        U256::from(0x3039u64)
    );

    let trace = node.result(
        "debug_traceTransaction",
        json!([hash, {"tracer": "callTracer"}]),
    );
    assert_eq!(trace["type"], json!("CALL"));
    assert_eq!(trace["value"], json!("0x3039"));
    assert_eq!(trace["gasUsed"], json!("0x5208"));
}

/// The dev controls over JSON-RPC on a real `spectrum --dev` (issue 19): manual mining,
/// `hardhat_mine` with an interval, snapshot / revert of a mined transfer, time travel
/// forward only, state setters, automine again, reset.
#[test]
fn dev_controls_drive_mining_time_and_snapshots() {
    let node = DevNode::start(&[]);
    let number = |node: &DevNode| quantity(&node.result("eth_blockNumber", json!([]))).to::<u64>();
    let time = |node: &DevNode, n: u64| {
        let block = node.result("eth_getBlockByNumber", json!([format!("{n:#x}"), false]));
        quantity(&block["timestamp"]).to::<u64>()
    };
    assert_eq!(node.result("evm_setAutomine", json!([false])), json!(true));
    assert_eq!(node.result("hardhat_getAutomine", json!([])), json!(false));
    assert_eq!(
        node.result("evm_setIntervalMining", json!([0])),
        json!(true)
    );
    let start = number(&node);
    assert_eq!(node.result("evm_mine", json!([])), json!("0x0"));
    assert_eq!(number(&node), start + 1);
    assert_eq!(
        node.result("hardhat_mine", json!(["0x3", "0x3c"])),
        json!(true)
    );
    let head = start + 4;
    assert_eq!(number(&node), head);
    assert_eq!(time(&node, head), time(&node, head - 1) + 60);

    // A transfer mined after a snapshot is gone after the revert.
    let to = Address::repeat_byte(0x77);
    let id = node.result("evm_snapshot", json!([]));
    assert_eq!(id, json!("0x1"));
    let hash = node.result(
        "eth_sendTransaction",
        json!([{"from": node.accounts[1], "to": to, "value": "0x64"}]),
    );
    node.result("evm_mine", json!([]));
    let receipt = node.result("eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"));
    assert_eq!(
        node.result("eth_getBalance", json!([to, "latest"])),
        json!("0x64")
    );
    assert_eq!(node.result("evm_revert", json!([id])), json!(true));
    assert_eq!(number(&node), head);
    assert_eq!(
        node.result("eth_getBalance", json!([to, "latest"])),
        json!("0x0")
    );
    assert!(
        node.result("eth_getTransactionReceipt", json!([hash]))
            .is_null()
    );
    assert_eq!(node.result("evm_revert", json!([id])), json!(false));

    // Time moves forward only.
    let offset = node.result("evm_increaseTime", json!([3600]));
    assert!(offset.as_i64().unwrap() >= 3600, "{offset}");
    node.result("evm_mine", json!([]));
    assert!(time(&node, head + 1) >= time(&node, head) + 3600);
    let error = node.call(
        "evm_setNextBlockTimestamp",
        json!([time(&node, head + 1) - 1]),
    )["error"]
        .clone();
    assert_eq!(error["code"], json!(-32000));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .ends_with("header time only moves forward"),
        "{error}"
    );
    // State setters seal a block carrying the patch.
    let before = number(&node);
    assert_eq!(
        node.result("anvil_setBalance", json!([to, "0x1"])),
        json!(null)
    );
    assert_eq!(
        node.result("eth_getBalance", json!([to, "latest"])),
        json!("0x1")
    );
    assert_eq!(number(&node), before + 1);
    assert_eq!(
        node.result("hardhat_setNonce", json!([to, "0x5"])),
        json!(true)
    );
    assert_eq!(
        node.result("eth_getTransactionCount", json!([to, "latest"])),
        json!("0x5")
    );

    // Automine again: the next transaction is mined by itself.
    node.result("evm_setAutomine", json!([true]));
    let hash = node.result(
        "eth_sendTransaction",
        json!([{"from": node.accounts[1], "to": to, "value": "0x65"}]),
    );
    wait_for("the automined receipt", Duration::from_secs(30), || {
        let receipt = node.result("eth_getTransactionReceipt", json!([hash]));
        (!receipt.is_null()).then_some(())
    });
    assert_eq!(node.result("anvil_reset", json!([])), json!(null));
    assert_eq!(number(&node), 0);
}

/// Tribe's dev controls (extensions): `dev_stake` puts a node in POC's normal list with one
/// call, `dev_setLeaders` sets ChiefBase's leaders (the validator must stay one),
/// `dev_advanceEpoch` seals up to the next epoch boundary, `dev_skipSlot` is refused while no
/// staker has a slot.
#[test]
fn tribe_dev_controls_stake_a_node_and_set_leaders() {
    let node = DevNode::start(&[]);
    let validator: Address = "0xa0334F9C5EfB46ebe8c5FDE9a1E98A4673FDb2D7"
        .parse()
        .unwrap();
    let owner = node.accounts[2];
    let staked = node.result("dev_stake", json!([owner]));
    let staked_node: Address = staked["node"].as_str().unwrap().parse().unwrap();
    let receipt = node.result(
        "eth_getTransactionReceipt",
        json!([staked["transactionHash"]]),
    );
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    let poc = node.result("tribe_pocGetStatus", json!([]));
    assert!(
        poc.to_string()
            .to_lowercase()
            .contains(&format!("{staked_node:#x}")),
        "{staked_node} staked: {poc}"
    );

    // The built-in dev chain has one slot per round, the validator's: a staker never gets
    // a slot to miss, so dev_skipSlot is refused (that it seals nothing then is checked in the
    // producer's tests: here the idle block may come at any time).
    let error = node.call("dev_skipSlot", json!([]))["error"].clone();
    assert_eq!(error["code"], json!(-32000), "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("no other signer has a slot: the signer list (1 slots"),
        "{error}"
    );

    let other = node.accounts[5];
    let leaders = node.result("dev_setLeaders", json!([[validator, other]]));
    let leaders: Vec<Address> = serde_json::from_value(leaders).unwrap();
    assert_eq!(leaders, vec![validator, other]);
    let leaders = node.result("dev_setLeaders", json!([[validator]]));
    assert_eq!(leaders, json!([validator]));
    let advanced = node.result("dev_advanceEpoch", json!([]));
    let (boundary, epoch) = (
        advanced["number"].as_u64().unwrap(),
        advanced["epoch"].as_u64().unwrap(),
    );
    assert_eq!(boundary % epoch, 0, "{advanced}");
    assert_eq!(
        quantity(&node.result("eth_blockNumber", json!([]))).to::<u64>(),
        boundary
    );
    let error = node.call("dev_setLeaders", json!([[other]]))["error"].clone();
    assert_eq!(error["code"], json!(-32602));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .ends_with("must stay a leader: it seals every block"),
        "{error}"
    );
}

/// `--dev.signer-limit 3`: a node staked with `dev_stake` is picked into the signer list (as a
/// volunteer, then a signer the next round); `dev_skipSlot` has the validator seal its slot,
/// and the chief update stops and blacklists it in POC.
#[test]
fn skip_slot_blacklists_a_staked_signer() {
    let node = DevNode::start(&["--dev.signer-limit", "3"]);
    let staked = node.result("dev_stake", json!([node.accounts[2]]));
    let staked_node = staked["node"].as_str().unwrap().to_lowercase();
    let is_signer = |status: serde_json::Value| {
        status["signers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["address"].as_str().unwrap().to_lowercase() == staked_node)
    };
    let mut mined = 0;
    while !is_signer(node.result("tribe_getStatus", json!([]))) {
        assert!(mined < 64, "{staked_node} never became a signer");
        node.result("evm_mine", json!([]));
        mined += 1;
    }
    let skipped = node.result("dev_skipSlot", json!([]));
    assert_eq!(
        skipped["signer"].as_str().unwrap().to_lowercase(),
        staked_node,
        "{skipped}"
    );
    let number = skipped["number"].as_u64().unwrap();
    assert!(quantity(&node.result("eth_blockNumber", json!([]))) >= U256::from(number));
    let poc = node.result("tribe_pocGetStatus", json!([]));
    let i = poc["MinerList"]
        .as_array()
        .unwrap()
        .iter()
        .position(|m| m.as_str().unwrap().to_lowercase() == staked_node)
        .unwrap();
    assert_eq!(poc["BlackStatusList"][i], json!(1), "{poc}");
    assert_ne!(poc["BlockList"][i], json!(0), "stopped: {poc}");
    assert!(!is_signer(node.result("tribe_getStatus", json!([]))));
}

/// Impersonation (issue 19): `eth_sendTransaction` from an account whose key the node does not
/// hold runs as that account (value sent, nonce consumed, a contract's storage written), in a
/// block that carries the effects as state patches; the answer's receipt is the carrier's.
/// After `stopImpersonating` the account is unknown again.
#[test]
fn impersonated_sends_run_as_the_account() {
    let node = DevNode::start(&[]);
    let stranger: Address = "0x00000000000000000000000000000000000beef1"
        .parse()
        .unwrap();
    let recipient: Address = "0x00000000000000000000000000000000000beef2"
        .parse()
        .unwrap();
    // PUSH1 0 CALLDATALOAD PUSH1 0 SSTORE STOP: slot 0 = the call's first word.
    let contract: Address = "0x00000000000000000000000000000000000c0de1"
        .parse()
        .unwrap();
    node.result("anvil_setBalance", json!([stranger, "0xde0b6b3a7640000"]));
    node.result("anvil_setCode", json!([contract, "0x60003560005500"]));
    let refused = node.call(
        "eth_sendTransaction",
        json!([{"from": stranger, "to": recipient, "value": "0x64"}]),
    )["error"]
        .clone();
    assert_eq!(
        refused["message"],
        json!(format!("unknown account {stranger}"))
    );

    assert_eq!(
        node.result("anvil_impersonateAccount", json!([stranger])),
        json!(null)
    );
    let hash = node.result(
        "eth_sendTransaction",
        json!([{"from": stranger, "to": recipient, "value": "0x64"}]),
    );
    let receipt = node.result("eth_getTransactionReceipt", json!([hash]));
    assert_eq!(receipt["status"], json!("0x1"), "{receipt}");
    assert_eq!(
        receipt["to"],
        json!("0x5ec7000000000000000000000000000000000de7"),
        "{receipt}"
    );
    assert_eq!(
        node.result("eth_getBalance", json!([recipient, "latest"])),
        json!("0x64")
    );
    assert_eq!(
        node.result("eth_getBalance", json!([stranger, "latest"])),
        json!("0xde0b6b3a763ff9c")
    );
    assert_eq!(
        node.result("eth_getTransactionCount", json!([stranger, "latest"])),
        json!("0x1")
    );

    let word = format!("0x{:064x}", 42);
    node.result(
        "eth_sendTransaction",
        json!([{"from": stranger, "to": contract, "data": word}]),
    );
    assert_eq!(
        node.result("eth_getStorageAt", json!([contract, "0x0", "latest"])),
        json!(word)
    );
    assert_eq!(
        node.result("eth_getTransactionCount", json!([stranger, "latest"])),
        json!("0x2")
    );
    // A reverting call mines nothing: more value than the account holds.
    let before = node.result("eth_blockNumber", json!([]));
    let error = node.call(
        "eth_sendTransaction",
        json!([{"from": stranger, "to": recipient, "value": "0xde0b6b3a7640000"}]),
    )["error"]
        .clone();
    assert_eq!(error["code"], json!(-32000), "{error}");
    assert_eq!(node.result("eth_blockNumber", json!([])), before);

    assert_eq!(
        node.result("hardhat_stopImpersonatingAccount", json!([stranger])),
        json!(true)
    );
    let refused = node.call(
        "eth_sendTransaction",
        json!([{"from": stranger, "to": recipient, "value": "0x64"}]),
    )["error"]
        .clone();
    assert_eq!(
        refused["message"],
        json!(format!("unknown account {stranger}"))
    );
}

/// `anvil_dumpState` / `anvil_loadState` (issue 19): the head's whole state as a hex of
/// anvil's JSON; after `anvil_reset` the loaded dump brings back balances, nonces, code and
/// storage (in blocks carrying state patches).
#[test]
fn dump_state_then_reset_then_load_state_restores_it() {
    let node = DevNode::start(&[]);
    let holder: Address = "0x00000000000000000000000000000000000beef4"
        .parse()
        .unwrap();
    let contract: Address = "0x00000000000000000000000000000000000c0de2"
        .parse()
        .unwrap();
    let slot = format!("0x{:064x}", 7);
    let word = format!("0x{:064x}", 0xabcdu32);
    node.result("anvil_setBalance", json!([holder, "0x1234"]));
    node.result("anvil_setNonce", json!([holder, "0x3"]));
    node.result("anvil_setCode", json!([contract, "0x60003560005500"]));
    node.result("anvil_setStorageAt", json!([contract, slot, word]));
    let read = |node: &DevNode| {
        (
            node.result("eth_getBalance", json!([holder, "latest"])),
            node.result("eth_getTransactionCount", json!([holder, "latest"])),
            node.result("eth_getCode", json!([contract, "latest"])),
            node.result("eth_getStorageAt", json!([contract, slot, "latest"])),
        )
    };
    let before = read(&node);
    assert_eq!(before.0, json!("0x1234"));

    let dump = node.result("anvil_dumpState", json!([]));
    let text = alloy_primitives::hex::decode(dump.as_str().unwrap()).unwrap();
    let document: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let accounts = document["accounts"].as_object().unwrap();
    assert!(
        accounts.len() > 10,
        "dev accounts and contracts: {}",
        accounts.len()
    );
    node.result("anvil_reset", json!([]));
    assert_eq!(
        node.result("eth_getBalance", json!([holder, "latest"])),
        json!("0x0")
    );
    assert_eq!(node.result("anvil_loadState", json!([dump])), json!(true));
    assert_eq!(read(&node), before);

    let bad = node.call("anvil_loadState", json!(["0x1f8b00"]))["error"].clone();
    assert_eq!(bad["code"], json!(-32602), "{bad}");
}
