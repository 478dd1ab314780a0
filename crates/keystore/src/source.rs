//! Where the node's key comes from, and password files.

use std::{fmt, path::Path, path::PathBuf};

use alloy_primitives::Address;
use zeroize::Zeroizing;

use crate::{
    Keystore, KeystoreError, MAX_PASSWORD_FILE_BYTES, MAX_PLAIN_KEY_FILE_BYTES, ValidatorKey,
    store::read_bounded,
};

/// Where to load the node key from.
#[derive(Clone)]
pub enum KeySource {
    /// A v3 key file in the keystore directory `dir`, unlocked with the first line of
    /// `password_file`: the key of `address`, or the only key if `None`.
    Keystore {
        dir: PathBuf,
        address: Option<Address>,
        password_file: PathBuf,
    },
    /// A file holding the key in plain hex (`--validator.insecure-plain-key`); loading it logs
    /// a warning.
    PlainHexFile(PathBuf),
    /// A key given in hex (e.g. `--dev.key` for a development chain).
    PlainHex(String),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keystore {
                dir,
                address,
                password_file,
            } => f
                .debug_struct("Keystore")
                .field("dir", dir)
                .field("address", address)
                .field("password_file", password_file)
                .finish(),
            Self::PlainHexFile(path) => f.debug_tuple("PlainHexFile").field(path).finish(),
            Self::PlainHex(_) => f.debug_tuple("PlainHex").field(&"<redacted>").finish(),
        }
    }
}

/// Loads the node key from `source`.
pub fn load_validator_key(source: &KeySource) -> Result<ValidatorKey, KeystoreError> {
    match source {
        KeySource::Keystore {
            dir,
            address,
            password_file,
        } => {
            let password = Zeroizing::new(read_password_file(password_file)?);
            Keystore::open(dir).unlock(*address, &password)
        }
        KeySource::PlainHexFile(path) => {
            let key = read_plain_key_file(path)?;
            tracing::warn!(
                path = %path.display(),
                address = %key.address(),
                "INSECURE: the validator key is read from a plain, unencrypted file; anyone who \
                 can read it can sign blocks as this validator. Use a keystore file \
                 (`spectrum account import`) with --password instead"
            );
            Ok(key)
        }
        KeySource::PlainHex(text) => ValidatorKey::from_hex(text, || "the given hex key".into()),
    }
}

/// The private key in plain hex in the file at `path` (`0x` optional, surrounding whitespace
/// ignored), as `spectrum account import` reads it.
pub fn read_plain_key_file(path: &Path) -> Result<ValidatorKey, KeystoreError> {
    let bytes = Zeroizing::new(read_bounded(path, MAX_PLAIN_KEY_FILE_BYTES, "key file")?);
    let origin = || format!("key file {}", path.display());
    let text =
        std::str::from_utf8(&bytes).map_err(|_| KeystoreError::InvalidHex { origin: origin() })?;
    ValidatorKey::from_hex(text, origin)
}

