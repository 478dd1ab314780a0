//! geth's tracers (`debug_traceTransaction`, `debug_traceBlockBy*`, `debug_traceCall`) on
//! revm-inspectors: the struct logger, `callTracer`, `prestateTracer`, `4byteTracer` and
//! `noopTracer`, with geth's options and output shapes.
//!
//! A traced transaction runs through the same handler and chief meter as in a block
//! (`inspect.rs`), so the chief-update transaction (no gas bought) and unmetered chief frames
//! show as they execute: their opcodes cost 0 gas. The transactions before it in its block are
//! replayed untraced on the parent's state. A trace stops at a wall-clock deadline (the EVM's
//! JUMP/JUMPI clock, `deadline.rs`) and at a memory budget for what it records.

use std::time::Instant;

use alloy_primitives::Address;
use alloy_rpc_types_trace::geth::{
    CallConfig, FourByteFrame, GethDebugBuiltInTracerType, GethDebugTracerType,
    GethDefaultTracingOptions, NoopFrame, PreStateConfig,
};
pub use alloy_rpc_types_trace::geth::{GethDebugTracingOptions, GethTrace};
use revm::{
    context_interface::{
        JournalTr,
        result::{ExecResultAndState, ExecutionResult},
    },
    handler::Handler,
    inspector::InspectorHandler,
    state::EvmState,
};
use revm_inspectors::tracing::{
    FourByteInspector, TraceLimits, TracingInspector, TracingInspectorConfig,
};
use spectrum_primitives::{Header, RecoveredBlock, TransactionSigned};
use spectrum_storage_api::StateProvider;

use crate::{
    BlockExecutor, CallRequest, ExecutionError,
    db::BlockState,
    deadline::{self, DeadlineGuard},
    evm::SpectrumEvm,
    executor::{block_env, evm_error, tx_env},
    handler::{SpectrumHandler, TxFlags},
    rules::BlockRules,
};

/// Most bytes one trace may record (memory snapshots, call inputs, return data): the memory
/// limit of a trace. A struct-log trace with `enableMemory` of a memory-heavy transaction
/// reaches it; geth has no such limit and can exhaust the node.
pub const MAX_TRACE_BYTES: usize = 256 * 1024 * 1024;

/// The inspectors of one traced transaction: revm-inspectors' call-tree recorder (configured
/// for the tracer asked, or recording nothing) and the 4byte counter.
type Inspectors = (TracingInspector, FourByteInspector);

/// Why a trace failed.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The transactions could not run (a timeout is [`ExecutionError::CallTimeout`]).
    #[error(transparent)]
    Execution(#[from] ExecutionError),
    /// The request names a tracer this node does not have, or a bad tracer config.
    #[error("{0}")]
    Tracer(String),
    /// The trace recorded more than [`MAX_TRACE_BYTES`].
    #[error("trace aborted: it recorded more than {0} bytes")]
    TooLarge(usize),
}

impl From<crate::db::DbError> for TraceError {
    fn from(e: crate::db::DbError) -> Self {
        Self::Execution(e.into())
    }
}

/// Which tracer, with its config.
#[derive(Debug, Clone)]
enum Tracer {
    Struct(GethDefaultTracingOptions),
    Call(CallConfig),
    Prestate(PreStateConfig),
    FourByte,
    Noop,
}

impl Tracer {
    fn from_options(options: &GethDebugTracingOptions) -> Result<Self, TraceError> {
        let config = options.tracer_config.clone();
        let bad = |e: serde_json::Error| TraceError::Tracer(format!("tracerConfig: {e}"));
        match &options.tracer {
            None => Ok(Self::Struct(options.config)),
            Some(GethDebugTracerType::BuiltInTracer(kind)) => match kind {
                GethDebugBuiltInTracerType::CallTracer => {
                    Ok(Self::Call(config.into_call_config().map_err(bad)?))
                }
                GethDebugBuiltInTracerType::PreStateTracer => {
                    Ok(Self::Prestate(config.into_pre_state_config().map_err(bad)?))
                }
                GethDebugBuiltInTracerType::FourByteTracer => Ok(Self::FourByte),
                GethDebugBuiltInTracerType::NoopTracer => Ok(Self::Noop),
                other => Err(TraceError::Tracer(format!(
                    "tracer {other:?} is not supported (callTracer, prestateTracer, 4byteTracer, \
                     noopTracer and the default struct logger are)"
                ))),
            },
            Some(GethDebugTracerType::JsTracer(_)) => Err(TraceError::Tracer(
                "JavaScript tracers are not supported".to_owned(),
            )),
        }
    }

