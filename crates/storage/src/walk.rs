//! A bounded walk over the whole plain state (`StateSnapshot::walk_accounts`): `--dev`'s
//! `anvil_dumpState`. Accounts are keyed by address, slots by address ‖ slot, so one pass over
//! each prefix gives the state in address order.

use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256};
use spectrum_storage_api::{Account, ProviderError, ProviderResult, WalkedAccount};

use crate::{StorageError, Table, codec::decode_rlp, reader::Reader};

/// What an account costs against the byte bound beside its code: address and fields.
const ACCOUNT_BYTES: usize = 20 + 32 + 8 + 32;
/// What a slot costs: key and value.
const SLOT_BYTES: usize = 64;

pub(crate) fn walk_accounts(
    reader: &Reader<'_>,
    max_accounts: usize,
    max_bytes: usize,
) -> ProviderResult<Vec<WalkedAccount>> {
    let too_large = ProviderError::WalkTooLarge {
        max_accounts,
        max_bytes,
    };
    let mut accounts = Vec::new();
    let mut over = false;
    reader.walk_prefix(Table::Accounts, &[], |key, value| {
        if accounts.len() >= max_accounts {
            over = true;
            return Ok(false);
        }
        let address = Address::try_from(key)
            .map_err(|_| StorageError::corrupt(Table::Accounts, key, "not a 20-byte address"))?;
        let account: Account = decode_rlp(Table::Accounts, key, value)?;
        accounts.push((address, account));
        Ok(true)
    })?;
    if over {
        return Err(too_large);
    }
    let mut bytes = 0usize;
    let mut walked = Vec::with_capacity(accounts.len());
    for (address, account) in accounts {
        let code = if account.code_hash == KECCAK256_EMPTY {
            Bytes::new()
        } else {
            reader.code(&account.code_hash)?.unwrap_or_default()
        };
        bytes = bytes
            .saturating_add(ACCOUNT_BYTES)
            .saturating_add(code.len());
        let storage = storage_of(reader, &address, max_bytes, &mut bytes)?;
        if bytes > max_bytes {
            return Err(too_large);
        }
        walked.push(WalkedAccount {
            address,
            account,
            code,
            storage,
        });
    }
    Ok(walked)
}

/// `address`'s slots, counting against `bytes` and stopping past `max_bytes`.
fn storage_of(
    reader: &Reader<'_>,
    address: &Address,
    max_bytes: usize,
    bytes: &mut usize,
) -> Result<Vec<(B256, U256)>, StorageError> {
    let mut storage = Vec::new();
    reader.walk_prefix(Table::Storage, address.as_slice(), |key, value| {
        *bytes = bytes.saturating_add(SLOT_BYTES);
        if *bytes > max_bytes {
            return Ok(false);
        }
        let slot = key
            .get(20..)
            .and_then(|s| B256::try_from(s).ok())
            .ok_or_else(|| StorageError::corrupt(Table::Storage, key, "not address ‖ slot"))?;
        storage.push((slot, decode_rlp(Table::Storage, key, value)?));
        Ok(true)
    })?;
    Ok(storage)
}
