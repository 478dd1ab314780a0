//! The RLPx encryption handshake: ECIES-sealed auth (initiator) and ack (responder), in the EIP-8
//! format we send and in either that or the pre-EIP-8 format we accept, and the session secrets
//! both sides derive from it.

use alloy_primitives::{B256, B512};
use alloy_rlp::{Encodable, Header as RlpHeader};
use secp256k1::{PublicKey, SECP256K1, SecretKey};
use sha3::{Digest, Keccak256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{
    crypto::{
        ECIES_OVERHEAD, PeerId, ecdh_x, ecies_decrypt, ecies_encrypt, keccak_concat, peer_id,
        public_key, random_bytes, random_secret_key, recover, sign,
    },
    error::RlpxError,
};

/// Size of a pre-EIP-8 auth: sig 65 + keccak(ephemeral) 32 + pubkey 64 + nonce 32 + flag 1, sealed.
const LEGACY_AUTH_LEN: usize = 194 + ECIES_OVERHEAD;
/// Size of a pre-EIP-8 ack: ephemeral pubkey 64 + nonce 32 + flag 1, sealed.
const LEGACY_ACK_LEN: usize = 97 + ECIES_OVERHEAD;
/// RLPx handshake version in auth/ack bodies.
const HANDSHAKE_VERSION: u64 = 4;

/// What both sides derive from the handshake; the frame codec starts from it.
pub struct Secrets {
    /// The remote node's id (its static public key).
    pub remote_id: PeerId,
    /// AES-256-CTR key for frames (both directions).
    pub aes: [u8; 32],
    /// AES-256 key the MAC states use.
    pub mac: [u8; 32],
    /// Keccak state for frames we send.
    pub egress_mac: Keccak256,
    /// Keccak state for frames we receive.
    pub ingress_mac: Keccak256,
}

impl std::fmt::Debug for Secrets {
    /// Names the peer only: the keys stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("remote_id", &self.remote_id)
            .finish_non_exhaustive()
    }
}

/// The ephemeral state of one side of a handshake.
struct Ephemeral {
    key: SecretKey,
    nonce: B256,
}

impl Ephemeral {
    fn new() -> Self {
        Self {
            key: random_secret_key(),
            nonce: B256::from(random_bytes::<32>()),
        }
    }

    fn public_id(&self) -> B512 {
        peer_id(&PublicKey::from_secret_key(SECP256K1, &self.key))
    }
}

