//! The v3 key file (Web3 Secret Storage Definition, as geth reads and writes it).
//!
//! Encryption: `derived = scrypt(password, salt, n, r, p, 32)`, `ciphertext =
//! aes-128-ctr(key = derived[..16], iv, secret)`, `mac = keccak256(derived[16..32] ‖ ciphertext)`.
//! Decryption also accepts pbkdf2 (hmac-sha256), which the spec requires and other wallets
//! write. Every parameter read from a file is bounded before any work is done with it: a
//! hostile file costs at most [`MAX_KDF_MEMORY`] bytes and [`MAX_KDF_WORK`] block operations.

use std::path::Path;

use aes::Aes128;
use alloy_primitives::{Address, hex, keccak256};
use ctr::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{KeystoreError, ValidatorKey, key::fill_random};

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// Most memory a key file's KDF may ask for: 1 GiB, four times geth's standard scrypt.
pub const MAX_KDF_MEMORY: u64 = 1 << 30;
/// Most work a key file's scrypt may ask for, in `n * r * p` (32 times geth's standard); pbkdf2
/// is bounded by [`MAX_PBKDF2_ROUNDS`].
pub const MAX_KDF_WORK: u64 = 1 << 26;
/// Most pbkdf2 rounds a key file may ask for (64 times the spec's example).
pub const MAX_PBKDF2_ROUNDS: u64 = 1 << 24;
const MAX_SALT_BYTES: usize = 1024;
const DERIVED_KEY_LEN: usize = 32;
const CIPHER: &str = "aes-128-ctr";

/// scrypt's cost parameters for new key files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScryptParams {
    log_n: u8,
    r: u32,
    p: u32,
}

impl ScryptParams {
    /// geth's standard parameters (n = 2^18, r = 8, p = 1): 256 MiB and about a second per
    /// derivation. `spectrum account new` uses them.
    pub const STANDARD: Self = Self {
        log_n: 18,
        r: 8,
        p: 1,
    };
    /// geth's "light" parameters (n = 2^12, r = 8, p = 6): 4 MiB, for tests and `--lightkdf`.
    pub const LIGHT: Self = Self {
        log_n: 12,
        r: 8,
        p: 6,
    };

    /// scrypt's `n`.
    pub fn n(&self) -> u64 {
        1u64 << self.log_n
    }

    /// scrypt's `r`.
    pub fn r(&self) -> u32 {
        self.r
    }

    /// scrypt's `p`.
    pub fn p(&self) -> u32 {
        self.p
    }

    /// Parameters read from a file: `n` a power of two ≥ 2, `r`, `p` ≥ 1, within the memory
    /// and work bounds. The reason is returned for a [`KeystoreError::MalformedKeyFile`].
    pub(crate) fn bounded(n: u64, r: u64, p: u64) -> Result<Self, String> {
        if n < 2 || !n.is_power_of_two() {
            return Err(format!("scrypt n = {n} is not a power of two ≥ 2"));
        }
        if r == 0 || p == 0 {
            return Err("scrypt r and p must be at least 1".to_owned());
        }
        let within = |product: Option<u64>, max: u64| product.is_some_and(|v| v <= max);
        if !within(
            n.checked_mul(r).and_then(|v| v.checked_mul(128)),
            MAX_KDF_MEMORY,
        ) {
            return Err(format!(
                "scrypt n = {n}, r = {r} needs more than {MAX_KDF_MEMORY} bytes"
            ));
        }
        if !within(
            n.checked_mul(r).and_then(|v| v.checked_mul(p)),
            MAX_KDF_WORK,
        ) {
            return Err(format!(
                "scrypt n·r·p = {n}·{r}·{p} is above {MAX_KDF_WORK}"
            ));
        }
        Ok(Self {
            log_n: n.trailing_zeros() as u8,
            r: u32::try_from(r).map_err(|_| format!("scrypt r = {r} is too large"))?,
            p: u32::try_from(p).map_err(|_| format!("scrypt p = {p} is too large"))?,
        })
    }

    fn derive(&self, password: &[u8], salt: &[u8]) -> Result<DerivedKey, String> {
        let params = scrypt::Params::new(self.log_n, self.r, self.p)
            .map_err(|e| format!("scrypt parameters refused: {e}"))?;
        let mut derived = DerivedKey::default();
        scrypt::scrypt(password, salt, &params, derived.as_mut())
            .map_err(|e| format!("scrypt failed: {e}"))?;
        Ok(derived)
    }
}

type DerivedKey = Zeroizing<[u8; DERIVED_KEY_LEN]>;

/// A key file as written: geth's field names and order.
#[derive(Serialize)]
pub(crate) struct KeyFileOut {
    address: String,
    crypto: CryptoOut,
    id: String,
    version: u8,
}

