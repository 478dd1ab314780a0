//! eth_sendRawTransaction with the pool's geth wording for every rejection; pending nonces,
//! pending transactions and the txpool namespace.

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, Bytes, TxKind, U256, hex};
use serde_json::{Value, json};

use crate::harness::{Node, USER1_KEY, USER2_KEY, address_of, quantity, signed, transfer};

const GWEI: u128 = 1_000_000_000;

#[test]
fn every_pool_rejection_in_geths_words() {
    let node = Node::devnet(140, |_| {});
    let user1 = address_of(USER1_KEY);
    let nonce =
        quantity(&node.result("eth_getTransactionCount", json!([user1, "latest"]))).to::<u64>();
    let to = Address::repeat_byte(0x33);
    let send = |raw: &str| node.error("eth_sendRawTransaction", json!([raw]));
    let expect = |raw: &str, want: &str| {
        let (code, message, _) = send(raw);
        assert_eq!(code, -32000, "{want}: {message}");
        assert!(
            message.starts_with(want),
            "{message:?} should start with {want:?}"
        );
    };
    let with = |edit: &dyn Fn(&mut TxLegacy)| {
        let mut tx = transfer(nonce, to, U256::from(1), 18 * GWEI);
        edit(&mut tx);
        signed(USER1_KEY, tx).0
    };
    expect("0x02f86c0480", "transaction type not supported");
    expect("0xc0", "rlp");
    expect(&with(&|tx| tx.chain_id = Some(1)), "invalid sender");
    expect(
        &with(&|tx| tx.chain_id = None),
        "only replay-protected (EIP-155) transactions allowed over RPC",
    );
    expect(&with(&|tx| tx.nonce = 0), "nonce too low");
    expect(&with(&|tx| tx.gas_limit = 20_000), "intrinsic gas too low");
    expect(
        &with(&|tx| tx.gas_limit = 50_000_000),
        "exceeds block gas limit",
    );
    expect(&with(&|tx| tx.gas_price = GWEI), "transaction underpriced");
    expect(
        &with(&|tx| tx.input = Bytes::from(vec![1u8; 200 * 1024])),
        "oversized data",
    );
    let poor = "1111111111111111111111111111111111111111111111111111111111111111";
    expect(
        &signed(poor, transfer(0, to, U256::from(1), 18 * GWEI)).0,
        "insufficient funds for gas * price + value",
    );
    let chief = "0x21c5dc409138205291d6a7ef2dbb1701ac02ff96";
    let chief_update = with(&|tx| {
        tx.to = TxKind::Call(chief.parse().unwrap());
        tx.gas_limit = 100_000;
        tx.input = Bytes::from(hex::decode(format!("1c1b8772{}", "00".repeat(32))).unwrap());
    });
    let (code, message, _) = send(&chief_update);
    assert_eq!(code, -32000);
    // A chief-update transaction is the block signer's own; the pool takes none from users.
    assert_eq!(
        message,
        "chief-update transactions are made by the block's signer only"
    );
    // Accepted once, then known; a replacement must pay 10% more.
    let good = with(&|_| {});
    let hash = node.result("eth_sendRawTransaction", json!([good]));
    expect(&good, "already known");
    expect(
        &with(&|tx| tx.gas_price = 18 * GWEI + GWEI / 2),
        "replacement transaction underpriced",
    );
    let replaced = node.result(
        "eth_sendRawTransaction",
        json!([with(&|tx| tx.gas_price = 20 * GWEI)]),
    );
    assert_ne!(replaced, hash);
}

#[test]
fn pending_state_and_txpool_namespace() {
    let node = Node::devnet(140, |_| {});
    let user1 = address_of(USER1_KEY);
    let user2 = address_of(USER2_KEY);
    let nonce1 =
        quantity(&node.result("eth_getTransactionCount", json!([user1, "latest"]))).to::<u64>();
    let nonce2 =
        quantity(&node.result("eth_getTransactionCount", json!([user2, "latest"]))).to::<u64>();
    let to = Address::repeat_byte(0x44);
    let mut hashes = Vec::new();
    for n in [nonce1, nonce1 + 1] {
        let (raw, hash) = signed(USER1_KEY, transfer(n, to, U256::from(n), 18 * GWEI));
        assert_eq!(
            node.result("eth_sendRawTransaction", json!([raw])),
            json!(hash)
        );
        hashes.push(hash);
    }
    // A gap: queued.
    let (raw, _) = signed(
        USER2_KEY,
        transfer(nonce2 + 1, to, U256::from(7), 25 * GWEI),
    );
    node.result("eth_sendRawTransaction", json!([raw]));
    assert_eq!(
        quantity(&node.result("eth_getTransactionCount", json!([user1, "pending"]))).to::<u64>(),
        nonce1 + 2
    );
    assert_eq!(
        quantity(&node.result("eth_getTransactionCount", json!([user1, "latest"]))).to::<u64>(),
        nonce1
    );
    assert_eq!(
        node.result("txpool_status", json!([])),
        json!({"pending": "0x2", "queued": "0x1"})
    );
    let content = node.result("txpool_content", json!([]));
    let mine = &content["pending"][user1.to_checksum(None)];
    assert_eq!(mine.as_object().unwrap().len(), 2, "{content}");
    assert_eq!(mine[nonce1.to_string()]["hash"], json!(hashes[0]));
    assert_eq!(mine[nonce1.to_string()]["blockNumber"], Value::Null);
    assert_eq!(
        content["queued"][user2.to_checksum(None)][(nonce2 + 1).to_string()]["gasPrice"],
        json!(format!("{:#x}", 25 * GWEI))
    );
    let inspect = node.result("txpool_inspect", json!([]));
    assert_eq!(
        inspect["pending"][user1.to_checksum(None)][(nonce1 + 1).to_string()],
        json!(format!(
            "{}: {} wei + 21000 gas × {} wei",
            to.to_checksum(None),
            nonce1 + 1,
            18 * GWEI
        ))
    );
    let pending_tx = node.result("eth_getTransactionByHash", json!([hashes[1]]));
    assert_eq!(pending_tx["blockHash"], Value::Null);
    assert_eq!(pending_tx["transactionIndex"], Value::Null);
    assert_eq!(pending_tx["nonce"], json!(format!("{:#x}", nonce1 + 1)));
    assert_eq!(
        node.result("eth_getTransactionReceipt", json!([hashes[1]])),
        Value::Null
    );
    assert!(
        node.result("eth_getRawTransactionByHash", json!([hashes[1]]))
            .as_str()
            .unwrap()
            .starts_with("0xf8")
    );
    // The gas price oracle never goes below the pool's minimum.
    assert!(quantity(&node.result("eth_gasPrice", json!([]))) >= U256::from(18 * GWEI));
    let history = node.result("eth_feeHistory", json!(["0x4", "latest", [50]]));
    assert_eq!(history["oldestBlock"], json!("0x89"));
    assert_eq!(history["baseFeePerGas"].as_array().unwrap().len(), 5);
    assert_eq!(history["gasUsedRatio"].as_array().unwrap().len(), 4);
    assert_eq!(history["reward"].as_array().unwrap().len(), 4);
}
