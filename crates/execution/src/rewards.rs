//! Block-level balance changes after the transactions: ethash rewards (test vectors) and
//! Tribe's reward and foundation burn (chain.md §5, §6).

use alloy_primitives::U256;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::Header;

use crate::{EthereumFork, ExecutionError, db::BlockState};

/// ethash's `accumulateRewards`: each uncle's miner gets `(8 + uncle.number − number) · R / 8`,
/// the block's miner `R + R/32` per uncle.
pub(crate) fn ethash(
    state: &mut BlockState<'_>,
    fork: EthereumFork,
    header: &Header,
    ommers: &[Header],
) -> Result<(), ExecutionError> {
    let reward = fork.block_reward();
    let mut miner = reward;
    for ommer in ommers {
        let depth_factor = ommer
            .number
            .checked_add(8)
            .and_then(|n| n.checked_sub(header.number))
            .ok_or(ExecutionError::Overflow("uncle reward: uncle number"))?;
        let ommer_reward = U256::from(depth_factor)
            .checked_mul(reward)
            .map(|r| r / U256::from(8))
            .ok_or(ExecutionError::Overflow("uncle reward"))?;
        state.add_balance(ommer.beneficiary, ommer_reward)?;
        miner = miner
            .checked_add(reward / U256::from(32))
            .ok_or(ExecutionError::Overflow("nephew reward"))?;
    }
    state.add_balance(header.beneficiary, miner)
}

/// Tribe's `Finalize`: from SIP100 the block reward to `header.coinbase` (chain.md §6), then at
/// the foundation-burn block `min(balance, amount)` taken from the foundation account
/// (chain.md §5).
pub(crate) fn tribe(
    state: &mut BlockState<'_>,
    spec: &ChainSpec,
    header: &Header,
) -> Result<(), ExecutionError> {
    if spec.is_sip100(header.number) {
        state.add_balance(header.beneficiary, spec.block_reward(header.number))?;
    }
    if let Some(burn) = spec.foundation_burn_at(header.number) {
        state.burn(burn.address, burn.amount)?;
    }
    Ok(())
}
