//! Typed errors of the devp2p wire, one enum per layer.

use crate::p2p::DisconnectReason;

/// ECIES (the handshake's public-key encryption) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EciesError {
    /// Shorter than the 113 bytes of ECIES overhead.
    #[error("ECIES message of {0} bytes is shorter than its 113-byte overhead")]
    TooShort(usize),
    /// The ephemeral public key in the message is not a curve point.
    #[error("ECIES message carries an invalid ephemeral public key")]
    InvalidPublicKey,
    /// The HMAC-SHA256 tag does not match: wrong recipient or altered bytes.
    #[error("ECIES message authentication failed")]
    BadMac,
}

/// The RLPx transport failed: handshake or framing.
#[derive(Debug, thiserror::Error)]
pub enum RlpxError {
    /// The socket failed or closed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A deadline of the protocol passed (handshake 5 s, frame read 30 s).
    #[error("timed out during {0}")]
    Timeout(&'static str),
    /// The auth or ack message could not be decrypted.
    #[error("{what}: {source}")]
    Ecies {
        /// Auth or ack.
        what: &'static str,
        /// Why.
        source: EciesError,
    },
    /// An EIP-8 auth/ack announces a size below the smallest valid message.
    #[error("{what}: EIP-8 size prefix {size} is too small")]
    HandshakeSize {
        /// Auth or ack.
        what: &'static str,
        /// The announced size.
        size: usize,
    },
    /// The decrypted auth/ack is not the RLP it should be.
    #[error("{what}: malformed body: {source}")]
    HandshakeRlp {
        /// Auth or ack.
        what: &'static str,
        /// The RLP error.
        source: alloy_rlp::Error,
    },
    /// A public key in the handshake is not a curve point.
    #[error("{0}: invalid public key")]
    InvalidPublicKey(&'static str),
    /// The auth signature does not recover to a key.
    #[error("auth: invalid signature")]
    InvalidSignature,
    /// The frame header's MAC does not match.
    #[error("frame header MAC mismatch")]
    BadHeaderMac,
    /// The frame body's MAC does not match.
    #[error("frame body MAC mismatch")]
    BadFrameMac,
    /// A frame larger than we accept (checked before reading its body).
    #[error("frame of {size} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The announced size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A message we were asked to send is larger than a frame may be.
    #[error("outgoing message of {size} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The frame does not start with an RLP message code.
    #[error("frame has no valid message code: {0}")]
    BadMessageCode(alloy_rlp::Error),
    /// The Snappy payload is corrupt or inflates past the limit.
    #[error("snappy: {0}")]
    Snappy(String),
}

/// The devp2p base protocol (Hello, Disconnect, Ping/Pong) failed or ended.
#[derive(Debug, thiserror::Error)]
pub enum P2pError {
    /// The transport failed.
    #[error(transparent)]
    Rlpx(#[from] RlpxError),
    /// The peer disconnected, with this reason.
    #[error("peer disconnected: {0}")]
    Disconnected(DisconnectReason),
    /// A base-protocol message did not decode.
    #[error("bad {what} message: {source}")]
    Decode {
        /// Which message.
        what: &'static str,
        /// The RLP error.
        source: alloy_rlp::Error,
    },
    /// The first message was not Hello.
    #[error("expected Hello, got message code {0:#x}")]
    ExpectedHello(u64),
    /// A Hello larger than the base protocol's 2 KiB.
    #[error("Hello of {0} bytes exceeds 2 KiB")]
    HelloTooLarge(usize),
    /// The Hello's node id is not the key the handshake authenticated.
    #[error("Hello node id does not match the handshake's key")]
    UnexpectedIdentity,
    /// The peer speaks a base protocol version below ours' minimum (we need v5 framing rules).
    #[error("peer has base protocol version {0}, need at least 4")]
    IncompatibleVersion(u64),
    /// The peer offers no eth version we speak.
    #[error("no shared eth version (peer offers {0:?})")]
    NoSharedCapability(Vec<(String, u64)>),
    /// A message code outside the base protocol and eth.
    #[error("unknown message code {0:#x}")]
    UnknownMessageCode(u64),
    /// We are connected to ourselves.
    #[error("connected to self")]
    ConnectedToSelf,
}

/// An eth message did not decode, or the eth handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum EthError {
    /// The payload is not valid RLP for the message.
    #[error("bad eth {what}: {source}")]
    Rlp {
        /// Which message.
        what: &'static str,
        /// The RLP error.
        source: alloy_rlp::Error,
    },
    /// A block, header, transaction or receipt inside is invalid.
    #[error("bad eth {what}: {source}")]
    Item {
        /// Which message.
        what: &'static str,
        /// Why.
        source: spectrum_primitives::DecodeError,
    },
    /// A message code eth at the negotiated version does not have.
    #[error("message code {code:#x} is not in eth/{version}")]
    UnknownCode {
        /// The code (relative to eth's offset).
        code: u64,
        /// The negotiated version.
        version: u8,
    },
    /// The payload is larger than eth's 10 MiB.
    #[error("eth message of {0} bytes exceeds 10 MiB")]
    TooLarge(usize),
}

/// The eth Status exchange refused the peer (reference: eth/peer.go readStatus).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// The first eth message was not Status.
    #[error("first eth message has code {0:#x}, not Status")]
    NoStatus(u64),
    /// Different genesis block.
    #[error("genesis mismatch: peer {got}, ours {expected}")]
    GenesisMismatch {
        /// Ours.
        expected: alloy_primitives::B256,
        /// Theirs.
        got: alloy_primitives::B256,
    },
    /// Different network id.
    #[error("network id mismatch: peer {got}, ours {expected}")]
    NetworkIdMismatch {
        /// Ours.
        expected: u64,
        /// Theirs.
        got: u64,
    },
    /// Different eth protocol version from the one negotiated in Hello.
    #[error("eth version mismatch: peer {got}, negotiated {expected}")]
    ProtocolVersionMismatch {
        /// Negotiated.
        expected: u32,
        /// Theirs.
        got: u32,
    },
}

/// A devp2p session failed to start or ended.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Transport or base protocol.
    #[error(transparent)]
    P2p(#[from] P2pError),
    /// An eth message.
    #[error(transparent)]
    Eth(#[from] EthError),
    /// The Status exchange refused the peer.
    #[error(transparent)]
    Status(#[from] StatusError),
}

impl From<RlpxError> for SessionError {
    fn from(e: RlpxError) -> Self {
        Self::P2p(P2pError::Rlpx(e))
    }
}

impl SessionError {
    /// Whether the peer sent something invalid (bad MACs, oversized or undecodable frames and
    /// messages, a lying Hello): grounds for a penalty, as on libp2p. A timeout, a closed socket,
    /// a Disconnect, or a peer of another network or without eth is not.
    pub fn is_misbehaviour(&self) -> bool {
        match self {
            Self::Eth(_) => true,
            Self::Status(StatusError::NoStatus(_)) => true,
            Self::Status(_) => false,
            Self::P2p(P2pError::Rlpx(RlpxError::Io(_) | RlpxError::Timeout(_))) => false,
            Self::P2p(P2pError::Rlpx(_)) => true,
            Self::P2p(
                P2pError::Disconnected(_)
                | P2pError::NoSharedCapability(_)
                | P2pError::ConnectedToSelf
                | P2pError::IncompatibleVersion(_),
            ) => false,
            Self::P2p(_) => true,
        }
    }

    /// The Disconnect reason to send the peer for this failure (as the reference would).
    pub fn disconnect_reason(&self) -> DisconnectReason {
        match self {
            Self::P2p(P2pError::Rlpx(RlpxError::Timeout(_))) => DisconnectReason::ReadTimeout,
            Self::P2p(P2pError::Rlpx(_)) => DisconnectReason::NetworkError,
            Self::P2p(P2pError::Disconnected(r)) => *r,
            Self::P2p(P2pError::UnexpectedIdentity) => DisconnectReason::UnexpectedIdentity,
            Self::P2p(P2pError::IncompatibleVersion(_)) => DisconnectReason::IncompatibleVersion,
            Self::P2p(P2pError::NoSharedCapability(_)) => DisconnectReason::UselessPeer,
            Self::P2p(P2pError::ConnectedToSelf) => DisconnectReason::ConnectedToSelf,
            Self::P2p(_) => DisconnectReason::ProtocolError,
            // geth 1.8: an eth handler error is not a DiscReason, so p2p sends "subprotocol error"
            Self::Eth(_) | Self::Status(_) => DisconnectReason::SubprotocolError,
        }
    }
}

/// A discovery packet was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// Shorter than hash + signature + type.
    #[error("packet of {0} bytes is too small")]
    TooSmall(usize),
    /// Larger than 1280 bytes.
    #[error("packet of {0} bytes exceeds 1280")]
    TooLarge(usize),
    /// The leading hash does not match the rest.
    #[error("packet hash mismatch")]
    BadHash,
    /// The signature does not recover to a public key.
    #[error("invalid packet signature")]
    BadSignature,
    /// A type byte outside Spectrum's 0x0a-0x0d (Ethereum's 1-4 included).
    #[error("unknown packet type {0:#04x}")]
    UnknownType(u8),
    /// The packet data is not the RLP of its type.
    #[error("bad {what} packet: {source}")]
    Rlp {
        /// Which packet.
        what: &'static str,
        /// The RLP error.
        source: alloy_rlp::Error,
    },
    /// The expiration timestamp is in the past.
    #[error("packet expired at {expiration} (now {now})")]
    Expired {
        /// The packet's expiration (unix seconds).
        expiration: u64,
        /// Our clock.
        now: u64,
    },
}
