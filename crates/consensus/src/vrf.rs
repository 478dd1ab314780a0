//! The Tribe VRF (tribe.md §4, with the details errata.md "Confirmed by the data" fixes).
//!
//! A port of key transparency's EC-VRF onto secp256k1, as the reference (`crypto/vrf`) has it:
//!
//! - **H1** (hash to curve, [`hash_to_curve`]): for `i = 0, 1, …, 99`,
//!   `x = SHA-512(be32(i) ‖ m)[0..32]`; the first `x` that is the X of a curve point
//!   (y² = x³ + 7 mod p) gives the point with **even** y.
//! - **H2** (hash to scalar): for `i = 0, 1, …`, `k = SHA-512(be32(i) ‖ b)[0..32]` as a
//!   big-endian integer; the first `k < n − 1` gives `k + 1` (so H2 ∈ [1, n − 1]).
//! - **Prove**: `H = H1(m)`, `Γ = x·H` for the secret `x`; nonce `r`;
//!   `s = H2(G ‖ H ‖ PK ‖ Γ ‖ r·G ‖ r·H)` over six 65-byte uncompressed points;
//!   `t = r − s·x mod n`. Proof = `s(32) ‖ t(32) ‖ Γ(65)` = 129 bytes; output = SHA-256 of
//!   Γ's 65-byte uncompressed encoding.
//! - **Verify**: `U = t·G + s·PK`, `V = t·H + s·Γ`; accept iff
//!   `H2(G ‖ H ‖ PK ‖ Γ ‖ U ‖ V) = s`; the output is SHA-256(Γ).
//!
//! In a block (tribe.md §3, errata E1) extraData is `output(32) ‖ proof(129) ‖ … ‖ seal(65)`,
//! the key is the one recovered from the seal, and the message is
//! `minimal-big-endian(P.number) ‖ P.extraData[0..32]` for the parent P ([`vrf_message`]).
//!
//! All curve arithmetic is libsecp256k1's (the `secp256k1` crate): points are
//! [`PublicKey`]s, scalars [`SecretKey`]/[`Scalar`]s, sums [`PublicKey::combine`]. No field
//! arithmetic of our own is needed: H1's decompression is libsecp256k1's compressed-key parser.
//!
//! Where the reference's behaviour is undefined (it dereferences a nil point and crashes) this
//! module refuses: `s` or `t` equal to 0 or not below `n` is [`VrfError::ScalarOutOfRange`].
//! Two differences from the reference can only show on inputs no one can find:
//! - H1 skips a candidate `x ≥ p`, where the reference would accept the unreduced `x` if
//!   `x mod p` is on the curve (probability below 2⁻²²⁴ per candidate);
//! - in the sums `U` and `V` the reference's generic affine addition would compute a
//!   doubling with the a = −3 formula if both summands were equal; ours doubles correctly.
//!   Equal summands require `t·G = s·PK`, i.e. a prover who solves the hash for a fixed point.
//!
//! A sum at infinity (`U` or `V` = O) is hashed as the reference's generic code hashes it: as
//! the affine point (0, 0), encoded `0x04 ‖ 0⁶⁴`. An honest prover never gets there (U = r·G);
//! a key holder can craft such a proof (`t = −s·x`), whose output is still SHA-256(x·H), and the
//! reference (built with Go before 1.19) accepts it, so we do too.

use alloy_primitives::{B256, Bytes, U256, hex};
use secp256k1::{PublicKey, SECP256K1, Scalar, SecretKey, constants};
use sha2::{Digest, Sha256, Sha512};
use spectrum_primitives::Header;

use crate::seal::{EXTRA_SEAL, EXTRA_VANITY, SealError, recover_block_public_key};

/// Length of the VRF output at `extraData[0..32]`.
pub const VRF_OUTPUT_LEN: usize = 32;

/// Length of the VRF proof `s ‖ t ‖ Γ` at `extraData[32..161]`.
pub const VRF_PROOF_LEN: usize = 129;

/// Length of the VRF part of extraData, output and proof (tribe.md §3; `_extraVrf`).
pub const EXTRA_VRF: usize = VRF_OUTPUT_LEN + VRF_PROOF_LEN;

/// The VRF output: SHA-256 of Γ (the block's "vrfn").
pub type VrfOutput = [u8; VRF_OUTPUT_LEN];

