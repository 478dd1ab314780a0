//! The keystore directory: names, permissions, listing, choosing and unlocking keys.

use std::time::Duration;

use super::*;

const KEY_46: [u8; 32] = [0x46; 32];
const KEY_47: [u8; 32] = [0x47; 32];

fn keystore(dir: &Path) -> Keystore {
    Keystore::open(keystore_dir(dir)).with_scrypt_params(ScryptParams::LIGHT)
}

fn address_of_secret(secret: &[u8; 32]) -> Address {
    ValidatorKey::from_secret_bytes(secret).unwrap().address()
}

#[test]
fn file_names_are_geths() {
    // The name of a key file in go-ethereum's own test data, rebuilt from its time.
    let time = UNIX_EPOCH + Duration::new(1_458_651_475, 920_751_759);
    let address: Address = "0x7ef5a6135f1fd6a02593eedc869c6d41d934aef8"
        .parse()
        .unwrap();
    assert_eq!(
        key_file_name(time, address),
        "UTC--2016-03-22T12-57-55.920751759Z--7ef5a6135f1fd6a02593eedc869c6d41d934aef8"
    );
    assert!(
        key_file_name(UNIX_EPOCH, Address::ZERO)
            .starts_with("UTC--1970-01-01T00-00-00.000000000Z--")
    );
}

#[test]
fn calendar_dates_around_leap_days_and_year_ends() {
    // Days since the epoch, checked against `date -u -d @<days*86400>`.
    for (days, want) in [
        (0, (1970, 1, 1)),
        (59, (1970, 3, 1)),
        (11_016, (2000, 2, 29)),
        (11_017, (2000, 3, 1)),
        (19_722, (2023, 12, 31)),
        (19_723, (2024, 1, 1)),
        (47_540, (2100, 2, 28)),
        (47_541, (2100, 3, 1)),
    ] {
        assert_eq!(civil_from_days(days), want, "{days}");
    }
}

#[test]
fn create_list_unlock_roundtrip() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    assert!(
        keystore.list().unwrap().is_empty(),
        "a missing directory is empty"
    );
    let address = keystore.create("pw").unwrap();
    let listed = keystore.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, address);
    let name = listed[0]
        .1
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(name.starts_with("UTC--"), "{name}");
    assert!(
        name.ends_with(&format!("Z--{}", hex::encode(address))),
        "{name}"
    );
    let key = keystore.unlock(None, "pw").unwrap();
    assert_eq!(key.address(), address);
    let key = keystore.unlock(Some(address), "pw").unwrap();
    assert_eq!(key.address(), address);
    // The file on disk holds no plain key.
    let on_disk = fs::read_to_string(&listed[0].1).unwrap();
    assert!(!on_disk.contains(&hex::encode(key.secret_key().secret_bytes())));
}

#[cfg(unix)]
#[test]
fn files_are_0600_in_a_0700_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(&dir.path().join("new-datadir"));
    keystore.create("pw").unwrap();
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(keystore.dir()), 0o700);
    let (address, path) = keystore.list().unwrap().remove(0);
    assert_eq!(mode(&path), 0o600);
    keystore.update(address, "pw", "new").unwrap();
    assert_eq!(mode(&path), 0o600, "a re-encrypted file keeps its mode");
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(keystore.dir()).unwrap().count(), 1);
}

#[test]
fn import_stores_the_given_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let address = keystore.import(KEY_46, "pw").unwrap();
    assert_eq!(address, address_of_secret(&KEY_46));
    let key = keystore.unlock(Some(address), "pw").unwrap();
    assert_eq!(key.secret_key().secret_bytes(), KEY_46);
    let err = keystore.import(KEY_46, "other").unwrap_err();
    assert!(matches!(err, KeystoreError::AlreadyExists { .. }), "{err}");
    assert!(
        err.to_string().starts_with("account already exists"),
        "{err}"
    );
    assert_eq!(keystore.list().unwrap().len(), 1);
    let err = keystore.import([0; 32], "pw").unwrap_err();
    assert!(
        matches!(err, KeystoreError::InvalidSecretKey { .. }),
        "{err}"
    );
}

#[test]
fn wrong_password_decrypts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let address = keystore.import(KEY_46, "right").unwrap();
    for attempt in [None, Some(address)] {
        let err = keystore.unlock(attempt, "wrong").unwrap_err();
        assert!(matches!(err, KeystoreError::WrongPassword { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("could not decrypt key with given password"),
            "{err}"
        );
    }
}

#[test]
fn choosing_among_keys() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let err = keystore.unlock(None, "pw").unwrap_err();
    assert!(matches!(err, KeystoreError::NoKeys { .. }), "{err}");
    assert!(err.to_string().contains("spectrum account new"), "{err}");

    let first = keystore.import(KEY_46, "pw").unwrap();
    let second = keystore.import(KEY_47, "pw2").unwrap();
    let err = keystore.unlock(None, "pw").unwrap_err();
    match &err {
        KeystoreError::SeveralKeys { addresses, .. } => {
            assert_eq!(addresses.len(), 2);
            assert!(addresses.contains(&first) && addresses.contains(&second));
        }
        other => panic!("want SeveralKeys, got {other}"),
    }
    assert!(err.to_string().contains("--unlock"), "{err}");
    assert_eq!(
        keystore.unlock(Some(second), "pw2").unwrap().address(),
        second
    );
    assert_eq!(keystore.unlock(Some(first), "pw").unwrap().address(), first);

    let stranger = address_of_secret(&[0x48; 32]);
    let err = keystore.unlock(Some(stranger), "pw").unwrap_err();
    assert!(
        matches!(err, KeystoreError::NoSuchAccount { address, .. } if address == stranger),
        "{err}"
    );
}

