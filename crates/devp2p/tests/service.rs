//! Two of our services over real sockets on 127.0.0.1: typed messages both ways (real devnet
//! blocks from the reference chain file), peer limits with the reference's Disconnect reasons.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use alloy_primitives::{B256, U256};
use alloy_rlp::Decodable;
use spectrum_devp2p::{
    DisconnectReason, EthError, EthMessage, LocalNode, NewBlock, P2pError, PeerEvent, SessionError,
    Status,
    crypto::random_secret_key,
    service::{Devp2pConfig, Devp2pHandle, Devp2pService},
    session,
};
use spectrum_primitives::Block;
use tokio::sync::{mpsc, watch};

const DEVNET_CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/spectrum-devnet/chain.rlp"
);
const DEADLINE: Duration = Duration::from_secs(30);

fn status() -> Status {
    Status {
        protocol_version: 63,
        network_id: 1,
        total_difficulty: U256::from(1),
        head: B256::repeat_byte(1),
        genesis: B256::repeat_byte(2),
    }
}

async fn service(
    max_peers: usize,
) -> (
    Devp2pHandle,
    mpsc::Receiver<PeerEvent>,
    watch::Sender<Status>,
) {
    let (tx, rx) = watch::channel(status());
    let (handle, events) = Devp2pService::start(Devp2pConfig {
        local: LocalNode::new(random_secret_key(), 0),
        listen: "127.0.0.1:0".parse().unwrap(),
        max_peers,
        status: rx,
    })
    .await
    .unwrap();
    (handle, events, tx)
}

async fn next_event(events: &mut mpsc::Receiver<PeerEvent>) -> PeerEvent {
    tokio::time::timeout(DEADLINE, events.recv())
        .await
        .expect("event in time")
        .expect("service alive")
}

/// The first `n` blocks of the reference devnet chain.
fn devnet_blocks(n: usize) -> Vec<Block> {
    let bytes = std::fs::read(DEVNET_CHAIN).expect("shared/testdata beside the clone");
    let mut buf = &bytes[..];
    (0..n).map(|_| Block::decode(&mut buf).unwrap()).collect()
}

#[tokio::test]
async fn real_blocks_travel_between_two_services() {
    let (a, mut a_events, _a_status) = service(25).await;
    let (b, mut b_events, _b_status) = service(25).await;
    let info = a.dial(&b.local_enode()).await.unwrap();
    assert_eq!(info.id, b.local_enode().id);
    assert!(matches!(
        next_event(&mut a_events).await,
        PeerEvent::Connected(_)
    ));
    assert!(
        matches!(next_event(&mut b_events).await, PeerEvent::Connected(i) if i.id == a.local_enode().id)
    );
    // Who dialled whom, as the node's peer metrics report it: (inbound, outbound).
    assert_eq!(a.peer_directions(), (0, 1));
    assert_eq!(b.peer_directions(), (1, 0));

    // Blocks 1-8 of the devnet: from block 4 each carries the chief-update transaction.
    for block in devnet_blocks(9).into_iter().skip(1) {
        let message = EthMessage::NewBlock(Box::new(NewBlock {
            total_difficulty: U256::from(block.header.number * 2),
            block,
        }));
        assert!(a.send(&b.local_enode().id, message.clone()));
        match next_event(&mut b_events).await {
            PeerEvent::Message { peer, message: got } => {
                assert_eq!(peer, a.local_enode().id);
                assert_eq!(got, message);
            }
            other => panic!("expected the block, got {other:?}"),
        }
    }

    // A second connection to the same node is refused locally.
    let again = a.dial(&b.local_enode()).await;
    assert!(matches!(
        again,
        Err(SessionError::P2p(P2pError::Disconnected(
            DisconnectReason::AlreadyConnected
        )))
    ));

    // A disconnect with a reason reaches the other side as that reason.
    a.disconnect(&b.local_enode().id, DisconnectReason::UselessPeer);
    loop {
        if let PeerEvent::Disconnected { peer, reason, .. } = next_event(&mut b_events).await {
            assert_eq!(peer, a.local_enode().id);
            assert_eq!(reason, DisconnectReason::UselessPeer);
            break;
        }
    }
    assert_eq!(b.peer_count(), 0);
}

#[tokio::test]
async fn a_full_service_refuses_with_too_many_peers() {
    let (full, mut full_events, _s) = service(0).await;
    let (a, _a_events, _t) = service(25).await;
    let refused = a.dial(&full.local_enode()).await;
    assert!(
        matches!(
            refused,
            Err(SessionError::P2p(P2pError::Disconnected(
                DisconnectReason::TooManyPeers
            )))
        ),
        "{refused:?}"
    );
    match next_event(&mut full_events).await {
        PeerEvent::Refused { reason, .. } => assert_eq!(reason, DisconnectReason::TooManyPeers),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_undecodable_message_disconnects_and_marks_the_peer() {
    let (b, mut b_events, _s) = service(25).await;
    let me = LocalNode::new(random_secret_key(), 0);
    let stream = tokio::net::TcpStream::connect(b.local_enode().tcp_addr())
        .await
        .unwrap();
    let p2p = session::connect(stream, &me, b.local_enode().id)
        .await
        .unwrap();
    let mut eth = p2p.exchange_status(&status()).await.unwrap();
    assert!(matches!(
        next_event(&mut b_events).await,
        PeerEvent::Connected(_)
    ));
    // BlockHeaders (eth 0x04, wire 0x14) whose one header is a 1-field list.
    eth.writer
        .write_raw(0x14, &[0xc2, 0xc1, 0x01])
        .await
        .unwrap();
    match next_event(&mut b_events).await {
        PeerEvent::Disconnected {
            peer,
            reason,
            error,
        } => {
            assert_eq!(peer, me.id());
            assert_eq!(reason, DisconnectReason::SubprotocolError);
            assert!(
                matches!(
                    *error,
                    SessionError::Eth(EthError::Item {
                        what: "BlockHeaders",
                        ..
                    })
                ),
                "{error}"
            );
            assert!(error.is_misbehaviour());
        }
        other => panic!("expected a disconnect, got {other:?}"),
    }
    // We are told why.
    let told = tokio::time::timeout(DEADLINE, eth.next_message())
        .await
        .unwrap();
    assert!(
        matches!(
            told,
            Err(SessionError::P2p(P2pError::Disconnected(
                DisconnectReason::SubprotocolError
            )))
        ),
        "{told:?}"
    );
}