    fn inspectors(&self) -> Inspectors {
        let config = match self {
            Self::Struct(options) => TracingInspectorConfig::from_geth_config(options),
            Self::Call(config) => TracingInspectorConfig::from_geth_call_config(config),
            Self::Prestate(config) => TracingInspectorConfig::from_geth_prestate_config(config),
            Self::FourByte | Self::Noop => TracingInspectorConfig::none(),
        };
        let limits = TraceLimits::default().set_max_recorded_bytes(Some(MAX_TRACE_BYTES));
        (
            TracingInspector::new(config).with_limits(limits),
            FourByteInspector::default(),
        )
    }

    /// The tracer's result for a transaction that ran with `inspectors`; `pre` is the state
    /// before it, `state` what it changed.
    fn result(
        &self,
        inspectors: &Inspectors,
        result: ExecutionResult,
        state: EvmState,
        pre: &BlockState<'_>,
    ) -> Result<GethTrace, TraceError> {
        let (tracing, four_byte) = inspectors;
        if tracing.limit_exceeded() {
            return Err(TraceError::TooLarge(MAX_TRACE_BYTES));
        }
        let gas_used = result.tx_gas_used();
        let builder = tracing.geth_builder();
        Ok(match self {
            Self::Struct(options) => {
                let output = result.output().cloned().unwrap_or_default();
                GethTrace::Default(builder.geth_traces(gas_used, output, *options))
            }
            Self::Call(config) => {
                GethTrace::CallTracer(builder.geth_call_traces(*config, gas_used))
            }
            Self::Prestate(config) => {
                let both = ExecResultAndState { result, state };
                let frame = builder
                    .geth_prestate_traces(&both, config, pre)
                    .map_err(TraceError::from)?;
                GethTrace::PreStateTracer(frame)
            }
            Self::FourByte => GethTrace::FourByteTracer(FourByteFrame::from(four_byte)),
            Self::Noop => GethTrace::NoopTracer(NoopFrame::default()),
        })
    }
}

/// A deadline for the whole trace, if any: set on the EVM's jumps while it lives.
fn start_deadline(
    evm: &mut SpectrumEvm<'_, Inspectors>,
    deadline: Option<Instant>,
) -> Option<DeadlineGuard> {
    deadline.map(|deadline| {
        deadline::install(&mut evm.inner.instruction);
        DeadlineGuard::set(deadline)
    })
}

fn check_deadline(guard: &Option<DeadlineGuard>) -> Result<(), ExecutionError> {
    if guard.as_ref().is_some_and(DeadlineGuard::expired) {
        return Err(ExecutionError::CallTimeout);
    }
    Ok(())
}

/// Runs the transaction set in `evm`'s context, traced or not, and returns its result and
/// its changes (not yet committed).
fn run(
    evm: &mut SpectrumEvm<'_, Inspectors>,
    flags: TxFlags,
    index: usize,
    traced: bool,
) -> Result<(ExecutionResult, EvmState), ExecutionError> {
    if let Some(meter) = evm.meter.as_mut() {
        meter.reset();
    }
    let sender = evm.inner.ctx.tx.caller;
    let mut handler = SpectrumHandler::new(flags);
    let result = if traced {
        let result = handler.inspect_run(evm);
        // geth's call frames show the transaction's gas limit at the top, not what is left
        // after intrinsic gas.
        let gas_limit = evm.inner.ctx.tx.gas_limit;
        evm.inner.inspector.0.set_transaction_gas_limit(gas_limit);
        result
    } else {
        handler.run(evm)
    };
    let changes = evm.inner.ctx.journaled_state.finalize();
    let result = result.map_err(|e| evm_error(index, e, sender))?;
    Ok((result, changes))
}

