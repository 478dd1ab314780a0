//! The checks a transaction passes before it is pooled, in geth's order.

use alloy_primitives::{Address, U256};
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::is_chief_update_call;
use spectrum_primitives::TransactionSigned;
use spectrum_storage_api::Account;

use crate::{PoolConfig, PoolError};

/// Gas every transaction pays before its first opcode (also the floor of `eth_estimateGas`).
pub const TX_GAS: u64 = 21_000;
/// Gas a contract creation pays instead (Homestead).
const TX_CREATE_GAS: u64 = 53_000;
/// Gas per zero byte of data.
const TX_DATA_ZERO_GAS: u64 = 4;
/// Gas per non-zero byte of data (before Istanbul, which Spectrum never adopted).
const TX_DATA_NON_ZERO_GAS: u64 = 68;

/// Intrinsic gas of a legacy transaction under Homestead/Byzantium rules: 21,000 (53,000 to
/// create), plus 4 per zero and 68 per non-zero data byte. `None` on overflow.
pub fn intrinsic_gas(tx: &TransactionSigned) -> Option<u64> {
    let fields = tx.tx();
    let base = if fields.to.is_create() {
        TX_CREATE_GAS
    } else {
        TX_GAS
    };
    let zeros = u64::try_from(fields.input.iter().filter(|b| **b == 0).count()).ok()?;
    let non_zeros = u64::try_from(fields.input.len()).ok()?.checked_sub(zeros)?;
    let data = zeros
        .checked_mul(TX_DATA_ZERO_GAS)?
        .checked_add(non_zeros.checked_mul(TX_DATA_NON_ZERO_GAS)?)?;
    base.checked_add(data)
}

/// The most a transaction can cost its sender: value + gas × price. `None` on overflow (no
/// balance can pay that).
pub(crate) fn max_cost(tx: &TransactionSigned) -> Option<U256> {
    let fields = tx.tx();
    U256::from(fields.gas_limit)
        .checked_mul(U256::from(fields.gas_price))?
        .checked_add(fields.value)
}

/// Whether `tx` can still be mined on a head with `gas_limit` by an account holding
/// `balance`.
pub(crate) fn still_fits(tx: &TransactionSigned, balance: U256, gas_limit: u64) -> bool {
    tx.tx().gas_limit <= gas_limit && max_cost(tx).is_some_and(|cost| cost <= balance)
}

/// The checks that need no state: size, block gas limit, signature, chain id, EIP-155 from
/// SIP003 (evaluated for the next block, `head_number + 1`), chief-update transactions,
/// minimum price, intrinsic gas. Returns the sender.
pub(crate) fn check_stateless(
    config: &PoolConfig,
    spec: &ChainSpec,
    tx: &TransactionSigned,
    encoded_len: usize,
    head_number: u64,
    head_gas_limit: u64,
) -> Result<Address, PoolError> {
    if encoded_len > config.max_tx_size {
        return Err(PoolError::Oversized);
    }
    let fields = tx.tx();
    if fields.gas_limit > head_gas_limit {
        return Err(PoolError::GasLimit);
    }
    let sender = tx.recover_sender().map_err(|_| PoolError::InvalidSender)?;
    match fields.chain_id {
        // geth's signer answers a chain-id mismatch with "invalid sender".
        Some(id) if id != spec.chain_id => return Err(PoolError::InvalidSender),
        None if spec.is_sip003(head_number.saturating_add(1)) => {
            return Err(PoolError::Unprotected);
        }
        _ => {}
    }
    // Chief updates travel only inside blocks: one to any chief address of the network.
    if is_chief_update_call(tx, |to| spec.is_chief_address(to)) {
        return Err(PoolError::ChiefUpdate);
    }
    if U256::from(fields.gas_price) < config.min_gas_price {
        return Err(PoolError::Underpriced);
    }
    if intrinsic_gas(tx).is_none_or(|gas| gas > fields.gas_limit) {
        return Err(PoolError::IntrinsicGas);
    }
    Ok(sender)
}

/// The checks against the sender's account, whose next usable nonce is `next_nonce`.
pub(crate) fn check_account(
    tx: &TransactionSigned,
    account: &Account,
    next_nonce: u64,
) -> Result<(), PoolError> {
    if tx.tx().nonce < next_nonce {
        return Err(PoolError::NonceTooLow);
    }
    match max_cost(tx) {
        Some(cost) if cost <= account.balance => Ok(()),
        _ => Err(PoolError::InsufficientFunds),
    }
}