#[derive(Serialize)]
struct CryptoOut {
    cipher: &'static str,
    ciphertext: String,
    cipherparams: CipherParams,
    kdf: &'static str,
    kdfparams: ScryptParamsOut,
    mac: String,
}

#[derive(Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

#[derive(Serialize)]
struct ScryptParamsOut {
    dklen: usize,
    n: u64,
    p: u32,
    r: u32,
    salt: String,
}

/// A key file as read. Unknown fields (`id` among them: nothing depends on it) are ignored.
/// geth matches field names case-insensitively, so MyEtherWallet's `Crypto` is accepted.
#[derive(Deserialize)]
struct KeyFileIn {
    #[serde(default)]
    address: Option<String>,
    #[serde(alias = "Crypto")]
    crypto: CryptoIn,
    version: u64,
}

#[derive(Deserialize)]
struct CryptoIn {
    cipher: String,
    ciphertext: String,
    cipherparams: CipherParams,
    kdf: String,
    kdfparams: KdfParamsIn,
    mac: String,
}

#[derive(Deserialize)]
struct KdfParamsIn {
    dklen: u64,
    salt: String,
    #[serde(default)]
    n: Option<u64>,
    #[serde(default)]
    r: Option<u64>,
    #[serde(default)]
    p: Option<u64>,
    #[serde(default)]
    c: Option<u64>,
    #[serde(default)]
    prf: Option<String>,
}

/// The part of a key file that listing needs.
#[derive(Deserialize)]
struct AddressOnly {
    #[serde(default)]
    address: Option<String>,
}

/// Encrypts `key` with fresh random salt, IV and id.
pub(crate) fn encrypt(
    key: &ValidatorKey,
    password: &[u8],
    params: ScryptParams,
) -> Result<Vec<u8>, KeystoreError> {
    let mut salt = [0u8; 32];
    let mut iv = [0u8; 16];
    let mut id = [0u8; 16];
    fill_random(&mut salt)?;
    fill_random(&mut iv)?;
    fill_random(&mut id)?;
    let file = encrypt_with(key, password, params, &salt, &iv, &uuid_v4(id))
        .map_err(KeystoreError::Encrypt)?;
    serde_json::to_vec(&file).map_err(|e| KeystoreError::Encrypt(e.to_string()))
}

/// Encrypts `key` with the given salt, IV and id (deterministic: the spec's vector is
/// reproduced with it in the tests).
pub(crate) fn encrypt_with(
    key: &ValidatorKey,
    password: &[u8],
    params: ScryptParams,
    salt: &[u8],
    iv: &[u8; 16],
    id: &str,
) -> Result<KeyFileOut, String> {
    let derived = params.derive(password, salt)?;
    let mut ciphertext = key.secret_key().secret_bytes();
    apply_aes_128_ctr(&derived, iv, &mut ciphertext)?;
    let mac = mac(&derived, &ciphertext);
    Ok(KeyFileOut {
        address: hex::encode(key.address()),
        crypto: CryptoOut {
            cipher: CIPHER,
            ciphertext: hex::encode(ciphertext),
            cipherparams: CipherParams {
                iv: hex::encode(iv),
            },
            kdf: "scrypt",
            kdfparams: ScryptParamsOut {
                dklen: DERIVED_KEY_LEN,
                n: params.n(),
                p: params.p,
                r: params.r,
                salt: hex::encode(salt),
            },
            mac: hex::encode(mac),
        },
        id: id.to_owned(),
        version: 3,
    })
}

/// Decrypts the key file `json` (read from `path`, named in errors) with `password`.
pub(crate) fn decrypt(
    json: &[u8],
    password: &[u8],
    path: &Path,
) -> Result<ValidatorKey, KeystoreError> {
    let malformed = |reason: String| KeystoreError::MalformedKeyFile {
        path: path.to_owned(),
        reason,
    };
    let file: KeyFileIn =
        serde_json::from_slice(json).map_err(|e| malformed(format!("not a v3 key file: {e}")))?;
    if file.version != 3 {
        return Err(malformed(format!("version {}, want 3", file.version)));
    }
    let crypto = &file.crypto;
    if crypto.cipher != CIPHER {
        return Err(malformed(format!(
            "cipher {:.40}, want {CIPHER}",
            crypto.cipher
        )));
    }
    let iv: [u8; 16] = decode_hex("cipherparams.iv", &crypto.cipherparams.iv, Some(16))
        .and_then(|v| v.try_into().map_err(|_| "iv".to_owned()))
        .map_err(malformed)?;
    let mac_in_file = decode_hex("mac", &crypto.mac, Some(32)).map_err(malformed)?;
    let ciphertext = decode_hex("ciphertext", &crypto.ciphertext, None).map_err(malformed)?;
    let mut secret = Zeroizing::new(<[u8; 32]>::try_from(ciphertext.as_slice()).map_err(|_| {
        KeystoreError::WrongKeyLength {
            origin: format!("key file {}", path.display()),
            got: ciphertext.len(),
        }
    })?);
    let derived = derive_from_file(&crypto.kdf, &crypto.kdfparams, password).map_err(malformed)?;
    if !constant_time_eq(&mac(&derived, &ciphertext), &mac_in_file) {
        return Err(KeystoreError::WrongPassword {
            path: path.to_owned(),
        });
    }
    apply_aes_128_ctr(&derived, &iv, secret.as_mut()).map_err(malformed)?;
    let key = ValidatorKey::from_bytes_of(&secret, || format!("key file {}", path.display()))?;
    if let Some(named) = &file.address {
        let named = parse_address(named).map_err(malformed)?;
        if named != key.address() {
            return Err(KeystoreError::KeyMismatch {
                path: path.to_owned(),
                named,
                actual: key.address(),
            });
        }
    }
    Ok(key)
}

