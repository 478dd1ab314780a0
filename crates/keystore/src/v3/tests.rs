//! The v3 format against public vectors, and every way a file can be bad.

use serde_json::{Value, json};

use super::*;

const SPEC_PASSWORD: &str = "testpassword";
const SPEC_SECRET: &str = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";

/// The Web3 Secret Storage Definition's scrypt test vector.
fn spec_scrypt_vector() -> Value {
    json!({
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": "83dbcc02d8ccb40e466191a123791e0e" },
            "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32, "n": 262144, "r": 1, "p": 8,
                "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"
            },
            "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    })
}

/// The same spec's pbkdf2 test vector (same key and password).
fn spec_pbkdf2_vector() -> Value {
    json!({
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": "6087dab2f9fdbbfaddc31a909735c1e6" },
            "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
            "kdf": "pbkdf2",
            "kdfparams": {
                "c": 262144, "dklen": 32, "prf": "hmac-sha256",
                "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"
            },
            "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    })
}

/// A key file written by go-ethereum (its "very light scrypt" test file: n = 2, with the
/// `address` field geth adds), password "".
fn geth_written_file() -> Value {
    json!({
        "address": "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8",
        "crypto": {
            "cipher": "aes-128-ctr",
            "ciphertext": "b87781948a1befd247bff51ef4063f716cf6c2d3481163e9a8f42e1f9bb74145",
            "cipherparams": { "iv": "dc4926b48a105133d2f16b96833abf1e" },
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32, "n": 2, "p": 1, "r": 8,
                "salt": "004244bbdc51cadda545b1cfa43cff9ed2ae88e08c61f1479dbb45410722f8f0"
            },
            "mac": "39990c1684557447940d4c69e06b1b82b2aceacb43f284df65c956daf3046b85"
        },
        "id": "ce541d8d-c79b-40f8-9f8c-20f59616faba",
        "version": 3
    })
}

/// A key file written by ethers v6 (`encryptKeystoreJsonSync`, n = 4096) for the key 0x46…46,
/// password "ethers password". ethers spells the section `Crypto`.
fn ethers_written_file() -> Value {
    json!({
        "address": "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f",
        "id": "8fee1b6f-cff5-4cb8-88d9-a830956a6114",
        "version": 3,
        "Crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": "93e4a69d064a07525769ec81b5281130" },
            "ciphertext": "7c14d156126eee37ea0ffa43ca51f0c88da0a955987178574211d0cb493cdca6",
            "kdf": "scrypt",
            "kdfparams": {
                "salt": "6a5e1c1927548088b7a7b0aa17616f73671bd880a273317d630a90d143c7de06",
                "n": 4096, "dklen": 32, "p": 1, "r": 8
            },
            "mac": "8cdce55c97e6f5d5fecb21a8993c27be1877ec5f05802521d27c8a76a5ed3d9e"
        }
    })
}

fn path() -> &'static Path {
    Path::new("/test/key.json")
}

fn decrypt_value(file: &Value, password: &str) -> Result<ValidatorKey, KeystoreError> {
    decrypt(
        &serde_json::to_vec(file).unwrap(),
        password.as_bytes(),
        path(),
    )
}

fn secret_hex(key: &ValidatorKey) -> String {
    hex::encode(key.secret_key().secret_bytes())
}

/// Applies `edit` to a copy of `file` and returns the decryption error.
fn error_after(file: &Value, password: &str, edit: impl FnOnce(&mut Value)) -> KeystoreError {
    let mut file = file.clone();
    edit(&mut file);
    decrypt_value(&file, password).expect_err("the edited file must be refused")
}

/// A change to a copy of a key file.
type Edit = Box<dyn FnOnce(&mut Value)>;

fn is_malformed(err: &KeystoreError, needle: &str) -> bool {
    matches!(err, KeystoreError::MalformedKeyFile { reason, .. } if reason.contains(needle))
}

#[test]
fn spec_scrypt_vector_decrypts() {
    let key = decrypt_value(&spec_scrypt_vector(), SPEC_PASSWORD).unwrap();
    assert_eq!(secret_hex(&key), SPEC_SECRET);
}

#[test]
fn spec_pbkdf2_vector_decrypts() {
    let key = decrypt_value(&spec_pbkdf2_vector(), SPEC_PASSWORD).unwrap();
    assert_eq!(secret_hex(&key), SPEC_SECRET);
}