fn xor32(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// Derives the session secrets (RLPx spec, "secrets").
#[allow(clippy::too_many_arguments)] // the spec's inputs, named; a struct would only rename them
fn derive_secrets(
    ours: &Ephemeral,
    remote_ephemeral: &PublicKey,
    init_nonce: &B256,
    resp_nonce: &B256,
    auth: &[u8],
    ack: &[u8],
    initiator: bool,
    remote_id: PeerId,
) -> Secrets {
    let ecdhe = ecdh_x(remote_ephemeral, &ours.key);
    let nonce_hash = keccak_concat(&[resp_nonce.as_slice(), init_nonce.as_slice()]);
    let shared = keccak_concat(&[&ecdhe, nonce_hash.as_slice()]);
    let aes = keccak_concat(&[&ecdhe, shared.as_slice()]);
    let mac = keccak_concat(&[&ecdhe, aes.as_slice()]);
    // The initiator's egress MAC starts from (mac ^ responder nonce) ‖ auth, and vice versa.
    let mut mac_auth = Keccak256::new();
    mac_auth.update(xor32(&mac.0, &resp_nonce.0));
    mac_auth.update(auth);
    let mut mac_ack = Keccak256::new();
    mac_ack.update(xor32(&mac.0, &init_nonce.0));
    mac_ack.update(ack);
    let (egress_mac, ingress_mac) = if initiator {
        (mac_auth, mac_ack)
    } else {
        (mac_ack, mac_auth)
    };
    Secrets {
        remote_id,
        aes: aes.0,
        mac: mac.0,
        egress_mac,
        ingress_mac,
    }
}

/// Seals an EIP-8 body: `size(2) ‖ ecies(body ‖ padding)` with the size prefix authenticated.
fn seal_eip8(remote: &PublicKey, mut body: Vec<u8>) -> Vec<u8> {
    // 100-299 bytes of padding, as geth, so that EIP-8 messages never have a legacy size.
    let pad = 100 + usize::from(random_bytes::<1>()[0]) % 200;
    body.resize(body.len() + pad, 0);
    let size = u16::try_from(body.len() + ECIES_OVERHEAD).unwrap_or(u16::MAX);
    let prefix = size.to_be_bytes();
    let mut out = prefix.to_vec();
    out.extend(ecies_encrypt(remote, &body, &prefix));
    out
}

/// Reads an auth or ack: tries the legacy fixed size first, then the EIP-8 size prefix.
/// Returns the wire bytes (for the MACs), the plaintext and whether it was EIP-8.
async fn read_sealed<S: AsyncRead + Unpin>(
    stream: &mut S,
    secret: &SecretKey,
    legacy_len: usize,
    what: &'static str,
) -> Result<(Vec<u8>, Vec<u8>, bool), RlpxError> {
    let mut wire = vec![0u8; legacy_len];
    stream.read_exact(&mut wire).await?;
    if let Ok(plain) = ecies_decrypt(secret, &wire, &[]) {
        return Ok((wire, plain, false));
    }
    let size = usize::from(u16::from_be_bytes([wire[0], wire[1]]));
    let total = size + 2;
    if total < legacy_len {
        return Err(RlpxError::HandshakeSize { what, size });
    }
    wire.resize(total, 0);
    stream.read_exact(&mut wire[legacy_len..]).await?;
    let plain = ecies_decrypt(secret, &wire[2..], &wire[..2])
        .map_err(|source| RlpxError::Ecies { what, source })?;
    Ok((wire, plain, true))
}

/// Splits an EIP-8 body: a list whose first items are byte strings; extra items and padding
/// after the list are ignored (EIP-8 forward compatibility).
fn eip8_fields<'a>(plain: &'a [u8], what: &'static str) -> Result<Vec<&'a [u8]>, RlpxError> {
    let err = |source| RlpxError::HandshakeRlp { what, source };
    let mut buf = plain;
    let list = RlpHeader::decode(&mut buf).map_err(err)?;
    if !list.list {
        return Err(err(alloy_rlp::Error::UnexpectedString));
    }
    let mut payload = buf
        .get(..list.payload_length)
        .ok_or(err(alloy_rlp::Error::InputTooShort))?;
    let mut fields = Vec::new();
    while !payload.is_empty() && fields.len() < 8 {
        let item = RlpHeader::decode(&mut payload).map_err(err)?;
        let bytes = payload
            .get(..item.payload_length)
            .ok_or(err(alloy_rlp::Error::InputTooShort))?;
        payload = &payload[item.payload_length..];
        fields.push(bytes);
    }
    Ok(fields)
}

fn fixed<const N: usize>(bytes: Option<&&[u8]>, what: &'static str) -> Result<[u8; N], RlpxError> {
    bytes
        .and_then(|b| <[u8; N]>::try_from(*b).ok())
        .ok_or(RlpxError::HandshakeRlp {
            what,
            source: alloy_rlp::Error::UnexpectedLength,
        })
}

fn encode_list(items: &[&dyn Encodable]) -> Vec<u8> {
    let payload: usize = items.iter().map(|i| i.length()).sum();
    let mut out = Vec::with_capacity(payload + 4);
    RlpHeader {
        list: true,
        payload_length: payload,
    }
    .encode(&mut out);
    for item in items {
        item.encode(&mut out);
    }
    out
}

/// The initiator's side: sends auth to `remote_id`, reads the ack, derives the secrets.
pub async fn initiate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    secret: &SecretKey,
    remote_id: PeerId,
) -> Result<Secrets, RlpxError> {
    let remote = public_key(&remote_id).ok_or(RlpxError::InvalidPublicKey("remote id"))?;
    let ours = Ephemeral::new();
    let static_shared = ecdh_x(&remote, secret);
    let signature = sign(&xor32(&static_shared, &ours.nonce.0), &ours.key);
    let local_id = peer_id(&PublicKey::from_secret_key(SECP256K1, secret));
    let body = encode_list(&[&&signature[..], &local_id, &ours.nonce, &HANDSHAKE_VERSION]);
    let auth = seal_eip8(&remote, body);
    stream.write_all(&auth).await?;
    stream.flush().await?;

    let (ack, plain, eip8) = read_sealed(stream, secret, LEGACY_ACK_LEN, "ack").await?;
    let (remote_ephemeral, resp_nonce) = if eip8 {
        let fields = eip8_fields(&plain, "ack")?;
        (
            fixed::<64>(fields.first(), "ack")?,
            fixed::<32>(fields.get(1), "ack")?,
        )
    } else {
        (
            fixed::<64>(Some(&&plain[..64]), "ack")?,
            fixed::<32>(Some(&&plain[64..96]), "ack")?,
        )
    };
    let remote_ephemeral = public_key(&B512::from(remote_ephemeral))
        .ok_or(RlpxError::InvalidPublicKey("ack ephemeral key"))?;
    Ok(derive_secrets(
        &ours,
        &remote_ephemeral,
        &ours.nonce,
        &B256::from(resp_nonce),
        &auth,
        &ack,
        true,
        remote_id,
    ))
}

