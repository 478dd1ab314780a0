//! The read-only `tribe_*` methods with the reference node's shapes: chief status, signers,
//! volunteers, blacklist, recent history, POC stakes, Anmap bindings and this node's miner.
//!
//! Numbers nested in these answers are plain JSON decimal numbers, as the reference's Go
//! encoder writes `*big.Int` fields (`balance`, `epoch`, `AmountList`…), at any size.

use alloy_primitives::{Address, B256, U256};
use serde::{Serialize, Serializer};
use serde_json::{Value, value::RawValue};
use spectrum_primitives::SealedHeader;
use spectrum_tribe_state::ChiefStatus;

use crate::{
    api::{Api, Method, heavy},
    error::{ApiResult, internal, server_error},
    params::{self, BlockId, at_most, optional},
};

pub(crate) const METHODS: &[Method<Box<RawValue>>] = &[
    heavy("tribe_getStatus", get_status),
    heavy("tribe_getSigners", get_signers),
    heavy("tribe_getVolunteers", get_volunteers),
    heavy("tribe_getSinners", get_sinners),
    heavy("tribe_getHistory", get_history),
    heavy("tribe_pocGetStatus", poc_get_status),
    heavy("tribe_bindInfo", bind_info),
    heavy("tribe_getMiner", get_miner),
];

/// A big integer written as a JSON number.
#[derive(Debug, Clone, Copy)]
struct Dec(U256);

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.0.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

fn to_raw(value: &impl Serialize) -> ApiResult<Box<RawValue>> {
    serde_json::value::to_raw_value(value).map_err(internal)
}

fn chief_error(error: impl std::fmt::Display) -> jsonrpsee::types::ErrorObjectOwned {
    server_error(error.to_string())
}

/// The header `tribe_*`'s optional hash parameter names (default: the head).
fn header_at(api: &Api, values: &[Value]) -> ApiResult<SealedHeader> {
    match optional(values, 0) {
        Some(value) => api
            .header_for(BlockId::Hash {
                hash: params::hash(value, 0)?,
                require_canonical: false,
            })
            .map_err(|_| server_error("block not exist")),
        None => api.head_header(),
    }
}

#[derive(Serialize)]
struct Signer {
    address: Address,
    score: Dec,
}

fn signers(status: &ChiefStatus) -> Vec<Signer> {
    status
        .signers
        .iter()
        .zip(&status.scores)
        .map(|(address, score)| Signer {
            address: *address,
            score: Dec(*score),
        })
        .collect()
}

/// The reference's levels for this node's address: Signer (signer or leader), Sinner
/// (blacklisted), else None.
fn signer_level(api: &Api, status: &ChiefStatus) -> &'static str {
    let Some(me) = api.ctx.validator else {
        return "None";
    };
    if status.signers.contains(&me) {
        return "Signer";
    }
    if status.black_list.contains(&me) {
        return "Sinner";
    }
    if status.leaders.as_ref().is_some_and(|l| l.contains(&me)) {
        return "Signer";
    }
    "None"
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    signers: Vec<Signer>,
    leaders: Option<Vec<Address>>,
    signer_level: &'static str,
    number: Dec,
    epoch: Option<Dec>,
    leader_limit: Option<Dec>,
    signer_limit: Option<Dec>,
    version: String,
    /// Our extension: why this validator refuses to seal (double-signing guard), if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    seal_guard: Option<String>,
}

fn status_at(api: &Api, values: &[Value]) -> ApiResult<ChiefStatus> {
    at_most(values, 1)?;
    let header = header_at(api, values)?;
    api.chief.status(&header).map_err(chief_error)
}

fn get_status(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    let status = status_at(api, values)?;
    to_raw(&Status {
        signers: signers(&status),
        leaders: status.leaders.clone(),
        signer_level: signer_level(api, &status),
        number: Dec(status.number),
        epoch: status.epoch.map(Dec),
        leader_limit: status.leader_limit.map(Dec),
        signer_limit: status.signer_limit.map(Dec),
        version: status.version.clone(),
        seal_guard: api.ctx.seal_guard.as_ref().and_then(|guard| guard()),
    })
}

fn get_signers(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    to_raw(&signers(&status_at(api, values)?))
}

fn get_sinners(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    to_raw(&status_at(api, values)?.black_list)
}

#[derive(Serialize)]
struct Volunteer {
    address: Address,
    weight: Dec,
}

#[derive(Serialize)]
struct Volunteers {
    length: Dec,
    volunteers: Vec<Volunteer>,
}

