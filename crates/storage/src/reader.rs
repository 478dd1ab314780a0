//! Raw reads: point gets and bounded seeks on one table, optionally through a snapshot so that
//! several reads see one consistent version of the database.

use rocksdb::{ReadOptions, Snapshot};

use crate::{Database, StorageError, Table, keys::prefix_successor};

/// Reads the latest database, or a snapshot of it.
pub(crate) struct Reader<'a> {
    pub(crate) db: &'a Database,
    snapshot: Option<Snapshot<'a>>,
}

impl<'a> Reader<'a> {
    /// Each read sees the newest committed data (single-record reads need nothing more).
    pub(crate) fn latest(db: &'a Database) -> Self {
        Self { db, snapshot: None }
    }

    /// Every read sees the database as it was now, whatever is committed meanwhile.
    pub(crate) fn snapshot(db: &'a Database) -> Self {
        Self {
            db,
            snapshot: Some(db.db.snapshot()),
        }
    }

    fn read_opts(&self) -> ReadOptions {
        let mut opts = ReadOptions::default();
        if let Some(snapshot) = &self.snapshot {
            opts.set_snapshot(snapshot);
        }
        opts
    }

    /// The record at `key` of `table`, decoded by `decode`.
    pub(crate) fn get<T>(
        &self,
        table: Table,
        key: &[u8],
        decode: impl FnOnce(&[u8]) -> Result<T, StorageError>,
    ) -> Result<Option<T>, StorageError> {
        let cf = self.db.cf(table)?;
        // Pinned: decoded straight from RocksDB's buffer, no copy.
        let value = self
            .db
            .db
            .get_pinned_cf_opt(cf, key, &self.read_opts())
            .map_err(|source| StorageError::Read { table, source })?;
        value.map(|bytes| decode(&bytes)).transpose()
    }

    /// The first record of `table` whose key is at or after `start` and starts with `prefix`.
    pub(crate) fn first_in_prefix_from<T>(
        &self,
        table: Table,
        prefix: &[u8],
        start: &[u8],
        decode: impl FnOnce(&[u8], &[u8]) -> Result<T, StorageError>,
    ) -> Result<Option<T>, StorageError> {
        let mut it = self.prefix_iter(table, prefix)?;
        it.seek(start);
        match it.item() {
            Some((key, value)) if key.starts_with(prefix) => decode(key, value).map(Some),
            _ => it
                .status()
                .map(|()| None)
                .map_err(|source| StorageError::Read { table, source }),
        }
    }

    /// Calls `f` on every record of `table` whose key starts with `prefix`, in key order.
    pub(crate) fn for_each_in_prefix(
        &self,
        table: Table,
        prefix: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        self.walk_prefix(table, prefix, |key, value| f(key, value).map(|()| true))
    }

    /// [`for_each_in_prefix`](Self::for_each_in_prefix) that stops when `f` answers false.
    pub(crate) fn walk_prefix(
        &self,
        table: Table,
        prefix: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> Result<bool, StorageError>,
    ) -> Result<(), StorageError> {
        let mut it = self.prefix_iter(table, prefix)?;
        it.seek(prefix);
        while let Some((key, value)) = it.item() {
            if !key.starts_with(prefix) || !f(key, value)? {
                break;
            }
            it.next();
        }
        it.status()
            .map_err(|source| StorageError::Read { table, source })
    }

    /// A raw iterator bounded above by the end of `prefix`, so RocksDB stops at the bound
    /// instead of stepping over the tombstones and keys that follow it.
    fn prefix_iter(
        &self,
        table: Table,
        prefix: &[u8],
    ) -> Result<rocksdb::DBRawIterator<'a>, StorageError> {
        let cf = self.db.cf(table)?;
        let mut opts = self.read_opts();
        if let Some(end) = prefix_successor(prefix) {
            opts.set_iterate_upper_bound(end);
        }
        Ok(self.db.db.raw_iterator_cf_opt(cf, opts))
    }
}
