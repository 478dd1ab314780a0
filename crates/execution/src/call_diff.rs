//! `--dev` impersonation (issue 19): a call run as a transaction from an account whose key
//! nobody holds, whose effects are handed back as the accounts it changed, so the dev chain
//! can commit them as state patches in a real block.

use alloy_primitives::{Address, B256, Bytes, U256};
use revm::handler::Handler;
use spectrum_primitives::Header;
use spectrum_storage_api::StateProvider;

use crate::{
    BlockExecutor, CallOutcome, CallRequest, ExecutionError, call::outcome, executor::evm_error,
    handler::SpectrumHandler,
};

/// An account as a call left it (only what it changed is meant to be written back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedAccount {
    /// Which.
    pub address: Address,
    /// Balance after the call.
    pub balance: U256,
    /// Nonce after the call (the sender's moves by one, a creation's new contract starts at 1).
    pub nonce: u64,
    /// The code, when the call created the account.
    pub created_code: Option<Bytes>,
    /// Storage slots the call changed, with their new values.
    pub storage: Vec<(B256, U256)>,
    /// Self-destructed (or left empty): the account is gone.
    pub destroyed: bool,
}

impl BlockExecutor {
    /// Runs `request` as [`call_with`](Self::call_with) does, but the sender's nonce is consumed
    /// (as a transaction's) and the accounts it changed are answered instead of discarded.
    pub fn call_changes(
        &self,
        header: &Header,
        state: &dyn StateProvider,
        request: &CallRequest,
    ) -> Result<(CallOutcome, Vec<ChangedAccount>), ExecutionError> {
        let (mut evm, flags) = self.call_evm(header, state, request)?;
        let result = SpectrumHandler::new(flags).run(&mut evm);
        let changes = evm.inner.ctx.journaled_state.finalize();
        let result = result.map_err(|e| evm_error(0, e, request.from))?;
        let changed = changes
            .into_iter()
            .filter(|(_, account)| account.is_touched())
            .map(|(address, account)| ChangedAccount {
                address,
                balance: account.info.balance,
                nonce: account.info.nonce,
                created_code: account
                    .is_created()
                    .then(|| account.info.code.as_ref().map(|c| c.original_bytes()))
                    .flatten(),
                storage: account
                    .storage
                    .iter()
                    .filter(|(_, slot)| slot.is_changed())
                    .map(|(key, slot)| (B256::from(*key), slot.present_value))
                    .collect(),
                destroyed: account.is_selfdestructed(),
            })
            .collect();
        Ok((outcome(result), changed))
    }
}
