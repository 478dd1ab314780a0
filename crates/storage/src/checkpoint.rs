//! Backups: a RocksDB checkpoint (hard links of the immutable SST files plus copies of the
//! rest) of an open database, a consistent copy that opens as a database of its own.

use std::path::Path;

use crate::{Database, StorageError};

impl Database {
    /// Writes a checkpoint of the database to `dir`, which must not exist yet (RocksDB creates
    /// it). On the same filesystem it costs hard links, not a copy.
    pub fn checkpoint(&self, dir: &Path) -> Result<(), StorageError> {
        let error = |source| StorageError::Checkpoint {
            path: dir.to_path_buf(),
            source,
        };
        let checkpoint = rocksdb::checkpoint::Checkpoint::new(&self.db).map_err(error)?;
        checkpoint.create_checkpoint(dir).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_opens_as_the_same_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("db")).unwrap();
        let copy = dir.path().join("backup");
        db.checkpoint(&copy).unwrap();
        let restored = Database::open(&copy).unwrap();
        assert_eq!(restored.head().unwrap(), db.head().unwrap());
        assert!(matches!(
            db.checkpoint(&copy),
            Err(StorageError::Checkpoint { .. })
        ));
    }
}
