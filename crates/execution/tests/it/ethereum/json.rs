//! The BlockchainTests fixture format (see the README of the test data).

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, keccak256};
use serde::Deserialize;
use spectrum_primitives::KECCAK_EMPTY;
use spectrum_storage_api::{Account, MemoryState};

use crate::common::quantity;
use crate::common::quantity_u64;

/// One test case: a chain to import.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub network: String,
    #[serde(default)]
    pub seal_engine: Option<String>,
    pub genesis_block_header: HeaderRef,
    #[serde(rename = "genesisRLP")]
    pub genesis_rlp: Option<String>,
    pub pre: BTreeMap<Address, JsonAccount>,
    pub blocks: Vec<JsonBlock>,
    #[serde(default)]
    pub post_state: Option<BTreeMap<Address, JsonAccount>>,
    #[serde(default)]
    pub post_state_hash: Option<B256>,
    pub lastblockhash: B256,
}

/// The fields of a JSON header the runner compares.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderRef {
    pub hash: B256,
    #[serde(default)]
    pub state_root: Option<B256>,
}

/// One block of a case.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonBlock {
    pub rlp: String,
    #[serde(default)]
    pub block_header: Option<HeaderRef>,
    #[serde(flatten)]
    pub rest: BTreeMap<String, serde_json::Value>,
}

impl JsonBlock {
    /// The filler's reason if the block must be rejected: any `expectException*` key (the
    /// data keeps only keys that apply to the case's network).
    pub fn expected_exception(&self) -> Option<String> {
        self.rest
            .iter()
            .find(|(k, _)| k.starts_with("expectException"))
            .map(|(k, v)| format!("{k}={v}"))
    }
}

/// An account of `pre` / `postState`.
#[derive(Debug, Deserialize)]
pub struct JsonAccount {
    pub balance: String,
    pub nonce: String,
    pub code: Bytes,
    pub storage: BTreeMap<String, String>,
}

impl JsonAccount {
    /// The account's non-zero storage.
    pub fn slots(&self) -> Result<BTreeMap<B256, alloy_primitives::U256>, String> {
        let mut slots = BTreeMap::new();
        for (k, v) in &self.storage {
            let value = quantity(v)?;
            if !value.is_zero() {
                slots.insert(B256::from(quantity(k)?), value);
            }
        }
        Ok(slots)
    }

    pub fn code_hash(&self) -> B256 {
        if self.code.is_empty() {
            KECCAK_EMPTY
        } else {
            keccak256(&self.code)
        }
    }
}

/// Builds the state of `pre` (storage roots not yet computed).
pub fn build_state(pre: &BTreeMap<Address, JsonAccount>) -> Result<MemoryState, String> {
    let mut state = MemoryState::default();
    for (address, account) in pre {
        let code_hash = account.code_hash();
        if !account.code.is_empty() {
            state.codes.insert(code_hash, account.code.clone());
        }
        state.accounts.insert(
            *address,
            Account {
                nonce: quantity_u64(&account.nonce)?,
                balance: quantity(&account.balance)?,
                code_hash,
                ..Default::default()
            },
        );
        let slots = account.slots()?;
        if !slots.is_empty() {
            state.storage.insert(*address, slots);
        }
    }
    Ok(state)
}

/// Compares a state with `postState`: every account's balance, nonce, code and storage, and
/// no extra accounts.
pub fn compare_post_state(
    state: &MemoryState,
    expected: &BTreeMap<Address, JsonAccount>,
) -> Result<(), String> {
    for (address, want) in expected {
        let Some(got) = state.accounts.get(address) else {
            return Err(format!("post state: account {address} missing"));
        };
        let nonce = quantity_u64(&want.nonce)?;
        if got.nonce != nonce {
            return Err(format!(
                "post state {address}: nonce {} != {nonce}",
                got.nonce
            ));
        }
        let balance = quantity(&want.balance)?;
        if got.balance != balance {
            return Err(format!(
                "post state {address}: balance {} != {balance}",
                got.balance
            ));
        }
        if got.code_hash != want.code_hash() {
            return Err(format!("post state {address}: code differs"));
        }
        let empty = BTreeMap::new();
        let got_slots = state.storage.get(address).unwrap_or(&empty);
        let want_slots = want.slots()?;
        if got_slots != &want_slots {
            let diff: Vec<String> = want_slots
                .iter()
                .filter(|(k, v)| got_slots.get(*k) != Some(*v))
                .map(|(k, v)| format!("{k}: want {v} got {:?}", got_slots.get(k)))
                .chain(
                    got_slots
                        .iter()
                        .filter(|(k, _)| !want_slots.contains_key(*k))
                        .map(|(k, v)| format!("{k}: extra {v}")),
                )
                .take(4)
                .collect();
            return Err(format!("post state {address}: storage differs: {diff:?}"));
        }
    }
    if let Some(extra) = state.accounts.keys().find(|a| !expected.contains_key(*a)) {
        return Err(format!("post state: unexpected account {extra}"));
    }
    Ok(())
}
