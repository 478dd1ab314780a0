//! The keystore directory: one v3 file per key, named as geth names them, so a geth keystore
//! directory and ours can be swapped.

use std::{
    fs,
    io::{Read, Write},
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, hex};
use zeroize::Zeroize;

use crate::{
    KeystoreError, MAX_KEY_FILE_BYTES, ValidatorKey,
    v3::{self, ScryptParams},
};

/// `<datadir>/keystore`, where geth and we keep key files.
pub fn keystore_dir(datadir: &Path) -> PathBuf {
    datadir.join("keystore")
}

/// A directory of v3 key files. Opening does no I/O; the directory is created (mode 0700) when
/// the first key is written.
#[derive(Debug, Clone)]
pub struct Keystore {
    dir: PathBuf,
    scrypt: ScryptParams,
}

impl Keystore {
    /// The keystore in `dir` (the keystore directory itself, e.g. [`keystore_dir`]), writing
    /// new files with geth's standard scrypt parameters.
    pub fn open(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            scrypt: ScryptParams::STANDARD,
        }
    }

    /// Writes new files with `params` instead ([`ScryptParams::LIGHT`] for tests and
    /// `--lightkdf`). Reading accepts any parameters within the bounds.
    pub fn with_scrypt_params(mut self, params: ScryptParams) -> Self {
        self.scrypt = params;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every key file's account and path, sorted by path (so, for geth's names, by creation
    /// time). A missing directory is an empty keystore. Files that are not key files (hidden,
    /// editor backups, unreadable, not JSON, no address) are skipped with a warning, as geth
    /// skips them.
    pub fn list(&self) -> Result<Vec<(Address, PathBuf)>, KeystoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(self.read_error(source)),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let path = entry.map_err(|source| self.read_error(source))?.path();
            if !is_candidate(&path) {
                continue;
            }
            match read_bounded(&path, MAX_KEY_FILE_BYTES, "key file")
                .and_then(|json| v3::address_of(&json).map_err(|r| malformed(&path, r)))
            {
                Ok(address) => keys.push((address, path)),
                Err(error) => tracing::warn!(%error, "skipping a file in the keystore"),
            }
        }
        keys.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(keys)
    }

    /// Creates a new random key, stores it encrypted with `password` and returns its address.
    pub fn create(&self, password: &str) -> Result<Address, KeystoreError> {
        let key = ValidatorKey::random()?;
        self.store(&key, password)?;
        Ok(key.address())
    }

    /// Stores `secret` encrypted with `password`; refused if the keystore already has it.
    pub fn import(&self, mut secret: [u8; 32], password: &str) -> Result<Address, KeystoreError> {
        let key = ValidatorKey::from_secret_bytes(&secret);
        secret.zeroize();
        let key = key?;
        if let Some((_, path)) = self
            .list()?
            .into_iter()
            .find(|(address, _)| *address == key.address())
        {
            return Err(KeystoreError::AlreadyExists {
                address: key.address(),
                path,
            });
        }
        self.store(&key, password)?;
        Ok(key.address())
    }

    /// Decrypts the key of `address`, or the only key if `address` is `None`.
    pub fn unlock(
        &self,
        address: Option<Address>,
        password: &str,
    ) -> Result<ValidatorKey, KeystoreError> {
        let path = match address {
            Some(address) => self.find(address)?,
            None => self.only_key()?,
        };
        decrypt_key_file(&path, password)
    }

    /// Re-encrypts the key of `address` with `new_password` (and this keystore's scrypt
    /// parameters), replacing its file atomically. Returns the file's path.
    pub fn update(
        &self,
        address: Address,
        password: &str,
        new_password: &str,
    ) -> Result<PathBuf, KeystoreError> {
        let path = self.find(address)?;
        let key = decrypt_key_file(&path, password)?;
        let json = v3::encrypt(&key, new_password.as_bytes(), self.scrypt)?;
        write_private_file(&path, &json)?;
        Ok(path)
    }

    /// The one key file holding `address`.
    pub fn find(&self, address: Address) -> Result<PathBuf, KeystoreError> {
        let mut paths: Vec<PathBuf> = self
            .list()?
            .into_iter()
            .filter(|(a, _)| *a == address)
            .map(|(_, path)| path)
            .collect();
        match paths.len() {
            0 => Err(KeystoreError::NoSuchAccount {
                address,
                dir: self.dir.clone(),
            }),
            1 => Ok(paths.remove(0)),
            _ => Err(KeystoreError::AmbiguousAccount { address, paths }),
        }
    }

    fn only_key(&self) -> Result<PathBuf, KeystoreError> {
        let mut keys = self.list()?;
        match keys.len() {
            0 => Err(KeystoreError::NoKeys {
                dir: self.dir.clone(),
            }),
            1 => Ok(keys.remove(0).1),
            _ => Err(KeystoreError::SeveralKeys {
                dir: self.dir.clone(),
                addresses: keys.into_iter().map(|(address, _)| address).collect(),
            }),
        }
    }

    fn store(&self, key: &ValidatorKey, password: &str) -> Result<PathBuf, KeystoreError> {
        create_private_dir(&self.dir)?;
        let json = v3::encrypt(key, password.as_bytes(), self.scrypt)?;
        let path = self
            .dir
            .join(key_file_name(SystemTime::now(), key.address()));
        write_private_file(&path, &json)?;
        Ok(path)
    }

    fn read_error(&self, source: std::io::Error) -> KeystoreError {
        KeystoreError::Read {
            what: "keystore directory",
            path: self.dir.clone(),
            source,
        }
    }
}