fn get_volunteers(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    at_most(values, 1)?;
    let header = header_at(api, values)?;
    let (list, weights) = api
        .chief
        .volunteers_with_weights(&header)
        .map_err(chief_error)?;
    to_raw(&Volunteers {
        length: Dec(U256::from(list.len())),
        volunteers: list
            .into_iter()
            .zip(weights)
            .map(|(address, weight)| Volunteer {
                address,
                weight: Dec(weight),
            })
            .collect(),
    })
}

#[derive(Serialize)]
struct History {
    number: u64,
    hash: B256,
    signer: Address,
    difficulty: Dec,
    timestamp: u64,
}

/// Most headers `tribe_getHistory` returns.
const MAX_HISTORY: u64 = 4096;

fn get_history(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    at_most(values, 2)?;
    let last = match optional(values, 0) {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| params::invalid(0, "expected a block count"))?,
        Some(other) => params::quantity_u64(other, 0)?,
        None => 16,
    }
    .min(MAX_HISTORY);
    let no_rpc = optional(values, 1)
        .map(|v| params::boolean(v, 1))
        .transpose()?
        .unwrap_or(false);
    let (head, _) = api.head()?;
    let mut headers = Vec::new();
    for number in (0..=head)
        .rev()
        .take(usize::try_from(last).unwrap_or(usize::MAX))
    {
        let header = api
            .ctx
            .db
            .header_by_number(number)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("canonical header {number} missing")))?;
        headers.push(header);
    }
    if no_rpc {
        let lines: Vec<serde_json::Map<String, Value>> = headers
            .iter()
            .map(|h| {
                let key = if h.difficulty == U256::from(1) {
                    "👿"
                } else {
                    "🔨"
                };
                let mut line = serde_json::Map::new();
                line.insert(
                    key.to_owned(),
                    Value::String(format!(
                        "{} -> {}",
                        h.number,
                        h.beneficiary.to_checksum(None)
                    )),
                );
                line
            })
            .collect();
        return to_raw(&lines);
    }
    let rows: Vec<History> = headers
        .iter()
        .map(|h| History {
            number: h.number,
            hash: h.hash(),
            signer: h.beneficiary,
            difficulty: Dec(h.difficulty),
            timestamp: h.timestamp,
        })
        .collect();
    to_raw(&rows)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PocStatusOut {
    miner_list: Vec<Address>,
    amount_list: Vec<Dec>,
    block_list: Vec<Dec>,
    owner_list: Vec<Address>,
    black_status_list: Vec<Dec>,
}

fn poc_get_status(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    at_most(values, 1)?;
    let header = header_at(api, values)?;
    let poc = api
        .chief
        .poc_status(&header)
        .map_err(chief_error)?
        .ok_or_else(|| server_error("this chain has no POC contract"))?;
    let dec = |list: Vec<U256>| list.into_iter().map(Dec).collect();
    to_raw(&PocStatusOut {
        miner_list: poc.miners,
        amount_list: dec(poc.amounts),
        block_list: dec(poc.blocks),
        owner_list: poc.owners,
        black_status_list: dec(poc.black_status),
    })
}

#[derive(Serialize)]
struct BindInfo {
    from: Address,
    nodeids: Vec<Address>,
}

fn bind_info(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    at_most(values, 2)?;
    let address = match optional(values, 0) {
        Some(value) => params::address(value, 0)?,
        None => api
            .ctx
            .validator
            .ok_or_else(|| server_error("args_can_not_empty"))?,
    };
    let header = match optional(values, 1) {
        Some(Value::Number(n)) => {
            let number = n
                .as_u64()
                .ok_or_else(|| params::invalid(1, "expected a block number"))?;
            api.header_for(BlockId::Number(number))?
        }
        Some(other) => api.header_for(BlockId::Number(params::quantity_u64(other, 1)?))?,
        None => api.head_header()?,
    };
    let (from, nodeids) = api
        .chief
        .bind_info(&header, address)
        .map_err(chief_error)?
        .ok_or_else(|| server_error("anmap_not_ready"))?;
    to_raw(&BindInfo { from, nodeids })
}

#[derive(Serialize)]
struct Miner {
    address: Address,
    balance: Dec,
    level: &'static str,
}

fn get_miner(api: &Api, values: &[Value]) -> ApiResult<Box<RawValue>> {
    at_most(values, 1)?;
    let address = api
        .ctx
        .validator
        .ok_or_else(|| server_error("this node has no validator key"))?;
    // One snapshot: the balance is the one after the head header's block.
    let state = api.ctx.db.latest().map_err(internal)?;
    let balance = state
        .account(&address)
        .map_err(internal)?
        .map(|a| a.balance)
        .unwrap_or_default();
    let header = state.header().map_err(internal)?;
    drop(state);
    let level = match api.chief.status(&header) {
        Ok(status) => signer_level(api, &status),
        Err(_) => "None",
    };
    to_raw(&Miner {
        address,
        balance: Dec(balance),
        level,
    })
}
