//! Our read-only Tribe extensions for validators (not in the reference node):
//! `tribe_nextSlots(count)`, who is due at the next heights and after which delay, and
//! `tribe_missedSlots(address, fromBlock, toBlock)`, the in-turn slots of a signer that
//! another signer filled. Both apply the consensus rules (tribe.md §6, §7) to the signer set
//! the chief contract gives at the parent's state.

use alloy_primitives::Address;
use serde::Serialize;
use serde_json::{Value, value::RawValue};
use spectrum_tribe_state::SlotError;

use crate::{
    api::{Api, Method, heavy},
    error::{ApiResult, internal, server_error},
    params::{self, at_most},
};

pub(crate) const METHODS: &[Method<Box<RawValue>>] = &[
    heavy("tribe_nextSlots", next_slots),
    heavy("tribe_missedSlots", missed_slots),
];

/// Most heights `tribe_nextSlots` answers for.
const MAX_NEXT_SLOTS: u64 = 1024;
/// Most blocks one `tribe_missedSlots` call reads (each one a chief call).
const MAX_MISSED_RANGE: u64 = 1024;

/// A count or block number: a JSON number or a hex quantity.
fn number(values: &[Value], index: usize, what: &'static str) -> ApiResult<u64> {
    match values.get(index) {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| params::invalid(index, what)),
        Some(other) => params::quantity_u64(other, index),
        None => Err(params::invalid(index, what)),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Slot {
    number: u64,
    /// Who is due: the in-turn signer, or for an empty slot the first stand-in.
    signer: Option<Address>,
    /// Whether `signer` is in turn (false: the slot is empty and this is a stand-in).
    in_turn: bool,
    /// Seconds after the parent's timestamp at which `signer` may seal.
    delay: u64,
}

impl From<spectrum_tribe_state::Slot> for Slot {
    fn from(slot: spectrum_tribe_state::Slot) -> Self {
        Self {
            number: slot.number,
            signer: slot.signer,
            in_turn: slot.in_turn,
            delay: slot.delay,
        }
    }
}

/// `tribe_nextSlots(count)`: the next `count` heights after the head, from the signer set at
/// the head's state (exact for the next block; after it a prediction, as each block's chief
/// update may change the set).
fn next_slots(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    at_most(values, 1)?;
    let count = number(values, 0, "expected a count")?.min(MAX_NEXT_SLOTS);
    let head = api.head_header()?;
    let mut slots = Vec::new();
    for k in 1..=count {
        let Some(number) = head.number.checked_add(k) else {
            break;
        };
        let slot = api
            .chief
            .slot(&head, number)
            .map_err(|e| server_error(e.to_string()))?;
        let Some(slot) = slot else {
            break;
        };
        slots.push(Slot::from(slot));
    }
    serde_json::value::to_raw_value(&slots).map_err(internal)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Missed {
    number: u64,
    /// Who sealed the block instead.
    sealed_by: Address,
}

/// `tribe_missedSlots(address, fromBlock, toBlock)`: the canonical blocks in the range whose
/// in-turn signer was `address` but which another signer sealed (at most 1024 blocks).
fn missed_slots(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    at_most(values, 3)?;
    let address = params::address(values.first().unwrap_or(&Value::Null), 0)?;
    let from = number(values, 1, "expected a block number")?.max(1);
    let to = number(values, 2, "expected a block number")?;
    if to < from {
        return Err(params::invalid(2, "toBlock is below fromBlock"));
    }
    if to - from >= MAX_MISSED_RANGE {
        return Err(params::invalid(2, "at most 1024 blocks per call"));
    }
    let (head, _) = api.head()?;
    let mut missed = Vec::new();
    let mut parent = match api.ctx.db.header_by_number(from - 1).map_err(internal)? {
        Some(header) => header,
        None => return Err(server_error("fromBlock is beyond the head")),
    };
    for number in from..=to.min(head) {
        let header = api
            .ctx
            .db
            .header_by_number(number)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("canonical header {number} missing")))?;
        let slot = api
            .chief
            .missed_slot(&parent, &header)
            .map_err(|e| match e {
                SlotError::Chief(e) => server_error(e.to_string()),
                e @ SlotError::Seal { .. } => internal(e),
            })?;
        if let Some(slot) = slot.filter(|s| s.in_turn == address) {
            missed.push(Missed {
                number,
                sealed_by: slot.sealed_by,
            });
        }
        parent = header;
    }
    serde_json::value::to_raw_value(&missed).map_err(internal)
}