/// The VRF proof: `s(32) ‖ t(32) ‖ Γ(65, uncompressed)`.
pub type VrfProof = [u8; VRF_PROOF_LEN];

/// Length of an uncompressed point encoding `0x04 ‖ X ‖ Y`.
const POINT_LEN: usize = 65;

/// How many candidates H1 tries before giving up (the reference's loop bound).
const H1_MAX_TRIES: u32 = 100;

/// The generator G, uncompressed.
const GENERATOR: [u8; POINT_LEN] = hex!(
    "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
);

/// The point at infinity as the reference's generic curve code returns and encodes it: affine
/// (0, 0), so `0x04` followed by 64 zero bytes.
const INFINITY: [u8; POINT_LEN] = {
    let mut encoding = [0u8; POINT_LEN];
    encoding[0] = 0x04;
    encoding
};

/// n − 1, n the order of the secp256k1 group: H2 accepts only candidates below it.
const ORDER_MINUS_ONE: [u8; 32] =
    hex!("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140");

/// Domain tag of the deterministic proving nonce (see [`vrf_prove`]).
const NONCE_DOMAIN: &[u8] = b"spectrum-rs/tribe-vrf/nonce/v1";

/// What is wrong with a 65-byte point encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointDefect {
    /// The first byte is not `0x04` (uncompressed); compressed and hybrid forms are refused.
    Prefix(u8),
    /// X is not below the field prime p.
    XNotBelowP,
    /// Y is not below the field prime p.
    YNotBelowP,
    /// (X, Y) does not satisfy y² = x³ + 7 mod p.
    NotOnCurve,
}

impl std::fmt::Display for PointDefect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Prefix(byte) => write!(f, "prefix byte {byte:#04x} is not 0x04"),
            Self::XNotBelowP => f.write_str("X is not below the field prime"),
            Self::YNotBelowP => f.write_str("Y is not below the field prime"),
            Self::NotOnCurve => f.write_str("the point is not on y² = x³ + 7"),
        }
    }
}

/// Why a VRF proof or a block's VRF fails (tribe.md §4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VrfError {
    /// The proof is not exactly 129 bytes.
    #[error("VRF proof of {len} bytes, expected {expected}")]
    ProofLength {
        /// Its length.
        len: usize,
        /// The required length, 129.
        expected: usize,
    },
    /// Γ is not a valid uncompressed secp256k1 point.
    #[error("VRF point Γ {encoding} is invalid: {defect}")]
    BadPointEncoding {
        /// What is wrong with it.
        defect: PointDefect,
        /// The 65 bytes.
        encoding: Bytes,
    },
    /// `s` or `t` is zero or not below the group order n.
    #[error("VRF proof scalar {name} = {value} is not in [1, n − 1]")]
    ScalarOutOfRange {
        /// Which scalar: `"s"` or `"t"`.
        name: &'static str,
        /// Its 32 bytes.
        value: B256,
    },
    /// None of H1's 100 candidates is on the curve (probability 2⁻¹⁰⁰; the reference crashes).
    #[error("hash to curve found no point in {tries} tries")]
    HashToCurveFailed {
        /// How many candidates were tried.
        tries: u32,
    },
    /// The recomputed challenge H2(G ‖ H ‖ PK ‖ Γ ‖ U ‖ V) differs from the proof's `s`.
    #[error("VRF proof does not verify: challenge {expected}, proof's s {got}")]
    ProofMismatch {
        /// The challenge recomputed from the proof.
        expected: B256,
        /// The proof's `s`.
        got: B256,
    },
    /// The header's `extraData[0..32]` is not the output the proof proves.
    #[error("VRF output mismatch: proof gives {expected}, extraData[0..32] holds {got}")]
    OutputMismatch {
        /// SHA-256(Γ) of the verified proof.
        expected: B256,
        /// The header's `extraData[0..32]`.
        got: B256,
    },
    /// The header's extraData cannot hold output, proof and seal.
    #[error("extraData of {len} bytes cannot hold the VRF and seal: at least {min} bytes needed")]
    ExtraDataTooShort {
        /// Length of the header's extraData.
        len: usize,
        /// 161 + 65 = 226.
        min: usize,
    },
    /// The parent's extraData has no 32 bytes to chain into the message.
    #[error(
        "parent extraData of {len} bytes is shorter than the {min} bytes the VRF message takes"
    )]
    ParentExtraTooShort {
        /// Length of the parent's extraData.
        len: usize,
        /// 32.
        min: usize,
    },
    /// The block's seal does not give the public key to verify against.
    #[error("VRF key: {0}")]
    Seal(#[from] SealError),
    /// Proving hit a zero scalar where a valid secret key cannot produce one (unreachable with a
    /// valid key; exists so that no code path panics).
    #[error("VRF proving failed: {step} is degenerate")]
    Degenerate {
        /// The step that failed.
        step: &'static str,
    },
}

