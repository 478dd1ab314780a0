//! Reverts explained in words: the revert data decoded (`Error(string)`, `Panic(uint256)`), and
//! what a known POC/Anmap failure means for the operator and what to do about it. Reference
//! contracts on mainnet revert without a reason, so [`explain`] also takes what `status` found
//! about the node (see `diagnose` in `mod.rs`).

use alloy_primitives::{U256, hex};

/// `Error(string)`.
const ERROR_SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
/// `Panic(uint256)`.
const PANIC_SELECTOR: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];
/// Longest reason string decoded (a contract's `require` message is a few dozen bytes).
const MAX_REASON_BYTES: usize = 1024;

/// The reason in revert data: `Error(string)`'s text, `Panic(code)`, or `None` (no data, or
/// data that is neither).
pub fn decode(data_hex: &str) -> Option<String> {
    let data = hex::decode(data_hex.trim_start_matches("0x")).ok()?;
    let (selector, body) = (data.get(..4)?, data.get(4..)?);
    if selector == PANIC_SELECTOR {
        let code = U256::from_be_slice(body.get(..32)?);
        return Some(format!("Panic({code:#x})"));
    }
    if selector != ERROR_SELECTOR {
        return None;
    }
    let offset = usize::try_from(U256::from_be_slice(body.get(..32)?)).ok()?;
    let len_end = offset.checked_add(32)?;
    let len = usize::try_from(U256::from_be_slice(body.get(offset..len_end)?)).ok()?;
    if len > MAX_REASON_BYTES {
        return None;
    }
    let text = body.get(len_end..len_end.checked_add(len)?)?;
    Some(String::from_utf8_lossy(text).into_owned())
}

/// What a known revert reason means, in words an operator can act on.
pub fn advice(reason: &str) -> Option<&'static str> {
    let known: &[(&str, &str)] = &[
        (
            "POC: bad signature",
            "the node-key signature over the wallet address does not recover to a node: sign with the node key for exactly this --from wallet",
        ),
        (
            "POC: already staked",
            "this node already has a stake (one stake per node address); `withdraw-surplus` or `stop` + `withdraw` first to change it",
        ),
        (
            "POC: deposit below the minimum",
            "the value is below POC minDepositAmount() at this block; pass at least the minimum `status` shows (or leave --value out)",
        ),
        (
            "POC: miner blacklisted or locked",
            "the chief blacklisted this node (it missed its slot) or the POC owner locked it; the blacklist empties at the next epoch block",
        ),
        (
            "POC: no such miner",
            "this node has no stake in POC: `deposit` first",
        ),
        (
            "POC: not the miner's owner",
            "the stake belongs to another wallet: send from the wallet that made the deposit",
        ),
        (
            "POC: not running",
            "the node is not in POC's normal list (already stopped, or never started)",
        ),
        (
            "POC: not stopped",
            "the node is running: `start` is only for a stopped node",
        ),
        ("POC: stop first", "a stake is withdrawn only after `stop`"),
        (
            "POC: still waiting",
            "the withdraw wait has not passed since the stop block; `status` shows the first block a withdraw can be mined in",
        ),
        (
            "POC: no surplus",
            "the stake is not above the current minimum deposit: nothing to withdraw",
        ),
        (
            "Anmap: bad signature",
            "the node key's signature over the wallet address does not recover to --node: sign with the node key for exactly this --from wallet",
        ),
        (
            "Anmap: node already bound",
            "this node is already bound to a wallet (one wallet per node): `unbind` first; `status` shows where its rewards go",
        ),
        (
            "Anmap: node not bound",
            "this node is not bound to any wallet: nothing to unbind",
        ),
    ];
    known
        .iter()
        .find(|(text, _)| reason.contains(text))
        .map(|(_, advice)| *advice)
}

/// One line explaining a revert: the decoded reason and, when known, what it means; or the
/// diagnosis from the node's POC or Anmap state when the contract gave no reason.
pub fn explain(data_hex: Option<&str>, diagnosis: Option<String>) -> String {
    match data_hex.and_then(decode) {
        Some(reason) => match advice(&reason) {
            Some(advice) => format!("reverted: \"{reason}\": {advice}"),
            None => format!("reverted: \"{reason}\""),
        },
        None => match diagnosis {
            Some(why) => format!("reverted without a reason; from the contract state: {why}"),
            None => {
                "reverted without a reason (the contract gives none and its state shows no cause)"
                    .to_owned()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_data(reason: &str) -> String {
        let mut data = ERROR_SELECTOR.to_vec();
        data.extend_from_slice(&U256::from(32u8).to_be_bytes::<32>());
        data.extend_from_slice(&U256::from(reason.len()).to_be_bytes::<32>());
        data.extend_from_slice(reason.as_bytes());
        data.resize(4 + 64 + reason.len().div_ceil(32) * 32, 0);
        format!("0x{}", hex::encode(data))
    }

    #[test]
    fn error_strings_decode_and_known_ones_are_explained() {
        assert_eq!(
            decode(&error_data("POC: still waiting")).as_deref(),
            Some("POC: still waiting")
        );
        let line = explain(Some(&error_data("POC: still waiting")), None);
        assert!(
            line.starts_with("reverted: \"POC: still waiting\": the withdraw wait"),
            "{line}"
        );
        assert_eq!(explain(Some(&error_data("odd")), None), "reverted: \"odd\"");
    }

    #[test]
    fn panics_decode_and_garbage_does_not() {
        let mut data = PANIC_SELECTOR.to_vec();
        data.extend_from_slice(&U256::from(0x11u8).to_be_bytes::<32>());
        assert_eq!(decode(&hex::encode(&data)).as_deref(), Some("Panic(0x11)"));
        assert_eq!(decode("0x"), None);
        assert_eq!(decode("0xzz"), None);
        // A length far beyond the data is refused, not allocated.
        let mut huge = ERROR_SELECTOR.to_vec();
        huge.extend_from_slice(&U256::from(32u8).to_be_bytes::<32>());
        huge.extend_from_slice(&U256::MAX.to_be_bytes::<32>());
        assert_eq!(decode(&hex::encode(&huge)), None);
        assert_eq!(
            explain(Some("0x"), Some("the node is not staked".into())),
            "reverted without a reason; from the contract state: the node is not staked"
        );
    }
}