/// The password in the file at `path`: its first line, without the line ending (`\n` or
/// `\r\n`), as geth reads `--password` files. An empty file is the empty password.
pub fn read_password_file(path: &Path) -> Result<String, KeystoreError> {
    let bytes = Zeroizing::new(read_bounded(
        path,
        MAX_PASSWORD_FILE_BYTES,
        "password file",
    )?);
    let text = std::str::from_utf8(&bytes).map_err(|_| KeystoreError::PasswordNotUtf8 {
        path: path.to_owned(),
    })?;
    let first_line = text.split('\n').next().unwrap_or_default();
    Ok(first_line
        .strip_suffix('\r')
        .unwrap_or(first_line)
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn password_is_the_first_line_without_its_ending() {
        let dir = tempfile::tempdir().unwrap();
        for (contents, want) in [
            (&b"secret\n"[..], "secret"),
            (b"secret", "secret"),
            (b"secret\r\nsecond line\n", "secret"),
            (b" spaced pass \n", " spaced pass "),
            (b"", ""),
            (b"\nsecond", ""),
        ] {
            let path = write(dir.path(), "pw", contents);
            assert_eq!(read_password_file(&path).unwrap(), want, "{contents:?}");
        }
    }

    #[test]
    fn password_files_are_bounded_utf8_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let big = write(
            dir.path(),
            "big",
            &vec![b'a'; MAX_PASSWORD_FILE_BYTES as usize + 1],
        );
        let err = read_password_file(&big).unwrap_err();
        assert!(matches!(err, KeystoreError::FileTooLarge { .. }), "{err}");
        let binary = write(dir.path(), "bin", &[0xff, 0xfe, b'\n']);
        let err = read_password_file(&binary).unwrap_err();
        assert!(
            matches!(err, KeystoreError::PasswordNotUtf8 { .. }),
            "{err}"
        );
        let err = read_password_file(&dir.path().join("missing")).unwrap_err();
        assert!(matches!(err, KeystoreError::Read { .. }), "{err}");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn plain_key_sources_load_and_refuse_bad_keys() {
        let dir = tempfile::tempdir().unwrap();
        let digits = "46".repeat(32);
        let want: Address = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
            .parse()
            .unwrap();
        let file = write(dir.path(), "key", format!("0x{digits}\n").as_bytes());
        let key = load_validator_key(&KeySource::PlainHexFile(file)).unwrap();
        assert_eq!(key.address(), want);
        let key = load_validator_key(&KeySource::PlainHex(digits.clone())).unwrap();
        assert_eq!(key.address(), want);

        let short = write(dir.path(), "short", "46".repeat(20).as_bytes());
        let err = load_validator_key(&KeySource::PlainHexFile(short)).unwrap_err();
        assert!(
            matches!(err, KeystoreError::WrongKeyLength { got: 20, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("short"), "{err}");
        let zero = write(dir.path(), "zero", "00".repeat(32).as_bytes());
        let err = load_validator_key(&KeySource::PlainHexFile(zero)).unwrap_err();
        assert!(
            matches!(err, KeystoreError::InvalidSecretKey { .. }),
            "{err}"
        );
        let junk = write(dir.path(), "junk", b"not a key at all");
        let err = load_validator_key(&KeySource::PlainHexFile(junk)).unwrap_err();
        assert!(matches!(err, KeystoreError::InvalidHex { .. }), "{err}");
        let huge = write(dir.path(), "huge", &vec![b'4'; 4096]);
        let err = load_validator_key(&KeySource::PlainHexFile(huge)).unwrap_err();
        assert!(matches!(err, KeystoreError::FileTooLarge { .. }), "{err}");
    }

    #[test]
    fn keystore_source_unlocks_with_the_password_file() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = Keystore::open(dir.path().join("keystore"))
            .with_scrypt_params(crate::ScryptParams::LIGHT);
        let address = keystore.import([0x46; 32], "pass word").unwrap();
        let good = write(dir.path(), "good", b"pass word\n");
        let bad = write(dir.path(), "bad", b"pass words\n");
        let source = |password_file: PathBuf, address| KeySource::Keystore {
            dir: keystore.dir().to_owned(),
            address,
            password_file,
        };
        let key = load_validator_key(&source(good.clone(), None)).unwrap();
        assert_eq!(key.address(), address);
        let key = load_validator_key(&source(good, Some(address))).unwrap();
        assert_eq!(key.address(), address);
        let err = load_validator_key(&source(bad, None)).unwrap_err();
        assert!(matches!(err, KeystoreError::WrongPassword { .. }), "{err}");
        let err = load_validator_key(&source(dir.path().join("nope"), None)).unwrap_err();
        assert!(
            matches!(
                err,
                KeystoreError::Read {
                    what: "password file",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn debug_of_a_hex_source_hides_the_key() {
        let text = format!("{:?}", KeySource::PlainHex("46".repeat(32)));
        assert!(!text.contains("4646"), "{text}");
    }
}
