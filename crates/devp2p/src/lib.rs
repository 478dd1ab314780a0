//! The devp2p wire of Spectrum's reference node `smc` (go-ethereum 1.8): what a node needs to
//! talk to the real Spectrum network.
//!
//! This crate owns:
//! - [`handshake`] and [`frame`]: RLPx, the ECIES auth/ack handshake (EIP-8 sent, both formats
//!   accepted, as initiator and responder) and AES-256-CTR frames with keccak MACs;
//! - [`p2p`]: the base protocol v5 (Hello, Disconnect, Ping/Pong, Snappy when both speak v5);
//! - [`eth`]: eth/63 and eth/62 messages over spectrum-primitives' types, Status validation;
//! - [`session`]: one connection from TCP to typed eth messages, with the reference's timeouts;
//! - [`service`]: the peer set (listener, dialer, per-peer tasks) the node integrates with;
//! - [`discv4`]: Spectrum's discovery v4 with its shifted packet types (0x0a-0x0d), bonding,
//!   a Kademlia table and lookups; [`enode`]: `enode://` URLs and the reference's bootnodes.
//!
//! It does not own what the node does with messages (sync, import, pools, serving requests):
//! see docs/devp2p.md for the integration points. Every decoder is bounded and returns a typed
//! error ([`error`]); nothing a peer sends can panic it.

pub mod crypto;
pub mod discv4;
pub mod enode;
pub mod error;
pub mod eth;
pub mod frame;
pub mod handshake;
pub mod p2p;
pub mod service;
pub mod session;

pub use crypto::{PeerId, peer_id_of};
pub use discv4::{Discv4, Discv4Config};
pub use enode::{MAINNET_BOOTNODES, NodeRecord, TESTNET_BOOTNODES};
pub use error::{DiscoveryError, EthError, P2pError, RlpxError, SessionError, StatusError};
pub use eth::{EthMessage, GetBlockHeaders, HashOrNumber, NewBlock, Status};
pub use p2p::DisconnectReason;
pub use service::{Devp2pConfig, Devp2pHandle, Devp2pService, PeerEvent};
pub use session::{EthSession, LocalNode, P2pSession, PeerInfo};
