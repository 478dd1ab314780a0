//! `spectrum account new|import|list|update`: validator keys as v3 keystore files in
//! `<datadir>/keystore` (geth's layout, so keys move between geth and us), and [`key_source`],
//! which turns the node's key flags into a [`KeySource`].
//!
//! Passwords come from `--password FILE` (first line) or, on a terminal, are typed (twice for
//! a new one). With neither, the command fails instead of waiting on a pipe.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
};

use alloy_primitives::Address;
use eyre::WrapErr;
use spectrum_keystore::{
    KeySource, Keystore, ScryptParams, keystore_dir, read_password_file, read_plain_key_file,
};

use crate::{
    cli::{AccountCommand, AccountKdfArgs, Cli},
    datadir::DataDir,
};

/// Runs an `account` subcommand on the keystore of `datadir`.
pub fn run(
    datadir: &DataDir,
    command: &AccountCommand,
    password_file: Option<&Path>,
) -> eyre::Result<()> {
    let dir = keystore_dir(datadir.path());
    match command {
        AccountCommand::New(kdf) => {
            let password = new_password(password_file)?;
            let keystore = open(&dir, kdf);
            let address = keystore.create(&password)?;
            print_stored(&keystore, address)
        }
        AccountCommand::Import { keyfile, kdf } => {
            // The key file is checked before a password is asked for.
            let key = read_plain_key_file(keyfile)?;
            let password = new_password(password_file)?;
            let keystore = open(&dir, kdf);
            let address = keystore.import(key.secret_key().secret_bytes(), &password)?;
            print_stored(&keystore, address)
        }
        AccountCommand::List => list(&Keystore::open(&dir)),
        AccountCommand::Update {
            address,
            new_password: new_password_file,
            kdf,
        } => {
            let keystore = open(&dir, kdf);
            let password = current_password(password_file, *address)?;
            // A wrong current password fails here, before a new one is asked for.
            keystore.unlock(Some(*address), &password)?;
            let new = match new_password_file {
                Some(path) => read_password_file(path)?,
                None => typed_twice("New password: ")?,
            };
            let path = keystore.update(*address, &password, &new)?;
            println!("Updated the key of {address} in {}", path.display());
            Ok(())
        }
    }
}

/// The node key's source from the flags: `--validator.insecure-plain-key FILE`, `--dev.key HEX`,
/// or the keystore of `datadir` unlocked with `--password FILE` (the key of `--unlock ADDRESS`,
/// or the only one). `None` if no flag names a key.
pub fn key_source(cli: &Cli, datadir: &DataDir) -> Option<KeySource> {
    let flags = &cli.validator_key;
    if let Some(path) = &flags.insecure_plain_key {
        return Some(KeySource::PlainHexFile(path.clone()));
    }
    if let Some(hex) = &cli.produce.dev_key {
        return Some(KeySource::PlainHex(hex.clone()));
    }
    flags
        .password
        .as_ref()
        .map(|password_file| KeySource::Keystore {
            dir: keystore_dir(datadir.path()),
            address: flags.unlock,
            password_file: password_file.clone(),
        })
}

fn open(dir: &Path, kdf: &AccountKdfArgs) -> Keystore {
    let params = if kdf.lightkdf {
        ScryptParams::LIGHT
    } else {
        ScryptParams::STANDARD
    };
    Keystore::open(dir).with_scrypt_params(params)
}

/// `Account #i: {address} keystore:///absolute/path`, one line per key, as geth lists them.
fn list(keystore: &Keystore) -> eyre::Result<()> {
    let keys = keystore.list()?;
    if keys.is_empty() {
        eprintln!("No keys in the keystore {}", keystore.dir().display());
    }
    for (index, (address, path)) in keys.iter().enumerate() {
        println!(
            "Account #{index}: {{{address}}} keystore://{}",
            absolute(path).display()
        );
    }
    Ok(())
}

fn print_stored(keystore: &Keystore, address: Address) -> eyre::Result<()> {
    let path = keystore.find(address)?;
    println!("Address:  {address}");
    println!("Key file: {}", absolute(&path).display());
    println!("Keep the password: without it the key cannot be decrypted.");
    Ok(())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The password for a new key file: `--password FILE`, or typed twice on a terminal.
pub(crate) fn new_password(password_file: Option<&Path>) -> eyre::Result<String> {
    match password_file {
        Some(path) => Ok(read_password_file(path)?),
        None => typed_twice("Password: "),
    }
}

/// The current password of `address`: `--password FILE`, or typed once on a terminal.
pub(crate) fn current_password(
    password_file: Option<&Path>,
    address: Address,
) -> eyre::Result<String> {
    match password_file {
        Some(path) => Ok(read_password_file(path)?),
        None => typed(&format!("Password of {address}: ")),
    }
}

fn typed_twice(prompt: &str) -> eyre::Result<String> {
    let password = typed(prompt)?;
    if typed("Repeat the password: ")? != password {
        eyre::bail!("the passwords do not match");
    }
    Ok(password)
}

fn typed(prompt: &str) -> eyre::Result<String> {
    if !std::io::stdin().is_terminal() {
        eyre::bail!("no password: pass --password FILE (stdin is not a terminal to type it on)");
    }
    rpassword::prompt_password(prompt).wrap_err("cannot read the password from the terminal")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    const ADDRESS: &str = "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f";

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("spectrum").chain(args.iter().copied()))
    }

    fn source(args: &[&str]) -> Option<KeySource> {
        let datadir = DataDir::resolve(
            Some(Path::new("/data")),
            &spectrum_chainspec::ChainSelector::Builtin("mainnet"),
        )
        .unwrap();
        key_source(&parse(args).unwrap(), &datadir)
    }

    #[test]
    fn no_key_flag_no_source() {
        assert!(source(&[]).is_none());
    }

    #[test]
    fn password_and_unlock_select_a_keystore_key() {
        match source(&["--password", "pw.txt", "--unlock", ADDRESS]) {
            Some(KeySource::Keystore {
                dir,
                address,
                password_file,
            }) => {
                assert_eq!(dir, Path::new("/data/keystore"));
                assert_eq!(address, Some(ADDRESS.parse().unwrap()));
                assert_eq!(password_file, Path::new("pw.txt"));
            }
            other => panic!("{other:?}"),
        }
        match source(&["--password", "pw.txt"]) {
            Some(KeySource::Keystore { address: None, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plain_key_flags_select_plain_sources() {
        match source(&["--validator.insecure-plain-key", "key.hex"]) {
            Some(KeySource::PlainHexFile(path)) => assert_eq!(path, Path::new("key.hex")),
            other => panic!("{other:?}"),
        }
        let hex = "46".repeat(32);
        match source(&["--dev", "--dev.key", &hex]) {
            Some(KeySource::PlainHex(text)) => assert_eq!(text, hex),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn contradictory_or_incomplete_key_flags_are_refused() {
        for args in [
            &["--unlock", ADDRESS][..],
            &["--unlock", "not-an-address", "--password", "p"],
            &[
                "--unlock",
                ADDRESS,
                "--password",
                "p",
                "--validator.insecure-plain-key",
                "k",
            ],
            &[
                "--dev",
                "--dev.key",
                "46",
                "--validator.insecure-plain-key",
                "k",
            ],
        ] {
            assert!(parse(args).is_err(), "{args:?} must be refused");
        }
    }

    #[test]
    fn password_is_accepted_after_account_subcommands() {
        let cli = parse(&["account", "new", "--password", "pw.txt", "--lightkdf"]).unwrap();
        assert_eq!(
            cli.validator_key.password.as_deref(),
            Some(Path::new("pw.txt"))
        );
    }
}
