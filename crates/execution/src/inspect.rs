//! Inspection of [`SpectrumEvm`]: revm's inspector loop, plus the chief meter, so that a traced
//! transaction executes exactly as it does in a block (chief frames unmetered, chain.md §9)
//! while an inspector (`trace.rs`) watches every frame and instruction.

use revm::{
    context::{Evm, FrameStack},
    handler::{
        FrameInitOrResult, FrameTr, ItemOrResult,
        evm::{ContextDbError, FrameInitResult},
        instructions::InstructionProvider,
    },
    inspector::{Inspector, InspectorEvmTr, handler::frame_end, inspect_instructions},
    interpreter::{Interpreter, interpreter::EthInterpreter},
};

use crate::{chief::StepHook, evm::Ctx, evm::SpectrumEvm};

/// An inspector's step hooks for the chief meter's unmetered loop.
struct Steps<'i, I> {
    inspector: &'i mut I,
    logs: usize,
}

impl<'a, I: Inspector<Ctx<'a>, EthInterpreter>> StepHook<Ctx<'a>> for Steps<'_, I> {
    fn before(&mut self, interpreter: &mut Interpreter<EthInterpreter>, host: &mut Ctx<'a>) {
        self.inspector.step(interpreter, host);
        self.logs = host.journaled_state.inner.logs.len();
    }

    fn after(&mut self, interpreter: &mut Interpreter<EthInterpreter>, host: &mut Ctx<'a>) {
        let logs = &host.journaled_state.inner.logs;
        if logs.len() > self.logs {
            let new = logs.get(self.logs..).unwrap_or_default().to_vec();
            for log in new {
                self.inspector.log_full(interpreter, host, log);
            }
        }
        self.inspector.step_end(interpreter, host);
    }
}

impl<'a, I: Inspector<Ctx<'a>, EthInterpreter>> InspectorEvmTr for SpectrumEvm<'a, I> {
    type Inspector = I;

    fn all_inspector(
        &self,
    ) -> (
        &Self::Context,
        &Self::Instructions,
        &Self::Precompiles,
        &FrameStack<Self::Frame>,
        &Self::Inspector,
    ) {
        self.inner.all_inspector()
    }

    fn all_mut_inspector(
        &mut self,
    ) -> (
        &mut Self::Context,
        &mut Self::Instructions,
        &mut Self::Precompiles,
        &mut FrameStack<Self::Frame>,
        &mut Self::Inspector,
    ) {
        self.inner.all_mut_inspector()
    }

    fn inspect_frame_init(
        &mut self,
        frame_input: <Self::Frame as FrameTr>::FrameInit,
    ) -> Result<FrameInitResult<'_, Self::Frame>, ContextDbError<Self::Context>> {
        let Some(meter) = self.meter.as_mut() else {
            return self.inner.inspect_frame_init(frame_input);
        };
        let decision =
            meter.frame_start(&frame_input, &mut self.inner.ctx, &self.inner.precompiles)?;
        let outcome = self.inner.inspect_frame_init(frame_input)?;
        meter.frame_started(decision, &outcome);
        Ok(outcome)
    }

    fn inspect_frame_run(
        &mut self,
    ) -> Result<FrameInitOrResult<Self::Frame>, ContextDbError<Self::Context>> {
        let Evm {
            ctx,
            inspector,
            instruction,
            frame_stack,
            ..
        } = &mut self.inner;
        let frame = frame_stack.get();
        let unmetered = self.meter.as_ref().is_some_and(|m| m.is_unmetered());
        let action = match self.meter.as_mut() {
            Some(meter) if unmetered => {
                let mut steps = Steps {
                    inspector: &mut *inspector,
                    logs: 0,
                };
                meter.run_unmetered_with(
                    &mut frame.interpreter,
                    instruction.instruction_table(),
                    ctx,
                    &mut steps,
                )
            }
            _ => inspect_instructions(
                ctx,
                &mut frame.interpreter,
                &mut *inspector,
                instruction.instruction_table(),
                instruction.gas_table(),
            ),
        };
        if let Some(meter) = self.meter.as_mut()
            && !unmetered
        {
            meter.observe_metered(&action);
        }
        let mut next =
            frame.process_next_action::<_, ContextDbError<Self::Context>>(ctx, action)?;
        if let ItemOrResult::Result(result) = &mut next {
            frame_end(ctx, inspector, &frame.input, result);
            frame.set_finished(true);
            if let Some(meter) = self.meter.as_mut() {
                meter.frame_finished(&frame.data);
            }
        }
        Ok(next)
    }
}
