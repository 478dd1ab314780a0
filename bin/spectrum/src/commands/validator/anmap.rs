//! Anmap read over `eth_call` (the binding of a node), and the diagnosis of a `bind` or
//! `unbind` that would fail, which explains the reverts of the reference's Anmap (it gives no
//! reason; ours does).

use alloy_primitives::Address;
use eyre::eyre;
use serde_json::json;
use spectrum_contracts::abi::{anmap_bind_info, decode_bind_info};

use super::{Action, rpc::Rpc};

/// The wallet `node` is bound to at the head, `None` if it is unbound.
pub fn bound_wallet(rpc: &Rpc, anmap: Address, node: Address) -> eyre::Result<Option<Address>> {
    let answer = rpc.call(
        "eth_call",
        json!([{"to": anmap, "data": anmap_bind_info(node)}, "latest"]),
    )?;
    let text = answer
        .as_str()
        .ok_or_else(|| eyre!("eth_call answered {answer}"))?;
    let data = alloy_primitives::hex::decode(text.trim_start_matches("0x"))?;
    let (from, _) = decode_bind_info(&data).map_err(|e| eyre!("Anmap bindInfo: {e}"))?;
    // An unbound node answers with itself (bindInfo takes it for a wallet).
    Ok((from != node && !from.is_zero()).then_some(from))
}

/// Why `action` (bind or unbind) on a node bound to `bound` would fail, if the binding shows it.
pub fn diagnose(bound: Option<Address>, action: Action) -> Option<String> {
    match (action, bound) {
        (Action::Bind, Some(wallet)) => Some(format!(
            "Anmap: the node is already bound to {wallet} (one wallet per node): `unbind` first"
        )),
        (Action::Bind, None) => Some(
            "Anmap: the node key's signature does not recover to --node for this --from wallet"
                .to_owned(),
        ),
        (Action::Unbind, None) => {
            Some("Anmap: the node is not bound to any wallet: nothing to unbind".to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_and_unbind_failures_are_told_from_the_binding() {
        let wallet = Address::repeat_byte(7);
        assert!(
            diagnose(Some(wallet), Action::Bind)
                .unwrap()
                .contains(&format!("already bound to {wallet}"))
        );
        assert!(
            diagnose(None, Action::Unbind)
                .unwrap()
                .contains("not bound to any wallet")
        );
        assert_eq!(diagnose(Some(wallet), Action::Unbind), None);
        assert_eq!(diagnose(None, Action::Stop), None);
    }
}
