//! Discovery v4 packets as Spectrum shifted them: `hash(32) ‖ sig(65) ‖ type(1) ‖ rlp`, with
//! ping 0x0a, pong 0x0b, findnode 0x0c, neighbors 0x0d (Ethereum's 1-4 are unknown to us).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use alloy_primitives::{B256, B512, keccak256};
use alloy_rlp::{Decodable, Encodable, Header as RlpHeader};
use secp256k1::SecretKey;

use crate::{
    crypto::{PeerId, peer_id, recover, sign},
    error::DiscoveryError,
};

/// Ping type byte (Ethereum: 0x01).
pub const PING: u8 = 0x0a;
/// Pong type byte.
pub const PONG: u8 = 0x0b;
/// FindNode type byte.
pub const FIND_NODE: u8 = 0x0c;
/// Neighbors type byte.
pub const NEIGHBORS: u8 = 0x0d;
/// Largest packet (reference: 1280 bytes).
pub const MAX_PACKET_SIZE: usize = 1280;
/// hash + signature + type.
const HEAD_SIZE: usize = 32 + 65 + 1;
/// Version field of ping.
pub const PING_VERSION: u64 = 4;

/// A UDP/TCP endpoint `[ip, udp, tcp]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// UDP port.
    pub udp: u16,
    /// TCP port.
    pub tcp: u16,
}

/// One entry of Neighbors `[ip, udp, tcp, id]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborNode {
    /// Its endpoint.
    pub endpoint: Endpoint,
    /// Its id.
    pub id: PeerId,
}

/// A discovery message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `[version, from, to, expiration]`.
    Ping {
        /// The sender's endpoint as it believes it.
        from: Endpoint,
        /// The recipient's endpoint as the sender sees it.
        to: Endpoint,
        /// Unix seconds.
        expiration: u64,
    },
    /// `[to, pingHash, expiration]`.
    Pong {
        /// The pinger's endpoint as seen.
        to: Endpoint,
        /// Hash of the ping answered.
        ping_hash: B256,
        /// Unix seconds.
        expiration: u64,
    },
    /// `[target, expiration]`.
    FindNode {
        /// Id whose neighbourhood is asked for.
        target: B512,
        /// Unix seconds.
        expiration: u64,
    },
    /// `[[node...], expiration]`.
    Neighbors {
        /// Nodes close to the target.
        nodes: Vec<NeighborNode>,
        /// Unix seconds.
        expiration: u64,
    },
}

fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn decode_ip(buf: &mut &[u8]) -> alloy_rlp::Result<IpAddr> {
    let bytes = RlpHeader::decode_bytes(buf, false)?;
    match bytes.len() {
        0 => Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        4 => Ok(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(bytes);
            Ok(IpAddr::V6(Ipv6Addr::from(o)))
        }
        _ => Err(alloy_rlp::Error::Custom(
            "IP address of neither 4 nor 16 bytes",
        )),
    }
}

/// Payload of the RLP list at the head of `buf`; advances `buf` past it. Items after the
/// ones a decoder reads are ignored (forward compatibility, as the reference's `rlp:"tail"`).
fn list<'a>(buf: &mut &'a [u8]) -> alloy_rlp::Result<&'a [u8]> {
    let header = RlpHeader::decode(buf)?;
    if !header.list {
        return Err(alloy_rlp::Error::UnexpectedString);
    }
    let payload = buf
        .get(..header.payload_length)
        .ok_or(alloy_rlp::Error::InputTooShort)?;
    *buf = &buf[header.payload_length..];
    Ok(payload)
}

fn encode_list(out: &mut Vec<u8>, items: &[&dyn Encodable]) {
    let payload_length = items.iter().map(|i| i.length()).sum();
    RlpHeader {
        list: true,
        payload_length,
    }
    .encode(out);
    for item in items {
        item.encode(out);
    }
}

impl Endpoint {
    fn to_rlp(self) -> Vec<u8> {
        let mut out = Vec::new();
        encode_list(&mut out, &[&&ip_bytes(&self.ip)[..], &self.udp, &self.tcp]);
        out
    }

    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let mut p = list(buf)?;
        Ok(Self {
            ip: decode_ip(&mut p)?,
            udp: u16::decode(&mut p)?,
            tcp: u16::decode(&mut p)?,
        })
    }
}

/// Pre-encoded RLP spliced into a list.
struct Raw(Vec<u8>);