/// The responder's side: reads auth (either format), answers in the same format, derives secrets.
pub async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    secret: &SecretKey,
) -> Result<Secrets, RlpxError> {
    respond_as(stream, secret, false).await
}

/// [`respond`], optionally answering with a pre-EIP-8 ack whatever the auth was (tests: an
/// initiator must accept the old ack format too).
pub(crate) async fn respond_as<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    secret: &SecretKey,
    legacy_ack: bool,
) -> Result<Secrets, RlpxError> {
    let (auth, plain, eip8) = read_sealed(stream, secret, LEGACY_AUTH_LEN, "auth").await?;
    let (signature, remote_id, init_nonce) = if eip8 {
        let fields = eip8_fields(&plain, "auth")?;
        (
            fixed::<65>(fields.first(), "auth")?,
            fixed::<64>(fields.get(1), "auth")?,
            fixed::<32>(fields.get(2), "auth")?,
        )
    } else {
        (
            fixed::<65>(Some(&&plain[..65]), "auth")?,
            fixed::<64>(Some(&&plain[97..161]), "auth")?,
            fixed::<32>(Some(&&plain[161..193]), "auth")?,
        )
    };
    let remote_id = B512::from(remote_id);
    let remote = public_key(&remote_id).ok_or(RlpxError::InvalidPublicKey("auth static key"))?;
    let static_shared = ecdh_x(&remote, secret);
    let remote_ephemeral = recover(&xor32(&static_shared, &init_nonce), &signature)
        .ok_or(RlpxError::InvalidSignature)?;

    let ours = Ephemeral::new();
    let ack = if eip8 && !legacy_ack {
        let body = encode_list(&[&ours.public_id(), &ours.nonce, &HANDSHAKE_VERSION]);
        seal_eip8(&remote, body)
    } else {
        let body = [ours.public_id().as_slice(), ours.nonce.as_slice(), &[0u8]].concat();
        ecies_encrypt(&remote, &body, &[])
    };
    stream.write_all(&ack).await?;
    stream.flush().await?;
    Ok(derive_secrets(
        &ours,
        &remote_ephemeral,
        &B256::from(init_nonce),
        &ours.nonce,
        &auth,
        &ack,
        false,
        remote_id,
    ))
}

/// Builds a pre-EIP-8 auth, for the test that the responder still accepts the old format.
#[cfg(test)]
pub(crate) fn legacy_auth(secret: &SecretKey, remote: &PublicKey) -> Vec<u8> {
    let ours = Ephemeral::new();
    let static_shared = ecdh_x(remote, secret);
    let signature = sign(&xor32(&static_shared, &ours.nonce.0), &ours.key);
    let eph_hash = keccak_concat(&[ours.public_id().as_slice()]);
    let local_id = peer_id(&PublicKey::from_secret_key(SECP256K1, secret));
    let body = [
        &signature[..],
        eph_hash.as_slice(),
        local_id.as_slice(),
        ours.nonce.as_slice(),
        &[0u8],
    ]
    .concat();
    ecies_encrypt(remote, &body, &[])
}
