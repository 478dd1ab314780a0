//! The generated chain's contracts, hand-assembled (no solc): a minimal ERC20 token and a
//! storage-heavy contract that writes fresh slots on every call.
//!
//! Both use only Byzantium opcodes, so they run on every Spectrum network.

use std::collections::HashMap;

use alloy_primitives::{Address, B256, Bytes, U256, b256, keccak256};

/// keccak256("Transfer(address,address,uint256)"): topic 0 of an ERC20 `Transfer` log.
pub const TRANSFER_TOPIC: B256 =
    b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");

/// `transfer(address,uint256)`.
pub const TRANSFER_SELECTOR: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];

/// `balanceOf(address)`.
pub const BALANCE_OF_SELECTOR: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];

/// The opcodes the contracts use.
mod op {
    pub(super) const STOP: u8 = 0x00;
    pub(super) const ADD: u8 = 0x01;
    pub(super) const SUB: u8 = 0x03;
    pub(super) const DIV: u8 = 0x04;
    pub(super) const LT: u8 = 0x10;
    pub(super) const GT: u8 = 0x11;
    pub(super) const EQ: u8 = 0x14;
    pub(super) const ISZERO: u8 = 0x15;
    pub(super) const AND: u8 = 0x16;
    pub(super) const SHA3: u8 = 0x20;
    pub(super) const CALLER: u8 = 0x33;
    pub(super) const CALLDATALOAD: u8 = 0x35;
    pub(super) const CODECOPY: u8 = 0x39;
    pub(super) const MSTORE: u8 = 0x52;
    pub(super) const SLOAD: u8 = 0x54;
    pub(super) const SSTORE: u8 = 0x55;
    pub(super) const JUMP: u8 = 0x56;
    pub(super) const JUMPI: u8 = 0x57;
    pub(super) const JUMPDEST: u8 = 0x5b;
    pub(super) const PUSH1: u8 = 0x60;
    pub(super) const PUSH2: u8 = 0x61;
    pub(super) const DUP1: u8 = 0x80;
    pub(super) const DUP2: u8 = 0x81;
    pub(super) const DUP3: u8 = 0x82;
    pub(super) const DUP4: u8 = 0x83;
    pub(super) const SWAP1: u8 = 0x90;
    pub(super) const LOG3: u8 = 0xa3;
    pub(super) const RETURN: u8 = 0xf3;
    pub(super) const REVERT: u8 = 0xfd;
}

/// A tiny assembler: opcodes, minimal pushes and labels (jump targets are 2-byte pushes patched
/// when the code is finished).
#[derive(Default)]
struct Asm {
    code: Vec<u8>,
    labels: HashMap<&'static str, usize>,
    fixups: Vec<(usize, &'static str)>,
}

impl Asm {
    fn ops(&mut self, ops: &[u8]) -> &mut Self {
        self.code.extend_from_slice(ops);
        self
    }

    /// PUSHn of `bytes` (1..=32 bytes) as given.
    fn push(&mut self, bytes: &[u8]) -> &mut Self {
        assert!(
            (1..=32).contains(&bytes.len()),
            "PUSH takes 1 to 32 bytes, got {}",
            bytes.len()
        );
        self.code.push(op::PUSH1 + (bytes.len() - 1) as u8);
        self.code.extend_from_slice(bytes);
        self
    }

    /// The shortest PUSH of `value`.
    fn push_u256(&mut self, value: U256) -> &mut Self {
        let bytes = value.to_be_bytes::<32>();
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(31);
        self.push(&bytes[first..])
    }

    fn push_u64(&mut self, value: u64) -> &mut Self {
        self.push_u256(U256::from(value))
    }

    /// PUSH2 of a label's offset.
    fn push_label(&mut self, label: &'static str) -> &mut Self {
        self.code.push(op::PUSH2);
        self.fixups.push((self.code.len(), label));
        self.code.extend_from_slice(&[0, 0]);
        self
    }

    /// A JUMPDEST named `label`.
    fn label(&mut self, label: &'static str) -> &mut Self {
        let previous = self.labels.insert(label, self.code.len());
        assert!(previous.is_none(), "label {label} defined twice");
        self.code.push(op::JUMPDEST);
        self
    }

    #[allow(
        clippy::expect_used,
        reason = "the bench's own fixed contracts: a failure is a bug here"
    )]
    fn finish(mut self) -> Vec<u8> {
        for (at, label) in &self.fixups {
            let target = self.labels[label];
            let target = u16::try_from(target).expect("contract code fits in 64 KiB");
            self.code[*at..*at + 2].copy_from_slice(&target.to_be_bytes());
        }
        self.code
    }
}

