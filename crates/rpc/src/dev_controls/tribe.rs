//! Tribe's own dev controls (extensions nobody else has; `--dev` only): staking a node in
//! POC, setting ChiefBase's leaders, advancing to an epoch and making a signer miss its slot,
//! one call each. Both send real transactions from a
//! dev account (signed by the node, as `eth_sendTransaction` does) and seal a block, so the
//! chain stays a chain of real Tribe blocks.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256, keccak256};
use secp256k1::SecretKey;
use serde_json::{Value, json};

use super::dev_error;
use crate::{
    api::Api,
    error::{ApiResult, internal, server_error},
    params::{address, at_most, data, invalid, optional, quantity, required},
};

/// The POC minimum stake of the dev chain's genesis (1 coin): `dev_stake`'s default value.
const DEV_MIN_STAKE_WEI: u128 = 1_000_000_000_000_000_000;

/// Gas for one staking or leader call (they use far less; the surplus is refunded).
const TRIBE_CALL_GAS: u64 = 500_000;

/// Sends a transaction from dev account `from` (filled and signed as `eth_sendTransaction`)
/// off the async workers; its hash.
async fn send(
    api: &Arc<Api>,
    from: Address,
    to: Address,
    value: U256,
    input: &[u8],
) -> ApiResult<Value> {
    let api = api.clone();
    let request = json!({
        "from": from,
        "to": to,
        "value": format!("{value:#x}"),
        "data": format!("0x{}", alloy_primitives::hex::encode(input)),
        "gas": format!("{TRIBE_CALL_GAS:#x}"),
    });
    tokio::task::spawn_blocking(move || crate::dev::send_transaction(&api, &[request]))
        .await
        .map_err(internal)?
}

/// The node key `dev_stake` stakes by default: keccak256("spectrum-rs dev node" ‖ owner),
/// public like every dev key.
fn default_node_key(owner: Address) -> ApiResult<SecretKey> {
    let mut seed = b"spectrum-rs dev node".to_vec();
    seed.extend_from_slice(owner.as_slice());
    SecretKey::from_byte_array(keccak256(&seed).0).map_err(internal)
}

/// `dev_stake [owner, nodeKey?, value?]`: `owner` (a dev account) deposits `value` (default
/// the dev POC's 1-coin minimum) in POC for the node of `nodeKey` (default a key derived from
/// the owner), the node key signing the owner as POC requires; a block is sealed. Answers the
/// node's address, its key and the transaction hash.
pub(super) async fn stake(api: Arc<Api>, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 3)?;
    let control = super::dev_controls(&api)?;
    let owner = address(required(&values, 0)?, 0)?;
    let node_key = match optional(&values, 1) {
        Some(value) => {
            let bytes = data(value, 1)?;
            let bytes: [u8; 32] = bytes
                .as_ref()
                .try_into()
                .map_err(|_| invalid(1, "a node key is 32 bytes"))?;
            SecretKey::from_byte_array(bytes)
                .map_err(|_| invalid(1, "not a valid secp256k1 key"))?
        }
        None => default_node_key(owner)?,
    };
    let value = match optional(&values, 2) {
        Some(value) => quantity(value, 2)?,
        None => U256::from(DEV_MIN_STAKE_WEI),
    };
    let poc = api
        .ctx
        .spec
        .tribe
        .poc
        .ok_or_else(|| server_error("this chain has no POC contract"))?;
    let node =
        spectrum_primitives::public_key_to_address(&node_key.public_key(secp256k1::SECP256K1));
    let input = spectrum_contracts::abi::poc_deposit(&node_key, owner);
    let hash = send(&api, owner, poc, value, &input).await?;
    control.mine(1, 0, None).await.map_err(dev_error)?;
    Ok(json!({
        "node": node,
        "nodeKey": B256::from(node_key.secret_bytes()),
        "transactionHash": hash,
    }))
}