/// Sets block transaction `tx` from `sender` as the EVM's next transaction.
fn load_tx(
    evm: &mut SpectrumEvm<'_, Inspectors>,
    rules: &BlockRules,
    tx: &TransactionSigned,
    sender: Address,
) -> TxFlags {
    let flags = TxFlags {
        chief_update: rules.is_chief_update(tx),
        fee_to_sender: rules.fee_to_sender(tx),
    };
    // chain.md §6: the chief-update transaction buys no gas.
    let gas_limit = if flags.chief_update {
        0
    } else {
        tx.tx().gas_limit
    };
    evm.inner.ctx.tx = tx_env(tx, sender, gas_limit);
    flags
}

impl BlockExecutor {
    /// Traces the transactions of `block` (all, or only the one at `only`) with the tracer
    /// `options` names, on `state`, the state after its parent; `fee_recipient` as in
    /// [`BlockExecutor::execute`]. Past `deadline` the trace fails with
    /// [`ExecutionError::CallTimeout`].
    pub fn trace_block(
        &self,
        block: &RecoveredBlock,
        fee_recipient: Address,
        state: &dyn StateProvider,
        only: Option<usize>,
        options: &GethDebugTracingOptions,
        deadline: Option<Instant>,
    ) -> Result<Vec<GethTrace>, TraceError> {
        let tracer = Tracer::from_options(options)?;
        let header = block.header().header();
        let rules = self.resolved().at(header.number)?;
        let chief = rules.spectrum.as_ref().map(|s| s.chief.clone());
        let mut evm = SpectrumEvm::new(
            &rules,
            block_env(header, fee_recipient),
            BlockState::new(state),
            chief,
        )
        .with_inspector(tracer.inspectors());
        let guard = start_deadline(&mut evm, deadline);
        let transactions = &block.block.body.transactions;
        let mut traces = Vec::new();
        for (index, (tx, sender)) in transactions.iter().zip(&block.senders).enumerate() {
            let traced = only.is_none_or(|i| i == index);
            let flags = load_tx(&mut evm, &rules, tx, *sender);
            if traced {
                evm.inner.inspector = tracer.inspectors();
            }
            let (result, changes) = run(&mut evm, flags, index, traced)?;
            check_deadline(&guard)?;
            if traced {
                let inspectors = std::mem::take(&mut evm.inner.inspector);
                let trace = tracer.result(&inspectors, result, changes.clone(), evm.state_ref())?;
                traces.push(trace);
            }
            if only == Some(index) {
                return Ok(traces);
            }
            evm.state_mut().commit(changes);
        }
        if let Some(index) = only {
            return Err(TraceError::Tracer(format!(
                "block {} has no transaction {index}",
                header.number
            )));
        }
        Ok(traces)
    }

    /// Traces `request` as [`BlockExecutor::call_with`] runs it, with the tracer `options`
    /// names. A revert or halt is part of the trace, not an error.
    pub fn trace_call(
        &self,
        header: &Header,
        state: &dyn StateProvider,
        request: &CallRequest,
        options: &GethDebugTracingOptions,
        deadline: Option<Instant>,
    ) -> Result<GethTrace, TraceError> {
        let tracer = Tracer::from_options(options)?;
        let (evm, flags) = self.call_evm(header, state, request)?;
        let mut evm = evm.with_inspector(tracer.inspectors());
        let guard = start_deadline(&mut evm, deadline);
        let (result, changes) = run(&mut evm, flags, 0, true)?;
        check_deadline(&guard)?;
        let inspectors = std::mem::take(&mut evm.inner.inspector);
        tracer.result(&inspectors, result, changes, evm.state_ref())
    }
}