/// Decrypts the v3 key file at `path` (any file, in a keystore or not).
pub fn decrypt_key_file(path: &Path, password: &str) -> Result<ValidatorKey, KeystoreError> {
    let json = read_bounded(path, MAX_KEY_FILE_BYTES, "key file")?;
    v3::decrypt(&json, password.as_bytes(), path)
}

/// geth's key file name: `UTC--<ISO 8601 time, ':' as '-', nanoseconds>Z--<address hex>`.
pub fn key_file_name(time: SystemTime, address: Address) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    format!(
        "UTC--{year:04}-{month:02}-{day:02}T{:02}-{:02}-{:02}.{:09}Z--{}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        since_epoch.subsec_nanos(),
        hex::encode(address)
    )
}

/// The proleptic Gregorian date of `days` after 1970-01-01 (Howard Hinnant's algorithm, in
/// unsigned arithmetic since the days are never before the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // March = 0
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Whether a directory entry may be a key file: geth skips hidden files (our temporary files
/// are hidden), editor backups and directories.
fn is_candidate(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.') && !name.ends_with('~') && path.is_file()
}

/// Reads at most `max` bytes of `path`; a longer file is refused, not truncated.
pub(crate) fn read_bounded(
    path: &Path,
    max: u64,
    what: &'static str,
) -> Result<Vec<u8>, KeystoreError> {
    let read_error = |source| KeystoreError::Read {
        what,
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > max {
        return Err(KeystoreError::FileTooLarge {
            what,
            path: path.to_owned(),
            max,
        });
    }
    Ok(bytes)
}

fn malformed(path: &Path, reason: String) -> KeystoreError {
    KeystoreError::MalformedKeyFile {
        path: path.to_owned(),
        reason,
    }
}

/// Creates `dir` and its missing parents with mode 0700.
fn create_private_dir(dir: &Path) -> Result<(), KeystoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| KeystoreError::Write {
        what: "keystore directory",
        path: dir.to_owned(),
        source,
    })
}

/// Writes `contents` to `path` with mode 0600: into a hidden temporary file beside it first,
/// synced, then renamed over `path`, so a crash never leaves a half-written key file.
fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), KeystoreError> {
    let write_error = |source| KeystoreError::Write {
        what: "key file",
        path: path.to_owned(),
        source,
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options.open(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    });
    if result.is_err() {
        // Best effort: the temporary file is hidden and never read as a key.
        let _ = fs::remove_file(&temp);
    }
    result.map_err(write_error)
}

#[cfg(test)]
mod tests;