/// Pushes the storage slot of `balances[<address on top of the stack>]` (Solidity's layout of
/// a mapping at slot 0: keccak256(pad32(address) ‖ pad32(0))), consuming the address.
fn balance_slot_of_top(asm: &mut Asm) {
    asm.push_u64(0)
        .ops(&[op::MSTORE])
        .push_u64(0)
        .push_u64(0x20)
        .ops(&[op::MSTORE])
        .push_u64(0x40)
        .push_u64(0)
        .ops(&[op::SHA3]);
}

/// Creation code: runs `constructor`, then returns `runtime` as the contract's code.
#[allow(
    clippy::expect_used,
    reason = "the bench's own fixed contracts: a failure is a bug here"
)]
fn creation_code(constructor: Vec<u8>, runtime: &[u8]) -> Bytes {
    // PUSH2 len, DUP1, PUSH2 offset, PUSH1 0, CODECOPY, PUSH1 0, RETURN
    const STUB_LEN: usize = 13;
    let len = u16::try_from(runtime.len()).expect("runtime fits in 64 KiB");
    let offset = u16::try_from(constructor.len() + STUB_LEN).expect("creation code fits in 64 KiB");
    let mut code = constructor;
    code.push(op::PUSH2);
    code.extend_from_slice(&len.to_be_bytes());
    code.push(op::DUP1);
    code.push(op::PUSH2);
    code.extend_from_slice(&offset.to_be_bytes());
    code.extend_from_slice(&[op::PUSH1, 0, op::CODECOPY, op::PUSH1, 0, op::RETURN]);
    debug_assert_eq!(code.len(), usize::from(offset));
    code.extend_from_slice(runtime);
    code.into()
}

/// The ERC20's runtime code: `transfer(address,uint256)` (reverts if the balance is short,
/// emits `Transfer`, returns true) and `balanceOf(address)`; any other call reverts.
pub fn erc20_runtime() -> Vec<u8> {
    let mut asm = Asm::default();
    // selector = calldata[0..4] (DIV by 2^224 keeps it Byzantium-only).
    asm.push_u256(U256::from(1) << 224)
        .push_u64(0)
        .ops(&[op::CALLDATALOAD, op::DIV]);
    asm.ops(&[op::DUP1])
        .push(&TRANSFER_SELECTOR)
        .ops(&[op::EQ])
        .push_label("transfer")
        .ops(&[op::JUMPI]);
    asm.ops(&[op::DUP1])
        .push(&BALANCE_OF_SELECTOR)
        .ops(&[op::EQ])
        .push_label("balance_of")
        .ops(&[op::JUMPI]);
    asm.label("revert").push_u64(0).ops(&[op::DUP1, op::REVERT]);

    // Stack comments: bottom … top.
    asm.label("transfer");
    // [sel] → [sel, fromSlot]
    asm.ops(&[op::CALLER]);
    balance_slot_of_top(&mut asm);
    // [sel, fromSlot, fromBal, amount]
    asm.ops(&[op::DUP1, op::SLOAD])
        .push_u64(0x24)
        .ops(&[op::CALLDATALOAD]);
    // amount > fromBal → revert
    asm.ops(&[op::DUP2, op::DUP2, op::GT])
        .push_label("revert")
        .ops(&[op::JUMPI]);
    // [sel, fromSlot, amount, fromBal - amount] → sstore(fromSlot, ·) → [sel, fromSlot, amount]
    asm.ops(&[
        op::SWAP1,
        op::DUP2,
        op::SWAP1,
        op::SUB,
        op::DUP3,
        op::SSTORE,
    ]);
    // to = calldata[4..36] as an address: [sel, fromSlot, amount, to]
    asm.push_u64(4)
        .ops(&[op::CALLDATALOAD])
        .push(&[0xff; 20])
        .ops(&[op::AND]);
    // [sel, fromSlot, amount, to, toSlot] → sstore(toSlot, sload(toSlot) + amount)
    asm.ops(&[op::DUP1]);
    balance_slot_of_top(&mut asm);
    asm.ops(&[
        op::DUP1,
        op::SLOAD,
        op::DUP4,
        op::ADD,
        op::SWAP1,
        op::SSTORE,
    ]);
    // mem[0..32] = amount; LOG3(0, 32, TRANSFER_TOPIC, caller, to)
    asm.ops(&[op::DUP2])
        .push_u64(0)
        .ops(&[op::MSTORE, op::CALLER])
        .push(TRANSFER_TOPIC.as_slice())
        .push_u64(0x20)
        .push_u64(0)
        .ops(&[op::LOG3]);
    // return true
    asm.push_u64(1)
        .push_u64(0)
        .ops(&[op::MSTORE])
        .push_u64(0x20)
        .push_u64(0)
        .ops(&[op::RETURN]);

    asm.label("balance_of").push_u64(4).ops(&[op::CALLDATALOAD]);
    balance_slot_of_top(&mut asm);
    asm.ops(&[op::SLOAD])
        .push_u64(0)
        .ops(&[op::MSTORE])
        .push_u64(0x20)
        .push_u64(0)
        .ops(&[op::RETURN]);
    asm.finish()
}

