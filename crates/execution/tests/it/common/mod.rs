//! Helpers shared by the integration tests: test-data paths, hex quantities, a state view with
//! block hashes, and splitting chain files.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_storage_api::{Account, MemoryState, StateError, StateProvider};

/// `/work/shared/testdata/<name>`, found from this crate's directory. Panics with a message
/// naming the path when it is missing: a vector run that finds no vectors must fail, not pass.
pub fn testdata(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(name);
    assert!(
        path.is_dir(),
        "test data missing: {} does not exist (expected ../shared/testdata/{name} next to the \
         workspace root)",
        path.display()
    );
    path
}

/// Parses a JSON hex quantity, leading zeros allowed (`"0x00"`, `"0x020000"`, `"0x"`).
pub fn quantity(s: &str) -> Result<U256, String> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.is_empty() {
        return Ok(U256::ZERO);
    }
    U256::from_str_radix(digits, 16).map_err(|e| format!("bad quantity {s:?}: {e}"))
}

/// A hex quantity that must fit in a u64.
pub fn quantity_u64(s: &str) -> Result<u64, String> {
    u64::try_from(quantity(s)?).map_err(|_| format!("quantity {s:?} exceeds u64"))
}

/// Decodes `0x`-prefixed hex bytes.
pub fn hex_bytes(s: &str) -> Result<Bytes, String> {
    alloy_primitives::hex::decode(s)
        .map(Bytes::from)
        .map_err(|e| format!("bad hex: {e}"))
}

/// The state after some block, with the hashes BLOCKHASH may ask for.
pub struct ChainView<'a> {
    pub state: &'a MemoryState,
    pub hashes: &'a HashMap<u64, B256>,
}

impl StateProvider for ChainView<'_> {
    fn account(&self, address: &Address) -> Result<Option<Account>, StateError> {
        self.state.account(address)
    }
    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        self.state.storage(address, slot)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        self.state.code(code_hash)
    }
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        Ok(self.hashes.get(&number).copied())
    }
}

/// Splits a geth chain file (concatenated RLP items) into the items' bytes.
pub fn split_rlp_items(mut data: &[u8]) -> Vec<&[u8]> {
    let mut items = Vec::new();
    while !data.is_empty() {
        let mut probe = data;
        let header = alloy_rlp::Header::decode(&mut probe).expect("RLP item header");
        let len = data.len() - probe.len() + header.payload_length;
        let (item, rest) = data.split_at(len);
        items.push(item);
        data = rest;
    }
    items
}
