//! The devp2p base protocol (version 5): Hello, Disconnect, Ping, Pong, and Snappy compression
//! of every later payload when both sides announce version 5 or more (EIP-706).

use alloy_primitives::B512;
use alloy_rlp::{Decodable, Encodable, Header as RlpHeader, RlpDecodable, RlpEncodable};

use crate::{error::P2pError, error::RlpxError, frame::MAX_MESSAGE_SIZE};

/// Base protocol version we announce.
pub const BASE_PROTOCOL_VERSION: u64 = 5;
/// Hello code.
pub const HELLO: u64 = 0x00;
/// Disconnect code.
pub const DISCONNECT: u64 = 0x01;
/// Ping code.
pub const PING: u64 = 0x02;
/// Pong code.
pub const PONG: u64 = 0x03;
/// Sub-protocol codes start here (the base protocol reserves 16).
pub const BASE_PROTOCOL_LENGTH: u64 = 16;
/// Largest base-protocol message (reference: `baseProtocolMaxMsgSize`, 2 KiB).
pub const MAX_HELLO_SIZE: usize = 2 * 1024;

/// A capability `[name, version]` announced in Hello.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Capability {
    /// Protocol name (`eth`).
    pub name: String,
    /// Protocol version.
    pub version: u64,
}

/// The Hello message: `[version, clientName, caps, listenPort, nodeID, ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Base protocol version.
    pub version: u64,
    /// Client name (ours: `spectrum-rs/<version>`; smc's starts with `smc/`).
    pub client: String,
    /// Capabilities.
    pub capabilities: Vec<Capability>,
    /// TCP listening port (0 if none).
    pub listen_port: u64,
    /// Node id.
    pub id: B512,
}

impl Hello {
    fn payload_length(&self) -> usize {
        self.version.length()
            + self.client.length()
            + self.capabilities.length()
            + self.listen_port.length()
            + self.id.length()
    }
}

impl Encodable for Hello {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        RlpHeader {
            list: true,
            payload_length: self.payload_length(),
        }
        .encode(out);
        self.version.encode(out);
        self.client.encode(out);
        self.capabilities.encode(out);
        self.listen_port.encode(out);
        self.id.encode(out);
    }
}

impl Decodable for Hello {
    /// Tolerates extra trailing fields (devp2p forward compatibility).
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let list = RlpHeader::decode(buf)?;
        if !list.list {
            return Err(alloy_rlp::Error::UnexpectedString);
        }
        let mut payload = buf
            .get(..list.payload_length)
            .ok_or(alloy_rlp::Error::InputTooShort)?;
        *buf = &buf[list.payload_length..];
        Ok(Self {
            version: u64::decode(&mut payload)?,
            client: String::decode(&mut payload)?,
            capabilities: Vec::decode(&mut payload)?,
            listen_port: u64::decode(&mut payload)?,
            id: B512::decode(&mut payload)?,
        })
    }
}

/// Why a peer is disconnected (devp2p's reasons, as the reference numbers them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DisconnectReason {
    /// 0x00: disconnect requested.
    Requested = 0x00,
    /// 0x01: network error.
    NetworkError = 0x01,
    /// 0x02: breach of protocol.
    ProtocolError = 0x02,
    /// 0x03: useless peer (no shared capability).
    UselessPeer = 0x03,
    /// 0x04: too many peers.
    TooManyPeers = 0x04,
    /// 0x05: already connected.
    AlreadyConnected = 0x05,
    /// 0x06: incompatible p2p protocol version.
    IncompatibleVersion = 0x06,
    /// 0x07: invalid node identity.
    InvalidIdentity = 0x07,
    /// 0x08: client quitting.
    Quitting = 0x08,
    /// 0x09: unexpected identity.
    UnexpectedIdentity = 0x09,
    /// 0x0a: connected to self.
    ConnectedToSelf = 0x0a,
    /// 0x0b: read timeout.
    ReadTimeout = 0x0b,
    /// 0x10: sub-protocol error (what the reference sends when the eth Status is refused).
    SubprotocolError = 0x10,
}

impl DisconnectReason {
    /// The reason with this number, if any.
    pub fn from_u8(n: u8) -> Option<Self> {
        use DisconnectReason::*;
        Some(match n {
            0x00 => Requested,
            0x01 => NetworkError,
            0x02 => ProtocolError,
            0x03 => UselessPeer,
            0x04 => TooManyPeers,
            0x05 => AlreadyConnected,
            0x06 => IncompatibleVersion,
            0x07 => InvalidIdentity,
            0x08 => Quitting,
            0x09 => UnexpectedIdentity,
            0x0a => ConnectedToSelf,
            0x0b => ReadTimeout,
            0x10 => SubprotocolError,
            _ => return None,
        })
    }

