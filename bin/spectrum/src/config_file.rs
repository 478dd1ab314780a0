//! `--config FILE`: a TOML file holding any of the command line's flags, by their long names
//! (`"http.port" = 8545`, or nested: `[http]` / `port = 8545`). Its keys become flags placed
//! before the real ones, and the command line is parsed with every flag overriding an
//! earlier occurrence of itself, so flags given on the command line win over the file.
//! An unknown key or a value of the wrong type is one error line naming the key.
//! `spectrum dumpconfig` prints the effective configuration in the same format: fed back with
//! `--config`, it gives the same configuration.

use std::{ffi::OsString, path::Path};

use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches};
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::cli::Cli;

/// Flags that make no sense in a file (the file itself; help and version exits).
const NOT_IN_FILE: &[&str] = &["config", "help", "version"];

/// The command line, with `--config FILE`'s flags placed before the given ones.
pub fn parse() -> eyre::Result<(Cli, ArgMatches)> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let args = match config_path(&args) {
        Some(path) => with_file_flags(args, &path)?,
        None => args,
    };
    let matches = command().get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).map_err(|e| eyre::eyre!("{e}"))?;
    Ok((cli, matches))
}

fn command() -> clap::Command {
    Cli::command().args_override_self(true)
}

/// The value of `--config FILE` / `--config=FILE` among the arguments.
fn config_path(args: &[OsString]) -> Option<std::path::PathBuf> {
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        let arg = arg.to_str()?;
        if arg == "--" {
            return None;
        }
        if arg == "--config" {
            return iter.next().map(Into::into);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(path.into());
        }
    }
    None
}

/// `args` with the file's flags inserted after the program name.
fn with_file_flags(mut args: Vec<OsString>, path: &Path) -> eyre::Result<Vec<OsString>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| eyre::eyre!("cannot read the config file {}: {e}", path.display()))?;
    let flags =
        file_flags(&text).map_err(|e| eyre::eyre!("config file {}: {e}", path.display()))?;
    let rest = args.split_off(1.min(args.len()));
    args.extend(flags.into_iter().map(OsString::from));
    args.extend(rest);
    Ok(args)
}

/// The flags a config file's text stands for.
pub fn file_flags(text: &str) -> Result<Vec<String>, String> {
    let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        format!("not TOML: {}", e.to_string().replace('\n', " "))
    })?;
    let mut pairs = Vec::new();
    flatten("", doc.as_table(), &mut pairs)?;
    let command = command();
    let mut flags = Vec::new();
    for (key, value) in pairs {
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()) && !NOT_IN_FILE.contains(&key.as_str()))
            .ok_or_else(|| format!("unknown key `{key}`"))?;
        let takes_value = !matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
        match (takes_value, value) {
            (false, Value::Boolean(b)) => {
                if *b.value() {
                    flags.push(format!("--{key}"));
                }
            }
            (false, other) => {
                return Err(format!(
                    "key `{key}`: expected true or false, got {}",
                    show(other)
                ));
            }
            (true, Value::Array(items)) => {
                let parts: Result<Vec<_>, _> = items.iter().map(|v| scalar(&key, v)).collect();
                flags.push(format!("--{key}={}", parts?.join(",")));
            }
            (true, other) => flags.push(format!("--{key}={}", scalar(&key, other)?)),
        }
    }
    Ok(flags)
}

fn flatten<'a>(
    prefix: &str,
    table: &'a Table,
    out: &mut Vec<(String, &'a Value)>,
) -> Result<(), String> {
    for (key, item) in table.iter() {
        let key = if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        };
        match item {
            Item::Value(Value::InlineTable(_)) => {
                return Err(format!(
                    "key `{key}`: write it as a [table] or dotted keys, not an inline table"
                ));
            }
            Item::Value(value) => out.push((key, value)),
            Item::Table(inner) => flatten(&key, inner, out)?,
            Item::ArrayOfTables(_) => {
                return Err(format!("key `{key}`: arrays of tables are not flags"));
            }
            Item::None => {}
        }
    }
    Ok(())
}

fn scalar(key: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.value().clone()),
        Value::Integer(i) => Ok(i.value().to_string()),
        Value::Float(f) => Ok(f.value().to_string()),
        Value::Boolean(b) => Ok(b.value().to_string()),
        other => Err(format!(
            "key `{key}`: expected a string or a number, got {}",
            show(other)
        )),
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{}\"", s.value()),
        Value::Integer(i) => i.value().to_string(),
        Value::Float(f) => f.value().to_string(),
        Value::Boolean(b) => b.value().to_string(),
        Value::Datetime(_) => "a date".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::InlineTable(_) => "a table".to_owned(),
    }
}

/// The effective configuration as a config file: every flag with a value (given, from the
/// file, or default), by its long name.
pub fn dump(matches: &ArgMatches) -> String {
    let command = command();
    let mut text = String::from(
        "# spectrum dumpconfig: the effective configuration (use with --config FILE)\n",
    );
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if NOT_IN_FILE.contains(&long) {
            continue;
        }
        let id = arg.get_id().as_str();
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            let on = matches.get_flag(id);
            text.push_str(&format!("{} = {on}\n", quote(long)));
            continue;
        }
        let Ok(Some(raw)) = matches.try_get_raw(id) else {
            continue;
        };
        let values: Vec<String> = raw.map(|v| v.to_string_lossy().into_owned()).collect();
        let multiple = arg.get_num_args().is_some_and(|n| n.max_values() > 1)
            || arg.get_value_delimiter().is_some();
        let rendered = if multiple {
            format!(
                "[{}]",
                values
                    .iter()
                    .map(|v| toml_value(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            values.first().map(|v| toml_value(v)).unwrap_or_default()
        };
        text.push_str(&format!("{} = {rendered}\n", quote(long)));
    }
    text
}

/// A key as TOML: quoted when dotted (`http` is a flag and `http.port` another, so they cannot
/// be one table).
fn quote(key: &str) -> String {
    if key.contains('.') {
        format!("\"{key}\"")
    } else {
        key.to_owned()
    }
}

fn toml_value(value: &str) -> String {
    if value.parse::<u64>().is_ok() && !value.starts_with('0') || value == "0" {
        value.to_owned()
    } else {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_flags_nested_or_dotted() {
        let flags =
            file_flags("http = true\n\"http.port\" = 9000\n[ws]\naddr = \"0.0.0.0\"\n").unwrap();
        assert_eq!(flags, ["--http", "--http.port=9000", "--ws.addr=0.0.0.0"]);
        let flags = file_flags("\"http.api\" = [\"eth\", \"net\"]\nmine = false\n").unwrap();
        assert_eq!(flags, ["--http.api=eth,net"]);
    }

    #[test]
    fn an_unknown_key_is_named() {
        assert_eq!(
            file_flags("\"http.prot\" = 1").unwrap_err(),
            "unknown key `http.prot`"
        );
        assert_eq!(
            file_flags("config = \"x\"").unwrap_err(),
            "unknown key `config`"
        );
        assert_eq!(
            file_flags("http = 3").unwrap_err(),
            "key `http`: expected true or false, got 3"
        );
    }
}
