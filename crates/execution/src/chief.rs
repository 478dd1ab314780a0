//! Spectrum's chief gas exemption (chain.md §9): frames of chief contracts run without gas
//! metering, with the reference's per-EVM-instance flag semantics.
//!
//! The reference sets one flag, `DisableGasMetering`, each time a call frame starts running
//! code (`core/vm/evm.go`, `run`): on for a chief address or a chief-called pair, unless the
//! caller is a contract still being constructed, off otherwise. Precompiles, zero-value
//! calls to accounts that do not exist, failed depth and balance checks and contract creation
//! (`createRun`) leave it as it is. Nothing restores it when a frame returns, so the caller
//! continues with whatever the last started frame set.
//!
//! While the flag is on, the interpreter charges neither static nor dynamic gas. What the
//! instructions themselves do with gas still happens: `GAS` pushes the frame's gas, `CREATE`
//! and `CREATE2` hand 63/64 of it to the child and take it from the frame, the child's unused
//! gas comes back on return, and the `CALL` family forwards `callGasTemp`, the gas the last
//! *metered* call computed in this EVM (0 if none did), plus the 2300 stipend for a value
//! transfer, without taking it from the frame. SSTORE refunds are not recorded, because geth
//! records them in the gas function. Memory still grows; its cost memo is not updated, so a
//! later metered expansion pays from the stale memo, as in geth.

use std::sync::Arc;

use alloy_primitives::Address;
use revm::{
    context_interface::{ContextTr, JournalTr, context::ContextError},
    handler::{FrameData, FrameResult, ItemOrResult, PrecompileProvider},
    interpreter::{
        CallScheme, FrameInput, Gas, InstructionContext, InstructionResult, InstructionTable,
        InterpreterAction,
        interpreter::EthInterpreter,
        interpreter_action::FrameInit,
        interpreter_types::{Jumps, LoopControl},
    },
    primitives::U256,
};

use crate::rules::ChiefRules;

/// The gas a value-transferring CALL or CALLCODE adds for the callee (`params.CallStipend`).
const CALL_STIPEND: u64 = 2300;

/// What starting a frame will do to the flag, decided before revm creates the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameStart {
    /// Nothing (precompile, zero-value call to a missing account).
    Keep,
    /// A call that reaches `run`: the flag becomes `unmetered` if the frame starts.
    Call {
        /// The new flag value.
        unmetered: bool,
    },
    /// A contract creation: its address is "being constructed" while the frame runs.
    Create,
}

/// The per-EVM-instance state of the reference's interpreter that the exemption depends on.
/// The reference makes a new EVM per transaction, so [`ChiefMeter::reset`] runs before each.
#[derive(Debug)]
pub(crate) struct ChiefMeter {
    rules: Arc<ChiefRules>,
    /// `DisableGasMetering`.
    unmetered: bool,
    /// `callGasTemp`: the gas the last metered CALL-family gas function computed.
    call_gas_temp: u64,
    /// `createSync`: contracts whose init code is running (innermost last).
    constructing: Vec<Address>,
}

impl ChiefMeter {
    pub(crate) fn new(rules: Arc<ChiefRules>) -> Self {
        Self {
            rules,
            unmetered: false,
            call_gas_temp: 0,
            constructing: Vec::new(),
        }
    }

    /// A fresh EVM for the next transaction.
    pub(crate) fn reset(&mut self) {
        self.unmetered = false;
        self.call_gas_temp = 0;
        self.constructing.clear();
    }

    /// Whether the current frame runs without gas metering.
    pub(crate) fn is_unmetered(&self) -> bool {
        self.unmetered
    }

    /// Decides what starting `init` does to the flag (chain.md §9).
    pub(crate) fn frame_start<CTX: ContextTr, P: PrecompileProvider<CTX>>(
        &self,
        init: &FrameInit,
        ctx: &mut CTX,
        precompiles: &P,
    ) -> Result<FrameStart, ContextError<<CTX::Db as revm::Database>::Error>> {
        let inputs = match &init.frame_input {
            FrameInput::Call(inputs) => inputs,
            FrameInput::Create(_) => return Ok(FrameStart::Create),
            FrameInput::Empty => return Ok(FrameStart::Keep),
        };
        // Precompiles run before the flag is set.
        if precompiles.contains(&inputs.bytecode_address) {
            return Ok(FrameStart::Keep);
        }
        // `evm.Call` returns before `run` for a zero-value call to an account that does not
        // exist (EIP-158).
        if inputs.scheme == CallScheme::Call && inputs.value.get().is_zero() {
            let account = ctx
                .journal_mut()
                .load_account(inputs.target_address)
                .map_err(ContextError::Db)?
                .data;
            let exists = !(account.is_loaded_as_not_existing()
                && account.info.is_empty()
                && !account.is_created());
            if !exists {
                return Ok(FrameStart::Keep);
            }
        }
        // geth's `contract.Address()` / `contract.CallerAddress` are revm's target and caller
        // for all four call kinds (DELEGATECALL keeps the parent's both).
        let being_constructed = self.constructing.contains(&inputs.caller);
        Ok(FrameStart::Call {
            unmetered: !being_constructed
                && self.rules.unmetered(&inputs.caller, &inputs.target_address),
        })
    }