/// With the vector's salt, IV and parameters, our writer produces the vector's ciphertext and
/// MAC: files we write are the files the spec (and so geth and ethers) defines.
#[test]
fn our_encryption_reproduces_the_spec_vector() {
    let secret: [u8; 32] = hex::decode(SPEC_SECRET).unwrap().try_into().unwrap();
    let key = ValidatorKey::from_secret_bytes(&secret).unwrap();
    let vector = spec_scrypt_vector();
    let salt = hex::decode(vector["crypto"]["kdfparams"]["salt"].as_str().unwrap()).unwrap();
    let iv: [u8; 16] = hex::decode(vector["crypto"]["cipherparams"]["iv"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let params = ScryptParams::bounded(262_144, 1, 8).unwrap();
    let out = encrypt_with(&key, SPEC_PASSWORD.as_bytes(), params, &salt, &iv, "id").unwrap();
    let out = serde_json::to_value(&out).unwrap();
    assert_eq!(out["crypto"]["ciphertext"], vector["crypto"]["ciphertext"]);
    assert_eq!(out["crypto"]["mac"], vector["crypto"]["mac"]);
    assert_eq!(out["crypto"]["kdfparams"], vector["crypto"]["kdfparams"]);
    assert_eq!(out["crypto"]["cipher"], "aes-128-ctr");
    assert_eq!(out["crypto"]["kdf"], "scrypt");
    assert_eq!(out["version"], 3);
    assert_eq!(out["address"], hex::encode(key.address()));
}

#[test]
fn geth_written_file_decrypts_and_names_its_address() {
    let file = geth_written_file();
    let key = decrypt_value(&file, "").unwrap();
    assert_eq!(
        key.address(),
        "0x45dea0fb0bba44f4fcf290bba71fd57d7117cbb8"
            .parse::<Address>()
            .unwrap()
    );
    assert_eq!(
        address_of(&serde_json::to_vec(&file).unwrap()).unwrap(),
        key.address()
    );
    let err = decrypt_value(&file, "bad").unwrap_err();
    assert!(matches!(err, KeystoreError::WrongPassword { .. }), "{err}");
}

#[test]
fn ethers_written_file_decrypts() {
    let key = decrypt_value(&ethers_written_file(), "ethers password").unwrap();
    assert_eq!(secret_hex(&key), "46".repeat(32));
    let err = decrypt_value(&ethers_written_file(), "ethers Password").unwrap_err();
    assert!(matches!(err, KeystoreError::WrongPassword { .. }), "{err}");
}

#[test]
fn roundtrip_with_light_parameters_and_geth_field_layout() {
    let key = ValidatorKey::random().unwrap();
    let json = encrypt(&key, b"correct horse", ScryptParams::LIGHT).unwrap();
    let value: Value = serde_json::from_slice(&json).unwrap();
    let params = &value["crypto"]["kdfparams"];
    assert_eq!(
        (
            params["n"].as_u64(),
            params["r"].as_u64(),
            params["p"].as_u64()
        ),
        (Some(4096), Some(8), Some(6))
    );
    assert_eq!(params["dklen"], 32);
    assert_eq!(params["salt"].as_str().unwrap().len(), 64);
    assert_eq!(
        value["crypto"]["cipherparams"]["iv"]
            .as_str()
            .unwrap()
            .len(),
        32
    );
    assert_eq!(value["address"], hex::encode(key.address()));
    let back = decrypt(&json, b"correct horse", path()).unwrap();
    assert_eq!(back.secret_key(), key.secret_key());
    // Fresh salt and IV each time: the same key never encrypts to the same file.
    let again = encrypt(&key, b"correct horse", ScryptParams::LIGHT).unwrap();
    assert_ne!(json, again);
}

#[test]
fn wrong_password_is_reported_in_geths_words() {
    let err = decrypt_value(&geth_written_file(), "wrong").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("could not decrypt key with given password"),
        "{err}"
    );
    assert!(err.to_string().contains("/test/key.json"), "{err}");
}

/// A flipped bit in the ciphertext or MAC fails the MAC check: nothing is decrypted.
#[test]
fn tampered_ciphertext_or_mac_is_refused() {
    let file = geth_written_file();
    for field in ["ciphertext", "mac"] {
        let err = error_after(&file, "", |f| {
            let text = f["crypto"][field].as_str().unwrap().to_owned();
            let flipped = if text.starts_with('b') { "c" } else { "b" };
            f["crypto"][field] = Value::String(format!("{flipped}{}", &text[1..]));
        });
        assert!(
            matches!(err, KeystoreError::WrongPassword { .. }),
            "{field}: {err}"
        );
    }
}

#[test]
fn address_that_does_not_match_the_key_is_refused() {
    let err = error_after(&geth_written_file(), "", |f| {
        f["address"] = json!("7ef5a6135f1fd6a02593eedc869c6d41d934aef8");
    });
    assert!(matches!(err, KeystoreError::KeyMismatch { .. }), "{err}");
}

#[test]
fn capitalised_crypto_field_is_accepted() {
    let mut file = geth_written_file();
    let crypto = file.as_object_mut().unwrap().remove("crypto").unwrap();
    file["Crypto"] = crypto;
    assert!(decrypt_value(&file, "").is_ok());
}

#[test]
fn malformed_files_are_refused_with_the_reason() {
    let file = geth_written_file();
    let cases: Vec<(&str, Edit)> = vec![
        ("version 1", Box::new(|f| f["version"] = json!(1))),
        (
            "cipher aes-128-cbc",
            Box::new(|f| f["crypto"]["cipher"] = json!("aes-128-cbc")),
        ),
        (
            "kdf bcrypt",
            Box::new(|f| f["crypto"]["kdf"] = json!("bcrypt")),
        ),
        (
            "iv has 15 bytes",
            Box::new(|f| f["crypto"]["cipherparams"]["iv"] = json!("00".repeat(15))),
        ),
        (
            "mac has 31 bytes",
            Box::new(|f| f["crypto"]["mac"] = json!("00".repeat(31))),
        ),
        (
            "ciphertext is not hex",
            Box::new(|f| f["crypto"]["ciphertext"] = json!("zz")),
        ),
        (
            "salt is not hex",
            Box::new(|f| f["crypto"]["kdfparams"]["salt"] = json!("0x0g")),
        ),
        (
            "dklen = 16",
            Box::new(|f| f["crypto"]["kdfparams"]["dklen"] = json!(16)),
        ),
        (
            "n = 3",
            Box::new(|f| f["crypto"]["kdfparams"]["n"] = json!(3)),
        ),
        (
            "r and p",
            Box::new(|f| f["crypto"]["kdfparams"]["r"] = json!(0)),
        ),
        (
            "kdfparams.p missing",
            Box::new(|f| {
                f["crypto"]["kdfparams"]
                    .as_object_mut()
                    .unwrap()
                    .remove("p");
            }),
        ),
        (
            "address has 19 bytes",
            Box::new(|f| f["address"] = json!("00".repeat(19))),
        ),
        (
            "not a v3 key file",
            Box::new(|f| f["crypto"]["kdfparams"]["n"] = json!(-1)),
        ),
        (
            "not a v3 key file",
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("crypto");
            }),
        ),
    ];
    for (needle, edit) in cases {
        let err = error_after(&file, "", edit);
        assert!(is_malformed(&err, needle), "want `{needle}`, got: {err}");
        assert!(err.to_string().contains("/test/key.json"), "{err}");
    }
    for junk in [&b""[..], b"{", b"[]", b"null", b"\xff\xfe"] {
        let err = decrypt(junk, b"", path()).unwrap_err();
        assert!(is_malformed(&err, "not a v3 key file"), "{err}");
    }
}

