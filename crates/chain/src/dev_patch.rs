//! `--dev` only (issue 19): state patches (`anvil_setBalance`, `setCode`, `setNonce`,
//! `setStorageAt`) that keep the dev chain a chain our own verifier re-imports.
//!
//! A patch travels in the block as an ordinary signed transaction from the block's signer to
//! [`DEV_PATCH_ADDRESS`] (an account without code: the EVM only charges intrinsic gas), its
//! input the encoded patch. On a chain whose spec enables it (`dev_state_patches`: only
//! genesis/dev.json) execution's output is
//! then amended: after the block's transactions, every such transaction's patch is applied to
//! the block's state changes, before the state root. The producer does the same when it
//! builds, so the header's state root includes the patch, and any node of ours importing the
//! dev chain reproduces it. On every other chain the rule is off: such a transaction is a
//! plain call to an empty account.
//!
//! Encoding (bounded, typed errors): records of `tag (1) ‖ address (20) ‖ payload`, tag 1
//! balance (32 bytes), 2 nonce (8), 3 code (4-byte big-endian length ‖ code, at most
//! [`MAX_PATCH_CODE`]), 4 storage slot (32) ‖ value (32).

use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use spectrum_storage_api::{Account, StateChanges, StateProvider};

/// Where patch transactions go ("5ec7" and "de7": Spectrum's dev).
pub const DEV_PATCH_ADDRESS: Address = address!("5ec7000000000000000000000000000000000de7");

/// The largest code one patch may set (EIP-170's limit, twice over for tests' sake).
pub const MAX_PATCH_CODE: usize = 49_152;

/// The most records in one patch transaction.
pub const MAX_PATCH_RECORDS: usize = 1_024;

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevPatch {
    /// `anvil_setBalance`.
    Balance(Address, U256),
    /// `anvil_setNonce`.
    Nonce(Address, u64),
    /// `anvil_setCode`.
    Code(Address, Bytes),
    /// `anvil_setStorageAt`.
    Storage(Address, B256, U256),
}

/// Why a patch transaction's input is not a patch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevPatchError {
    /// The input ended inside a record.
    #[error("dev patch truncated at byte {0}")]
    Truncated(usize),
    /// An unknown record tag.
    #[error("dev patch: unknown record tag {tag} at byte {at}")]
    UnknownTag {
        /// The tag.
        tag: u8,
        /// Where.
        at: usize,
    },
    /// Code above [`MAX_PATCH_CODE`].
    #[error("dev patch: code of {0} bytes is above the limit")]
    CodeTooLarge(usize),
    /// More than [`MAX_PATCH_RECORDS`] records.
    #[error("dev patch: more than {MAX_PATCH_RECORDS} records")]
    TooManyRecords,
    /// Reading the parent state failed.
    #[error("dev patch: reading the state: {0}")]
    State(String),
}

/// Encodes `patches` as a patch transaction's input.
pub fn encode_dev_patches(patches: &[DevPatch]) -> Bytes {
    let mut out = Vec::new();
    for patch in patches {
        match patch {
            DevPatch::Balance(address, balance) => {
                out.push(1);
                out.extend_from_slice(address.as_slice());
                out.extend_from_slice(&balance.to_be_bytes::<32>());
            }
            DevPatch::Nonce(address, nonce) => {
                out.push(2);
                out.extend_from_slice(address.as_slice());
                out.extend_from_slice(&nonce.to_be_bytes());
            }
            DevPatch::Code(address, code) => {
                out.push(3);
                out.extend_from_slice(address.as_slice());
                let len = u32::try_from(code.len()).unwrap_or(u32::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(code);
            }
            DevPatch::Storage(address, slot, value) => {
                out.push(4);
                out.extend_from_slice(address.as_slice());
                out.extend_from_slice(slot.as_slice());
                out.extend_from_slice(&value.to_be_bytes::<32>());
            }
        }
    }
    out.into()
}

/// Reads `n` bytes at `*at`.
fn take<'a>(input: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], DevPatchError> {
    let end = at.checked_add(n).ok_or(DevPatchError::Truncated(*at))?;
    let bytes = input.get(*at..end).ok_or(DevPatchError::Truncated(*at))?;
    *at = end;
    Ok(bytes)
}

/// Decodes a patch transaction's input.
pub fn decode_dev_patches(input: &[u8]) -> Result<Vec<DevPatch>, DevPatchError> {
    let mut patches = Vec::new();
    let mut at = 0;
    while at < input.len() {
        if patches.len() >= MAX_PATCH_RECORDS {
            return Err(DevPatchError::TooManyRecords);
        }
        let tag_at = at;
        let tag = take(input, &mut at, 1)?[0];
        let address = Address::from_slice(take(input, &mut at, 20)?);
        let patch = match tag {
            1 => DevPatch::Balance(address, U256::from_be_slice(take(input, &mut at, 32)?)),
            2 => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(take(input, &mut at, 8)?);
                DevPatch::Nonce(address, u64::from_be_bytes(bytes))
            }
            3 => {
                let mut len = [0u8; 4];
                len.copy_from_slice(take(input, &mut at, 4)?);
                let len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
                if len > MAX_PATCH_CODE {
                    return Err(DevPatchError::CodeTooLarge(len));
                }
                DevPatch::Code(address, Bytes::copy_from_slice(take(input, &mut at, len)?))
            }
            4 => {
                let slot = B256::from_slice(take(input, &mut at, 32)?);
                DevPatch::Storage(
                    address,
                    slot,
                    U256::from_be_slice(take(input, &mut at, 32)?),
                )
            }
            tag => return Err(DevPatchError::UnknownTag { tag, at: tag_at }),
        };
        patches.push(patch);
    }
    Ok(patches)
}

