//! Not the peer's fault (issue 13 item 5), end to end: a real `spectrum` process and an
//! in-process libp2p peer of its chain. The peer gossips transactions the node refuses only
//! because of its own head (`Unprotected`: SIP003 is active from block 0 on this chain;
//! `IntrinsicGas`: calldata is repriced at Sip004), then a valid one. The node pools the valid
//! one and keeps the peer: connected, not penalised, not banned.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{path::Path, time::Duration};

use alloy_primitives::{Address, TxKind, U256, hex};
use common::{
    Node,
    net::{Genesis, node_args},
    peer::start_peer,
    quantity_u64,
};
use secp256k1::SecretKey;
use serde_json::json;
use spectrum_network::{MessageValidation, NetworkEvent};
use spectrum_primitives::{TransactionSigned, TxLegacy, sign_transaction};

const CHAIN_ID: u64 = 4343;
const USER_KEY: [u8; 32] = [0x44; 32];

fn user() -> SecretKey {
    SecretKey::from_byte_array(USER_KEY).expect("a valid key")
}

fn user_address() -> Address {
    spectrum_primitives::public_key_to_address(&user().public_key(secp256k1::SECP256K1))
}

/// A transfer from the funded user.
fn transfer(chain_id: Option<u64>, gas_limit: u64) -> TransactionSigned {
    sign_transaction(
        TxLegacy {
            chain_id,
            nonce: 0,
            gas_price: 20_000_000_000,
            gas_limit,
            to: TxKind::Call(Address::repeat_byte(0x77)),
            value: U256::from(1_000u64),
            input: Default::default(),
        },
        &user(),
    )
}

/// A non-validating node on a fresh chain (every fork from block 0) funding the user.
fn start_node(dir: &Path) -> Node {
    let genesis = dir.join("genesis.json");
    Genesis {
        name: "peerfault",
        chain_id: CHAIN_ID,
        period: 2,
        signer_limit: 1,
        validators: &[Address::repeat_byte(0x11)],
        alloc: &[(user_address(), U256::from(10u64).pow(U256::from(21u64)))],
        extra: &[],
    }
    .write(&genesis);
    let args = node_args(&genesis, &dir.join("node"));
    Node::start(
        Path::new(env!("CARGO_BIN_EXE_spectrum")),
        "node",
        &args,
        &dir.join("node.log"),
    )
}

#[test]
fn transactions_refused_because_of_our_head_do_not_cost_the_peer() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let node = start_node(dir.path());
    let status = node.genesis_status(CHAIN_ID);

    // What the node's own RPC says of each: the exact refusals.
    let unprotected = transfer(None, 21_000);
    let short_of_gas = transfer(Some(CHAIN_ID), 20_000);
    let valid = transfer(Some(CHAIN_ID), 21_000);
    for (tx, rule) in [
        (&unprotected, "protected"),
        (&short_of_gas, "intrinsic gas"),
    ] {
        let raw = format!("0x{}", hex::encode(alloy_rlp::encode(tx)));
        let answer = node
            .try_call("eth_sendRawTransaction", json!([raw]))
            .unwrap();
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.to_lowercase().contains(rule),
            "expected a refusal naming {rule:?}: {answer}"
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let peer_id = runtime.block_on(async {
        let (peer, mut events) = start_peer([0x55; 32], status, &[&node]).await;
        let peer_id = peer.local_peer_id().to_string();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while peer.gossip_peer_count() == 0 || node.peer_count() != 1 {
            assert!(tokio::time::Instant::now() < deadline, "the peer joined");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // One message each, in order on one connection: when the valid one is pooled, the
        // node has judged the two before it.
        for tx in [&unprotected, &short_of_gas, &valid] {
            peer.broadcast_transactions(std::slice::from_ref(tx)).await;
        }
        let pending = || {
            quantity_u64(&node.result(
                "eth_getTransactionCount",
                json!([user_address(), "pending"]),
            ))
        };
        while pending() != 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the valid transaction was not pooled"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let found = node.result("eth_getTransactionByHash", json!([valid.hash()]));
        assert!(!found.is_null(), "the valid transaction is in the pool");

        // The peer is still there, on both sides, and the node holds nothing against it.
        assert_eq!(node.peer_count(), 1);
        assert_eq!(peer.peer_count(), 1);
        while let Ok(event) = events.try_recv() {
            match event {
                NetworkEvent::PeerDisconnected { .. } | NetworkEvent::PeerBanned { .. } => {
                    panic!("the peer lost its connection: {event:?}")
                }
                NetworkEvent::NewBlock {
                    peer: from, msg_id, ..
                }
                | NetworkEvent::Transactions {
                    peer: from, msg_id, ..
                } => {
                    peer.report_message(msg_id, from, MessageValidation::Ignore)
                        .await;
                }
                _ => {}
            }
        }
        peer_id
    });
    let log = std::fs::read_to_string(&node.log).expect("the node's log");
    assert!(
        log.contains(&peer_id),
        "the node logged the peer's connection"
    );
    let against_peer: Vec<&str> = log
        .lines()
        .filter(|line| {
            line.contains(&peer_id) && (line.contains("penalised") || line.contains("banned"))
        })
        .collect();
    assert!(
        against_peer.is_empty(),
        "the node penalised the peer: {against_peer:?}"
    );
}
