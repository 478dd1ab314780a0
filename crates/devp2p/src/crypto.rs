//! The primitives under RLPx and discovery: keys, ECDH, ECIES (geth's `crypto/ecies` with the
//! parameters RLPx uses: AES-128-CTR, HMAC-SHA256, the NIST SP 800-56 concat KDF over SHA-256).

use aes::Aes128;
use alloy_primitives::{B256, B512, keccak256};
use ctr::cipher::{KeyIvInit, StreamCipher};
use secp256k1::{
    Message, PublicKey, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};
use sha2::{Digest, Sha256};

use crate::error::EciesError;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// Ephemeral public key (65) + IV (16) + HMAC tag (32).
pub const ECIES_OVERHEAD: usize = 65 + 16 + 32;

/// A devp2p node id: the 64-byte uncompressed secp256k1 public key without its 0x04 prefix.
pub type PeerId = B512;

/// The node id of a public key.
pub fn peer_id(key: &PublicKey) -> PeerId {
    let full = key.serialize_uncompressed();
    B512::from_slice(&full[1..])
}

/// The public key of a node id, if it is a curve point.
pub fn public_key(id: &PeerId) -> Option<PublicKey> {
    let mut full = [4u8; 65];
    full[1..].copy_from_slice(id.as_slice());
    PublicKey::from_byte_array_uncompressed(full).ok()
}

/// The node id of a secret key.
pub fn peer_id_of(secret: &SecretKey) -> PeerId {
    peer_id(&PublicKey::from_secret_key(SECP256K1, secret))
}

/// `n` random bytes from the OS.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The OS random source failing leaves us no safe key material: nothing sensible to go on with.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut out).expect("OS random source");
    out
}

/// A fresh random secret key.
pub fn random_secret_key() -> SecretKey {
    loop {
        if let Ok(key) = SecretKey::from_byte_array(random_bytes()) {
            return key;
        }
    }
}

/// The x coordinate of `scalar * point`: the shared secret of RLPx and ECIES.
pub(crate) fn ecdh_x(point: &PublicKey, scalar: &SecretKey) -> [u8; 32] {
    let xy = secp256k1::ecdh::shared_secret_point(point, scalar);
    let mut x = [0u8; 32];
    x.copy_from_slice(&xy[..32]);
    x
}

/// A 65-byte `r ‖ s ‖ v` signature of `hash`, v in {0, 1}, as geth's `crypto.Sign`.
pub(crate) fn sign(hash: &[u8; 32], key: &SecretKey) -> [u8; 65] {
    let sig = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(*hash), key);
    let (id, compact) = sig.serialize_compact();
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&compact);
    out[64] = if i32::from(id) == 1 { 1 } else { 0 };
    out
}

/// The public key that made a 65-byte `r ‖ s ‖ v` signature of `hash`.
pub(crate) fn recover(hash: &[u8; 32], sig: &[u8]) -> Option<PublicKey> {
    let (compact, v) = (sig.get(..64)?, *sig.get(64)?);
    let id = RecoveryId::try_from(i32::from(v)).ok()?;
    let sig = RecoverableSignature::from_compact(compact, id).ok()?;
    SECP256K1
        .recover_ecdsa(Message::from_digest(*hash), &sig)
        .ok()
}

/// Keccak-256 of the concatenation of `parts`.
pub(crate) fn keccak_concat(parts: &[&[u8]]) -> B256 {
    keccak256(parts.concat())
}

/// The concat KDF for a 32-byte key (one SHA-256 round, counter 1, no shared info),
/// split as ECIES does: an AES-128 key and the HMAC key (SHA-256 of the second half).
fn derive_keys(shared: &[u8; 32]) -> ([u8; 16], [u8; 32]) {
    let k: [u8; 32] = Sha256::new()
        .chain_update(1u32.to_be_bytes())
        .chain_update(shared)
        .finalize()
        .into();
    let mut ke = [0u8; 16];
    ke.copy_from_slice(&k[..16]);
    let km: [u8; 32] = Sha256::digest(&k[16..]).into();
    (ke, km)
}

/// HMAC-SHA256 (RFC 2104) over the concatenation of `parts`.
fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let (mut ipad, mut opad) = ([0x36u8; 64], [0x5cu8; 64]);
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let mut inner = Sha256::new().chain_update(ipad);
    for part in parts {
        inner.update(part);
    }
    let inner: [u8; 32] = inner.finalize().into();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// Encrypts `plain` to `remote`; `mac_data` is authenticated too (RLPx: the EIP-8 size prefix).
