//! The hand-assembled contracts on the executor: the ERC20 moves balances, logs `Transfer`,
//! refuses an overdraft (reverting, nothing changed); the storage contract writes fresh slots.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use secp256k1::SecretKey;
use spectrum_bench::{
    COINBASE,
    contracts::{
        TRANSFER_TOPIC, erc20_balance_slot, erc20_creation_code, erc20_transfer_calldata,
        store_calldata, store_creation_code,
    },
    genesis_state,
};
use spectrum_chainspec::{ChainSpec, dev::DEV_ACCOUNTS};
use spectrum_execution::BlockExecutor;
use spectrum_primitives::{
    BlockBody, Header, RecoveredBlock, SealedBlock, SealedHeader, TxLegacy, sign_transaction,
};
use spectrum_storage_api::StateProvider;

#[test]
fn erc20_and_store_contracts_behave() {
    let spec = Arc::new(ChainSpec::dev());
    let (address, key) = DEV_ACCOUNTS[0];
    let sender: Address = address.parse().unwrap();
    let key: B256 = key.parse().unwrap();
    let key = SecretKey::from_byte_array(key.0).unwrap();
    let recipient = Address::repeat_byte(0x42);
    let token = sender.create(0);
    let store = sender.create(1);
    let calls: Vec<(TxKind, Bytes)> = vec![
        (TxKind::Create, erc20_creation_code(U256::from(1000))),
        (TxKind::Create, store_creation_code()),
        (
            TxKind::Call(token),
            erc20_transfer_calldata(recipient, U256::from(300)),
        ),
        // More than is left: reverts.
        (
            TxKind::Call(token),
            erc20_transfer_calldata(recipient, U256::from(701)),
        ),
        (TxKind::Call(store), store_calldata(3)),
        (TxKind::Call(store), store_calldata(2)),
    ];
    let transactions = calls
        .into_iter()
        .enumerate()
        .map(|(nonce, (to, input))| {
            sign_transaction(
                TxLegacy {
                    chain_id: Some(spec.chain_id),
                    nonce: nonce as u64,
                    gas_price: 1,
                    gas_limit: 500_000,
                    to,
                    value: U256::ZERO,
                    input,
                },
                &key,
            )
        })
        .collect::<Vec<_>>();
    let genesis = spec.genesis_header();
    let header = Header {
        parent_hash: genesis.hash(),
        number: 1,
        timestamp: 1,
        gas_limit: genesis.gas_limit,
        difficulty: U256::from(1),
        beneficiary: COINBASE,
        ..Default::default()
    };
    let block = RecoveredBlock {
        senders: vec![sender; transactions.len()],
        block: SealedBlock {
            header: SealedHeader::seal(header),
            body: BlockBody {
                transactions,
                ommers: Vec::new(),
            },
        },
    };
    let mut state = genesis_state(&spec);
    let output = BlockExecutor::spectrum(spec)
        .execute(&block, COINBASE, &state)
        .unwrap();
    let statuses: Vec<bool> = output
        .receipts
        .iter()
        .map(|r| r.receipt.status.coerce_status())
        .collect();
    assert_eq!(statuses, [true, true, true, false, true, true]);

    let transfer_logs = &output.receipts[2].receipt.logs;
    assert_eq!(transfer_logs.len(), 1);
    let log = &transfer_logs[0];
    assert_eq!(log.address, token);
    assert_eq!(
        log.topics(),
        [TRANSFER_TOPIC, sender.into_word(), recipient.into_word()]
    );
    assert_eq!(log.data.data[..], U256::from(300).to_be_bytes::<32>());
    assert!(output.receipts[3].receipt.logs.is_empty());

    state.apply(&output.changes);
    let balance = |holder| state.storage(&token, &erc20_balance_slot(holder)).unwrap();
    assert_eq!(balance(sender), U256::from(700));
    assert_eq!(balance(recipient), U256::from(300));
    // Slot 0 counts 3 + 2 slots; slots 1..=5 hold their index.
    let slot = |i: u64| state.storage(&store, &B256::from(U256::from(i))).unwrap();
    assert_eq!(slot(0), U256::from(5));
    for i in 1..=5 {
        assert_eq!(slot(i), U256::from(i));
    }
    assert_eq!(slot(6), U256::ZERO);
    assert_eq!(state.storage[&store].len(), 6);
}
