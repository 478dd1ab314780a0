//! Instruction tables: revm's for the Ethereum forks, and the two sets revm has no spec for
//! (Spectrum's Sip004 set and the Constantinople test network's EIP-1283 SSTORE).

use revm::{
    bytecode::opcode,
    context_interface::{
        Host,
        cfg::gas_params::{GasId, GasParams},
    },
    handler::instructions::EthInstructions,
    interpreter::{
        Instruction, InstructionContext, InstructionResult,
        instructions::host::sstore_with_gas_accounting, interpreter::EthInterpreter,
    },
    primitives::U256,
};

use crate::rules::InstructionSet;

/// The result type of an instruction.
type InstrResult = Result<(), InstructionResult>;

/// CHAINID (0x46) without revm's Istanbul gate: part of Spectrum's Sip004 set on top of
/// Byzantium (chain.md §9).
fn chainid<H: Host + ?Sized>(ctx: InstructionContext<'_, H, EthInterpreter>) -> InstrResult {
    let id = U256::from(ctx.host.chain_id());
    if !ctx.interpreter.stack.push(id) {
        return Err(InstructionResult::StackOverflow);
    }
    Ok(())
}

/// SELFBALANCE (0x47) without revm's Istanbul gate: part of Spectrum's Sip004 set (chain.md §9).
fn selfbalance<H: Host + ?Sized>(ctx: InstructionContext<'_, H, EthInterpreter>) -> InstrResult {
    let target =
        revm::interpreter::interpreter_types::InputsTr::target_address(&ctx.interpreter.input);
    let balance = ctx
        .host
        .balance(target)
        .ok_or(InstructionResult::FatalExternalError)?;
    if !ctx.interpreter.stack.push(balance.data) {
        return Err(InstructionResult::StackOverflow);
    }
    Ok(())
}

/// EIP-1283 (net gas metering, Constantinople as first scheduled): SLOAD_GAS 200, SSTORE_SET
/// 20000, SSTORE_RESET 5000, SSTORE_CLEARS 15000. The 200 of the no-op case is charged as the
/// static part (`sstore_static` is set to 200 for this set).
fn sstore_eip1283<H: Host + ?Sized>(ctx: InstructionContext<'_, H, EthInterpreter>) -> InstrResult {
    sstore_with_gas_accounting(ctx, |ctx, _target, load| {
        let v = &load.data;
        let (original, current, new) = (v.original_value, v.present_value, v.new_value);
        let extra: u64 = if new == current || original != current {
            0
        } else if original.is_zero() {
            20_000 - 200
        } else {
            5_000 - 200
        };
        if !ctx.interpreter.gas.record_regular_cost(extra) {
            return Err(InstructionResult::OutOfGas);
        }
        let mut refund: i64 = 0;
        if new != current {
            if original == current {
                if new.is_zero() {
                    refund += 15_000;
                }
            } else {
                if !original.is_zero() {
                    if current.is_zero() {
                        refund -= 15_000;
                    } else if new.is_zero() {
                        refund += 15_000;
                    }
                }
                if original == new {
                    refund += if original.is_zero() { 19_800 } else { 4_800 };
                }
            }
        }
        ctx.interpreter.gas.record_refund(refund);
        Ok(())
    })
}

/// The instruction table of `set`.
pub(crate) fn instructions<H: Host>(set: InstructionSet) -> EthInstructions<EthInterpreter, H> {
    let mut table = EthInstructions::new_mainnet_with_spec(set.spec_id());
    match set {
        InstructionSet::Ethereum(_) => {}
        InstructionSet::Constantinople => {
            if let Some(slot) = table
                .instruction_table_mut()
                .get_mut(usize::from(opcode::SSTORE))
            {
                *slot = Instruction::new(sstore_eip1283::<H>);
            }
        }
        InstructionSet::Sip004 => {
            // chain.md §9: CHAINID 2 gas (GasQuickStep), SELFBALANCE 5 gas (GasFastStep).
            table.insert_instruction(opcode::CHAINID, Instruction::new(chainid::<H>), 2);
            table.insert_instruction(opcode::SELFBALANCE, Instruction::new(selfbalance::<H>), 5);
        }
    }
    table
}

/// The dynamic gas parameters of `set`.
pub(crate) fn gas_params(set: InstructionSet) -> GasParams {
    let mut params = GasParams::new_spec(set.spec_id());
    if set == InstructionSet::Constantinople {
        params.override_gas([(GasId::sstore_static(), 200)]);
    }
    params
}
