//! `spectrum validator …`: operate a validator over a running node's JSON-RPC. Each owner
//! command builds the call to the contract of the chain's era (POC and Anmap addresses from the
//! chain spec, checked against the node's chain id), signs it with a keystore key (or prints it
//! unsigned for an external wallet), sends it, waits for the receipt and explains a revert.
//! `key` makes the node key; `status` shows where a node stands.

mod anmap;
pub mod args;
mod poc;
mod revert;
mod rpc;
mod status;
mod tx;

use std::{path::Path, time::Duration};

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use eyre::{WrapErr, bail, eyre};
use serde_json::{Value, json};
use spectrum_chainspec::ChainSpec;
use spectrum_contracts::abi::{self, PocNodeCall, deposit_signature, poc_node_call};
use spectrum_keystore::{Keystore, ValidatorKey, keystore_dir};

use self::{
    args::{OwnerArgs, ValidatorArgs, ValidatorCommand},
    rpc::Rpc,
    tx::{Call, Sender},
};
use crate::{commands::account, datadir::DataDir};

/// What an owner command does (for messages and the revert diagnosis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Deposit,
    Start,
    Stop,
    Withdraw,
    WithdrawSurplus,
    Bind,
    Unbind,
}

/// Runs a `validator` subcommand.
pub fn run(
    spec: &ChainSpec,
    datadir: Option<&DataDir>,
    args: &ValidatorArgs,
    password_file: Option<&Path>,
) -> eyre::Result<()> {
    let keystore = match (&args.keystore, datadir) {
        (Some(dir), _) => Keystore::open(dir),
        (None, Some(datadir)) => Keystore::open(keystore_dir(datadir.path())),
        (None, None) => Keystore::open(""),
    };
    let ctx = Context {
        spec,
        keystore,
        rpc: Rpc::new(&args.rpc)?,
        password_file,
        timeout: Duration::from_secs(args.receipt_timeout),
    };
    match &args.command {
        ValidatorCommand::Key {
            import,
            lightkdf,
            host,
            port,
        } => key(&ctx, import.as_deref(), *lightkdf, host, *port),
        ValidatorCommand::Status { node } => {
            let node = match node {
                Some(node) => *node,
                None => only_key(&ctx.keystore)?,
            };
            ctx.check_chain()?;
            status::print(&ctx.rpc, spec, node)
        }
        ValidatorCommand::Deposit { owner, value } => {
            ctx.owner_call(Action::Deposit, owner, *value)
        }
        ValidatorCommand::Start(owner) => ctx.owner_call(Action::Start, owner, None),
        ValidatorCommand::Stop(owner) => ctx.owner_call(Action::Stop, owner, None),
        ValidatorCommand::Withdraw(owner) => ctx.owner_call(Action::Withdraw, owner, None),
        ValidatorCommand::WithdrawSurplus(owner) => {
            ctx.owner_call(Action::WithdrawSurplus, owner, None)
        }
        ValidatorCommand::Bind(owner) => ctx.owner_call(Action::Bind, owner, None),
        ValidatorCommand::Unbind(owner) => ctx.owner_call(Action::Unbind, owner, None),
    }
}

struct Context<'a> {
    spec: &'a ChainSpec,
    keystore: Keystore,
    rpc: Rpc,
    password_file: Option<&'a Path>,
    timeout: Duration,
}