/// The patches a block carries under the dev rule: inputs of its transactions from `signer`
/// (the block's sealer) to [`DEV_PATCH_ADDRESS`], in block order. Empty unless `enabled`
/// (the chain spec's `dev_state_patches`).
pub fn block_dev_patches<'a>(
    enabled: bool,
    signer: Address,
    transactions: impl IntoIterator<Item = (&'a spectrum_primitives::TransactionSigned, Address)>,
) -> Result<Vec<DevPatch>, DevPatchError> {
    if !enabled {
        return Ok(Vec::new());
    }
    let mut patches = Vec::new();
    for (tx, sender) in transactions {
        if sender == signer && tx.tx().to.to() == Some(&DEV_PATCH_ADDRESS) {
            patches.extend(decode_dev_patches(&tx.tx().input)?);
        }
    }
    Ok(patches)
}

/// Applies `patches` to a block's `changes` on top of the parent `state`.
pub fn apply_dev_patches(
    patches: &[DevPatch],
    state: &dyn StateProvider,
    changes: &mut StateChanges,
) -> Result<(), DevPatchError> {
    for patch in patches {
        match patch {
            DevPatch::Balance(address, balance) => {
                edit_account(state, changes, *address, |a| a.balance = *balance)?;
            }
            DevPatch::Nonce(address, nonce) => {
                edit_account(state, changes, *address, |a| a.nonce = *nonce)?;
            }
            DevPatch::Code(address, code) => {
                let hash = keccak256(code);
                if !changes.codes.iter().any(|(h, _)| *h == hash) {
                    changes.codes.push((hash, code.clone()));
                }
                edit_account(state, changes, *address, |a| a.code_hash = hash)?;
            }
            DevPatch::Storage(address, slot, value) => {
                // The account exists afterwards, so that its storage root is in the trie.
                edit_account(state, changes, *address, |_| {})?;
                match changes
                    .storage
                    .binary_search_by(|(a, s, _)| (a, s).cmp(&(address, slot)))
                {
                    Ok(i) => {
                        if let Some(entry) = changes.storage.get_mut(i) {
                            entry.2 = *value;
                        }
                    }
                    Err(i) => changes.storage.insert(i, (*address, *slot, *value)),
                }
            }
        }
    }
    Ok(())
}

/// The account as the block leaves it (its changes, else the parent state, else empty),
/// edited by `edit` and written back in address order.
fn edit_account(
    state: &dyn StateProvider,
    changes: &mut StateChanges,
    address: Address,
    edit: impl FnOnce(&mut Account),
) -> Result<(), DevPatchError> {
    match changes.accounts.binary_search_by(|(a, _)| a.cmp(&address)) {
        Ok(i) => {
            if let Some((_, account)) = changes.accounts.get_mut(i) {
                let mut edited = account.unwrap_or_default();
                edit(&mut edited);
                *account = Some(edited);
            }
        }
        Err(i) => {
            let mut account = state
                .account(&address)
                .map_err(|e| DevPatchError::State(e.to_string()))?
                .unwrap_or_default();
            edit(&mut account);
            changes.accounts.insert(i, (address, Some(account)));
        }
    }
    Ok(())
}

impl crate::Blockchain {
    /// The dev rule at import: the patches of `block` applied to its `changes`.
    pub(crate) fn apply_block_dev_patches(
        &self,
        block: &spectrum_primitives::RecoveredBlock,
        parent_state: &dyn StateProvider,
        changes: &mut StateChanges,
    ) -> Result<(), crate::ChainError> {
        // Off unless the chain spec enables it under Tribe's rules and the block holds a patch
        // transaction (tools on the dev spec with unsealed blocks never reach the seal). The
        // spec is checked first: on every other chain this costs nothing per block.
        if !self.spec.tribe.dev_state_patches
            || !matches!(self.rules, spectrum_execution::ExecutionRules::Spectrum(_))
            || !block
                .block
                .body
                .transactions
                .iter()
                .any(|tx| tx.tx().to.to() == Some(&DEV_PATCH_ADDRESS))
        {
            return Ok(());
        }
        let header = block.header();
        let error = |source| crate::ChainError::DevPatch {
            number: header.number,
            hash: block.hash(),
            source,
        };
        let signer = spectrum_consensus::block_signer(header.header())
            .map_err(|e| error(DevPatchError::State(e.to_string())))?;
        let transactions = block
            .block
            .body
            .transactions
            .iter()
            .zip(block.senders.iter().copied());
        let patches = block_dev_patches(self.spec.tribe.dev_state_patches, signer, transactions)
            .map_err(error)?;
        apply_dev_patches(&patches, parent_state, changes).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_round_trip_and_bad_input_is_a_typed_error() {
        let a = Address::repeat_byte(1);
        let patches = vec![
            DevPatch::Balance(a, U256::from(5u64)),
            DevPatch::Nonce(a, 7),
            DevPatch::Code(a, Bytes::from_static(&[0x60, 0x00])),
            DevPatch::Storage(a, B256::repeat_byte(2), U256::from(9u64)),
        ];
        let encoded = encode_dev_patches(&patches);
        assert_eq!(decode_dev_patches(&encoded).unwrap(), patches);
        assert_eq!(
            decode_dev_patches(&encoded[..encoded.len() - 1]),
            Err(DevPatchError::Truncated(encoded.len() - 32))
        );
        assert_eq!(
            decode_dev_patches(&[9; 21]),
            Err(DevPatchError::UnknownTag { tag: 9, at: 0 })
        );
        let mut huge = vec![3];
        huge.extend_from_slice(&[0; 20]);
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            decode_dev_patches(&huge),
            Err(DevPatchError::CodeTooLarge(u32::MAX as usize))
        );
    }
}