impl Encodable for Raw {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        out.put_slice(&self.0);
    }
    fn length(&self) -> usize {
        self.0.len()
    }
}

impl Message {
    /// Its type byte.
    pub fn kind(&self) -> u8 {
        match self {
            Self::Ping { .. } => PING,
            Self::Pong { .. } => PONG,
            Self::FindNode { .. } => FIND_NODE,
            Self::Neighbors { .. } => NEIGHBORS,
        }
    }

    /// Its expiration.
    pub fn expiration(&self) -> u64 {
        match self {
            Self::Ping { expiration, .. }
            | Self::Pong { expiration, .. }
            | Self::FindNode { expiration, .. }
            | Self::Neighbors { expiration, .. } => *expiration,
        }
    }

    fn encode_data(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Ping {
                from,
                to,
                expiration,
            } => encode_list(
                &mut out,
                &[
                    &PING_VERSION,
                    &Raw(from.to_rlp()),
                    &Raw(to.to_rlp()),
                    expiration,
                ],
            ),
            Self::Pong {
                to,
                ping_hash,
                expiration,
            } => encode_list(&mut out, &[&Raw(to.to_rlp()), ping_hash, expiration]),
            Self::FindNode { target, expiration } => encode_list(&mut out, &[target, expiration]),
            Self::Neighbors { nodes, expiration } => {
                let mut encoded = Vec::new();
                for n in nodes {
                    let e = n.endpoint;
                    encode_list(
                        &mut encoded,
                        &[&&ip_bytes(&e.ip)[..], &e.udp, &e.tcp, &n.id],
                    );
                }
                let mut nodes_list = Vec::new();
                RlpHeader {
                    list: true,
                    payload_length: encoded.len(),
                }
                .encode(&mut nodes_list);
                nodes_list.extend(encoded);
                encode_list(&mut out, &[&Raw(nodes_list), expiration])
            }
        }
        out
    }

    fn decode_body(kind: u8, buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let mut p = list(buf)?;
        Ok(match kind {
            PING => {
                let _version = u64::decode(&mut p)?;
                Self::Ping {
                    from: Endpoint::decode(&mut p)?,
                    to: Endpoint::decode(&mut p)?,
                    expiration: u64::decode(&mut p)?,
                }
            }
            PONG => Self::Pong {
                to: Endpoint::decode(&mut p)?,
                ping_hash: B256::decode(&mut p)?,
                expiration: u64::decode(&mut p)?,
            },
            FIND_NODE => Self::FindNode {
                target: B512::decode(&mut p)?,
                expiration: u64::decode(&mut p)?,
            },
            _ => {
                let mut items = list(&mut p)?;
                let mut nodes = Vec::new();
                while !items.is_empty() {
                    let mut n = list(&mut items)?;
                    let ip = decode_ip(&mut n)?;
                    let (udp, tcp) = (u16::decode(&mut n)?, u16::decode(&mut n)?);
                    nodes.push(NeighborNode {
                        endpoint: Endpoint { ip, udp, tcp },
                        id: B512::decode(&mut n)?,
                    });
                }
                Self::Neighbors {
                    nodes,
                    expiration: u64::decode(&mut p)?,
                }
            }
        })
    }

    fn decode_data(kind: u8, data: &[u8]) -> Result<Self, DiscoveryError> {
        let what = match kind {
            PING => "ping",
            PONG => "pong",
            FIND_NODE => "findnode",
            NEIGHBORS => "neighbors",
            other => return Err(DiscoveryError::UnknownType(other)),
        };
        let mut buf = data;
        Self::decode_body(kind, &mut buf).map_err(|source| DiscoveryError::Rlp { what, source })
    }
}

/// Signs and frames a message; returns the packet and its hash (a ping's hash is what the pong
/// echoes).
pub fn encode(secret: &SecretKey, message: &Message) -> (Vec<u8>, B256) {
    let mut signed = vec![message.kind()];
    signed.extend(message.encode_data());
    let sig = sign(&keccak256(&signed).0, secret);
    let mut packet = vec![0u8; 32];
    packet.extend_from_slice(&sig);
    packet.extend_from_slice(&signed);
    let hash = keccak256(&packet[32..]);
    packet[..32].copy_from_slice(hash.as_slice());
    (packet, hash)
}

