//! `spectrum account new|import|list|update`, run as a real process on a temporary datadir.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use alloy_primitives::Address;

/// The key 0x46…46 (EIP-155's example) and its address.
const KEY_46: &str = "0x4646464646464646464646464646464646464646464646464646464646464646";
const ADDRESS_46: &str = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";

struct Datadir {
    dir: tempfile::TempDir,
}

impl Datadir {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `spectrum <args> --datadir <this>` with no terminal on stdin.
    fn spectrum(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_spectrum"))
            .args(args)
            .arg("--datadir")
            .arg(self.dir.path())
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("spawn spectrum")
    }

    /// A file in the temporary directory (beside the datadir's contents).
    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn keystore(&self) -> PathBuf {
        self.dir.path().join("keystore")
    }

    /// The accounts `account list` prints, with their key files.
    fn list(&self) -> Vec<(Address, PathBuf)> {
        let out = self.spectrum(&["account", "list"]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .enumerate()
            .map(|(index, line)| parse_list_line(index, line))
            .collect()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `Account #i: {0x…} keystore:///path`.
fn parse_list_line(index: usize, line: &str) -> (Address, PathBuf) {
    let rest = line
        .strip_prefix(&format!("Account #{index}: {{"))
        .unwrap_or_else(|| panic!("bad list line: {line}"));
    let (address, url) = rest.split_once("} ").expect(line);
    let path = url.strip_prefix("keystore://").expect(line);
    assert!(path.starts_with('/'), "absolute path: {line}");
    (address.parse().expect(line), PathBuf::from(path))
}

/// The `Address:` line of `account new` / `account import`.
fn printed_address(out: &Output) -> Address {
    assert!(out.status.success(), "{}", stderr(out));
    let text = stdout(out);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Address:"))
        .unwrap_or_else(|| panic!("no address in: {text}"));
    line.trim().parse().unwrap()
}

/// The command failed with exactly one line on stderr, an `error:` line, which it returns.
fn one_error_line(out: &Output) -> String {
    assert!(!out.status.success(), "must fail: {}", stdout(out));
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].to_lowercase().starts_with("error:"),
        "an error line: {err}"
    );
    lines[0].to_owned()
}

fn kdfparams(path: &Path) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    json["crypto"]["kdfparams"].clone()
}

#[test]
fn new_keys_are_listed_in_creation_order() {
    let data = Datadir::new();
    let password = data.file("pw", "first password\n");
    assert!(data.list().is_empty());
    let first =
        printed_address(&data.spectrum(&["account", "new", "--password", &password, "--lightkdf"]));
    let second =
        printed_address(&data.spectrum(&["--password", &password, "account", "new", "--lightkdf"]));
    assert_ne!(first, second);
    let listed = data.list();
    assert_eq!(
        listed.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        vec![first, second]
    );
    for (address, path) in &listed {
        assert_eq!(path.parent().unwrap(), data.keystore());
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("UTC--"), "{name}");
        assert!(
            name.ends_with(&format!("--{}", alloy_primitives::hex::encode(address))),
            "{name}"
        );
        assert_eq!(kdfparams(path)["n"], 4096);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }
}

/// Without --lightkdf, `account new` uses geth's standard scrypt (n = 2^18, r = 8, p = 1).
#[test]
fn new_uses_geths_standard_scrypt() {
    let data = Datadir::new();
    let password = data.file("pw", "a password");
    let address = printed_address(&data.spectrum(&["account", "new", "--password", &password]));
    let (listed, path) = data.list().remove(0);
    assert_eq!(listed, address);
    let params = kdfparams(&path);
    assert_eq!(
        (
            params["n"].as_u64(),
            params["r"].as_u64(),
            params["p"].as_u64()
        ),
        (Some(262_144), Some(8), Some(1))
    );
}

#[test]
fn import_update_and_their_errors() {
    let data = Datadir::new();
    let key = data.file("key.hex", &format!("{KEY_46}\n"));
    let password = data.file("pw", "old password\n");
    let new_password = data.file("new-pw", "new password\n");
    let import = |password: &str| {
        data.spectrum(&[
            "account",
            "import",
            &key,
            "--password",
            password,
            "--lightkdf",
        ])
    };
    let address = printed_address(&import(&password));
    assert_eq!(address, ADDRESS_46.parse::<Address>().unwrap());
    assert_eq!(data.list().len(), 1);

    let again = one_error_line(&import(&password));
    assert!(again.contains("account already exists"), "{again}");

    let update = |current: &str| {
        data.spectrum(&[
            "account",
            "update",
            ADDRESS_46,
            "--password",
            current,
            "--new-password",
            &new_password,
            "--lightkdf",
        ])
    };
    let wrong = one_error_line(&update(&new_password));
    assert!(
        wrong.contains("could not decrypt key with given password"),
        "{wrong}"
    );
    let out = update(&password);
    assert!(out.status.success(), "{}", stderr(&out));
    // The old password no longer opens the key; the new one does.
    let wrong = one_error_line(&update(&password));
    assert!(
        wrong.contains("could not decrypt key with given password"),
        "{wrong}"
    );
    let out = update(&new_password);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(data.list().len(), 1);
}

#[test]
fn missing_keys_passwords_and_bad_key_files_fail_with_one_error_line() {
    let data = Datadir::new();
    let password = data.file("pw", "pw");
    let missing = one_error_line(&data.spectrum(&[
        "account",
        "update",
        ADDRESS_46,
        "--password",
        &password,
        "--new-password",
        &password,
    ]));
    assert!(missing.contains("no key for account"), "{missing}");
    assert!(missing.contains(ADDRESS_46), "{missing}");

    // No --password and no terminal to type one on.
    let no_password = one_error_line(&data.spectrum(&["account", "new", "--lightkdf"]));
    assert!(no_password.contains("--password FILE"), "{no_password}");

    let absent = data.dir.path().join("absent").to_str().unwrap().to_owned();
    let unreadable = one_error_line(&data.spectrum(&["account", "new", "--password", &absent]));
    assert!(
        unreadable.contains("cannot read password file"),
        "{unreadable}"
    );

    let short = data.file("short.hex", &"46".repeat(31));
    let out = data.spectrum(&["account", "import", &short, "--password", &password]);
    let line = one_error_line(&out);
    assert!(line.contains("wrong key length"), "{line}");
    let junk = data.file("junk.hex", "hello");
    let out = data.spectrum(&["account", "import", &junk, "--password", &password]);
    let line = one_error_line(&out);
    assert!(line.contains("not a hex private key"), "{line}");
    assert!(data.list().is_empty(), "nothing was stored");
}