impl Context<'_> {
    /// The node at --rpc must run the chain whose contract addresses we use.
    fn check_chain(&self) -> eyre::Result<u64> {
        let id = quantity_u64(&self.rpc.call("eth_chainId", json!([]))?)?;
        if id != self.spec.chain_id {
            bail!(
                "the node at --rpc runs chain id {id}, but --chain {} has chain id {}: pass the node's chain",
                self.spec.name,
                self.spec.chain_id
            );
        }
        Ok(id)
    }

    fn unlock(&self, address: Address, password_file: Option<&Path>) -> eyre::Result<ValidatorKey> {
        let password = account::current_password(password_file.or(self.password_file), address)?;
        self.keystore
            .unlock(Some(address), &password)
            .wrap_err_with(|| {
                format!(
                    "cannot unlock {address} in {}",
                    self.keystore.dir().display()
                )
            })
    }

    fn poc(&self) -> eyre::Result<Address> {
        self.spec.tribe.poc.ok_or_else(|| {
            eyre!(
                "chain {} has no POC contract (staking starts with chief 1.0.0)",
                self.spec.name
            )
        })
    }

    /// The Anmap governing the next block.
    fn anmap(&self, head: u64) -> eyre::Result<Address> {
        self.spec
            .tribe
            .anmap
            .iter()
            .rev()
            .find(|entry| entry.start_block <= head.saturating_add(1))
            .map(|entry| entry.address)
            .ok_or_else(|| eyre!("chain {} has no Anmap contract at block {}: there is nothing to bind to (rewards go to the node address)", self.spec.name, head.saturating_add(1)))
    }

    fn owner_call(
        &self,
        action: Action,
        owner: &OwnerArgs,
        value: Option<U256>,
    ) -> eyre::Result<()> {
        let chain_id = self.check_chain()?;
        let poc = self.poc();
        let view = match &poc {
            Ok(poc) => Some(poc::read(&self.rpc, *poc, owner.node)?),
            Err(_) => None,
        };
        // Calls the node key signs: its key must be here (even for --print-unsigned).
        let node_signature = match action {
            Action::Deposit | Action::Bind | Action::Unbind => {
                let node_key = self.unlock(owner.node, owner.node_password.as_deref())?;
                Some(deposit_signature(node_key.secret_key(), owner.from))
            }
            _ => None,
        };
        let call = self.build(action, owner, value, view.as_ref(), node_signature)?;
        if owner.print_unsigned {
            let signature = node_signature.map(|(r, s, v)| json!({"r": r, "s": s, "v": v}));
            let out = tx::unsigned(chain_id, owner.from, &call, signature);
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(());
        }
        let wallet = self.unlock(owner.from, None)?;
        let sender = Sender {
            rpc: &self.rpc,
            chain_id,
            from: owner.from,
            key: *wallet.secret_key(),
            gas_price: owner.gas_price,
            timeout: self.timeout,
        };
        let diagnose = || {
            if matches!(action, Action::Bind | Action::Unbind) {
                let bound = anmap::bound_wallet(&self.rpc, call.to, owner.node).ok()?;
                return anmap::diagnose(bound, action);
            }
            let poc = poc.as_ref().ok()?;
            let view = poc::read(&self.rpc, *poc, owner.node).ok()?;
            poc::diagnose(&view, action, owner.from, call.value)
        };
        sender.send(&call, &diagnose)?;
        Ok(())
    }

    fn build(
        &self,
        action: Action,
        owner: &OwnerArgs,
        value: Option<U256>,
        view: Option<&poc::PocView>,
        node_signature: Option<(B256, B256, u8)>,
    ) -> eyre::Result<Call> {
        let signature = || node_signature.ok_or_else(|| eyre!("no node signature"));
        let node_call = |what, function| -> eyre::Result<Call> {
            Ok(Call {
                what,
                to: self.poc()?,
                value: U256::ZERO,
                data: poc_node_call(function, owner.node),
            })
        };
        match action {
            Action::Deposit => {
                let (r, s, v) = signature()?;
                let min = view.map(|v| v.min_deposit).ok_or_else(|| eyre!("no POC"))?;
                let value = value.unwrap_or(min);
                let data = abi::call(
                    "deposit(bytes32,bytes32,uint8)",
                    &[r.0, s.0, abi::word_u256(U256::from(v))],
                );
                Ok(Call {
                    what: "deposit",
                    to: self.poc()?,
                    value,
                    data,
                })
            }
            Action::Start => node_call("start", PocNodeCall::Start),
            Action::Stop => node_call("stop", PocNodeCall::Stop),
            Action::Withdraw => node_call("withdraw", PocNodeCall::Withdraw),
            Action::WithdrawSurplus => node_call("withdraw-surplus", PocNodeCall::WithdrawSurplus),
            Action::Bind | Action::Unbind => {
                let head = quantity_u64(&self.rpc.call("eth_blockNumber", json!([]))?)?;
                let (r, s, v) = signature()?;
                Ok(Call {
                    what: if action == Action::Bind {
                        "bind"
                    } else {
                        "unbind"
                    },
                    to: self.anmap(head)?,
                    value: U256::ZERO,
                    data: anmap_call(action == Action::Bind, owner.node, (r, s, v)),
                })
            }
        }
    }
}

