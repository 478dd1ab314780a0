//! The EVM: revm's mainnet EVM over a [`BlockState`], wrapped so frames can run without gas
//! metering under Spectrum's chief exemption ([`crate::chief`]).

use std::sync::Arc;

use revm::{
    Context, Journal,
    context::{BlockEnv, CfgEnv, Evm, FrameStack, TxEnv},
    handler::{
        EthFrame, EthPrecompiles, EvmTr, FrameInitOrResult, FrameTr,
        evm::{ContextDbError, FrameInitResult},
        instructions::{EthInstructions, InstructionProvider},
    },
    interpreter::{interpreter::EthInterpreter, interpreter_action::FrameInit},
};

use crate::{
    chief::ChiefMeter,
    db::BlockState,
    instructions::{gas_params, instructions},
    rules::{BlockRules, ChiefRules},
};

/// revm's context over the block state.
pub(crate) type Ctx<'a> = Context<BlockEnv, TxEnv, CfgEnv, BlockState<'a>, Journal<BlockState<'a>>>;

type Instructions<'a> = EthInstructions<EthInterpreter, Ctx<'a>>;
type Frame = EthFrame<EthInterpreter>;
pub(crate) type Inner<'a, I> = Evm<Ctx<'a>, I, Instructions<'a>, EthPrecompiles, Frame>;

/// revm's EVM plus, on Spectrum, the chief metering state. `I` is the inspector of a traced
/// run (`trace.rs`); block execution and calls have none.
pub(crate) struct SpectrumEvm<'a, I = ()> {
    pub(crate) inner: Inner<'a, I>,
    /// `Some` under Spectrum's rules.
    pub(crate) meter: Option<ChiefMeter>,
}

impl<'a> SpectrumEvm<'a> {
    /// An EVM for one block.
    pub(crate) fn new(
        rules: &BlockRules,
        block: BlockEnv,
        state: BlockState<'a>,
        chief: Option<Arc<ChiefRules>>,
    ) -> Self {
        let spec = rules.instructions.spec_id();
        let params = gas_params(rules.instructions);
        let chain_id = rules.chain_id;
        let mut ctx: Ctx<'a> = Context::new(state, spec).modify_cfg_chained(|cfg| {
            cfg.chain_id = chain_id;
            cfg.tx_chain_id_check = true;
            cfg.set_gas_params(params);
        });
        ctx.block = block;
        let inner = Evm::new(
            ctx,
            instructions(rules.instructions),
            EthPrecompiles::new(spec),
        );
        Self {
            inner,
            meter: chief.map(ChiefMeter::new),
        }
    }

    /// The same EVM with `inspector` (a traced run, [`crate::trace`]).
    pub(crate) fn with_inspector<J>(self, inspector: J) -> SpectrumEvm<'a, J> {
        SpectrumEvm {
            inner: self.inner.with_inspector(inspector),
            meter: self.meter,
        }
    }
}

impl<'a, I> SpectrumEvm<'a, I> {
    /// The block state, to commit a transaction's changes or apply rewards.
    pub(crate) fn state_mut(&mut self) -> &mut BlockState<'a> {
        &mut self.inner.ctx.journaled_state.database
    }

    /// The block state (the state before the transaction not yet committed).
    pub(crate) fn state_ref(&self) -> &BlockState<'a> {
        &self.inner.ctx.journaled_state.database
    }

    /// Gives the block state back.
    pub(crate) fn into_state(self) -> BlockState<'a> {
        self.inner.ctx.journaled_state.database
    }
}

impl<'a, I> EvmTr for SpectrumEvm<'a, I> {
    type Context = Ctx<'a>;
    type Instructions = Instructions<'a>;
    type Precompiles = EthPrecompiles;
    type Frame = Frame;

    fn all(
        &self,
    ) -> (
        &Self::Context,
        &Self::Instructions,
        &Self::Precompiles,
        &FrameStack<Self::Frame>,
    ) {
        self.inner.all()
    }

    fn all_mut(
        &mut self,
    ) -> (
        &mut Self::Context,
        &mut Self::Instructions,
        &mut Self::Precompiles,
        &mut FrameStack<Self::Frame>,
    ) {
        self.inner.all_mut()
    }

    fn frame_init(
        &mut self,
        frame_input: <Self::Frame as FrameTr>::FrameInit,
    ) -> Result<FrameInitResult<'_, Self::Frame>, ContextDbError<Self::Context>> {
        let Some(meter) = self.meter.as_mut() else {
            return self.inner.frame_init(frame_input);
        };
        let start: FrameInit = frame_input;
        let decision = meter.frame_start(&start, &mut self.inner.ctx, &self.inner.precompiles)?;
        let outcome = self.inner.frame_init(start)?;
        meter.frame_started(decision, &outcome);
        Ok(outcome)
    }

    fn frame_run(
        &mut self,
    ) -> Result<FrameInitOrResult<Self::Frame>, ContextDbError<Self::Context>> {
        let Some(meter) = self.meter.as_mut() else {
            return self.inner.frame_run();
        };
        let Evm {
            ctx,
            instruction,
            frame_stack,
            ..
        } = &mut self.inner;
        let frame = frame_stack.get();
        let action = if meter.is_unmetered() {
            meter.run_unmetered(&mut frame.interpreter, instruction.instruction_table(), ctx)
        } else {
            let action = frame.interpreter.run_plain(
                instruction.instruction_table(),
                instruction.gas_table(),
                ctx,
            );
            meter.observe_metered(&action);
            action
        };
        let next = frame.process_next_action::<_, ContextDbError<Self::Context>>(ctx, action)?;
        if next.is_result() {
            frame.set_finished(true);
            meter.frame_finished(&frame.data);
        }
        Ok(next)
    }

    fn frame_return_result(
        &mut self,
        result: <Self::Frame as FrameTr>::FrameResult,
    ) -> Result<Option<<Self::Frame as FrameTr>::FrameResult>, ContextDbError<Self::Context>> {
        self.inner.frame_return_result(result)
    }
}
