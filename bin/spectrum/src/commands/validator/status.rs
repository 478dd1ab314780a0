//! `validator status`: where a node stands, from the node's RPC: its role in the chief's
//! signer set, its POC stake and the waits ahead, its next slots and its recent blocks.

use alloy_primitives::Address;
use serde_json::{Value, json};
use spectrum_chainspec::ChainSpec;

use super::{poc, quantity, quantity_u64, rpc::Rpc};

/// Blocks of history `status` looks at for sealed and missed blocks.
const RECENT: u64 = 64;

fn contains(list: &Value, node: Address) -> bool {
    let node = format!("{node:#x}");
    list.as_array().is_some_and(|items| {
        items.iter().any(|item| {
            let address = item.get("address").unwrap_or(item);
            address
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(&node))
        })
    })
}

/// Prints the status of `node`.
pub fn print(rpc: &Rpc, spec: &ChainSpec, node: Address) -> eyre::Result<()> {
    let head = quantity_u64(&rpc.call("eth_blockNumber", json!([]))?)?;
    let balance = quantity(&rpc.call("eth_getBalance", json!([node, "latest"]))?)?;
    println!(
        "Chain:    {} (chain id {}), head {head}",
        spec.name, spec.chain_id
    );
    println!("Node:     {node}, balance {balance} wei");
    let status = rpc.call("tribe_getStatus", json!([]))?;
    let leader = contains(&status["leaders"], node);
    let signer = contains(&status["signers"], node);
    let volunteer = rpc
        .call("tribe_getVolunteers", json!([]))
        .is_ok_and(|v| contains(&v["volunteers"], node));
    let sinner = contains(
        &rpc.call("tribe_getSinners", json!([])).unwrap_or_default(),
        node,
    );
    let role = match (leader, signer, volunteer, sinner) {
        (_, _, _, true) => "blacklisted (missed its slot; cleared at the next epoch block)",
        (true, _, _, _) => "leader",
        (_, true, _, _) => "signer (has a slot in this round)",
        (_, _, true, _) => "volunteer (picked for the next round)",
        _ => "none (not in the signer set)",
    };
    println!("Role:     {role}");
    if let Some(guard) = status.get("sealGuard").filter(|g| !g.is_null()) {
        println!("Sealing:  REFUSED by the double-signing guard: {guard}");
    }
    if let Some(poc_address) = spec.tribe.poc {
        stake_lines(rpc, poc_address, node)?;
    }
    if let Ok(slots) = rpc.call("tribe_nextSlots", json!([16])) {
        let ours: Vec<String> = slots
            .as_array()
            .into_iter()
            .flatten()
            .filter(|slot| {
                slot["signer"]
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&format!("{node:#x}")))
            })
            .map(|slot| format!("{} (in {} s)", slot["number"], slot["delay"]))
            .collect();
        println!(
            "Next:     {}",
            if ours.is_empty() {
                "no in-turn slot in the next 16 blocks".to_owned()
            } else {
                ours.join(", ")
            }
        );
    }
    let from = head.saturating_sub(RECENT - 1);
    if let Ok(missed) = rpc.call("tribe_missedSlots", json!([node, from, head])) {
        let count = missed.as_array().map_or(0, Vec::len);
        println!("Missed:   {count} of its slots in blocks {from}..={head}");
    }
    let history = rpc.call("tribe_getHistory", json!([RECENT]))?;
    let sealed = history
        .as_array()
        .into_iter()
        .flatten()
        .filter(|block| {
            block["signer"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(&format!("{node:#x}")))
        })
        .count();
    println!("Sealed:   {sealed} of the last {RECENT} blocks have it as coinbase");
    Ok(())
}

fn stake_lines(rpc: &Rpc, poc_address: Address, node: Address) -> eyre::Result<()> {
    let view = poc::read(rpc, poc_address, node)?;
    println!("Minimum:  {} wei (POC {poc_address})", view.min_deposit);
    let Some(stake) = &view.stake else {
        println!("Stake:    none (`spectrum validator deposit` to stake)");
        return Ok(());
    };
    let state = match (stake.running, stake.blacklisted) {
        (_, true) => "blacklisted",
        (true, false) => "running (can be picked by the VRF)",
        (false, false) => "stopped",
    };
    println!(
        "Stake:    {} wei from {}, {state}",
        stake.amount, stake.owner
    );
    if !stake.running
        && let Some(wait) = view.withdraw_wait
    {
        println!(
            "Withdraw: stopped in block {}; withdraw can be mined from block {}",
            stake.stop_block,
            poc::first_withdraw_block(stake, wait)
        );
    }
    Ok(())
}