/// The VRF input message for a block whose parent is `(parent_number, parent_extra)`
/// (tribe.md §4 "Input message", errata "Confirmed by the data"): the parent number in minimal
/// big-endian form (no leading zero bytes, what Go's `big.Int.Bytes()` gives: empty for 0),
/// followed by the parent's `extraData[0..32]` (its VRF output, or its vanity before SIP100).
pub fn vrf_message(parent_number: u64, parent_extra: &[u8]) -> Result<Vec<u8>, VrfError> {
    let chained = parent_extra
        .get(..EXTRA_VANITY)
        .ok_or(VrfError::ParentExtraTooShort {
            len: parent_extra.len(),
            min: EXTRA_VANITY,
        })?;
    let number = parent_number.to_be_bytes();
    let leading_zeros = number.iter().take_while(|byte| **byte == 0).count();
    let minimal = number.get(leading_zeros..).unwrap_or_default();
    let mut message = Vec::with_capacity(minimal.len().saturating_add(chained.len()));
    message.extend_from_slice(minimal);
    message.extend_from_slice(chained);
    Ok(message)
}

/// The first 32 bytes of SHA-512 over the concatenation of `parts`.
fn sha512_prefix(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha512::new();
    for part in parts {
        hasher.update(part);
    }
    let digest: [u8; 64] = hasher.finalize().into();
    let mut prefix = [0u8; 32];
    prefix.copy_from_slice(&digest[..32]);
    prefix
}

/// H1, hash to curve (tribe.md §4, errata "H1 takes the even-y point"): for `i` in `0..100`,
/// the candidate X is `SHA-512(be32(i) ‖ message)[0..32]`; the first X on the curve gives the
/// point with even y. Returns the point and the `i` that found it.
pub fn hash_to_curve(message: &[u8]) -> Result<(PublicKey, u32), VrfError> {
    for i in 0..H1_MAX_TRIES {
        let x = sha512_prefix(&[&i.to_be_bytes(), message]);
        let mut compressed = [0u8; 33];
        compressed[0] = 0x02; // even y
        compressed[1..].copy_from_slice(&x);
        if let Ok(point) = PublicKey::from_byte_array_compressed(compressed) {
            return Ok((point, i));
        }
    }
    Err(VrfError::HashToCurveFailed {
        tries: H1_MAX_TRIES,
    })
}

/// H2, hash to scalar (tribe.md §4): for `i = 0, 1, …`, `k = SHA-512(be32(i) ‖ input)[0..32]`;
/// the first `k < n − 1` gives `k + 1`, 32 bytes big-endian. Each round succeeds with
/// probability 1 − 2⁻¹²⁸; like the reference, the counter wraps rather than ends.
fn hash_to_scalar(input: &[u8]) -> [u8; 32] {
    let mut i: u32 = 0;
    loop {
        let candidate = sha512_prefix(&[&i.to_be_bytes(), input]);
        if candidate < ORDER_MINUS_ONE {
            return U256::from_be_bytes(candidate)
                .wrapping_add(U256::from(1u8))
                .to_be_bytes();
        }
        i = i.wrapping_add(1);
    }
}

/// Encodes a point as the reference hashes it: `0x04 ‖ X ‖ Y`, and infinity as `0x04 ‖ 0⁶⁴`.
fn encode_point(point: Option<&PublicKey>) -> [u8; POINT_LEN] {
    point.map_or(INFINITY, PublicKey::serialize_uncompressed)
}