pub fn ecies_encrypt(remote: &PublicKey, plain: &[u8], mac_data: &[u8]) -> Vec<u8> {
    let ephemeral = random_secret_key();
    let (ke, km) = derive_keys(&ecdh_x(remote, &ephemeral));
    let iv: [u8; 16] = random_bytes();
    let mut body = plain.to_vec();
    Aes128Ctr::new(&ke.into(), &iv.into()).apply_keystream(&mut body);
    let tag = hmac_sha256(&km, &[&iv, &body, mac_data]);
    let ephemeral_pub = PublicKey::from_secret_key(SECP256K1, &ephemeral).serialize_uncompressed();
    [&ephemeral_pub[..], &iv, &body, &tag].concat()
}

/// Decrypts a message sent to `secret`, checking its tag over IV, ciphertext and `mac_data`.
pub fn ecies_decrypt(
    secret: &SecretKey,
    data: &[u8],
    mac_data: &[u8],
) -> Result<Vec<u8>, EciesError> {
    if data.len() < ECIES_OVERHEAD {
        return Err(EciesError::TooShort(data.len()));
    }
    let (ephemeral, rest) = data.split_at(65);
    let (iv, rest) = rest.split_at(16);
    let (body, tag) = rest.split_at(rest.len() - 32);
    // Uncompressed form only, as the reference's `elliptic.Unmarshal` (libsecp256k1 would also
    // take the "hybrid" 0x06/0x07 forms).
    if ephemeral[0] != 4 {
        return Err(EciesError::InvalidPublicKey);
    }
    let ephemeral = PublicKey::from_slice(ephemeral).map_err(|_| EciesError::InvalidPublicKey)?;
    let (ke, km) = derive_keys(&ecdh_x(&ephemeral, secret));
    let expected = hmac_sha256(&km, &[iv, body, mac_data]);
    if !constant_time_eq(&expected, tag) {
        return Err(EciesError::BadMac);
    }
    let mut iv16 = [0u8; 16];
    iv16.copy_from_slice(iv);
    let mut plain = body.to_vec();
    Aes128Ctr::new(&ke.into(), &iv16.into()).apply_keystream(&mut plain);
    Ok(plain)
}

/// Compares two MACs without an early exit.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecies_round_trip_and_tamper() {
        let key = random_secret_key();
        let public = PublicKey::from_secret_key(SECP256K1, &key);
        let sealed = ecies_encrypt(&public, b"hello devp2p", b"\x01\x02");
        assert_eq!(
            ecies_decrypt(&key, &sealed, b"\x01\x02").unwrap(),
            b"hello devp2p"
        );
        assert_eq!(
            ecies_decrypt(&key, &sealed, b"\x01\x03"),
            Err(EciesError::BadMac)
        );
        let mut tampered = sealed.clone();
        tampered[70] ^= 1;
        assert_eq!(
            ecies_decrypt(&key, &tampered, b"\x01\x02"),
            Err(EciesError::BadMac)
        );
        assert_eq!(
            ecies_decrypt(&key, &sealed[..100], b""),
            Err(EciesError::TooShort(100))
        );
        // A hybrid-form prefix (which libsecp256k1 accepts half the time) and an off-curve point.
        let mut hybrid = sealed.clone();
        hybrid[0] = 7;
        assert_eq!(
            ecies_decrypt(&key, &hybrid, b"\x01\x02"),
            Err(EciesError::InvalidPublicKey)
        );
        let mut bad_point = sealed;
        bad_point[1..65].fill(0);
        assert_eq!(
            ecies_decrypt(&key, &bad_point, b"\x01\x02"),
            Err(EciesError::InvalidPublicKey)
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; ours are 32 bytes, zero-padded the same way.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let tag = hmac_sha256(&key, &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            alloy_primitives::hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn sign_recover_round_trip() {
        let key = random_secret_key();
        let hash = [7u8; 32];
        let sig = sign(&hash, &key);
        assert_eq!(
            recover(&hash, &sig).map(|k| peer_id(&k)),
            Some(peer_id_of(&key))
        );
        assert_eq!(
            public_key(&peer_id_of(&key)).map(|k| peer_id(&k)),
            Some(peer_id_of(&key))
        );
    }
}