/// `dev_setLeaders [[leader, …]]`: ChiefBase's leaders become exactly the list, by
/// `removeLeader` / `appendLeader` calls from its owner, dev account 0; a block is sealed.
/// The dev validator must stay a leader (it seals every block). Answers the leaders read
/// after the block.
pub(super) async fn set_leaders(api: Arc<Api>, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 1)?;
    let control = super::dev_controls(&api)?;
    let list = required(&values, 0)?
        .as_array()
        .ok_or_else(|| invalid(0, "expected an array of addresses"))?;
    let wanted = list
        .iter()
        .map(|v| address(v, 0))
        .collect::<ApiResult<Vec<Address>>>()?;
    if let Some(validator) = api.ctx.validator
        && !wanted.contains(&validator)
    {
        return Err(invalid(
            0,
            format!("the dev validator {validator} must stay a leader: it seals every block"),
        ));
    }
    let chief_base = api
        .ctx
        .spec
        .tribe
        .chief_base
        .ok_or_else(|| server_error("this chain has no ChiefBase contract"))?;
    let owner = *api
        .dev
        .addresses()
        .first()
        .ok_or_else(|| server_error("no dev accounts"))?;
    let current = leaders(&api)?;
    for leader in current.iter().filter(|l| !wanted.contains(l)) {
        let input = spectrum_contracts::abi::remove_leader(*leader);
        send(&api, owner, chief_base, U256::ZERO, &input).await?;
    }
    for leader in wanted.iter().filter(|l| !current.contains(l)) {
        let input = spectrum_contracts::abi::append_leader(*leader);
        send(&api, owner, chief_base, U256::ZERO, &input).await?;
    }
    control.mine(1, 0, None).await.map_err(dev_error)?;
    Ok(json!(leaders(&api)?))
}

/// ChiefBase's leaders at the head.
fn leaders(api: &Api) -> ApiResult<Vec<Address>> {
    let head = api.head_header()?;
    let status = api.chief.status(&head).map_err(internal)?;
    Ok(status.leaders.unwrap_or_default())
}

/// `dev_advanceEpoch []`: seals blocks up to the next epoch boundary (a block whose number is
/// a multiple of ChiefBase's epoch: its chief update empties POC's blacklist, tribe.md §9).
/// Answers `{"number", "epoch"}` of the boundary block.
pub(super) async fn advance_epoch(api: Arc<Api>, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 0)?;
    let control = super::dev_controls(&api)?;
    let head = api.head_header()?;
    let status = api.chief.status(&head).map_err(internal)?;
    let epoch = status
        .epoch
        .and_then(|e| u64::try_from(e).ok())
        .filter(|e| *e > 0)
        .ok_or_else(|| server_error("the chief reports no epoch"))?;
    let next = (head.number / epoch)
        .checked_add(1)
        .and_then(|n| n.checked_mul(epoch))
        .ok_or_else(|| server_error("epoch boundary out of range"))?;
    let blocks = next.saturating_sub(head.number);
    control.mine(blocks, 0, None).await.map_err(dev_error)?;
    Ok(json!({ "number": next, "epoch": epoch }))
}

/// `dev_skipSlot []`: blocks are sealed until one falls in the in-turn slot of a signer other
/// than the dev validator (a node staked with `dev_stake` and picked into the signer list),
/// and that block is sealed by the validator instead at its leader-role delay, so the chief
/// update stops and blacklists the signer in POC (tribe.md §9). Answers
/// `{"signer", "number", "hash"}`; `-32000` if no other signer has a slot.
pub(super) async fn skip_slot(api: Arc<Api>, values: Vec<Value>) -> ApiResult<Value> {
    at_most(&values, 0)?;
    let control = super::dev_controls(&api)?;
    let skipped = control.skip_slot().await.map_err(dev_error)?;
    Ok(json!({
        "signer": skipped.signer,
        "number": skipped.number,
        "hash": skipped.hash,
    }))
}