    /// The Disconnect payload: `[reason]`.
    pub fn encode_payload(self) -> Vec<u8> {
        vec![
            0xc1,
            self as u8 + if self == Self::Requested { 0x80 } else { 0 },
        ]
    }

    /// Decodes a Disconnect payload: `[reason]`, a bare reason, or `[]` (all seen in the wild).
    pub fn decode_payload(payload: &[u8]) -> Result<Self, P2pError> {
        let err = |source| P2pError::Decode {
            what: "Disconnect",
            source,
        };
        let mut buf = payload;
        let n = if payload.first().is_some_and(|b| *b >= 0xc0) {
            let list = RlpHeader::decode(&mut buf).map_err(err)?;
            if list.payload_length == 0 {
                0
            } else {
                u8::decode(&mut buf).map_err(err)?
            }
        } else if payload.is_empty() {
            0
        } else {
            u8::decode(&mut buf).map_err(err)?
        };
        Self::from_u8(n).ok_or(err(alloy_rlp::Error::Custom("unknown disconnect reason")))
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?} ({:#04x})", *self as u8)
    }
}

/// Compresses a payload (Snappy raw format, as golang/snappy's `Encode`).
pub fn compress(payload: &[u8]) -> Result<Vec<u8>, RlpxError> {
    snap::raw::Encoder::new()
        .compress_vec(payload)
        .map_err(|e| RlpxError::Snappy(e.to_string()))
}

/// Decompresses a payload, refusing one that announces more than [`MAX_MESSAGE_SIZE`].
pub fn decompress(payload: &[u8]) -> Result<Vec<u8>, RlpxError> {
    let len = snap::raw::decompress_len(payload).map_err(|e| RlpxError::Snappy(e.to_string()))?;
    if len > MAX_MESSAGE_SIZE {
        return Err(RlpxError::Snappy(format!(
            "payload inflates to {len} bytes, limit {MAX_MESSAGE_SIZE}"
        )));
    }
    snap::raw::Decoder::new()
        .decompress_vec(payload)
        .map_err(|e| RlpxError::Snappy(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_round_trips_and_tolerates_a_tail() {
        let hello = Hello {
            version: 5,
            client: "spectrum-rs/0.1.0".into(),
            capabilities: vec![Capability {
                name: "eth".into(),
                version: 63,
            }],
            listen_port: 30303,
            id: B512::repeat_byte(3),
        };
        let bytes = alloy_rlp::encode(&hello);
        assert_eq!(Hello::decode(&mut &bytes[..]).unwrap(), hello);
        // The same list with one more field appended.
        let mut longer = alloy_rlp::encode(&hello);
        let old_len = longer.len();
        longer.push(0x07);
        let payload = hello.payload_length() + 1;
        let mut head = Vec::new();
        RlpHeader {
            list: true,
            payload_length: payload,
        }
        .encode(&mut head);
        let body = longer[old_len - hello.payload_length()..].to_vec();
        let with_tail = [head, body].concat();
        assert_eq!(Hello::decode(&mut &with_tail[..]).unwrap(), hello);
    }

    #[test]
    fn disconnect_reasons_in_every_shape() {
        assert_eq!(
            DisconnectReason::decode_payload(&[0xc1, 0x10]).unwrap(),
            DisconnectReason::SubprotocolError
        );
        assert_eq!(
            DisconnectReason::decode_payload(&[0x04]).unwrap(),
            DisconnectReason::TooManyPeers
        );
        assert_eq!(
            DisconnectReason::decode_payload(&[0xc0]).unwrap(),
            DisconnectReason::Requested
        );
        assert_eq!(
            DisconnectReason::decode_payload(&[0xc1, 0x80]).unwrap(),
            DisconnectReason::Requested
        );
        for r in [
            DisconnectReason::Requested,
            DisconnectReason::UselessPeer,
            DisconnectReason::SubprotocolError,
        ] {
            assert_eq!(
                DisconnectReason::decode_payload(&r.encode_payload()).unwrap(),
                r
            );
        }
        assert!(matches!(
            DisconnectReason::decode_payload(&[0xc1, 0x42]),
            Err(P2pError::Decode {
                what: "Disconnect",
                ..
            })
        ));
    }

    #[test]
    fn snappy_refuses_bombs() {
        let data = vec![0u8; 100_000];
        assert_eq!(decompress(&compress(&data).unwrap()).unwrap(), data);
        // A header announcing 16 MiB of output.
        let bomb = [0x80, 0x80, 0x80, 0x08, 0x00];
        assert!(matches!(decompress(&bomb), Err(RlpxError::Snappy(m)) if m.contains("inflates")));
        assert!(matches!(decompress(&[0xff]), Err(RlpxError::Snappy(_))));
    }
}
