//! POC state read over `eth_call` (exact numbers, unlike the decimal JSON numbers of
//! `tribe_pocGetStatus`), and the diagnosis of why an owner call would fail, which explains
//! the reverts of contracts that give no reason (the reference's on mainnet).

use alloy_primitives::{Address, Bytes, U256};
use eyre::eyre;
use serde_json::json;
use spectrum_contracts::abi::{
    self, GET_NORMAL_LIST, POC_GET_ALL, decode_address_array, decode_uint_array, read_uint_word,
};

use super::{Action, rpc::Rpc};

/// One node's stake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stake {
    pub amount: U256,
    /// The block `stop` was mined in (0 while running).
    pub stop_block: U256,
    pub owner: Address,
    pub blacklisted: bool,
    /// In the normal list (can be picked by the VRF).
    pub running: bool,
}

/// What POC says about a node at the head.
#[derive(Debug, Clone)]
pub struct PocView {
    pub head: u64,
    pub stake: Option<Stake>,
    pub min_deposit: U256,
    /// `withdrawWaitNumber()`, if the contract has that view.
    pub withdraw_wait: Option<U256>,
}

fn eth_call(rpc: &Rpc, to: Address, data: Bytes) -> eyre::Result<Vec<u8>> {
    let answer = rpc.call("eth_call", json!([{"to": to, "data": data}, "latest"]))?;
    let text = answer
        .as_str()
        .ok_or_else(|| eyre!("eth_call answered {answer}"))?;
    Ok(alloy_primitives::hex::decode(
        text.trim_start_matches("0x"),
    )?)
}

/// Reads the stake of `node`, the minimum deposit and the withdraw wait.
pub fn read(rpc: &Rpc, poc: Address, node: Address) -> eyre::Result<PocView> {
    let head = super::quantity_u64(&rpc.call("eth_blockNumber", json!([]))?)?;
    let all = eth_call(rpc, poc, POC_GET_ALL.to_vec().into())?;
    let bad = |e: &'static str| eyre!("POC getAll(): {e}");
    let miners = decode_address_array(&all, 0).map_err(bad)?;
    let amounts = decode_uint_array(&all, 1).map_err(bad)?;
    let blocks = decode_uint_array(&all, 2).map_err(bad)?;
    let owners = decode_address_array(&all, 3).map_err(bad)?;
    let black = decode_uint_array(&all, 4).map_err(bad)?;
    let normal = decode_address_array(&eth_call(rpc, poc, GET_NORMAL_LIST.to_vec().into())?, 0)
        .map_err(|e| eyre!("POC getNormalList(): {e}"))?;
    let stake = miners.iter().position(|m| *m == node).and_then(|i| {
        Some(Stake {
            amount: *amounts.get(i)?,
            stop_block: *blocks.get(i)?,
            owner: *owners.get(i)?,
            blacklisted: black.get(i)? != &U256::ZERO,
            running: normal.contains(&node),
        })
    });
    let min = eth_call(rpc, poc, abi::call("minDepositAmount()", &[]))?;
    let min_deposit = read_uint_word(&min, 0).map_err(|e| eyre!("minDepositAmount(): {e}"))?;
    // Not every POC has this view; its absence only removes a line from `status`.
    let withdraw_wait = eth_call(rpc, poc, abi::call("withdrawWaitNumber()", &[]))
        .ok()
        .and_then(|w| read_uint_word(&w, 0).ok());
    Ok(PocView {
        head,
        stake,
        min_deposit,
        withdraw_wait,
    })
}

/// The first block a `withdraw` can be mined in (POC: `block.number > stopBlock + wait`).
pub fn first_withdraw_block(stake: &Stake, wait: U256) -> U256 {
    stake
        .stop_block
        .saturating_add(wait)
        .saturating_add(U256::from(1u8))
}

