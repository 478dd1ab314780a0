//! A wall-clock budget for read-only calls ([`BlockExecutor::call_until`]): `eth_call` and
//! `eth_estimateGas` must not hold a core for as long as their gas allows (geth's
//! `--rpc.evmtimeout`).
//!
//! revm has no interrupt, so the call's EVM gets JUMP and JUMPI instructions that look at the
//! clock: every loop iterates through one of them, and code without a jump is bounded by its
//! size. Past the deadline they halt the frame, and every frame above halts at its next jump.
//! The budget lives in a thread-local because instructions are plain function pointers; it is
//! set only while a call with a deadline runs on the thread, and block execution never installs
//! these instructions.
//!
//! [`BlockExecutor::call_until`]: crate::BlockExecutor::call_until

use std::{cell::Cell, time::Instant};

use revm::{
    bytecode::opcode,
    context_interface::Host,
    handler::instructions::EthInstructions,
    interpreter::{
        Instruction, InstructionContext, InstructionResult, instructions::control,
        interpreter::EthInterpreter,
    },
};

/// Jumps between two reads of the clock: a tight loop costs a few nanoseconds per jump, a
/// clock read about twenty.
const CHECK_EVERY: u32 = 64;

#[derive(Debug, Clone, Copy)]
struct Budget {
    deadline: Option<Instant>,
    countdown: u32,
    expired: bool,
}

const NO_BUDGET: Budget = Budget {
    deadline: None,
    countdown: 0,
    expired: false,
};

thread_local! {
    static BUDGET: Cell<Budget> = const { Cell::new(NO_BUDGET) };
}

/// The deadline of the call running on this thread; cleared when dropped.
pub(crate) struct DeadlineGuard(());

impl DeadlineGuard {
    /// Starts the budget of a call on this thread.
    pub(crate) fn set(deadline: Instant) -> Self {
        BUDGET.with(|b| {
            b.set(Budget {
                deadline: Some(deadline),
                countdown: 0,
                expired: Instant::now() >= deadline,
            })
        });
        Self(())
    }

    /// Whether the deadline passed while the call ran (its result is then incomplete).
    pub(crate) fn expired(&self) -> bool {
        BUDGET.with(|b| b.get().expired)
    }
}

impl Drop for DeadlineGuard {
    fn drop(&mut self) {
        BUDGET.with(|b| b.set(NO_BUDGET));
    }
}

/// Whether the running call is past its deadline (reads the clock every [`CHECK_EVERY`] calls).
fn over_time() -> bool {
    BUDGET.with(|cell| {
        let mut budget = cell.get();
        let Some(deadline) = budget.deadline else {
            return false;
        };
        if budget.expired {
            return true;
        }
        budget.countdown = budget.countdown.saturating_sub(1);
        if budget.countdown == 0 {
            budget.countdown = CHECK_EVERY;
            budget.expired = Instant::now() >= deadline;
        }
        cell.set(budget);
        budget.expired
    })
}

type InstrResult = Result<(), InstructionResult>;

/// JUMP that halts the frame once the budget is spent.
fn timed_jump<H: Host + ?Sized>(ctx: InstructionContext<'_, H, EthInterpreter>) -> InstrResult {
    if over_time() {
        return Err(InstructionResult::OutOfGas);
    }
    control::jump(ctx)
}

/// JUMPI that halts the frame once the budget is spent.
fn timed_jumpi<H: Host + ?Sized>(ctx: InstructionContext<'_, H, EthInterpreter>) -> InstrResult {
    if over_time() {
        return Err(InstructionResult::OutOfGas);
    }
    control::jumpi(ctx)
}

/// Replaces JUMP and JUMPI of `table` with the clock-reading ones (gas costs unchanged).
pub(crate) fn install<H: Host>(table: &mut EthInstructions<EthInterpreter, H>) {
    let slots = table.instruction_table_mut();
    for (op, instruction) in [
        (opcode::JUMP, Instruction::new(timed_jump::<H>)),
        (opcode::JUMPI, Instruction::new(timed_jumpi::<H>)),
    ] {
        if let Some(slot) = slots.get_mut(usize::from(op)) {
            *slot = instruction;
        }
    }
}
