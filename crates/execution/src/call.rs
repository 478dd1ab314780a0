//! Read-only contract calls on a state: Tribe reads its signer set this way (tribe.md §5), and
//! `eth_call` will. Nothing a call does is kept.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use revm::{context::TxEnv, handler::Handler};
use spectrum_primitives::Header;
use spectrum_storage_api::StateProvider;

use crate::{
    BlockExecutor, ExecutionError,
    db::BlockState,
    evm::SpectrumEvm,
    executor::{block_env, evm_error},
    handler::{SpectrumHandler, TxFlags},
};

/// What a read-only call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// Whether the call ended without revert or halt.
    pub success: bool,
    /// Return data (or revert data).
    pub output: Bytes,
    /// Gas the call used.
    pub gas_used: u64,
}

impl BlockExecutor {
    /// Calls `to` with `data` from `from` on `state`, in the environment of block `header`
    /// (number, time, gas limit; the call's gas limit is the block's), and discards every
    /// change. Gas price 0 and no nonce check: a pure read, with no balance precondition on
    /// `from` (tribe.md §5, §16).
    pub fn call(
        &self,
        header: &Header,
        state: &dyn StateProvider,
        from: Address,
        to: Address,
        data: Bytes,
    ) -> Result<CallOutcome, ExecutionError> {
        let rules = self.resolved().at(header.number)?;
        let chief = rules.spectrum.as_ref().map(|s| s.chief.clone());
        let mut evm = SpectrumEvm::new(
            &rules,
            block_env(header, header.beneficiary),
            BlockState::new(state),
            chief,
        );
        evm.inner.ctx.cfg.disable_nonce_check = true;
        evm.inner.ctx.tx = TxEnv {
            tx_type: 0,
            caller: from,
            gas_limit: header.gas_limit,
            gas_price: 0,
            kind: TxKind::Call(to),
            value: U256::ZERO,
            data,
            nonce: 0,
            chain_id: None,
            ..Default::default()
        };
        if let Some(meter) = evm.meter.as_mut() {
            meter.reset();
        }
        let result = SpectrumHandler::new(TxFlags::default()).run(&mut evm);
        // Discard the journal: a call changes nothing.
        let _ = evm.inner.ctx.journaled_state.finalize();
        let result = result.map_err(|e| evm_error(0, e, from))?;
        Ok(CallOutcome {
            success: result.is_success(),
            output: result.output().cloned().unwrap_or_default(),
            gas_used: result.tx_gas_used(),
        })
    }
}
