//! The transaction handler: revm's mainnet phases with geth 1.8's and Spectrum's fee rules.
//!
//! Overridden hooks, each against revm's mainnet default:
//! - intrinsic gas: none for the chief-update transaction under SIP001 (chain.md §6);
//! - caller validation: no EIP-3607 (geth 1.8 accepts senders with code), and the up-front
//!   `gasLimit × gasPrice + value` check in exact 256-bit arithmetic;
//! - refund to the caller and fee to the beneficiary in exact 256-bit arithmetic; the fee of a
//!   transaction to a chief address goes back to its sender (chain.md §6).

use std::marker::PhantomData;

use alloy_primitives::{Address, U256};
use revm::{
    context_interface::{
        Block, Cfg, ContextTr, JournalTr, Transaction,
        journaled_state::account::JournaledAccountTr,
        result::{EVMError, HaltReason, InvalidTransaction},
    },
    handler::{
        EvmTr, FrameResult, Handler, pre_execution::validate_account_nonce_and_code, validation,
    },
    interpreter::InitialAndFloorGas,
};

use revm::{
    inspector::{Inspector, InspectorHandler},
    interpreter::interpreter::EthInterpreter,
};

use crate::{
    db::DbError,
    evm::{Ctx, SpectrumEvm},
};

/// revm's error type for our database.
pub(crate) type EvmError = EVMError<DbError, InvalidTransaction>;

/// What is special about one transaction.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TxFlags {
    /// The chief-update transaction under SIP001: no intrinsic gas (its gas limit is 0).
    pub(crate) chief_update: bool,
    /// A transaction to a chief address: the fee goes back to the sender.
    pub(crate) fee_to_sender: bool,
}

/// The handler for one transaction.
pub(crate) struct SpectrumHandler<'a, I = ()> {
    flags: TxFlags,
    _evm: PhantomData<fn() -> SpectrumEvm<'a, I>>,
}

impl<I> SpectrumHandler<'_, I> {
    pub(crate) fn new(flags: TxFlags) -> Self {
        Self {
            flags,
            _evm: PhantomData,
        }
    }
}

fn overflow(what: &str) -> EvmError {
    EVMError::Custom(format!("arithmetic overflow in {what}"))
}

/// Credits `amount` to `address` in the journal.
fn credit<I>(evm: &mut SpectrumEvm<'_, I>, address: Address, amount: U256) -> Result<(), EvmError> {
    let mut account = evm.ctx().journal_mut().load_account_mut(address)?.data;
    if account.incr_balance(amount) {
        Ok(())
    } else {
        Err(overflow("balance credit"))
    }
}

/// `gas × price` in wei.
fn wei(gas: u64, price: u128) -> Result<U256, EvmError> {
    U256::from(gas)
        .checked_mul(U256::from(price))
        .ok_or_else(|| overflow("gas × price"))
}

impl<'a, I> Handler for SpectrumHandler<'a, I> {
    type Evm = SpectrumEvm<'a, I>;
    type Error = EvmError;
    type HaltReason = HaltReason;

    fn validate_initial_tx_gas(
        &self,
        evm: &mut Self::Evm,
    ) -> Result<InitialAndFloorGas, Self::Error> {
        if self.flags.chief_update {
            // chain.md §6: the chief-update transaction pays no intrinsic gas under SIP001.
            return Ok(InitialAndFloorGas::new(0, 0));
        }
        let ctx = evm.ctx_ref();
        Ok(validation::validate_initial_tx_gas_with_gas_params(
            ctx.tx(),
            Cfg::spec(ctx.cfg()),
            ctx.cfg().gas_params(),
            true,
            false,
            u64::MAX,
            None,
        )?)
    }

    fn validate_against_state_and_deduct_caller(
        &self,
        evm: &mut Self::Evm,
        _init_and_floor_gas: &mut InitialAndFloorGas,
    ) -> Result<(), Self::Error> {
        let (_, tx, cfg, journal, _, _) = evm.ctx().all_mut();
        let skip_nonce_check = cfg.is_nonce_check_disabled();
        let (sender, nonce, gas_limit, price, value, is_call) = (
            tx.caller(),
            tx.nonce(),
            tx.gas_limit(),
            tx.gas_price(),
            tx.value(),
            tx.kind().is_call(),
        );
        let mut caller = journal.load_account_with_code_mut(sender)?.data;
        // geth 1.8 has no EIP-3607: a sender with code is accepted.
        validate_account_nonce_and_code(&caller.account().info, nonce, true, skip_nonce_check)?;
        // geth's buyGas + CanTransfer: the balance must cover gasLimit × gasPrice, and what is
        // left must cover the value. The reference skips the first check for transactions to a
        // chief address from SIP100 (chain.md §6), but the balance then goes negative and the
        // value check fails for any value, so the outcome is the same.
        let fee = wei(gas_limit, price)?;
        let balance = *caller.balance();
        let enough = fee.checked_add(value).is_some_and(|need| need <= balance);
        if !enough {
            return Err(InvalidTransaction::LackOfFundForMaxFee {
                fee: Box::new(fee),
                balance: Box::new(balance),
            }
            .into());
        }
        let left = balance
            .checked_sub(fee)
            .ok_or_else(|| overflow("gas purchase"))?;
        caller.set_balance(left);
        if is_call {
            caller.bump_nonce();
        }
        Ok(())
    }

    fn reimburse_caller(
        &self,
        evm: &mut Self::Evm,
        exec_result: &mut FrameResult,
    ) -> Result<(), Self::Error> {
        let gas = exec_result.gas();
        let unused = gas
            .remaining()
            .checked_add(gas.reservoir())
            .and_then(|g| g.checked_add(u64::try_from(gas.refunded()).unwrap_or(0)))
            .ok_or_else(|| overflow("unused gas"))?;
        let (caller, price) = (evm.ctx_ref().tx().caller(), evm.ctx_ref().tx().gas_price());
        credit(evm, caller, wei(unused, price)?)
    }

    fn reward_beneficiary(
        &self,
        evm: &mut Self::Evm,
        exec_result: &mut FrameResult,
    ) -> Result<(), Self::Error> {
        let used = exec_result.gas().used();
        let ctx = evm.ctx_ref();
        let price = ctx.tx().gas_price();
        // chain.md §6: the fee of a transaction to a chief address goes back to its sender.
        let recipient = if self.flags.fee_to_sender {
            ctx.tx().caller()
        } else {
            ctx.block().beneficiary()
        };
        credit(evm, recipient, wei(used, price)?)
    }
}

/// Traced runs (`trace.rs`): revm's inspection loop over the same hooks.
impl<'a, I> InspectorHandler for SpectrumHandler<'a, I>
where
    I: Inspector<Ctx<'a>, EthInterpreter>,
{
    type IT = EthInterpreter;
}
