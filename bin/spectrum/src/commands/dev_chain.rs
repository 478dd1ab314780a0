//! `--dev.signer-limit N`: the built-in dev chain with its chief contracts installed for `N`
//! slots per round instead of 1 (`genesis/regenerate-dev.sh` has the other parameters), so
//! that staked nodes get slots of their own (and `dev_skipSlot` can make one miss it).

use alloy_primitives::{Address, U256};
use eyre::WrapErr;
use serde_json::{Value, json};
use spectrum_chainspec::{BUILTIN_CHAINS, ChainSpec, dev};
use spectrum_contracts::{TribeGenesisParams, tribe_genesis_alloc};

/// The built-in dev chain with `signer_limit` slots per round (a different genesis hash).
pub(super) fn with_signer_limit(signer_limit: u64) -> eyre::Result<ChainSpec> {
    let text = BUILTIN_CHAINS
        .iter()
        .find(|(name, _)| *name == "dev")
        .map(|(_, text)| *text)
        .ok_or_else(|| eyre::eyre!("no built-in dev chain"))?;
    let mut genesis: Value = serde_json::from_str(text).wrap_err("the built-in dev genesis")?;
    let params = TribeGenesisParams {
        leaders: vec![dev::DEV_VALIDATOR_ADDRESS.parse::<Address>()?],
        signer_limit,
        epoch: 100,
        owner: dev::DEV_ACCOUNTS[0].0.parse::<Address>()?,
        min_deposit: U256::from(1_000_000_000_000_000_000u128),
        withdraw_wait: 10,
        deposit_halving: 1_000_000,
    };
    let alloc = genesis["alloc"]
        .as_object_mut()
        .ok_or_else(|| eyre::eyre!("the built-in dev genesis has no alloc"))?;
    for (address, account) in tribe_genesis_alloc(&params)? {
        let storage: serde_json::Map<String, Value> = account
            .storage
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_string())))
            .collect();
        let key = format!("{address:#x}");
        // Only the contracts the built-in dev genesis has (regenerate-dev.sh): later additions
        // to our genesis contracts (Anmap) would change its hash at limit 1.
        if !alloc.keys().any(|k| k.to_lowercase() == key) {
            continue;
        }
        alloc.retain(|k, _| k.to_lowercase() != key);
        alloc.insert(
            address.to_checksum(None),
            json!({
                "balance": "0x0",
                "nonce": format!("{:#x}", account.nonce),
                "code": account.code.to_string(),
                "storage": storage,
            }),
        );
    }
    ChainSpec::from_json("dev", &genesis.to_string())
        .wrap_err_with(|| format!("the dev chain with signer limit {signer_limit}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limit 1 gives back the built-in dev chain exactly (the same contracts as
    /// regenerate-dev.sh installed), any other limit a different genesis.
    #[test]
    fn signer_limit_one_is_the_built_in_dev_chain() {
        let built_in = ChainSpec::dev();
        assert_eq!(
            with_signer_limit(1).unwrap().genesis_header().hash(),
            built_in.genesis_header().hash()
        );
        assert_ne!(
            with_signer_limit(3).unwrap().genesis_header().hash(),
            built_in.genesis_header().hash()
        );
    }
}