/// The challenge `H2(G ‖ H ‖ PK ‖ Γ ‖ U ‖ V)` over six 65-byte uncompressed points
/// (tribe.md §4, errata "H2 input is six 65-byte uncompressed points").
fn challenge(
    h: &PublicKey,
    public: &PublicKey,
    gamma: &[u8; POINT_LEN],
    u: Option<&PublicKey>,
    v: Option<&PublicKey>,
) -> [u8; 32] {
    let mut input = Vec::with_capacity(6 * POINT_LEN);
    input.extend_from_slice(&GENERATOR);
    input.extend_from_slice(&h.serialize_uncompressed());
    input.extend_from_slice(&public.serialize_uncompressed());
    input.extend_from_slice(gamma);
    input.extend_from_slice(&encode_point(u));
    input.extend_from_slice(&encode_point(v));
    hash_to_scalar(&input)
}

/// `a + b`, `None` for the point at infinity (the only way two valid points fail to combine).
fn add_points(a: &PublicKey, b: &PublicKey) -> Option<PublicKey> {
    a.combine(b).ok()
}

/// Parses Γ (tribe.md §4 "Γ must be a valid uncompressed point"): prefix `0x04`, X and Y below
/// p, on the curve.
fn parse_gamma(encoding: &[u8; POINT_LEN]) -> Result<PublicKey, VrfError> {
    let bad = |defect| VrfError::BadPointEncoding {
        defect,
        encoding: Bytes::copy_from_slice(encoding),
    };
    if encoding[0] != 0x04 {
        return Err(bad(PointDefect::Prefix(encoding[0])));
    }
    if encoding[1..33] >= constants::FIELD_SIZE[..] {
        return Err(bad(PointDefect::XNotBelowP));
    }
    if encoding[33..] >= constants::FIELD_SIZE[..] {
        return Err(bad(PointDefect::YNotBelowP));
    }
    PublicKey::from_byte_array_uncompressed(*encoding).map_err(|_| bad(PointDefect::NotOnCurve))
}

/// Parses a proof scalar, which must lie in [1, n − 1].
fn parse_scalar(name: &'static str, bytes: &[u8; 32]) -> Result<SecretKey, VrfError> {
    SecretKey::from_byte_array(*bytes).map_err(|_| VrfError::ScalarOutOfRange {
        name,
        value: B256::from(*bytes),
    })
}

/// The nonce of attempt `counter` when proving `message` with `secret` (see [`vrf_prove`]).
fn proving_nonce(secret: &SecretKey, message: &[u8], counter: u32) -> Option<SecretKey> {
    let candidate = sha512_prefix(&[
        NONCE_DOMAIN,
        &secret.secret_bytes(),
        &counter.to_be_bytes(),
        message,
    ]);
    SecretKey::from_byte_array(candidate).ok()
}

/// Proves `message` under `secret` (tribe.md §4 "Evaluate"): returns the output
/// SHA-256(Γ) and the proof `s ‖ t ‖ Γ`.
///
/// The nonce `r` is deterministic (EdDSA/RFC 6979 in spirit, not RFC 6979's HMAC-DRBG): the
/// first of `SHA-512("spectrum-rs/tribe-vrf/nonce/v1" ‖ secret ‖ be32(c) ‖ message)[0..32]`,
/// c = 0, 1, …, that is a scalar in [1, n − 1] and gives a non-zero `t`. The reference draws
/// `r` at random; the verifier does not care which `r` was used, and the output does not depend
/// on it. The same (secret, message) always gives the same proof.
pub fn vrf_prove(secret: &SecretKey, message: &[u8]) -> Result<(VrfOutput, VrfProof), VrfError> {
    let (h, _) = hash_to_curve(message)?;
    let public = PublicKey::from_secret_key_global(secret);
    let gamma = h
        .mul_tweak(SECP256K1, &Scalar::from(*secret))
        .map_err(|_| VrfError::Degenerate { step: "Γ = x·H" })?;
    let gamma_bytes = gamma.serialize_uncompressed();
    let output: VrfOutput = Sha256::digest(gamma_bytes).into();

    for counter in 0..=u32::MAX {
        let Some(r) = proving_nonce(secret, message, counter) else {
            continue;
        };
        let u = PublicKey::from_secret_key_global(&r);
        let v = h
            .mul_tweak(SECP256K1, &Scalar::from(r))
            .map_err(|_| VrfError::Degenerate { step: "r·H" })?;
        let s = challenge(&h, &public, &gamma_bytes, Some(&u), Some(&v));
        let s_scalar = Scalar::from_be_bytes(s).map_err(|_| VrfError::Degenerate { step: "s" })?;
        let s_times_x = secret
            .mul_tweak(&s_scalar)
            .map_err(|_| VrfError::Degenerate { step: "s·x" })?;
        // t = r − s·x mod n; zero only if r = s·x, then try the next nonce.
        let Ok(t) = r.add_tweak(&Scalar::from(s_times_x.negate())) else {
            continue;
        };
        let mut proof = [0u8; VRF_PROOF_LEN];
        proof[..32].copy_from_slice(&s);
        proof[32..64].copy_from_slice(&t.secret_bytes());
        proof[64..].copy_from_slice(&gamma_bytes);
        return Ok((output, proof));
    }
    Err(VrfError::Degenerate { step: "nonce" })
}

