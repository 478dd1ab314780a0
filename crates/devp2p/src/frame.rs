//! RLPx framing: AES-256-CTR encryption and the keccak/AES MAC chain over headers and bodies.
//!
//! The two directions share nothing but the AES key, so the codec splits into an [`Egress`] and
//! an [`Ingress`] half that can live in different tasks.

use aes::Aes256;
use alloy_rlp::{Decodable, Encodable};
use ctr::cipher::{BlockCipherEncrypt, KeyInit, KeyIvInit, StreamCipher};
use sha3::{Digest, Keccak256};

use crate::{crypto::constant_time_eq, error::RlpxError, handshake::Secrets};

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// Largest eth message payload (reference: eth `ProtocolMaxMsgSize`, 10 MiB).
pub const MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;
/// Largest frame we read or write: a maximal message after Snappy (which can grow incompressible
/// data by n/6 + 32) plus its code. Tighter than the reference's 16 MiB (24-bit size field).
pub const MAX_FRAME_SIZE: usize = MAX_MESSAGE_SIZE + MAX_MESSAGE_SIZE / 6 + 64;
/// Encrypted header (16) and its MAC (16).
pub const HEADER_LEN: usize = 32;
/// The header data every frame carries: `[capability-id = 0, context-id = 0]`.
const HEADER_DATA: [u8; 3] = [0xc2, 0x80, 0x80];

/// The running MAC of one direction.
struct MacState {
    cipher: Aes256,
    hash: Keccak256,
}

impl MacState {
    fn digest16(&self) -> [u8; 16] {
        let full = self.hash.clone().finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }

    /// geth's `updateMAC`: hash ← hash ‖ (AES(digest) ⊕ seed); returns the new digest.
    fn update(&mut self, seed: &[u8; 16]) -> [u8; 16] {
        let mut block = self.digest16().into();
        self.cipher.encrypt_block(&mut block);
        let mixed: [u8; 16] = std::array::from_fn(|i| block[i] ^ seed[i]);
        self.hash.update(mixed);
        self.digest16()
    }

    fn header_mac(&mut self, header_ct: &[u8; 16]) -> [u8; 16] {
        self.update(header_ct)
    }

    fn body_mac(&mut self, body_ct: &[u8]) -> [u8; 16] {
        self.hash.update(body_ct);
        let seed = self.digest16();
        self.update(&seed)
    }
}

/// The sending half.
pub struct Egress {
    cipher: Aes256Ctr,
    mac: MacState,
}

/// The receiving half.
pub struct Ingress {
    cipher: Aes256Ctr,
    mac: MacState,
}

/// Both halves from the handshake's secrets (the remote id stays with the caller).
pub fn codec(secrets: Secrets) -> (Egress, Ingress) {
    let iv = [0u8; 16];
    let stream = || Aes256Ctr::new(&secrets.aes.into(), &iv.into());
    let mac_cipher = || Aes256::new(&secrets.mac.into());
    (
        Egress {
            cipher: stream(),
            mac: MacState {
                cipher: mac_cipher(),
                hash: secrets.egress_mac,
            },
        },
        Ingress {
            cipher: stream(),
            mac: MacState {
                cipher: mac_cipher(),
                hash: secrets.ingress_mac,
            },
        },
    )
}

fn padded(len: usize) -> usize {
    len.div_ceil(16) * 16
}

impl Egress {
    /// Encodes one message as a frame: header ‖ header-mac ‖ body ‖ body-mac.
    pub fn encode(&mut self, code: u64, payload: &[u8]) -> Result<Vec<u8>, RlpxError> {
        let size = code.length() + payload.len();
        if size > MAX_FRAME_SIZE {
            return Err(RlpxError::MessageTooLarge {
                size,
                max: MAX_FRAME_SIZE,
            });
        }
        let mut out = Vec::with_capacity(HEADER_LEN + padded(size) + 16);
        let mut header = [0u8; 16];
        // size ≤ MAX_FRAME_SIZE < 2^24: the three low bytes are the whole size.
        header[..3].copy_from_slice(&u32::try_from(size).unwrap_or(u32::MAX).to_be_bytes()[1..]);
        header[3..6].copy_from_slice(&HEADER_DATA);
        self.cipher.apply_keystream(&mut header);
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.mac.header_mac(&header));

        let body_start = out.len();
        code.encode(&mut out);
        out.extend_from_slice(payload);
        out.resize(body_start + padded(size), 0);
        self.cipher.apply_keystream(&mut out[body_start..]);
        let mac = self.mac.body_mac(&out[body_start..]);
        out.extend_from_slice(&mac);
        Ok(out)
    }
}

