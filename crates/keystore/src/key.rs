//! The validator key in memory: a secp256k1 secret and its address.

use std::fmt;

use alloy_primitives::{Address, hex};
use secp256k1::{SECP256K1, SecretKey};
use spectrum_primitives::public_key_to_address;
use zeroize::Zeroizing;

use crate::KeystoreError;

/// A node key: the Tribe block signer and p2p identity.
///
/// `Debug` shows the address only, and the secret is overwritten when the key is dropped, so a
/// key that ends up in a log or a core dump after use does not give itself away.
#[derive(Clone)]
pub struct ValidatorKey {
    secret: SecretKey,
    address: Address,
}

impl ValidatorKey {
    /// The key whose secret is `bytes`; refused if they are not a valid secp256k1 private key
    /// (zero, or not below the group order).
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> Result<Self, KeystoreError> {
        Self::from_bytes_of(bytes, || "the given private key".to_owned())
    }

    /// A new random key from the operating system's generator.
    pub fn random() -> Result<Self, KeystoreError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        // A random 32-byte string is outside the group order with probability ~2^-128; drawing
        // again keeps the loop honest without an unreachable error path.
        loop {
            fill_random(bytes.as_mut())?;
            if let Ok(key) = Self::from_secret_bytes(&bytes) {
                return Ok(key);
            }
        }
    }

    /// The key's Ethereum address (keccak-256 of the public key, last 20 bytes).
    pub fn address(&self) -> Address {
        self.address
    }

    /// The secret, for signing.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret
    }

    /// As [`Self::from_secret_bytes`], naming `origin` (a file, a flag) in the error.
    pub(crate) fn from_bytes_of(
        bytes: &[u8; 32],
        origin: impl FnOnce() -> String,
    ) -> Result<Self, KeystoreError> {
        let secret = SecretKey::from_byte_array(*bytes)
            .map_err(|_| KeystoreError::InvalidSecretKey { origin: origin() })?;
        let address = public_key_to_address(&secret.public_key(SECP256K1));
        Ok(Self { secret, address })
    }

    /// Parses a hex private key (`0x` optional, surrounding whitespace ignored).
    pub(crate) fn from_hex(text: &str, origin: impl Fn() -> String) -> Result<Self, KeystoreError> {
        let text = text.trim();
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        let bytes = Zeroizing::new(
            hex::decode(digits).map_err(|_| KeystoreError::InvalidHex { origin: origin() })?,
        );
        let array: &[u8; 32] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeystoreError::WrongKeyLength {
                    origin: origin(),
                    got: bytes.len(),
                })?;
        Self::from_bytes_of(array, origin)
    }
}

impl fmt::Debug for ValidatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatorKey")
            .field("address", &self.address)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Drop for ValidatorKey {
    fn drop(&mut self) {
        self.secret.non_secure_erase();
    }
}

/// Fills `buf` from the operating system's cryptographic generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), KeystoreError> {
    getrandom::fill(buf).map_err(|e| KeystoreError::NoRandomness(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// EIP-155's example key and its address.
    const KEY_46: [u8; 32] = [0x46; 32];
    const ADDRESS_46: &str = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";

    #[test]
    fn address_is_derived_from_the_secret() {
        let key = ValidatorKey::from_secret_bytes(&KEY_46).unwrap();
        assert_eq!(key.address(), ADDRESS_46.parse::<Address>().unwrap());
        assert_eq!(key.secret_key().secret_bytes(), KEY_46);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = ValidatorKey::from_secret_bytes(&KEY_46).unwrap();
        let text = format!("{key:?} {key:#?}");
        assert!(!text.contains("4646464646"), "{text}");
        assert!(
            text.to_lowercase()
                .contains(&ADDRESS_46.to_lowercase()[2..])
        );
        assert!(text.contains("redacted"));
    }

    #[test]
    fn zero_and_out_of_range_secrets_are_refused() {
        for bytes in [[0u8; 32], [0xff; 32]] {
            let err = ValidatorKey::from_secret_bytes(&bytes).unwrap_err();
            assert!(
                matches!(err, KeystoreError::InvalidSecretKey { .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn hex_keys_parse_with_or_without_prefix_and_whitespace() {
        let digits = "46".repeat(32);
        for text in [
            digits.clone(),
            format!("0x{digits}\n"),
            format!("  0X{digits}\r\n"),
        ] {
            let key = ValidatorKey::from_hex(&text, || "test".into()).unwrap();
            assert_eq!(key.address(), ADDRESS_46.parse::<Address>().unwrap());
        }
    }

    #[test]
    fn hex_keys_of_the_wrong_length_or_not_hex_are_refused() {
        let short = ValidatorKey::from_hex(&"46".repeat(31), || "k".into()).unwrap_err();
        assert!(
            matches!(short, KeystoreError::WrongKeyLength { got: 31, .. }),
            "{short}"
        );
        let long = ValidatorKey::from_hex(&"46".repeat(33), || "k".into()).unwrap_err();
        assert!(
            matches!(long, KeystoreError::WrongKeyLength { got: 33, .. }),
            "{long}"
        );
        let bad = ValidatorKey::from_hex(&"zz".repeat(32), || "k".into()).unwrap_err();
        assert!(matches!(bad, KeystoreError::InvalidHex { .. }), "{bad}");
        let odd = ValidatorKey::from_hex(&"4".repeat(63), || "k".into()).unwrap_err();
        assert!(matches!(odd, KeystoreError::InvalidHex { .. }), "{odd}");
    }

    #[test]
    fn random_keys_differ() {
        let a = ValidatorKey::random().unwrap();
        let b = ValidatorKey::random().unwrap();
        assert_ne!(a.address(), b.address());
    }
}