/// Creation code of the ERC20: the whole `supply` goes to the deployer.
pub fn erc20_creation_code(supply: U256) -> Bytes {
    let mut ctor = Asm::default();
    // sstore(balances[caller], supply)
    ctor.push_u256(supply).ops(&[op::CALLER]);
    balance_slot_of_top(&mut ctor);
    ctor.ops(&[op::SSTORE]);
    creation_code(ctor.finish(), &erc20_runtime())
}

/// The storage slot holding `holder`'s ERC20 balance.
pub fn erc20_balance_slot(holder: Address) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[12..32].copy_from_slice(holder.as_slice());
    keccak256(preimage)
}

/// Calldata of `transfer(to, amount)`.
pub fn erc20_transfer_calldata(to: Address, amount: U256) -> Bytes {
    let mut data = Vec::with_capacity(68);
    data.extend_from_slice(&TRANSFER_SELECTOR);
    data.extend_from_slice(&[0u8; 12]);
    data.extend_from_slice(to.as_slice());
    data.extend_from_slice(&amount.to_be_bytes::<32>());
    data.into()
}

/// The storage-heavy contract's runtime code. Called with one word `n`, it writes `n` fresh
/// slots: slot 0 counts the slots written so far (`c`), and the call sets slots
/// `c+1 ..= c+n` to their own index, then slot 0 to `c+n`.
pub fn store_runtime() -> Vec<u8> {
    let mut asm = Asm::default();
    // [n, c] → [n, end = c + n, i = c]
    asm.push_u64(0).ops(&[op::CALLDATALOAD]).push_u64(0).ops(&[
        op::SLOAD,
        op::DUP1,
        op::DUP3,
        op::ADD,
        op::SWAP1,
    ]);
    asm.label("loop");
    // !(i < end) → done
    asm.ops(&[op::DUP2, op::DUP2, op::LT, op::ISZERO])
        .push_label("done")
        .ops(&[op::JUMPI]);
    // i += 1; sstore(i, i)
    asm.push_u64(1)
        .ops(&[op::ADD, op::DUP1, op::DUP1, op::SSTORE])
        .push_label("loop")
        .ops(&[op::JUMP]);
    asm.label("done");
    // sstore(0, end)
    asm.ops(&[op::DUP2])
        .push_u64(0)
        .ops(&[op::SSTORE, op::STOP]);
    asm.finish()
}

/// Creation code of the storage-heavy contract (no constructor).
pub fn store_creation_code() -> Bytes {
    creation_code(Vec::new(), &store_runtime())
}

/// Calldata of a storage-heavy call writing `slots` fresh slots.
pub fn store_calldata(slots: u64) -> Bytes {
    U256::from(slots).to_be_bytes::<32>().to_vec().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_point_at_jumpdests() {
        for code in [erc20_runtime(), store_runtime()] {
            // Every PUSH2 followed by JUMP/JUMPI targets a JUMPDEST.
            let mut i = 0;
            let mut jumps = 0;
            while i < code.len() {
                let opcode = code[i];
                if opcode == op::PUSH2
                    && matches!(code.get(i + 3), Some(&op::JUMP) | Some(&op::JUMPI))
                {
                    let target = usize::from(u16::from_be_bytes([code[i + 1], code[i + 2]]));
                    assert_eq!(code[target], op::JUMPDEST, "jump to {target}");
                    jumps += 1;
                }
                i += 1 + if (0x60..=0x7f).contains(&opcode) {
                    usize::from(opcode - 0x5f)
                } else {
                    0
                };
            }
            assert!(jumps >= 2);
        }
    }

    #[test]
    fn creation_code_ends_with_the_runtime() {
        let runtime = store_runtime();
        let creation = store_creation_code();
        assert!(creation.ends_with(&runtime));
        assert_eq!(creation.len(), 13 + runtime.len());
    }

    #[test]
    fn transfer_topic_and_selectors() {
        assert_eq!(
            keccak256("Transfer(address,address,uint256)"),
            TRANSFER_TOPIC
        );
        assert_eq!(
            keccak256("transfer(address,uint256)")[..4],
            TRANSFER_SELECTOR
        );
        assert_eq!(keccak256("balanceOf(address)")[..4], BALANCE_OF_SELECTOR);
    }
}
