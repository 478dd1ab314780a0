//! Read-only calls on a state: Tribe reads its signer set this way (tribe.md §5), and
//! `eth_call` / `eth_estimateGas` run here ([`BlockExecutor::call_with`]). Nothing a call does
//! is kept.

use std::time::Instant;

use alloy_primitives::{Address, Bytes, TxKind, U256};
use revm::{
    context::TxEnv,
    context_interface::result::{ExecutionResult, HaltReason, OutOfGasError},
    handler::Handler,
};
use spectrum_primitives::Header;
use spectrum_storage_api::StateProvider;

use crate::{
    BlockExecutor, ExecutionError,
    db::BlockState,
    deadline::{self, DeadlineGuard},
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
    /// It ended with REVERT (`output` is the revert data).
    pub reverted: bool,
    /// It halted exceptionally (out of gas, invalid opcode…): geth's words for why.
    pub halt: Option<String>,
}

/// A call as `eth_call` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    /// The sender: no signature, no nonce check.
    pub from: Address,
    /// The callee; `None` runs `data` as creation code.
    pub to: Option<Address>,
    /// Gas available to the call (may exceed the block's gas limit).
    pub gas_limit: u64,
    /// Gas price: with a non-zero price the sender must afford `gas_limit × gas_price + value`.
    pub gas_price: u128,
    /// Value transferred (the sender must hold it).
    pub value: U256,
    /// Call data, or creation code.
    pub data: Bytes,
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
        self.call_with(
            header,
            state,
            &CallRequest {
                from,
                to: Some(to),
                gas_limit: header.gas_limit,
                gas_price: 0,
                value: U256::ZERO,
                data,
            },
        )
    }

    /// Runs `request` on `state` in the environment of block `header` under Spectrum's rules
    /// (chief frames unmetered, fees of calls to a chief returned), and discards every change.
    /// No nonce check; the sender pays `gas_limit × gas_price` and `value` from its balance as
    /// a transaction would (an error if it cannot). A revert or halt is an outcome, not an
    /// error.
    pub fn call_with(
        &self,
        header: &Header,
        state: &dyn StateProvider,
        request: &CallRequest,
    ) -> Result<CallOutcome, ExecutionError> {
        self.run_call(header, state, request, None)
    }

    /// [`call_with`](Self::call_with) with a wall-clock budget: past `deadline` the EVM stops
    /// at its next jump and the call fails with [`ExecutionError::CallTimeout`] (an RPC call
    /// must not hold a core for as long as its gas would allow).
    pub fn call_until(
        &self,
        header: &Header,
        state: &dyn StateProvider,
        request: &CallRequest,
        deadline: Instant,
    ) -> Result<CallOutcome, ExecutionError> {
        self.run_call(header, state, request, Some(deadline))
    }

    fn run_call(
        &self,
        header: &Header,
        state: &dyn StateProvider,
        request: &CallRequest,
        deadline: Option<Instant>,
    ) -> Result<CallOutcome, ExecutionError> {
        let (mut evm, flags) = self.call_evm(header, state, request)?;
        let guard = deadline.map(|deadline| {
            deadline::install(&mut evm.inner.instruction);
            DeadlineGuard::set(deadline)
        });
        let result = SpectrumHandler::new(flags).run(&mut evm);
        // Discard the journal: a call changes nothing.
        let _ = evm.inner.ctx.journaled_state.finalize();
        if guard.as_ref().is_some_and(DeadlineGuard::expired) {
            return Err(ExecutionError::CallTimeout);
        }
        let result = result.map_err(|e| evm_error(0, e, request.from))?;
        Ok(outcome(result))
    }

    /// The EVM `request` runs on, its transaction set, and the transaction's flags.
    pub(crate) fn call_evm<'a>(
        &self,
        header: &Header,
        state: &'a dyn StateProvider,
        request: &CallRequest,
    ) -> Result<(SpectrumEvm<'a>, TxFlags), ExecutionError> {
        let rules = self.resolved().at(header.number)?;
        let chief = rules.spectrum.as_ref().map(|s| s.chief.clone());
        let mut env = block_env(header, header.beneficiary);
        // A call may ask for more gas than a block holds (geth's RPC gas cap is separate).
        env.gas_limit = env.gas_limit.max(request.gas_limit);
        let kind = request.to.map_or(TxKind::Create, TxKind::Call);
        let flags = TxFlags {
            chief_update: false,
            fee_to_sender: request.to.is_some_and(|to| {
                rules
                    .spectrum
                    .as_ref()
                    .is_some_and(|s| s.chief.is_chief(&to))
            }),
        };
        let mut evm = SpectrumEvm::new(&rules, env, BlockState::new(state), chief);
        evm.inner.ctx.cfg.disable_nonce_check = true;
        evm.inner.ctx.tx = TxEnv {
            tx_type: 0,
            caller: request.from,
            gas_limit: request.gas_limit,
            gas_price: request.gas_price,
            kind,
            value: request.value,
            data: request.data.clone(),
            nonce: 0,
            chain_id: None,
            ..Default::default()
        };
        if let Some(meter) = evm.meter.as_mut() {
            meter.reset();
        }
        Ok((evm, flags))
    }
}

pub(crate) fn outcome(result: ExecutionResult) -> CallOutcome {
    let gas_used = result.tx_gas_used();
    match result {
        ExecutionResult::Success { output, .. } => CallOutcome {
            success: true,
            output: output.into_data(),
            gas_used,
            reverted: false,
            halt: None,
        },
        ExecutionResult::Revert { output, .. } => CallOutcome {
            success: false,
            output,
            gas_used,
            reverted: true,
            halt: None,
        },
        ExecutionResult::Halt { reason, .. } => CallOutcome {
            success: false,
            output: Bytes::new(),
            gas_used,
            reverted: false,
            halt: Some(halt_message(&reason)),
        },
    }
}

/// geth's message for an exceptional halt.
fn halt_message(reason: &HaltReason) -> String {
    let text = match reason {
        HaltReason::OutOfGas(OutOfGasError::InvalidOperand) => "gas uint64 overflow",
        HaltReason::OutOfGas(_) => "out of gas",
        HaltReason::OpcodeNotFound | HaltReason::NotActivated => "invalid opcode",
        HaltReason::InvalidFEOpcode => "invalid opcode: INVALID",
        HaltReason::InvalidJump => "invalid jump destination",
        HaltReason::StackUnderflow => "stack underflow",
        HaltReason::StackOverflow => "stack limit reached 1024 (1023)",
        HaltReason::OutOfOffset => "return data out of bounds",
        HaltReason::CreateCollision => "contract address collision",
        HaltReason::PrecompileError | HaltReason::PrecompileErrorWithContext(_) => {
            "precompiled contract failed"
        }
        HaltReason::NonceOverflow => "nonce uint64 overflow",
        HaltReason::CreateContractSizeLimit => "max code size exceeded",
        HaltReason::CreateInitCodeSizeLimit => "max initcode size exceeded",
        HaltReason::StateChangeDuringStaticCall | HaltReason::CallNotAllowedInsideStatic => {
            "write protection"
        }
        HaltReason::OutOfFunds => "insufficient balance for transfer",
        HaltReason::CallTooDeep => "max call depth exceeded",
        other => return format!("{other:?}"),
    };
    text.to_owned()
}
