//! Opening the database (column families, options, schema check), the write path's single
//! entry point, flushing and statistics.

use std::{
    path::{Path, PathBuf},
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
};

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DB, DBCompressionType,
    DBRecoveryMode, FlushOptions, Options, WriteBatch, WriteOptions, properties,
};
use tracing::{debug, info};

use crate::{
    CURRENT_SCHEMA_VERSION, StorageError, Table, codec::decode_fixed, reader::Reader, tables::meta,
};

/// Shared block cache for all column families: one budget instead of one per table.
const BLOCK_CACHE_BYTES: usize = 256 * 1024 * 1024;

/// Bits per key of the bloom filters on point-lookup tables (~1% false positives).
const BLOOM_BITS_PER_KEY: f64 = 10.0;

/// Size statistics of one table, from RocksDB's estimates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    /// The column family's name.
    pub name: &'static str,
    /// Estimated number of keys (`rocksdb.estimate-num-keys`).
    pub estimated_keys: u64,
    /// SST files plus memtables, in bytes.
    pub size_bytes: u64,
}

/// The node's database. Cheap to share by reference across threads: reads take no lock;
/// writes (commits, genesis, unwind) are serialised by an internal mutex, because each computes
/// its batch from the state it reads first.
pub struct Database {
    pub(crate) db: DB,
    path: PathBuf,
    write_lock: Mutex<()>,
    /// Prior values commits read from the plain state for history entries (the ones their
    /// `BlockCommit::priors` did not carry), since opening.
    pub(crate) prior_reads: AtomicU64,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens the database at `path`, creating the directory, the database and every column
    /// family if the directory holds none. An existing database must carry
    /// [`CURRENT_SCHEMA_VERSION`]; it is checked before anything is written to it.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let open_err = |source| StorageError::Open {
            path: path.to_path_buf(),
            source,
        };
        // A directory without CURRENT holds no RocksDB database (RocksDB writes CURRENT last
        // when it creates one).
        let existing = if path.join("CURRENT").exists() {
            DB::list_cf(&Options::default(), path).map_err(open_err)?
        } else {
            Vec::new()
        };

        let mut db_opts = db_options();
        let db = if existing.is_empty() {
            db_opts.create_if_missing(true);
            db_opts.create_missing_column_families(true);
            let descriptors = Table::ALL
                .iter()
                .map(|t| ColumnFamilyDescriptor::new(t.name(), table_options(*t, &cache)));
            let db = DB::open_cf_descriptors(&db_opts, path, descriptors).map_err(open_err)?;
            info!(path = %path.display(), version = CURRENT_SCHEMA_VERSION, "created database");
            db
        } else {
            // Open exactly the column families that exist, creating none, so that a database of
            // another schema is refused untouched.
            let descriptors = existing.iter().map(|name| {
                let opts = Table::ALL
                    .iter()
                    .find(|t| t.name() == name)
                    .map(|t| table_options(*t, &cache))
                    .unwrap_or_default();
                ColumnFamilyDescriptor::new(name, opts)
            });
            DB::open_cf_descriptors(&db_opts, path, descriptors).map_err(open_err)?
        };

        let mut this = Self {
            db,
            path: path.to_path_buf(),
            write_lock: Mutex::new(()),
            prior_reads: AtomicU64::new(0),
        };
        this.check_schema(&cache)?;
        debug!(path = %path.display(), "opened database");
        Ok(this)
    }

    /// Refuses another schema version; stamps the current one on a database with no data.
    fn check_schema(&mut self, cache: &Cache) -> Result<(), StorageError> {
        let stored = match self.db.cf_handle(Table::Meta.name()) {
            Some(_) => Reader::latest(self).get(Table::Meta, meta::SCHEMA_VERSION, |bytes| {
                decode_fixed::<4>(Table::Meta, meta::SCHEMA_VERSION, bytes).map(u32::from_be_bytes)
            })?,
            None => None,
        };
        match stored {
            Some(found) if found == CURRENT_SCHEMA_VERSION => {
                match Table::ALL
                    .iter()
                    .find(|t| self.db.cf_handle(t.name()).is_none())
                {
                    Some(missing) => Err(StorageError::MissingTable(missing.name())),
                    None => Ok(()),
                }
            }
            Some(found) => Err(StorageError::UnsupportedSchema {
                found,
                supported: CURRENT_SCHEMA_VERSION,
            }),
            None => self.stamp_new(cache),
        }
    }

    /// Creates what is missing of a database with no schema version, if it holds nothing at all
    /// (a creation interrupted before the stamp), and writes the version.
    fn stamp_new(&mut self, cache: &Cache) -> Result<(), StorageError> {
        let names =
            DB::list_cf(&Options::default(), &self.path).map_err(|source| StorageError::Open {
                path: self.path.clone(),
                source,
            })?;
        for name in &names {
            let Some(cf) = self.db.cf_handle(name) else {
                continue;
            };
            let mut it = self.db.raw_iterator_cf(cf);
            it.seek_to_first();
            if it.valid() {
                return Err(StorageError::MissingSchemaVersion {
                    path: self.path.clone(),
                });
            }
            // A failed iterator is not proof of emptiness.
            it.status().map_err(|source| StorageError::Open {
                path: self.path.clone(),
                source,
            })?;
        }
        for table in Table::ALL {
            if self.db.cf_handle(table.name()).is_none() {
                self.db
                    .create_cf(table.name(), &table_options(table, cache))
                    .map_err(|source| StorageError::Open {
                        path: self.path.clone(),
                        source,
                    })?;
            }
        }
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.cf(Table::Meta)?,
            meta::SCHEMA_VERSION,
            CURRENT_SCHEMA_VERSION.to_be_bytes(),
        );
        self.write(batch, "schema version stamp")
    }

    /// How many prior values commits have read from the plain state since the database was
    /// opened, to write history entries: those their `BlockCommit::priors` did not carry
    /// (wiped storage is scanned, not counted). Zero when import carries every one.
    pub fn prior_reads(&self) -> u64 {
        self.prior_reads.load(Ordering::Relaxed)
    }

    /// The directory of the database.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The handle of `table`. Every table exists once `open` has returned.
    pub(crate) fn cf(&self, table: Table) -> Result<&ColumnFamily, StorageError> {
        self.db
            .cf_handle(table.name())
            .ok_or(StorageError::MissingTable(table.name()))
    }

    /// Takes the writer lock. The guarded data is `()`: a panic while holding it cannot leave
    /// anything half-written (a batch is applied whole or not at all), so poison is ignored.
    pub(crate) fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.write_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `batch` atomically. The only way this crate writes after `open`.
    ///
    /// `sync = false` with the WAL on: RocksDB appends the batch to the WAL with `write(2)`
    /// before returning, so the commit survives the process being killed (the OS holds the
    /// bytes); only an OS crash or power loss can lose the newest commits, and then recovery
    /// (point-in-time mode) yields a prefix of the commits, never part of one. Fsyncing every
    /// block would cap import speed at the disk's sync rate; call [`Database::flush`] where
    /// stronger durability matters (shutdown).
    pub(crate) fn write(&self, batch: WriteBatch, what: &str) -> Result<(), StorageError> {
        let mut opts = WriteOptions::default();
        opts.set_sync(false);
        opts.disable_wal(false);
        self.db
            .write_opt(batch, &opts)
            .map_err(|source| StorageError::Write {
                what: what.to_owned(),
                source,
            })
    }

    /// Syncs the WAL to disk (fsync): every commit that returned survives power loss. Cheaper
    /// than [`Database::flush`] (no memtable is written out); a validator calls it before its
    /// own block leaves the node.
    pub fn sync_wal(&self) -> Result<(), StorageError> {
        self.db
            .flush_wal(true)
            .map_err(|source| StorageError::Write {
                what: "WAL sync".to_owned(),
                source,
            })
    }

    /// Syncs the WAL to disk and flushes every memtable to SST files: after it returns, all
    /// commits survive power loss and the next open replays no WAL.
    pub fn flush(&self) -> Result<(), StorageError> {
        let flush_err = |source| StorageError::Write {
            what: "flush".to_owned(),
            source,
        };
        self.db.flush_wal(true).map_err(flush_err)?;
        let cfs = Table::ALL
            .iter()
            .map(|t| self.cf(*t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut opts = FlushOptions::default();
        opts.set_wait(true);
        self.db.flush_cfs_opt(&cfs, &opts).map_err(flush_err)
    }

    /// Estimated keys and size of every table.
    pub fn stats(&self) -> Result<Vec<TableStats>, StorageError> {
        Table::ALL
            .iter()
            .map(|table| {
                let cf = self.cf(*table)?;
                let int = |name| {
                    self.db
                        .property_int_value_cf(cf, name)
                        .map(Option::unwrap_or_default)
                        .map_err(|source| StorageError::Read {
                            table: *table,
                            source,
                        })
                };
                let sst = int(properties::TOTAL_SST_FILES_SIZE)?;
                let mem = int(properties::CUR_SIZE_ALL_MEM_TABLES)?;
                Ok(TableStats {
                    name: table.name(),
                    estimated_keys: int(properties::ESTIMATE_NUM_KEYS)?,
                    // Saturating: a statistic, and two u64 byte counts cannot really overflow.
                    size_bytes: sst.saturating_add(mem),
                })
            })
            .collect()
    }
}

/// RocksDB's compaction and size properties, for the node's metrics.
impl spectrum_storage_api::EngineStatsSource for Database {
    fn engine_stats(
        &self,
    ) -> spectrum_storage_api::ProviderResult<spectrum_storage_api::EngineStats> {
        Ok(self.compaction_stats()?)
    }
}

impl Database {
    /// Running compactions and, per table, live data, SST bytes and pending compaction bytes.
    pub fn compaction_stats(&self) -> Result<spectrum_storage_api::EngineStats, StorageError> {
        let read_err = |table: Table| move |source| StorageError::Read { table, source };
        let running = self
            .db
            .property_int_value(properties::NUM_RUNNING_COMPACTIONS)
            .map_err(read_err(Table::Meta))?
            .unwrap_or_default();
        let tables = Table::ALL
            .iter()
            .map(|table| {
                let cf = self.cf(*table)?;
                let int = |name| {
                    self.db
                        .property_int_value_cf(cf, name)
                        .map(Option::unwrap_or_default)
                        .map_err(read_err(*table))
                };
                Ok(spectrum_storage_api::TableEngineStats {
                    table: table.name(),
                    live_data_bytes: int(properties::ESTIMATE_LIVE_DATA_SIZE)?,
                    sst_bytes: int(properties::TOTAL_SST_FILES_SIZE)?,
                    pending_compaction_bytes: int(properties::ESTIMATE_PENDING_COMPACTION_BYTES)?,
                })
            })
            .collect::<Result<_, StorageError>>()?;
        Ok(spectrum_storage_api::EngineStats {
            running_compactions: running,
            tables,
        })
    }
}

/// Database-wide options.
fn db_options() -> Options {
    let mut opts = Options::default();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    opts.increase_parallelism(i32::try_from(threads).unwrap_or(i32::MAX));
    // After a crash, recover every complete batch up to the first damaged WAL record and stop
    // there: a consistent prefix of the commits.
    opts.set_wal_recovery_mode(DBRecoveryMode::PointInTime);
    opts.set_keep_log_file_num(5);
    opts
}

/// Options of one column family.
fn table_options(table: Table, cache: &Cache) -> Options {
    let mut block = BlockBasedOptions::default();
    block.set_block_cache(cache);
    if table.point_lookups() {
        block.set_bloom_filter(BLOOM_BITS_PER_KEY, false);
    }
    let mut opts = Options::default();
    opts.set_block_based_table_factory(&block);
    // lz4 for hot levels (fast), zstd for the bottom level where most bytes live.
    opts.set_compression_type(DBCompressionType::Lz4);
    opts.set_bottommost_compression_type(DBCompressionType::Zstd);
    opts.set_level_compaction_dynamic_level_bytes(true);
    opts
}