/// Anmap `bind` or `unbindBySig` (the reference's ABI), the node key having signed
/// keccak256(wallet).
fn anmap_call(bind: bool, node: Address, signature: (B256, B256, u8)) -> Bytes {
    let function = if bind {
        abi::AnmapCall::Bind
    } else {
        abi::AnmapCall::UnbindBySig
    };
    abi::anmap_call(function, node, signature)
}

fn only_key(keystore: &Keystore) -> eyre::Result<Address> {
    let keys = keystore.list()?;
    match keys.as_slice() {
        [(address, _)] => Ok(*address),
        [] => bail!(
            "no key in {}: pass --node ADDRESS",
            keystore.dir().display()
        ),
        _ => bail!(
            "{} keys in {}: pass --node ADDRESS",
            keys.len(),
            keystore.dir().display()
        ),
    }
}

/// `validator key`: creates or imports the node key, then shows its identities.
fn key(
    ctx: &Context<'_>,
    import: Option<&Path>,
    lightkdf: bool,
    host: &str,
    port: u16,
) -> eyre::Result<()> {
    let params = if lightkdf {
        spectrum_keystore::ScryptParams::LIGHT
    } else {
        spectrum_keystore::ScryptParams::STANDARD
    };
    let keystore = Keystore::open(ctx.keystore.dir()).with_scrypt_params(params);
    let key = match import {
        Some(file) => spectrum_keystore::read_plain_key_file(file)?,
        None => ValidatorKey::random()?,
    };
    let password = account::new_password(ctx.password_file)?;
    let address = keystore.import(key.secret_key().secret_bytes(), &password)?;
    let path = keystore.find(address)?;
    let secret = key.secret_key().secret_bytes();
    let public = key
        .secret_key()
        .public_key(secp256k1::SECP256K1)
        .serialize_uncompressed();
    let peer_id = spectrum_network::peer_id_of_key(&secret)?;
    println!("Address:  {address}");
    println!(
        "Key file: {}",
        std::path::absolute(&path).unwrap_or(path).display()
    );
    println!(
        "Enode:    enode://{}@{host}:{port}",
        hex::encode(&public[1..])
    );
    println!("Peer id:  {peer_id}");
    println!(
        "Run the node with --unlock {address} --password FILE --mine; keep the password and a backup of the key file."
    );
    Ok(())
}

/// A JSON hex quantity.
pub(crate) fn quantity(value: &Value) -> eyre::Result<U256> {
    let text = value
        .as_str()
        .ok_or_else(|| eyre!("expected a hex quantity, got {value}"))?;
    U256::from_str_radix(text.trim_start_matches("0x"), 16).map_err(|e| eyre!("{text}: {e}"))
}

/// A JSON hex quantity that fits a u64.
pub(crate) fn quantity_u64(value: &Value) -> eyre::Result<u64> {
    u64::try_from(quantity(value)?).map_err(|_| eyre!("{value} does not fit 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anmap_calls_have_the_reference_selectors() {
        let sig = (B256::repeat_byte(1), B256::repeat_byte(2), 27);
        assert_eq!(
            anmap_call(true, Address::ZERO, sig)[..4],
            [0xf6, 0x5f, 0x2e, 0xec]
        );
        assert_eq!(
            anmap_call(false, Address::ZERO, sig)[..4],
            [0x99, 0xab, 0x9f, 0xca]
        );
        assert_eq!(anmap_call(true, Address::ZERO, sig).len(), 4 + 4 * 32);
    }
}