impl Ingress {
    /// Checks and decrypts a frame header; returns how many bytes [`Ingress::decode_body`]
    /// needs next (padded body and MAC) and the frame size.
    pub fn decode_header(&mut self, wire: &[u8; HEADER_LEN]) -> Result<(usize, usize), RlpxError> {
        let mut header = [0u8; 16];
        header.copy_from_slice(&wire[..16]);
        let mac = self.mac.header_mac(&header);
        if !constant_time_eq(&mac, &wire[16..]) {
            return Err(RlpxError::BadHeaderMac);
        }
        self.cipher.apply_keystream(&mut header);
        let size =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        if size > MAX_FRAME_SIZE {
            return Err(RlpxError::FrameTooLarge {
                size,
                max: MAX_FRAME_SIZE,
            });
        }
        Ok((padded(size) + 16, size))
    }

    /// Checks and decrypts a frame body (as sized by `decode_header`); returns code and payload.
    pub fn decode_body(
        &mut self,
        wire: &mut [u8],
        size: usize,
    ) -> Result<(u64, Vec<u8>), RlpxError> {
        let split = wire.len().saturating_sub(16);
        let (body, mac) = wire.split_at_mut(split);
        let expected = self.mac.body_mac(body);
        if !constant_time_eq(&expected, mac) {
            return Err(RlpxError::BadFrameMac);
        }
        self.cipher.apply_keystream(body);
        let mut content = body.get(..size).ok_or(RlpxError::BadFrameMac)?;
        let code = u64::decode(&mut content).map_err(RlpxError::BadMessageCode)?;
        Ok((code, content.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> ((Egress, Ingress), (Egress, Ingress)) {
        let secrets = |egress: &[u8], ingress: &[u8]| {
            let mut e = Keccak256::new();
            e.update(egress);
            let mut i = Keccak256::new();
            i.update(ingress);
            Secrets {
                remote_id: Default::default(),
                aes: [1; 32],
                mac: [2; 32],
                egress_mac: e,
                ingress_mac: i,
            }
        };
        (codec(secrets(b"a", b"b")), codec(secrets(b"b", b"a")))
    }

    fn read(ingress: &mut Ingress, frame: &[u8]) -> Result<(u64, Vec<u8>), RlpxError> {
        let header: [u8; HEADER_LEN] = frame[..HEADER_LEN].try_into().unwrap();
        let (need, size) = ingress.decode_header(&header)?;
        let mut body = frame[HEADER_LEN..HEADER_LEN + need].to_vec();
        ingress.decode_body(&mut body, size)
    }

    #[test]
    fn frames_round_trip_across_messages() {
        let ((mut a_out, _), (_, mut b_in)) = pair();
        for (code, payload) in [(0u64, vec![]), (0x10, vec![0xc0]), (0x13, vec![7; 1000])] {
            let frame = a_out.encode(code, &payload).unwrap();
            assert_eq!(read(&mut b_in, &frame).unwrap(), (code, payload));
        }
    }

    #[test]
    fn bad_header_mac_is_refused() {
        let ((mut a_out, _), (_, mut b_in)) = pair();
        let mut frame = a_out.encode(2, &[0xc0]).unwrap();
        frame[20] ^= 1;
        assert!(matches!(
            read(&mut b_in, &frame),
            Err(RlpxError::BadHeaderMac)
        ));
    }

    #[test]
    fn bad_body_mac_is_refused() {
        let ((mut a_out, _), (_, mut b_in)) = pair();
        let mut frame = a_out.encode(2, &[0xc0; 40]).unwrap();
        frame[HEADER_LEN + 3] ^= 1;
        assert!(matches!(
            read(&mut b_in, &frame),
            Err(RlpxError::BadFrameMac)
        ));
    }

    #[test]
    fn oversized_frame_is_refused_from_its_header() {
        let ((mut a_out, _), (_, mut b_in)) = pair();
        // An honest encoder refuses to build it...
        let big = vec![0u8; MAX_FRAME_SIZE];
        assert!(matches!(
            a_out.encode(0x10, &big),
            Err(RlpxError::MessageTooLarge { .. })
        ));
        // ...and a peer announcing one in a valid header is refused before its body is read.
        let mut header = [0u8; 16];
        header[..3].copy_from_slice(&[0xff, 0xff, 0xff]);
        header[3..6].copy_from_slice(&HEADER_DATA);
        a_out.cipher.apply_keystream(&mut header);
        let mac = a_out.mac.header_mac(&header);
        let wire: [u8; HEADER_LEN] = [header, mac].concat().try_into().unwrap();
        assert!(matches!(
            b_in.decode_header(&wire),
            Err(RlpxError::FrameTooLarge {
                size: 0xff_ffff,
                max: MAX_FRAME_SIZE
            })
        ));
    }
}