/// Verifies `proof` for `message` under `public` (tribe.md §4 "Verify (ProofToHash)") and
/// returns the output SHA-256(Γ).
///
/// Checks, in order: length 129 ([`VrfError::ProofLength`]); Γ a valid uncompressed point
/// ([`VrfError::BadPointEncoding`]); `s`, `t` in [1, n − 1] ([`VrfError::ScalarOutOfRange`]);
/// `H2(G ‖ H ‖ PK ‖ Γ ‖ t·G + s·PK ‖ t·H + s·Γ) = s` ([`VrfError::ProofMismatch`]).
pub fn vrf_verify(public: &PublicKey, message: &[u8], proof: &[u8]) -> Result<VrfOutput, VrfError> {
    let proof: &VrfProof = proof.try_into().map_err(|_| VrfError::ProofLength {
        len: proof.len(),
        expected: VRF_PROOF_LEN,
    })?;
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&proof[..32]);
    let mut t_bytes = [0u8; 32];
    t_bytes.copy_from_slice(&proof[32..64]);
    let mut gamma_bytes = [0u8; POINT_LEN];
    gamma_bytes.copy_from_slice(&proof[64..]);

    let gamma = parse_gamma(&gamma_bytes)?;
    let s = Scalar::from(parse_scalar("s", &s_bytes)?);
    let t = parse_scalar("t", &t_bytes)?;
    let (h, _) = hash_to_curve(message)?;

    // s and t are valid non-zero scalars, so these products exist.
    let out_of_range = |name, value: [u8; 32]| VrfError::ScalarOutOfRange {
        name,
        value: B256::from(value),
    };
    let t_g = PublicKey::from_secret_key_global(&t);
    let s_pk = public
        .mul_tweak(SECP256K1, &s)
        .map_err(|_| out_of_range("s", s_bytes))?;
    let t_h = h
        .mul_tweak(SECP256K1, &Scalar::from(t))
        .map_err(|_| out_of_range("t", t_bytes))?;
    let s_gamma = gamma
        .mul_tweak(SECP256K1, &s)
        .map_err(|_| out_of_range("s", s_bytes))?;
    let u = add_points(&t_g, &s_pk);
    let v = add_points(&t_h, &s_gamma);

    let expected = challenge(&h, public, &gamma_bytes, u.as_ref(), v.as_ref());
    if expected != s_bytes {
        return Err(VrfError::ProofMismatch {
            expected: B256::from(expected),
            got: B256::from(s_bytes),
        });
    }
    Ok(Sha256::digest(gamma_bytes).into())
}

/// The VRF rule for a block (tribe.md §4 last paragraph, §7 item 5; errata E1): with
/// extraData = `output(32) ‖ proof(129) ‖ … ‖ seal(65)` (at least 226 bytes), the proof must
/// verify for [`vrf_message`] of `parent` under the public key recovered from `header`'s seal,
/// and its output must equal `extraData[0..32]`.
///
/// Applies from SIP100; older blocks may carry the same layout (devnet blocks 7–14) and then
/// verify too, but the reference does not check them. `parent` must be `header`'s parent; that
/// link is the header rules' business, not checked here.
pub fn verify_block_vrf(header: &Header, parent: &Header) -> Result<(), VrfError> {
    verify_block_vrf_by(header, parent, || Ok(recover_block_public_key(header)?))
}

/// [`verify_block_vrf`] with the seal's public key already recovered (the header validator
/// recovers it once for the signer and the VRF). Same checks, same order, same errors.
pub fn verify_block_vrf_with_key(
    header: &Header,
    parent: &Header,
    public: &PublicKey,
) -> Result<(), VrfError> {
    verify_block_vrf_by(header, parent, || Ok(*public))
}

