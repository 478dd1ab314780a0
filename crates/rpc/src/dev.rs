//! `--dev` only: the node signs for the dev accounts, as Hardhat's and anvil's nodes do, so
//! test suites that call `eth_accounts` and `eth_sendTransaction` work unchanged. The keys are
//! the well-known dev keys (`RpcConfig::dev_signers`); on any other network the list is empty,
//! `eth_accounts` answers `[]` and `eth_sendTransaction` is not served.

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, TxKind};
use secp256k1::SecretKey;
use serde_json::{Value, json};
use spectrum_primitives::{public_key_to_address, sign_transaction};
use spectrum_txpool::{PoolError, TxOrigin};

use crate::{
    api::{Api, Method, heavy},
    error::{ApiResult, internal, server_error},
    params::{self, at_most, invalid, required},
};

pub(crate) const METHODS: &[Method<Value>] = &[heavy("eth_sendTransaction", send_transaction)];

/// The accounts the node signs for, with their keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct DevSigners(Vec<(Address, SecretKey)>);

impl DevSigners {
    pub(crate) fn new(keys: &[SecretKey]) -> Self {
        Self(
            keys.iter()
                .map(|k| {
                    (
                        public_key_to_address(&k.public_key(secp256k1::SECP256K1)),
                        *k,
                    )
                })
                .collect(),
        )
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn addresses(&self) -> Vec<Address> {
        self.0.iter().map(|(a, _)| *a).collect()
    }

    fn key(&self, address: &Address) -> Option<&SecretKey> {
        self.0.iter().find(|(a, _)| a == address).map(|(_, k)| k)
    }
}

fn quantity_u64(value: &Value) -> ApiResult<u64> {
    let text = value.as_str().unwrap_or_default();
    u64::from_str_radix(text.trim_start_matches("0x"), 16).map_err(internal)
}

/// `eth_sendTransaction` from a dev account: missing fields filled as geth does (nonce from
/// the pool, the node's gas price, gas estimated), signed with EIP-155 and sent to the pool.
pub(crate) fn send_transaction(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 1)?;
    let object = required(values, 0)?;
    let args = params::call_args(object, 0)?;
    let from = args.from.ok_or_else(|| invalid(0, "from is required"))?;
    let key = match api.dev.key(&from) {
        Some(key) => key,
        // --dev: an impersonated account runs as itself (dev_controls/impersonate.rs).
        None if api.impersonation.covers(&from) => {
            return crate::dev_controls::send_impersonated(api, from, &args);
        }
        None => return Err(server_error(format!("unknown account {from}"))),
    };
    let nonce = match object.get("nonce") {
        Some(value) => params::quantity_u64(value, 0)?,
        None => {
            let state = api.ctx.db.latest().map_err(internal)?;
            let onchain = state
                .account(&from)
                .map_err(internal)?
                .map(|a| a.nonce)
                .unwrap_or_default();
            api.ctx
                .pool
                .pending_nonce(&from)
                .map_or(onchain, |p| p.max(onchain))
        }
    };
    let gas_price = match args.gas_price {
        Some(price) => price,
        None => api.ctx.min_gas_price,
    };
    let gas_price = u128::try_from(gas_price).map_err(|_| invalid(0, "gasPrice above 2^128"))?;
    let gas_limit = match args.gas {
        Some(gas) => gas,
        None => quantity_u64(&crate::call::estimate_gas(
            api,
            std::slice::from_ref(object),
        )?)?,
    };
    let tx = TxLegacy {
        chain_id: Some(api.ctx.spec.chain_id),
        nonce,
        gas_price,
        gas_limit,
        to: args.to.map_or(TxKind::Create, TxKind::Call),
        value: args.value,
        input: args.data.clone(),
    };
    let signed = sign_transaction(tx, key);
    match api
        .ctx
        .pool
        .add_raw(&alloy_rlp::encode(&signed), TxOrigin::Local)
    {
        Ok(hash) => Ok(json!(hash)),
        Err(PoolError::State(e)) => Err(internal(e)),
        Err(e) => Err(server_error(e.to_string())),
    }
}
