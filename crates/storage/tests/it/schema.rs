//! Schema version: stamped at creation, checked at open, other versions refused untouched.

use spectrum_storage::{CURRENT_SCHEMA_VERSION, Database, StorageError, Table};

use crate::common::*;

fn raw_get(path: &std::path::Path, cf: &str, key: &[u8]) -> Option<Vec<u8>> {
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), path).unwrap();
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), path, names).unwrap();
    db.get_cf(db.cf_handle(cf).unwrap(), key).unwrap()
}

#[test]
fn new_database_has_every_table_and_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/db");
    drop(Database::open(&path).unwrap());

    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), &path).unwrap();
    for table in Table::ALL {
        assert!(
            names.iter().any(|n| n == table.name()),
            "{} missing from {names:?}",
            table.name()
        );
    }
    assert_eq!(
        raw_get(&path, "meta", b"schema_version"),
        Some(CURRENT_SCHEMA_VERSION.to_be_bytes().to_vec())
    );
    // Reopening an existing database of this version works, twice.
    drop(Database::open(&path).unwrap());
    drop(Database::open(&path).unwrap());
}

#[test]
fn other_schema_version_is_refused_with_both_versions_and_left_untouched() {
    let (dir, db) = temp_db();
    drop(db);
    raw_put(dir.path(), "meta", b"schema_version", &2u32.to_be_bytes());

    let err = Database::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::UnsupportedSchema {
                found: 2,
                supported: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "database schema version 2 is not supported by this build (supports 1)"
    );
    assert_eq!(
        raw_get(dir.path(), "meta", b"schema_version"),
        Some(2u32.to_be_bytes().to_vec())
    );
}

#[test]
fn malformed_schema_version_is_corrupt_not_misread() {
    let (dir, db) = temp_db();
    drop(db);
    raw_put(dir.path(), "meta", b"schema_version", &[0, 0, 1]);
    let err = Database::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Corrupt {
                table: Table::Meta,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("expected 4 bytes, found 3"),
        "{err}"
    );
}

#[test]
fn foreign_rocksdb_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        let db = rocksdb::DB::open(&opts, dir.path()).unwrap();
        db.put(b"someone else's", b"data").unwrap();
    }
    let err = Database::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StorageError::MissingSchemaVersion { .. }),
        "{err:?}"
    );
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), dir.path()).unwrap();
    assert_eq!(
        names,
        vec!["default".to_owned()],
        "no column family was added"
    );
}

#[test]
fn empty_rocksdb_database_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut opts = rocksdb::Options::default();
        opts.create_if_missing(true);
        drop(rocksdb::DB::open(&opts, dir.path()).unwrap());
    }
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(db.head().unwrap(), None);
    drop(db);
    assert_eq!(
        raw_get(dir.path(), "meta", b"schema_version"),
        Some(CURRENT_SCHEMA_VERSION.to_be_bytes().to_vec())
    );
}
