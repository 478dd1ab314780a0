//! `anvil_setBalance`, `setCode`, `setNonce`, `setStorageAt` (and the `hardhat_` aliases):
//! each seals a block at once that carries the patch (`spectrum_chain::dev_patch`), so the
//! change is committed by a real block our verifier re-imports. Unlike anvil, a block is
//! mined per call (the chain's block number moves by one).

use serde_json::Value;
use spectrum_chain::DevPatch;

use super::{Control, dev_error};
use crate::{
    error::ApiResult,
    params::{address, at_most, data, invalid, quantity, quantity_u64, required, storage_slot},
};

/// A 256-bit value given as a quantity (`0x1`) or as 32 bytes (`0x00…01`), as tools send both.
fn word(value: &Value, index: usize) -> ApiResult<alloy_primitives::U256> {
    let text = value.as_str().unwrap_or_default();
    if text.len() == 66 {
        let bytes = data(value, index)?;
        return Ok(alloy_primitives::U256::from_be_slice(&bytes));
    }
    quantity(value, index)
}

async fn apply(control: Control, patch: DevPatch, answer: Value) -> ApiResult<Value> {
    control.patch(vec![patch]).await.map_err(dev_error)?;
    Ok(answer)
}

pub(super) async fn set_balance(
    control: Control,
    values: Vec<Value>,
    answer: Value,
) -> ApiResult<Value> {
    at_most(&values, 2)?;
    let who = address(required(&values, 0)?, 0)?;
    let balance = word(required(&values, 1)?, 1)?;
    apply(control, DevPatch::Balance(who, balance), answer).await
}

pub(super) async fn set_nonce(
    control: Control,
    values: Vec<Value>,
    answer: Value,
) -> ApiResult<Value> {
    at_most(&values, 2)?;
    let who = address(required(&values, 0)?, 0)?;
    let value = required(&values, 1)?;
    let nonce = match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| invalid(1, "expected a nonce below 2^64"))?,
        _ => quantity_u64(value, 1)?,
    };
    apply(control, DevPatch::Nonce(who, nonce), answer).await
}

pub(super) async fn set_code(
    control: Control,
    values: Vec<Value>,
    answer: Value,
) -> ApiResult<Value> {
    at_most(&values, 2)?;
    let who = address(required(&values, 0)?, 0)?;
    let code = data(required(&values, 1)?, 1)?;
    if code.len() > spectrum_chain::DEV_PATCH_MAX_CODE {
        return Err(invalid(
            1,
            format!("code above {} bytes", spectrum_chain::DEV_PATCH_MAX_CODE),
        ));
    }
    apply(control, DevPatch::Code(who, code), answer).await
}

pub(super) async fn set_storage_at(
    control: Control,
    values: Vec<Value>,
    answer: Value,
) -> ApiResult<Value> {
    at_most(&values, 3)?;
    let who = address(required(&values, 0)?, 0)?;
    let slot = storage_slot(required(&values, 1)?, 1)?;
    let value = word(required(&values, 2)?, 2)?;
    apply(control, DevPatch::Storage(who, slot, value), answer).await
}