    /// Applies `start` once revm has tried to create the frame.
    pub(crate) fn frame_started(
        &mut self,
        start: FrameStart,
        outcome: &ItemOrResult<&mut revm::handler::EthFrame<EthInterpreter>, FrameResult>,
    ) {
        match (start, outcome) {
            (FrameStart::Keep, _) => {}
            (FrameStart::Call { unmetered }, ItemOrResult::Item(_)) => self.unmetered = unmetered,
            (FrameStart::Call { unmetered }, ItemOrResult::Result(result)) => {
                // Depth and balance failures return before `run`; a call to code-less account
                // reaches `run`, which sets the flag before finding no code.
                if !matches!(
                    result.instruction_result(),
                    InstructionResult::CallTooDeep | InstructionResult::OutOfFunds
                ) {
                    self.unmetered = unmetered;
                }
            }
            (FrameStart::Create, ItemOrResult::Item(frame)) => {
                if let FrameData::Create(create) = &frame.data {
                    self.constructing.push(create.created_address);
                }
            }
            (FrameStart::Create, ItemOrResult::Result(_)) => {}
        }
    }

    /// A frame finished; a creation frame's contract is no longer being constructed.
    pub(crate) fn frame_finished(&mut self, data: &FrameData) {
        if matches!(data, FrameData::Create(_)) {
            self.constructing.pop();
        }
    }

    /// Records `callGasTemp` from a metered CALL-family instruction's request.
    pub(crate) fn observe_metered(&mut self, action: &InterpreterAction) {
        if let InterpreterAction::NewFrame(FrameInput::Call(inputs)) = action {
            // The instruction added the stipend to what the gas function computed.
            self.call_gas_temp = inputs.gas_limit.saturating_sub(stipend(inputs));
        }
    }

    /// Runs the interpreter to its next action without gas metering.
    pub(crate) fn run_unmetered<H: revm::interpreter::Host>(
        &self,
        interpreter: &mut revm::interpreter::Interpreter<EthInterpreter>,
        table: &InstructionTable<EthInterpreter, H>,
        host: &mut H,
    ) -> InterpreterAction {
        self.run_unmetered_with(interpreter, table, host, &mut ())
    }

    /// [`Self::run_unmetered`] with `hook` called around each instruction (a traced run).
    pub(crate) fn run_unmetered_with<H: revm::interpreter::Host, S: StepHook<H>>(
        &self,
        interpreter: &mut revm::interpreter::Interpreter<EthInterpreter>,
        table: &InstructionTable<EthInterpreter, H>,
        host: &mut H,
        hook: &mut S,
    ) -> InterpreterAction {
        let error = loop {
            hook.before(interpreter, host);
            let opcode = interpreter.bytecode.opcode();
            interpreter.bytecode.relative_jump(1);
            let Some(instruction) = table.get(usize::from(opcode)).copied() else {
                break InstructionResult::OpcodeNotFound;
            };
            let result = if opcode == revm::bytecode::opcode::GAS {
                // `GAS` pushes the frame's real gas.
                instruction.execute(InstructionContext {
                    interpreter: &mut *interpreter,
                    host: &mut *host,
                })
            } else {
                let real = interpreter.gas;
                let mut free = Gas::new(u64::MAX);
                *free.memory_mut() = *real.memory();
                interpreter.gas = free;
                let result = instruction.execute(InstructionContext {
                    interpreter: &mut *interpreter,
                    host: &mut *host,
                });
                let words = interpreter.gas.memory().words_num;
                interpreter.gas = real;
                interpreter.gas.memory_mut().words_num = words;
                self.patch_action(interpreter);
                result
            };
            hook.after(interpreter, host);
            if let Err(error) = result {
                break error;
            }
        };
        if interpreter.bytecode.action().is_none() {
            interpreter.halt(error);
        }
        interpreter.take_next_action()
    }

    /// Replaces what an unmetered instruction computed from its free gas with what geth does.
    fn patch_action(&self, interpreter: &mut revm::interpreter::Interpreter<EthInterpreter>) {
        let gas = &mut interpreter.gas;
        match interpreter.bytecode.action() {
            Some(InterpreterAction::NewFrame(FrameInput::Call(inputs))) => {
                // opCall & co.: `gas := evm.callGasTemp` (+ stipend), not taken from the frame.
                inputs.gas_limit = self.call_gas_temp.saturating_add(stipend(inputs));
            }
            Some(InterpreterAction::NewFrame(FrameInput::Create(inputs))) => {
                // opCreate/opCreate2: `gas -= gas/64; contract.UseGas(gas)` happen in the
                // instruction itself, metered or not.
                let remaining = gas.remaining();
                let child = remaining.saturating_sub(remaining / 64);
                let _taken = gas.record_regular_cost(child);
                inputs.set_gas_limit(child);
            }
            Some(action) => {
                if let Some(action_gas) = action.gas_mut() {
                    *action_gas = *gas;
                }
            }
            None => {}
        }
    }
}

/// What a traced run does around each unmetered instruction ([`ChiefMeter::run_unmetered_with`]).
pub(crate) trait StepHook<H> {
    /// Before an instruction.
    fn before(
        &mut self,
        interpreter: &mut revm::interpreter::Interpreter<EthInterpreter>,
        host: &mut H,
    );
    /// After it.
    fn after(
        &mut self,
        interpreter: &mut revm::interpreter::Interpreter<EthInterpreter>,
        host: &mut H,
    );
}

/// No hook: block execution and calls.
impl<H> StepHook<H> for () {
    fn before(&mut self, _: &mut revm::interpreter::Interpreter<EthInterpreter>, _: &mut H) {}
    fn after(&mut self, _: &mut revm::interpreter::Interpreter<EthInterpreter>, _: &mut H) {}
}

/// The stipend a CALL-family request carries.
fn stipend(inputs: &revm::interpreter::CallInputs) -> u64 {
    let transfers = inputs.value.transfer().is_some_and(|v| v != U256::ZERO);
    if transfers && matches!(inputs.scheme, CallScheme::Call | CallScheme::CallCode) {
        CALL_STIPEND
    } else {
        0
    }
}
