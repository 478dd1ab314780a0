//! The built-in dev chain with its chief contracts installed for another number of slots per
//! round (`--dev.signer-limit`): `genesis/dev.json` has 1, so every block is the dev
//! validator's own slot and no staked node ever gets one (nor can `dev_skipSlot` make one miss
//! it). The other parameters are `genesis/regenerate-dev.sh`'s.

use alloy_primitives::{Address, U256};
use spectrum_chainspec::{ChainSpec, dev};

use crate::{ContractsError, TribeGenesisParams, tribe_genesis_alloc};

/// The built-in dev chain with `signer_limit` slots per round. Only the contracts the built-in
/// genesis already has are replaced (contracts added to ours later, Anmap, would change its
/// hash), so limit 1 gives back the built-in chain exactly; any other limit is another genesis.
pub fn dev_chain_with_signer_limit(signer_limit: u64) -> Result<ChainSpec, ContractsError> {
    let address = |text: &str| {
        text.parse::<Address>()
            .map_err(|_| ContractsError::Params("a dev account address is not an address"))
    };
    let params = TribeGenesisParams {
        leaders: vec![address(dev::DEV_VALIDATOR_ADDRESS)?],
        signer_limit,
        epoch: 100,
        owner: address(dev::DEV_ACCOUNTS[0].0)?,
        min_deposit: U256::from(1_000_000_000_000_000_000u128),
        withdraw_wait: 10,
        deposit_halving: 1_000_000,
    };
    let mut spec = ChainSpec::dev();
    for (contract, account) in tribe_genesis_alloc(&params)? {
        if let Some(installed) = spec.genesis.alloc.get_mut(&contract) {
            *installed = account;
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn signer_limit_one_is_the_built_in_dev_chain() {
        let built_in = ChainSpec::dev().genesis_header().hash();
        let at = |limit| {
            dev_chain_with_signer_limit(limit)
                .unwrap()
                .genesis_header()
                .hash()
        };
        assert_eq!(at(1), built_in);
        assert_ne!(at(3), built_in);
    }
}