/// KDF parameters that would cost gigabytes or minutes are refused before any work is done.
#[test]
fn kdf_parameters_are_bounded_before_deriving() {
    let file = geth_written_file();
    let expensive: Vec<(&str, Edit)> = vec![
        (
            "bytes",
            Box::new(|f| f["crypto"]["kdfparams"]["n"] = json!(1u64 << 31)),
        ),
        (
            "bytes",
            Box::new(|f| f["crypto"]["kdfparams"]["r"] = json!(u64::MAX)),
        ),
        (
            "is above",
            Box::new(|f| {
                f["crypto"]["kdfparams"]["n"] = json!(1u64 << 18);
                f["crypto"]["kdfparams"]["p"] = json!(1u64 << 20);
            }),
        ),
        (
            "is above",
            Box::new(|f| f["crypto"]["kdfparams"]["p"] = json!(u64::MAX)),
        ),
        (
            "longer than",
            Box::new(|f| f["crypto"]["kdfparams"]["salt"] = json!("00".repeat(2000))),
        ),
    ];
    for (needle, edit) in expensive {
        let err = error_after(&file, "", edit);
        assert!(is_malformed(&err, needle), "want `{needle}`, got: {err}");
    }
    let pbkdf2 = spec_pbkdf2_vector();
    for c in [json!(0), json!(1u64 << 25), json!(u64::MAX)] {
        let err = error_after(&pbkdf2, SPEC_PASSWORD, |f| {
            f["crypto"]["kdfparams"]["c"] = c
        });
        assert!(is_malformed(&err, "kdfparams.c"), "{err}");
    }
    let err = error_after(&pbkdf2, SPEC_PASSWORD, |f| {
        f["crypto"]["kdfparams"]["prf"] = json!("hmac-sha1");
    });
    assert!(is_malformed(&err, "prf"), "{err}");
}

#[test]
fn a_key_that_is_not_32_bytes_is_refused() {
    // 31 bytes encrypted with a keystream: the length check comes before any decryption.
    let err = error_after(&geth_written_file(), "", |f| {
        f["crypto"]["ciphertext"] = json!("11".repeat(31));
    });
    assert!(
        matches!(err, KeystoreError::WrongKeyLength { got: 31, .. }),
        "{err}"
    );
}

#[test]
fn ids_are_version_4_uuids() {
    let id = uuid_v4([0xff; 16]);
    assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    let id = uuid_v4([0; 16]);
    assert_eq!(id, "00000000-0000-4000-8000-000000000000");
}

#[test]
fn standard_and_light_parameters_are_geths() {
    let standard = ScryptParams::STANDARD;
    assert_eq!((standard.n(), standard.r(), standard.p()), (262_144, 8, 1));
    let light = ScryptParams::LIGHT;
    assert_eq!((light.n(), light.r(), light.p()), (4096, 8, 6));
    assert!(ScryptParams::bounded(standard.n(), 8, 1).is_ok());
}