/// Why `action` by `from` would fail, from POC's state; `None` if nothing there says it would.
pub fn diagnose(view: &PocView, action: Action, from: Address, value: U256) -> Option<String> {
    let Some(stake) = &view.stake else {
        return match action {
            Action::Deposit if value < view.min_deposit => Some(format!(
                "the value {value} wei is below the minimum deposit {} wei",
                view.min_deposit
            )),
            Action::Deposit => None,
            _ => Some("the node has no stake in POC: `deposit` first".to_owned()),
        };
    };
    if action == Action::Deposit {
        return Some(format!(
            "the node is already staked ({} wei by {})",
            stake.amount, stake.owner
        ));
    }
    if stake.owner != from {
        return Some(format!(
            "the stake belongs to {}, not to {from}: send from that wallet",
            stake.owner
        ));
    }
    let next = U256::from(view.head).saturating_add(U256::from(1u8));
    match action {
        Action::Stop if !stake.running => Some("the node is not running (already stopped)".into()),
        Action::Start if stake.running => Some("the node is already running".into()),
        Action::Start | Action::Withdraw if stake.blacklisted => Some(
            "the chief blacklisted the node (it missed its slot); the blacklist empties at the next epoch block".into(),
        ),
        Action::Withdraw if stake.running => Some("the node is running: `stop` first".into()),
        Action::Withdraw => view
            .withdraw_wait
            .map(|wait| first_withdraw_block(stake, wait))
            .filter(|first| next < *first)
            .map(|first| format!("the withdraw wait has not passed: the first block a withdraw can be mined in is {first} (head {})", view.head)),
        Action::WithdrawSurplus if stake.amount <= view.min_deposit => Some(format!(
            "no surplus: the stake {} wei is not above the minimum {} wei",
            stake.amount, view.min_deposit
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(stake: Option<Stake>) -> PocView {
        PocView {
            head: 20,
            stake,
            min_deposit: U256::from(100u8),
            withdraw_wait: Some(U256::from(10u8)),
        }
    }

    fn stake(running: bool, stop_block: u64) -> Stake {
        Stake {
            amount: U256::from(150u8),
            stop_block: U256::from(stop_block),
            owner: Address::repeat_byte(1),
            blacklisted: false,
            running,
        }
    }

    #[test]
    fn known_failure_causes_are_named() {
        let owner = Address::repeat_byte(1);
        let d = |v: &PocView, a, from, value: u64| diagnose(v, a, from, U256::from(value));
        assert!(
            d(&view(None), Action::Deposit, owner, 99)
                .unwrap()
                .contains("below the minimum deposit 100")
        );
        assert_eq!(d(&view(None), Action::Deposit, owner, 100), None);
        assert!(
            d(&view(None), Action::Stop, owner, 0)
                .unwrap()
                .contains("no stake")
        );
        let running = view(Some(stake(true, 0)));
        assert!(
            d(&running, Action::Deposit, owner, 100)
                .unwrap()
                .contains("already staked")
        );
        assert!(
            d(&running, Action::Stop, Address::ZERO, 0)
                .unwrap()
                .contains("belongs to")
        );
        assert_eq!(d(&running, Action::Stop, owner, 0), None);
        assert!(
            d(&running, Action::Withdraw, owner, 0)
                .unwrap()
                .contains("`stop` first")
        );
        // Stopped at 15 with a wait of 10: the first withdraw block is 26; head 20.
        let stopped = view(Some(stake(false, 15)));
        assert!(
            d(&stopped, Action::Withdraw, owner, 0)
                .unwrap()
                .contains("is 26 (head 20)")
        );
        let stopped_long_ago = view(Some(stake(false, 5)));
        assert_eq!(d(&stopped_long_ago, Action::Withdraw, owner, 0), None);
        assert_eq!(d(&stopped, Action::WithdrawSurplus, owner, 0), None);
        assert!(
            d(&stopped, Action::Stop, owner, 0)
                .unwrap()
                .contains("not running")
        );
    }
}
