//! A real `spectrum --dev` driven by alloy's provider (what Rust tools such as Foundry use):
//! every answer must deserialize into alloy's RPC types and carry the right values.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, Bytes, TxKind, U256, hex, keccak256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_types_eth::{BlockNumberOrTag, Filter, TransactionRequest};
use common::DevNode;

fn sign(key_hex: &str, tx: TxLegacy) -> (Bytes, alloy_primitives::B256) {
    let bytes: [u8; 32] = hex::decode(key_hex).unwrap().try_into().unwrap();
    let key = secp256k1::SecretKey::from_byte_array(bytes).unwrap();
    let signed = spectrum_primitives::sign_transaction(tx, &key);
    (alloy_rlp::encode(&signed).into(), signed.hash())
}

fn harness_token() -> (Bytes, Vec<u8>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/spectrum-devnet/contracts.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (../shared must sit beside the clone)"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let code = json["HarnessToken"]["bytecode"].as_str().unwrap();
    let code = hex::decode(code).unwrap();
    // constructor(string name, string symbol, uint256 supply)
    let mut args = Vec::new();
    let word = |n: u64| U256::from(n).to_be_bytes::<32>();
    args.extend(word(0x60));
    args.extend(word(0xa0));
    args.extend(word(1_000_000));
    for text in ["Alloy", "ALY"] {
        args.extend(word(text.len() as u64));
        let mut padded = text.as_bytes().to_vec();
        padded.resize(32, 0);
        args.extend(padded);
    }
    (code.into(), args)
}

fn selector(signature: &str) -> Vec<u8> {
    keccak256(signature.as_bytes())[..4].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alloy_provider_end_to_end() {
    let node = DevNode::start(&[]);
    let url = format!("http://{}", node.http).parse().unwrap();
    let provider = ProviderBuilder::new().connect_hyper_http(url);
    let (from, key) = (node.accounts[3], node.keys[3].clone());

    assert_eq!(provider.get_chain_id().await.unwrap(), 1337);
    let ten_thousand = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64));
    assert_eq!(provider.get_balance(from).await.unwrap(), ten_thousand);
    let price = provider.get_gas_price().await.unwrap();
    assert!(price >= 1_000_000_000);

    // A transfer: estimate, send, receipt, lookups.
    let to = Address::repeat_byte(0x77);
    let request = TransactionRequest::default()
        .from(from)
        .to(to)
        .value(U256::from(5));
    assert_eq!(provider.estimate_gas(request).await.unwrap(), 21_000);
    let (raw, hash) = sign(
        &key,
        TxLegacy {
            chain_id: Some(1337),
            nonce: 0,
            gas_price: price,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value: U256::from(5),
            input: Default::default(),
        },
    );
    let pending = provider.send_raw_transaction(&raw).await.unwrap();
    assert_eq!(*pending.tx_hash(), hash);
    let receipt = pending.get_receipt().await.unwrap();
    assert!(receipt.status());
    assert_eq!(receipt.gas_used, 21_000);
    assert_eq!(receipt.effective_gas_price, price);
    assert_eq!(receipt.from, from);
    let tx = provider
        .get_transaction_by_hash(hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tx.block_number, receipt.block_number);
    assert_eq!(provider.get_balance(to).await.unwrap(), U256::from(5));
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Number(receipt.block_number.unwrap()))
        .full()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.header.hash, receipt.block_hash.unwrap());
    // The chief update is hidden: the transfer is the block's only visible transaction.
    assert_eq!(block.transactions.len(), 1);
    let receipts = provider
        .get_block_receipts(receipt.block_number.unwrap().into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        receipts.len(),
        2,
        "the chief update's receipt, then the transfer's"
    );

    // A contract: deploy, its Transfer event through eth_getLogs, a view call, a revert.
    let (code, args) = harness_token();
    let mut input = code.to_vec();
    input.extend(args);
    let (raw, _) = sign(
        &key,
        TxLegacy {
            chain_id: Some(1337),
            nonce: 1,
            gas_price: price,
            gas_limit: 3_000_000,
            to: TxKind::Create,
            value: U256::ZERO,
            input: input.into(),
        },
    );
    let deployed = provider
        .send_raw_transaction(&raw)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(deployed.status());
    let token = deployed.contract_address.unwrap();
    let logs = provider
        .get_logs(&Filter::new().address(token).from_block(0))
        .await
        .unwrap();
    assert_eq!(logs.len(), 1, "the mint's Transfer");
    assert_eq!(
        logs[0].topics()[0],
        keccak256("Transfer(address,address,uint256)")
    );
    let mut balance_of = selector("balanceOf(address)");
    balance_of.extend([0u8; 12]);
    balance_of.extend(from.as_slice());
    let answer = provider
        .call(
            TransactionRequest::default()
                .to(token)
                .input(balance_of.into()),
        )
        .await
        .unwrap();
    assert_eq!(
        U256::from_be_slice(&answer),
        U256::from_be_slice(&logs[0].data().data)
    );
    let error = provider
        .call(
            TransactionRequest::default()
                .to(token)
                .input(selector("alwaysReverts()").into()),
        )
        .await
        .unwrap_err();
    let payload = error.as_error_resp().expect("a JSON-RPC error");
    assert_eq!(payload.code, 3);
    assert_eq!(
        payload.message,
        "execution reverted: HarnessToken: always reverts"
    );
}