/// A decoded, verified packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The message.
    pub message: Message,
    /// The signer's node id.
    pub sender: PeerId,
    /// The packet hash.
    pub hash: B256,
}

/// Checks hash, signature and expiration (`now` in unix seconds) and decodes.
pub fn decode(packet: &[u8], now: u64) -> Result<Packet, DiscoveryError> {
    if packet.len() > MAX_PACKET_SIZE {
        return Err(DiscoveryError::TooLarge(packet.len()));
    }
    if packet.len() <= HEAD_SIZE {
        return Err(DiscoveryError::TooSmall(packet.len()));
    }
    let hash = keccak256(&packet[32..]);
    if hash.as_slice() != &packet[..32] {
        return Err(DiscoveryError::BadHash);
    }
    let signed = &packet[97..];
    let sender = recover(&keccak256(signed).0, &packet[32..97])
        .map(|k| peer_id(&k))
        .ok_or(DiscoveryError::BadSignature)?;
    let message = Message::decode_data(signed[0], &signed[1..])?;
    let expiration = message.expiration();
    if expiration < now {
        return Err(DiscoveryError::Expired { expiration, now });
    }
    Ok(Packet {
        message,
        sender,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{peer_id_of, random_secret_key};

    fn endpoint(port: u16) -> Endpoint {
        Endpoint {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            udp: port,
            tcp: port,
        }
    }

    /// Re-signs and re-hashes a packet whose signed part was edited.
    fn reseal(packet: &mut [u8], key: &SecretKey) {
        let sig = sign(&keccak256(&packet[97..]).0, key);
        packet[32..97].copy_from_slice(&sig);
        let h = keccak256(&packet[32..]);
        packet[..32].copy_from_slice(h.as_slice());
    }

    #[test]
    fn every_message_round_trips_signed() {
        let key = random_secret_key();
        let messages = [
            Message::Ping {
                from: endpoint(1),
                to: endpoint(2),
                expiration: 100,
            },
            Message::Pong {
                to: endpoint(1),
                ping_hash: B256::repeat_byte(3),
                expiration: 100,
            },
            Message::FindNode {
                target: B512::repeat_byte(4),
                expiration: 100,
            },
            Message::Neighbors {
                nodes: vec![NeighborNode {
                    endpoint: endpoint(5),
                    id: B512::repeat_byte(5),
                }],
                expiration: 100,
            },
        ];
        for m in messages {
            let (bytes, hash) = encode(&key, &m);
            let packet = decode(&bytes, 50).unwrap();
            assert_eq!(packet.message, m);
            assert_eq!(packet.sender, peer_id_of(&key));
            assert_eq!(packet.hash, hash);
        }
    }

    #[test]
    fn bad_packets_are_typed() {
        let key = random_secret_key();
        let find = Message::FindNode {
            target: B512::ZERO,
            expiration: 100,
        };
        let (good, _) = encode(&key, &find);
        assert_eq!(
            decode(&good, 101),
            Err(DiscoveryError::Expired {
                expiration: 100,
                now: 101
            })
        );
        let mut bad_hash = good.clone();
        bad_hash[0] ^= 1;
        assert_eq!(decode(&bad_hash, 0), Err(DiscoveryError::BadHash));
        // A signature that recovers to no key (r = s = 0), with the hash recomputed to match.
        let mut bad_sig = good.clone();
        bad_sig[32..97].fill(0);
        let h = keccak256(&bad_sig[32..]);
        bad_sig[..32].copy_from_slice(h.as_slice());
        assert_eq!(decode(&bad_sig, 0), Err(DiscoveryError::BadSignature));
        assert_eq!(decode(&good[..90], 0), Err(DiscoveryError::TooSmall(90)));
        assert_eq!(decode(&[0u8; 1281], 0), Err(DiscoveryError::TooLarge(1281)));
        // Ethereum's ping type 0x01, properly signed, is unknown here.
        let mut eth = good.clone();
        eth[97] = 0x01;
        reseal(&mut eth, &key);
        assert_eq!(decode(&eth, 0), Err(DiscoveryError::UnknownType(0x01)));
        // Garbage RLP under a valid signature.
        let mut garbage = good[..98].to_vec();
        garbage.extend_from_slice(&[0xc5, 0x01]);
        reseal(&mut garbage, &key);
        assert!(matches!(
            decode(&garbage, 0),
            Err(DiscoveryError::Rlp {
                what: "findnode",
                ..
            })
        ));
    }
}