/// The address a key file names, without decrypting it (for listing).
pub(crate) fn address_of(json: &[u8]) -> Result<Address, String> {
    let file: AddressOnly =
        serde_json::from_slice(json).map_err(|e| format!("not a JSON key file: {e}"))?;
    let text = file.address.ok_or_else(|| "no address field".to_owned())?;
    parse_address(&text)
}

fn parse_address(text: &str) -> Result<Address, String> {
    let bytes = decode_hex("address", text, Some(20))?;
    Ok(Address::from_slice(&bytes))
}

/// Derives the 32-byte key from the file's KDF and parameters, bounding them first.
fn derive_from_file(
    kdf: &str,
    params: &KdfParamsIn,
    password: &[u8],
) -> Result<DerivedKey, String> {
    // Only the first 32 bytes are used (16 for AES, 16 for the MAC); geth derives `dklen`
    // bytes, of which the prefix is the same, so a longer dklen changes nothing.
    if !(32..=64).contains(&params.dklen) {
        return Err(format!("kdfparams.dklen = {}, want 32", params.dklen));
    }
    let salt = decode_hex("kdfparams.salt", &params.salt, None)?;
    if salt.len() > MAX_SALT_BYTES {
        return Err(format!(
            "kdfparams.salt is longer than {MAX_SALT_BYTES} bytes"
        ));
    }
    match kdf {
        "scrypt" => {
            let field = |v: Option<u64>, name: &str| v.ok_or(format!("kdfparams.{name} missing"));
            let scrypt = ScryptParams::bounded(
                field(params.n, "n")?,
                field(params.r, "r")?,
                field(params.p, "p")?,
            )?;
            scrypt.derive(password, &salt)
        }
        "pbkdf2" => {
            if params.prf.as_deref() != Some("hmac-sha256") {
                return Err("pbkdf2 needs prf hmac-sha256".to_owned());
            }
            let rounds = params
                .c
                .filter(|c| (1..=MAX_PBKDF2_ROUNDS).contains(c))
                .and_then(|c| u32::try_from(c).ok())
                .ok_or(format!(
                    "kdfparams.c missing or not in 1..={MAX_PBKDF2_ROUNDS}"
                ))?;
            let mut derived = DerivedKey::default();
            pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(password, &salt, rounds, derived.as_mut());
            Ok(derived)
        }
        other => Err(format!("kdf {other:.40}, want scrypt or pbkdf2")),
    }
}

fn apply_aes_128_ctr(derived: &DerivedKey, iv: &[u8; 16], data: &mut [u8]) -> Result<(), String> {
    let mut cipher =
        Aes128Ctr::new_from_slices(&derived[..16], iv).map_err(|e| format!("aes-128-ctr: {e}"))?;
    cipher
        .try_apply_keystream(data)
        .map_err(|e| format!("aes-128-ctr: {e}"))
}

fn mac(derived: &DerivedKey, ciphertext: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(16 + ciphertext.len());
    input.extend_from_slice(&derived[16..32]);
    input.extend_from_slice(ciphertext);
    keccak256(&input).0
}

/// Compares without an early exit, so the time taken does not tell how much of a MAC matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn decode_hex(field: &str, text: &str, len: Option<usize>) -> Result<Vec<u8>, String> {
    let bytes = hex::decode(text).map_err(|_| format!("{field} is not hex"))?;
    match len {
        Some(want) if bytes.len() != want => {
            Err(format!("{field} has {} bytes, want {want}", bytes.len()))
        }
        _ => Ok(bytes),
    }
}

/// A random (version 4) UUID in its text form, as geth gives each key file.
fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests;
