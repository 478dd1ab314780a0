//! `validator status`: where a node stands, from the node's RPC: its role in the chief's
//! signer set, its POC stake and the waits ahead, where its rewards go, its next slots and the
//! recent blocks it sealed (counted by recovered seal, whatever their coinbase).

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
    rewards_line(rpc, node);
    let sealed = sealed_by(rpc, node, from, head)?;
    println!(
        "Sealed:   {} of blocks {from}..={head} carry its seal{}",
        sealed.count,
        match sealed.paid_elsewhere {
            0 => String::new(),
            n => format!(" ({n} paid to a bound wallet)"),
        }
    );
    if sealed.unreadable > 0 {
        println!(
            "          ({} blocks whose seal could not be checked)",
            sealed.unreadable
        );
    }
    Ok(())
}

/// Where its blocks' fees and rewards go: the wallet Anmap binds it to, else itself.
fn rewards_line(rpc: &Rpc, node: Address) {
    let info = rpc.call("tribe_bindInfo", json!([node]));
    let wallet = info.ok().and_then(|info| {
        info["from"]
            .as_str()
            .and_then(|from| from.parse::<Address>().ok())
    });
    match wallet {
        Some(wallet) if wallet != node && !wallet.is_zero() => {
            println!("Rewards:  to {wallet} (bound in Anmap; `validator unbind` to undo)")
        }
        Some(_) => println!("Rewards:  to the node address (no wallet bound in Anmap)"),
        None => println!("Rewards:  to the node address (no Anmap on this chain)"),
    }
}

/// Blocks in a range sealed by a node.
struct Sealed {
    count: usize,
    /// Of those, how many name another coinbase (a bound wallet).
    paid_elsewhere: usize,
    /// Blocks whose header could not be rebuilt from the RPC answer.
    unreadable: usize,
}

/// Counts the canonical blocks `from..=to` whose seal recovers to `node`. By seal and not by
/// coinbase: a node bound to a wallet in Anmap puts the wallet in the coinbase (and the
/// reference's `tribe_getHistory` "signer" is the coinbase).
fn sealed_by(rpc: &Rpc, node: Address, from: u64, to: u64) -> eyre::Result<Sealed> {
    let mut sealed = Sealed {
        count: 0,
        paid_elsewhere: 0,
        unreadable: 0,
    };
    for number in from.max(1)..=to {
        let block = rpc.call(
            "eth_getBlockByNumber",
            json!([format!("{number:#x}"), false]),
        )?;
        match block_signer(&block) {
            Some((signer, coinbase)) if signer == node => {
                sealed.count += 1;
                if coinbase != node {
                    sealed.paid_elsewhere += 1;
                }
            }
            Some(_) => {}
            None => sealed.unreadable += 1,
        }
    }
    Ok(sealed)
}

/// The recovered seal signer and the coinbase of a block as `eth_getBlockByNumber` gives it;
/// `None` if the header rebuilt from it does not hash to its `hash` (a field missing or
/// altered) or no signer recovers.
fn block_signer(block: &Value) -> Option<(Address, Address)> {
    let header: spectrum_primitives::Header = serde_json::from_value(block.clone()).ok()?;
    let hash: alloy_primitives::B256 = block["hash"].as_str()?.parse().ok()?;
    if header.hash_slow() != hash {
        return None;
    }
    let signer = spectrum_consensus::recover_block_signer(&header).ok()?;
    Some((signer, header.beneficiary))
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
