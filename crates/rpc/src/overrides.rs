//! State and block overrides of `eth_call` / `eth_estimateGas` (geth's third and fourth
//! parameters): a call runs on the block's state with some accounts' balance, nonce, code or
//! storage replaced, in a block environment with some header fields replaced. Nothing is kept.
//!
//! Spectrum's reference node takes a block *hash* string as `eth_call`'s third parameter; a
//! JSON object there is geth's state override set, so the two cannot be confused.

use std::collections::HashMap;

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use serde_json::{Map, Value};
use spectrum_primitives::{KECCAK_EMPTY, SealedHeader};
use spectrum_storage_api::{Account, StateError, StateProvider};

use crate::{
    error::ApiResult,
    params::{self, invalid},
};

/// Most accounts one override set may name.
const MAX_ACCOUNTS: usize = 1024;

/// How one account is overridden.
#[derive(Debug, Clone, Default)]
struct AccountOverride {
    balance: Option<U256>,
    nonce: Option<u64>,
    code: Option<Bytes>,
    /// `state`: the whole storage (slots not listed read zero).
    replace_storage: bool,
    /// `state` or `stateDiff` slots.
    slots: HashMap<B256, U256>,
}

/// A state override set (geth's `StateOverride`).
#[derive(Debug, Clone, Default)]
pub(crate) struct StateOverrides {
    accounts: HashMap<Address, AccountOverride>,
    codes: HashMap<B256, Bytes>,
}

fn slots(value: &Value, index: usize, what: &str) -> ApiResult<HashMap<B256, U256>> {
    let Value::Object(map) = value else {
        return Err(invalid(
            index,
            format!("{what}: expected an object of slots"),
        ));
    };
    map.iter()
        .map(|(slot, v)| {
            let slot = params::storage_slot(&Value::String(slot.clone()), index)?;
            let v = params::storage_slot(v, index)?;
            Ok((slot, U256::from_be_bytes(v.0)))
        })
        .collect()
}

fn account_override(fields: &Map<String, Value>, index: usize) -> ApiResult<AccountOverride> {
    let mut out = AccountOverride::default();
    for (name, value) in fields {
        match name.as_str() {
            "balance" => out.balance = Some(params::quantity(value, index)?),
            "nonce" => out.nonce = Some(params::quantity_u64(value, index)?),
            "code" => out.code = Some(params::data(value, index)?),
            "state" => {
                out.replace_storage = true;
                out.slots = slots(value, index, "state")?;
            }
            "stateDiff" => out.slots = slots(value, index, "stateDiff")?,
            other => {
                return Err(invalid(
                    index,
                    format!("unknown account override {other:?}"),
                ));
            }
        }
    }
    if fields.contains_key("state") && fields.contains_key("stateDiff") {
        return Err(invalid(index, "an account has both state and stateDiff"));
    }
    Ok(out)
}

impl StateOverrides {
    /// Decodes the override set at parameter `index`.
    pub(crate) fn parse(value: &Value, index: usize) -> ApiResult<Self> {
        let Value::Object(map) = value else {
            return Err(invalid(index, "expected a state override object"));
        };
        if map.len() > MAX_ACCOUNTS {
            return Err(invalid(index, format!("more than {MAX_ACCOUNTS} accounts")));
        }
        let mut out = Self::default();
        for (address, fields) in map {
            let address = params::address(&Value::String(address.clone()), index)?;
            let Value::Object(fields) = fields else {
                return Err(invalid(index, format!("{address}: expected an object")));
            };
            let account = account_override(fields, index)?;
            if let Some(code) = &account.code {
                out.codes.insert(keccak256(code), code.clone());
            }
            out.accounts.insert(address, account);
        }
        Ok(out)
    }
}

/// A state with overrides on top.
pub(crate) struct Overridden<'a> {
    base: &'a dyn StateProvider,
    overrides: &'a StateOverrides,
}

impl<'a> Overridden<'a> {
    pub(crate) fn new(base: &'a dyn StateProvider, overrides: &'a StateOverrides) -> Self {
        Self { base, overrides }
    }
}

impl StateProvider for Overridden<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        let base = self.base.account(address)?;
        let Some(o) = self.overrides.accounts.get(address) else {
            return Ok(base);
        };
        let mut account = base.unwrap_or_default();
        if let Some(balance) = o.balance {
            account.balance = balance;
        }
        if let Some(nonce) = o.nonce {
            account.nonce = nonce;
        }
        if let Some(code) = &o.code {
            account.code_hash = if code.is_empty() {
                KECCAK_EMPTY
            } else {
                keccak256(code)
            };
        }
        Ok(Some(account))
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        match self.overrides.accounts.get(address) {
            Some(o) => match o.slots.get(slot) {
                Some(value) => Ok(*value),
                None if o.replace_storage => Ok(U256::ZERO),
                None => self.base.storage(address, slot),
            },
            None => self.base.storage(address, slot),
        }
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        match self.overrides.codes.get(code_hash) {
            Some(code) => Ok(Some(code.clone())),
            None => self.base.code(code_hash),
        }
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        self.base.block_hash(number)
    }
}

/// Applies geth's `BlockOverrides` at parameter `index` to `header` (the call's environment).
pub(crate) fn block_overrides(
    header: &SealedHeader,
    value: &Value,
    index: usize,
) -> ApiResult<SealedHeader> {
    let Value::Object(map) = value else {
        return Err(invalid(index, "expected a block override object"));
    };
    let mut header = header.header().clone();
    for (name, value) in map {
        match name.as_str() {
            "number" => header.number = params::quantity_u64(value, index)?,
            "time" => header.timestamp = params::quantity_u64(value, index)?,
            "gasLimit" => header.gas_limit = params::quantity_u64(value, index)?,
            "feeRecipient" | "coinbase" => header.beneficiary = params::address(value, index)?,
            "difficulty" => header.difficulty = params::quantity(value, index)?,
            other => {
                return Err(invalid(
                    index,
                    format!("block override {other:?} is not supported on Spectrum"),
                ));
            }
        }
    }
    Ok(SealedHeader::seal(header))
}
