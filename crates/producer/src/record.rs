//! The last block this validator signed, kept in a small file that is fsync'd before a sealed
//! block can leave the node, so that a validator restarted after a crash (its database may
//! have lost its newest, not yet synced commits) never signs a second, different block at a
//! height it already signed (equivocation).
//!
//! The file holds one line, `<number> <hash>\n`. It is replaced atomically: written to a
//! temporary file beside it, fsync'd, renamed over the old one, and the directory fsync'd.

use std::{
    fs::File,
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::Mutex,
};

use alloy_primitives::B256;

/// A record longer than this is not one of ours (the real one is about 90 bytes).
const MAX_RECORD_BYTES: u64 = 256;

/// The highest block this validator signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastSealed {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
}

/// Why the seal record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SealRecordError {
    /// Reading, writing or syncing the file failed.
    #[error("seal record {path}: {action}: {source}")]
    Io {
        /// The record's path.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file exists but does not hold a record: the node refuses to guess.
    #[error(
        "seal record {path} is malformed ({reason}); remove it only if this key never signed on this chain"
    )]
    Malformed {
        /// The record's path.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The durable record of the last block signed with one key (see the module docs).
#[derive(Debug)]
pub struct SealRecord {
    path: PathBuf,
    last: Mutex<Option<LastSealed>>,
    /// A block signed with this key that this process did not seal (see `guard.rs`): set
    /// once, sealing stops until the node restarts.
    pub(crate) conflict: Mutex<Option<crate::SealConflict>>,
}

impl SealRecord {
    /// Opens the record at `path`: reads it if the file exists, else starts empty (the key
    /// never signed here). A malformed file is an error, never treated as empty.
    pub fn open(path: &Path) -> Result<Self, SealRecordError> {
        let last = match File::open(path) {
            Ok(file) => Some(read_record(path, file)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(io_error(path, "open", source)),
        };
        Ok(Self {
            path: path.to_owned(),
            last: Mutex::new(last),
            conflict: Mutex::new(None),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last block signed, if any.
    pub fn last(&self) -> Option<LastSealed> {
        *self.lock()
    }

    /// The last signed block if it forbids sealing block `number` (its number is `number` or
    /// higher), else `None`.
    pub fn forbids(&self, number: u64) -> Option<LastSealed> {
        self.last().filter(|last| last.number >= number)
    }

    /// Records `number`/`hash` as the last signed block, durably (fsync'd, atomic), and returns
    /// true. Never goes back: for a number at or below the recorded one it writes nothing and
    /// returns false (sealing that block would be an equivocation).
    pub fn record(&self, number: u64, hash: B256) -> Result<bool, SealRecordError> {
        let mut last = self.lock();
        if last.is_some_and(|l| l.number >= number) {
            return Ok(false);
        }
        write_atomically(&self.path, format!("{number} {hash}\n").as_bytes())?;
        *last = Some(LastSealed { number, hash });
        Ok(true)
    }

    /// `--dev` only (`evm_revert`, `anvil_reset`): records `number`/`hash`, lower than the
    /// recorded height, after the chain was deliberately rewound to that block, and clears a
    /// conflict. On the dev chain the validator key is public and the blocks above were
    /// thrown away on purpose: sealing again at those heights is the point, not an
    /// equivocation. Never called on a network.
    pub fn rewind_for_dev(&self, number: u64, hash: B256) -> Result<(), SealRecordError> {
        let mut last = self.lock();
        write_atomically(&self.path, format!("{number} {hash}\n").as_bytes())?;
        *last = Some(LastSealed { number, hash });
        *self.conflict.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<LastSealed>> {
        // The guarded value is replaced whole: a panic cannot leave it half-written.
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn io_error(path: &Path, action: &'static str, source: std::io::Error) -> SealRecordError {
    SealRecordError::Io {
        path: path.to_owned(),
        action,
        source,
    }
}

fn read_record(path: &Path, file: File) -> Result<LastSealed, SealRecordError> {
    let mut text = String::new();
    file.take(MAX_RECORD_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| io_error(path, "read", e))?;
    let malformed = |reason| SealRecordError::Malformed {
        path: path.to_owned(),
        reason,
    };
    let line = text
        .strip_suffix('\n')
        .ok_or_else(|| malformed("no complete line"))?;
    let (number, hash) = line
        .split_once(' ')
        .ok_or_else(|| malformed("expected `<number> <hash>`"))?;
    Ok(LastSealed {
        number: number.parse().map_err(|_| malformed("bad number"))?,
        hash: hash.parse().map_err(|_| malformed("bad hash"))?,
    })
}

/// Writes `bytes` to `path` so that after a crash the file holds either the old or the new
/// content, and the new one once this returns.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SealRecordError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_error(path, "create its directory", e))?;
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    let mut file = File::create(&temp).map_err(|e| io_error(&temp, "create", e))?;
    file.write_all(bytes)
        .map_err(|e| io_error(&temp, "write", e))?;
    file.sync_all().map_err(|e| io_error(&temp, "fsync", e))?;
    drop(file);
    std::fs::rename(&temp, path).map_err(|e| io_error(path, "rename into place", e))?;
    // The rename is durable only once the directory entry is.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(path, "fsync its directory", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_survives_reopening_and_never_goes_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sealed");
        let record = SealRecord::open(&path).unwrap();
        assert_eq!(record.last(), None);
        assert_eq!(record.forbids(1), None);
        let hash = B256::repeat_byte(7);
        assert!(record.record(5, hash).unwrap());
        assert!(
            !record.record(5, B256::repeat_byte(8)).unwrap(),
            "same height"
        );
        assert!(
            !record.record(4, B256::repeat_byte(8)).unwrap(),
            "lower height"
        );

        let reopened = SealRecord::open(&path).unwrap();
        let last = LastSealed { number: 5, hash };
        assert_eq!(reopened.last(), Some(last));
        assert_eq!(reopened.forbids(5), Some(last));
        assert_eq!(reopened.forbids(3), Some(last));
        assert_eq!(reopened.forbids(6), None);
    }

    #[test]
    fn a_malformed_record_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sealed");
        for (content, reason) in [
            ("5 0x07\n", "bad hash"),
            ("five 0x0707\n", "bad number"),
            ("5", "no complete line"),
            ("5\n", "expected `<number> <hash>`"),
        ] {
            std::fs::write(&path, content).unwrap();
            match SealRecord::open(&path) {
                Err(SealRecordError::Malformed { reason: got, .. }) => {
                    assert_eq!(got, reason, "{content:?}")
                }
                other => panic!("{content:?}: {other:?}"),
            }
        }
    }
}