/// The VRF rule, with the seal's public key from `public` (asked for after the layout and
/// parent checks, as the rule orders them).
fn verify_block_vrf_by(
    header: &Header,
    parent: &Header,
    public: impl FnOnce() -> Result<PublicKey, VrfError>,
) -> Result<(), VrfError> {
    let extra = &header.extra_data;
    let min = EXTRA_VRF.saturating_add(EXTRA_SEAL);
    let (vrf, _) = extra
        .split_first_chunk::<EXTRA_VRF>()
        .filter(|_| extra.len() >= min)
        .ok_or(VrfError::ExtraDataTooShort {
            len: extra.len(),
            min,
        })?;
    let mut claimed = [0u8; VRF_OUTPUT_LEN];
    claimed.copy_from_slice(&vrf[..VRF_OUTPUT_LEN]);
    let proof = &vrf[VRF_OUTPUT_LEN..];

    let message = vrf_message(parent.number, &parent.extra_data)?;
    let output = vrf_verify(&public()?, &message, proof)?;
    if output != claimed {
        return Err(VrfError::OutputMismatch {
            expected: B256::from(output),
            got: B256::from(claimed),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_constant_is_g() {
        let mut g = [0u8; POINT_LEN];
        g[0] = 0x04;
        g[1..33].copy_from_slice(&constants::GENERATOR_X);
        g[33..].copy_from_slice(&constants::GENERATOR_Y);
        assert_eq!(g, GENERATOR);
        let one = SecretKey::from_byte_array(U256::from(1u8).to_be_bytes()).unwrap();
        assert_eq!(
            PublicKey::from_secret_key_global(&one).serialize_uncompressed(),
            GENERATOR
        );
    }

    #[test]
    fn order_minus_one_constant() {
        let n = U256::from_be_bytes(constants::CURVE_ORDER);
        assert_eq!(U256::from_be_bytes(ORDER_MINUS_ONE), n - U256::from(1u8));
    }

    #[test]
    fn hash_to_scalar_is_in_range() {
        for input in [&b""[..], b"a", &[0xffu8; 390]] {
            let s = hash_to_scalar(input);
            assert!(s != [0u8; 32]);
            assert!(s <= ORDER_MINUS_ONE);
        }
    }

    #[test]
    fn hash_to_curve_gives_even_y() {
        for m in [&b""[..], b"spectrum", &[7u8; 40]] {
            let (point, _) = hash_to_curve(m).unwrap();
            assert_eq!(point.serialize()[0], 0x02);
        }
    }

    #[test]
    fn sums_at_infinity_hash_as_the_reference_does() {
        // A key holder's crafted proof with t = −s·x: U = t·G + s·PK and V = t·H + s·Γ are
        // both the point at infinity, hashed as 0x04 ‖ 0⁶⁴ (Go's generic affine (0, 0)).
        let key = SecretKey::from_byte_array([7u8; 32]).unwrap();
        let public = PublicKey::from_secret_key_global(&key);
        let message = b"crafted";
        let (h, _) = hash_to_curve(message).unwrap();
        let gamma = h
            .mul_tweak(SECP256K1, &Scalar::from(key))
            .unwrap()
            .serialize_uncompressed();
        let s = challenge(&h, &public, &gamma, None, None);
        let t = key
            .mul_tweak(&Scalar::from_be_bytes(s).unwrap())
            .unwrap()
            .negate();
        let mut proof = [0u8; VRF_PROOF_LEN];
        proof[..32].copy_from_slice(&s);
        proof[32..64].copy_from_slice(&t.secret_bytes());
        proof[64..].copy_from_slice(&gamma);
        let (honest_output, _) = vrf_prove(&key, message).unwrap();
        assert_eq!(vrf_verify(&public, message, &proof), Ok(honest_output));
    }

    #[test]
    fn message_uses_minimal_big_endian_number() {
        let extra = [0xabu8; 97];
        assert_eq!(vrf_message(0, &extra).unwrap(), vec![0xab; 32]);
        let m = vrf_message(0x0102, &extra).unwrap();
        assert_eq!(&m[..2], &[0x01, 0x02]);
        assert_eq!(m.len(), 34);
        assert_eq!(
            vrf_message(5, &[0u8; 31]),
            Err(VrfError::ParentExtraTooShort { len: 31, min: 32 })
        );
    }
}