#[test]
fn two_files_of_one_account_are_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let address = keystore.import(KEY_46, "pw").unwrap();
    let (_, path) = keystore.list().unwrap().remove(0);
    fs::copy(&path, keystore.dir().join("copy-of-the-key")).unwrap();
    let err = keystore.unlock(Some(address), "pw").unwrap_err();
    assert!(
        matches!(err, KeystoreError::AmbiguousAccount { ref paths, .. } if paths.len() == 2),
        "{err}"
    );
}

/// Listing skips what geth skips; unlocking a file that lists but does not parse names it.
#[test]
fn non_key_files_are_skipped_and_corrupt_keys_reported() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let address = keystore.import(KEY_46, "pw").unwrap();
    let ks = keystore.dir();
    fs::write(ks.join(".hidden"), b"{}").unwrap();
    fs::write(ks.join("backup~"), b"{}").unwrap();
    fs::write(ks.join("README"), b"not json").unwrap();
    fs::write(ks.join("empty"), b"").unwrap();
    fs::write(ks.join("no-address"), br#"{"crypto":{}}"#).unwrap();
    fs::write(ks.join("huge"), vec![b' '; MAX_KEY_FILE_BYTES as usize + 1]).unwrap();
    fs::create_dir(ks.join("subdir")).unwrap();
    let listed = keystore.list().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(keystore.unlock(None, "pw").unwrap().address(), address);

    // A key file whose address parses but whose crypto section is cut off.
    let corrupt = ks.join("corrupt");
    let other = address_of_secret(&KEY_47);
    fs::write(
        &corrupt,
        format!(
            r#"{{"address":"{}","crypto":{{"cipher":"aes-128-ctr"}},"version":3}}"#,
            hex::encode(other)
        ),
    )
    .unwrap();
    let err = keystore.unlock(Some(other), "pw").unwrap_err();
    assert!(
        matches!(err, KeystoreError::MalformedKeyFile { ref path, .. } if *path == corrupt),
        "{err}"
    );

    let err = decrypt_key_file(&ks.join("huge"), "pw").unwrap_err();
    assert!(matches!(err, KeystoreError::FileTooLarge { .. }), "{err}");
    let err = decrypt_key_file(&ks.join("absent"), "pw").unwrap_err();
    assert!(matches!(err, KeystoreError::Read { .. }), "{err}");
}

#[test]
fn update_re_encrypts_with_the_new_password() {
    let dir = tempfile::tempdir().unwrap();
    let keystore = keystore(dir.path());
    let address = keystore.import(KEY_46, "old").unwrap();
    let err = keystore.update(address, "wrong", "new").unwrap_err();
    assert!(matches!(err, KeystoreError::WrongPassword { .. }), "{err}");
    let path = keystore.update(address, "old", "new").unwrap();
    assert_eq!(keystore.list().unwrap(), vec![(address, path)]);
    assert!(matches!(
        keystore.unlock(None, "old"),
        Err(KeystoreError::WrongPassword { .. })
    ));
    assert_eq!(
        keystore
            .unlock(None, "new")
            .unwrap()
            .secret_key()
            .secret_bytes(),
        KEY_46
    );
}

/// A keystore directory geth wrote (its file names and content) is read as is.
#[test]
fn a_geth_keystore_directory_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("keystore");
    fs::create_dir(&ks).unwrap();
    let name = "UTC--2016-03-22T12-57-55.920751759Z--45dea0fb0bba44f4fcf290bba71fd57d7117cbb8";
    fs::write(ks.join(name), r#"{"address":"45dea0fb0bba44f4fcf290bba71fd57d7117cbb8","crypto":{"cipher":"aes-128-ctr","ciphertext":"b87781948a1befd247bff51ef4063f716cf6c2d3481163e9a8f42e1f9bb74145","cipherparams":{"iv":"dc4926b48a105133d2f16b96833abf1e"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":2,"p":1,"r":8,"salt":"004244bbdc51cadda545b1cfa43cff9ed2ae88e08c61f1479dbb45410722f8f0"},"mac":"39990c1684557447940d4c69e06b1b82b2aceacb43f284df65c956daf3046b85"},"id":"ce541d8d-c79b-40f8-9f8c-20f59616faba","version":3}"#).unwrap();
    let keystore = Keystore::open(&ks);
    let listed = keystore.list().unwrap();
    let want: Address = "0x45dea0fb0bba44f4fcf290bba71fd57d7117cbb8"
        .parse()
        .unwrap();
    assert_eq!(listed, vec![(want, ks.join(name))]);
    assert_eq!(keystore.unlock(None, "").unwrap().address(), want);
}
