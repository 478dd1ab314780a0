//! Unit tests of Spectrum's deltas on small hand-made blocks (devnet and mainnet specs).

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address, hex, keccak256};
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{
    BlockBody, Header, KECCAK_EMPTY, RecoveredBlock, SealedBlock, SealedHeader, TransactionSigned,
    TxLegacy,
};
use spectrum_storage_api::{Account, MemoryState};

use crate::{BlockExecutionOutput, BlockExecutor, ExecutionError, TxError};

const SENDER: Address = address!("00000000000000000000000000000000000000aa");
const COINBASE: Address = address!("00000000000000000000000000000000000000cb");
const CONTRACT: Address = address!("00000000000000000000000000000000000000c0");
const OTHER: Address = address!("00000000000000000000000000000000000000c1");
/// Devnet chief 0.0.7.
const CHIEF: Address = address!("57d2bcd8d702999daf240793919675c90b12a17a");
const GWEI: u64 = 1_000_000_000;

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(1_000_000_000_000_000_000u128)
}

fn state_with(accounts: &[(Address, U256, &[u8])]) -> MemoryState {
    let mut state = MemoryState::default();
    for (address, balance, code) in accounts {
        let code_hash = if code.is_empty() {
            KECCAK_EMPTY
        } else {
            let hash = keccak256(code);
            state.codes.insert(hash, Bytes::copy_from_slice(code));
            hash
        };
        state.accounts.insert(
            *address,
            Account {
                nonce: u64::from(!code.is_empty()),
                balance: *balance,
                code_hash,
                ..Default::default()
            },
        );
    }
    state
}

fn tx(nonce: u64, to: Address, gas_limit: u64, input: &[u8]) -> TransactionSigned {
    TransactionSigned::from_parts(
        TxLegacy {
            chain_id: Some(4),
            nonce,
            gas_price: 18 * u128::from(GWEI),
            gas_limit,
            to: TxKind::Call(to),
            value: U256::ZERO,
            input: Bytes::copy_from_slice(input),
        },
        Signature::new(U256::from(1), U256::from(1), false),
    )
}

fn block(number: u64, gas_limit: u64, txs: Vec<TransactionSigned>) -> RecoveredBlock {
    let header = Header {
        number,
        gas_limit,
        beneficiary: COINBASE,
        timestamp: 1_000 + number,
        difficulty: U256::from(1),
        ..Default::default()
    };
    let senders = vec![SENDER; txs.len()];
    RecoveredBlock {
        block: SealedBlock {
            header: SealedHeader::seal(header),
            body: BlockBody {
                transactions: txs,
                ommers: Vec::new(),
            },
        },
        senders,
    }
}

fn run(
    spec: ChainSpec,
    state: &MemoryState,
    block: &RecoveredBlock,
) -> Result<BlockExecutionOutput, ExecutionError> {
    BlockExecutor::spectrum(Arc::new(spec)).execute(block, COINBASE, state)
}

fn gas_used(output: &BlockExecutionOutput, index: usize) -> u64 {
    let cumulative = |i: usize| {
        output
            .receipts
            .get(i)
            .map_or(0, |r| r.receipt.cumulative_gas_used)
    };
    cumulative(index) - if index == 0 { 0 } else { cumulative(index - 1) }
}

fn account(output: &BlockExecutionOutput, address: Address) -> Option<Account> {
    output
        .changes
        .accounts
        .iter()
        .find(|(a, _)| *a == address)
        .and_then(|(_, account)| *account)
}

fn slot(output: &BlockExecutionOutput, address: Address, slot: u8) -> Option<U256> {
    output
        .changes
        .storage
        .iter()
        .find(|(a, s, _)| *a == address && *s == B256::with_last_byte(slot))
        .map(|(_, _, v)| *v)
}

/// CHAINID, SELFBALANCE, EXTCODEHASH, SHL at Sip004 prices (chain.md §9).
const SIP004_CODE: &[u8] = &hex!(
    "46600055" // CHAINID PUSH1 0 SSTORE              2 + 3 + 20000
    "47600155" // SELFBALANCE PUSH1 1 SSTORE          5 + 3 + 20000
    "303f600255" // ADDRESS EXTCODEHASH PUSH1 2 SSTORE 2 + 400 + 3 + 20000
    "600160041b600355" // PUSH1 1 PUSH1 4 SHL PUSH1 3 SSTORE  3 + 3 + 3 + 3 + 20000
    "00"
);

#[test]
fn sip004_opcodes_and_prices() {
    let state = state_with(&[
        (SENDER, ether(10), &[]),
        (CONTRACT, U256::from(7), SIP004_CODE),
    ]);
    let out = run(
        ChainSpec::devnet(),
        &state,
        &block(10, 8_000_000, vec![tx(0, CONTRACT, 200_000, &[])]),
    )
    .unwrap();
    assert_eq!(
        gas_used(&out, 0),
        21_000 + 20_005 + 20_008 + 20_405 + 20_012
    );
    assert_eq!(slot(&out, CONTRACT, 0), Some(U256::from(4)));
    assert_eq!(slot(&out, CONTRACT, 1), Some(U256::from(7)));
    assert_eq!(slot(&out, CONTRACT, 2), Some(keccak256(SIP004_CODE).into()));
    assert_eq!(slot(&out, CONTRACT, 3), Some(U256::from(16)));
}

#[test]
fn sip004_opcodes_invalid_before_the_fork() {
    let state = state_with(&[
        (SENDER, ether(10), &[]),
        (CONTRACT, U256::from(7), SIP004_CODE),
    ]);
    let out = run(
        ChainSpec::devnet(),
        &state,
        &block(2, 8_000_000, vec![tx(0, CONTRACT, 200_000, &[])]),
    )
    .unwrap();
    // CHAINID is an undefined opcode in Byzantium: all gas is consumed.
    assert!(!out.receipts[0].receipt.status.coerce_status());
    assert_eq!(gas_used(&out, 0), 200_000);
}

/// A chief contract that calls `OTHER` (gas argument ignored: it forwards `callGasTemp`), then
/// stores 1 in slot 0.
fn chief_code(callee: Address) -> Vec<u8> {
    let mut code = hex!("6000600060006000600073").to_vec();
    code.extend_from_slice(callee.as_slice());
    code.extend_from_slice(&hex!("61fffff1" "50" "6001600055" "00"));
    code
}

#[test]
fn chief_frame_is_unmetered_and_free() {
    let code = hex!("6001600055" "00"); // PUSH1 1 PUSH1 0 SSTORE STOP
    let state = state_with(&[(SENDER, ether(10), &[]), (CHIEF, U256::ZERO, &code)]);
    let out = run(
        ChainSpec::devnet(),
        &state,
        &block(10, 8_000_000, vec![tx(0, CHIEF, 100_000, &[])]),
    )
    .unwrap();
    // Only intrinsic gas: the chief frame runs unmetered (chain.md §9).
    assert_eq!(gas_used(&out, 0), 21_000);
    assert_eq!(slot(&out, CHIEF, 0), Some(U256::from(1)));
    // The fee goes back to the sender (chain.md §6): only the nonce changes.
    let sender = account(&out, SENDER).unwrap();
    assert_eq!((sender.nonce, sender.balance), (1, ether(10)));
    assert!(account(&out, COINBASE).is_none());
}

#[test]
fn chief_flag_is_per_evm_instance() {
    // The call to OTHER turns metering back on and nothing restores it when OTHER returns, so
    // the chief frame pays for POP, PUSH1, PUSH1 and SSTORE afterwards (chain.md §9).
    let state = state_with(&[
        (SENDER, ether(10), &[]),
        (CHIEF, U256::ZERO, &chief_code(OTHER)),
        (OTHER, U256::ZERO, &[0x00]),
    ]);
    let out = run(
        ChainSpec::devnet(),
        &state,
        &block(10, 8_000_000, vec![tx(0, CHIEF, 100_000, &[])]),
    )
    .unwrap();
    assert!(out.receipts[0].receipt.status.coerce_status());
    assert_eq!(gas_used(&out, 0), 21_000 + 2 + 3 + 3 + 20_000);
}

#[test]
fn chief_calling_a_chief_stays_unmetered() {
    // Calling another chief address keeps the flag on: only intrinsic gas.
    let chief100 = address!("21c5dc409138205291d6a7ef2dbb1701ac02ff96");
    let state = state_with(&[
        (SENDER, ether(10), &[]),
        (CHIEF, U256::ZERO, &chief_code(chief100)),
        (chief100, U256::ZERO, &[0x00]),
    ]);
    let out = run(
        ChainSpec::devnet(),
        &state,
        &block(10, 8_000_000, vec![tx(0, CHIEF, 100_000, &[])]),
    )
    .unwrap();
    assert_eq!(gas_used(&out, 0), 21_000);
}

#[test]
fn chief_update_tx_is_gas_free() {
    let mut input = hex!("1c1b8772").to_vec();
    input.extend_from_slice(&[0u8; 32]);
    let state = state_with(&[(SENDER, ether(10), &[]), (CHIEF, U256::ZERO, &[0x00])]);
    // The chief-update tx asks for more gas than the block has; it buys none (chain.md §6).
    let txs = vec![tx(0, CHIEF, 4_712_388, &input), tx(1, OTHER, 21_000, &[])];
    let out = run(ChainSpec::devnet(), &state, &block(10, 30_000, txs)).unwrap();
    assert_eq!(out.receipts[0].receipt.cumulative_gas_used, 0);
    assert!(out.receipts[0].receipt.status.coerce_status());
    assert_eq!(out.receipts[1].receipt.cumulative_gas_used, 21_000);
    assert_eq!(out.gas_used, 21_000);
    let sender = account(&out, SENDER).unwrap();
    assert_eq!(
        sender.balance,
        ether(10) - U256::from(21_000u64 * 18 * GWEI),
        "only the second tx pays"
    );
}

#[test]
fn unprotected_tx_refused_from_sip003() {
    let mut unprotected = tx(0, OTHER, 21_000, &[]).tx().clone();
    unprotected.chain_id = None;
    let unprotected = TransactionSigned::from_parts(
        unprotected,
        Signature::new(U256::from(1), U256::from(1), false),
    );
    let state = state_with(&[(SENDER, ether(10), &[])]);
    let err = run(
        ChainSpec::devnet(),
        &state,
        &block(3, 8_000_000, vec![unprotected.clone()]),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        ExecutionError::Transaction {
            index: 0,
            error: TxError::Unprotected { number: 3 }
        }
    ));
    // Before SIP003 (devnet block 3) it is accepted.
    run(
        ChainSpec::devnet(),
        &state,
        &block(2, 8_000_000, vec![unprotected]),
    )
    .unwrap();
}

#[test]
fn block_gas_pool_is_enforced() {
    let state = state_with(&[(SENDER, ether(10), &[])]);
    let txs = vec![tx(0, OTHER, 21_000, &[]), tx(1, OTHER, 21_000, &[])];
    let err = run(ChainSpec::devnet(), &state, &block(10, 40_000, txs)).unwrap_err();
    assert!(matches!(
        err,
        ExecutionError::Transaction {
            index: 1,
            error: TxError::BlockGasExhausted {
                gas_limit: 21_000,
                available: 19_000
            }
        }
    ));
}

#[test]
fn tribe_reward_and_foundation_burn() {
    let spec = ChainSpec::mainnet();
    let burn = spec.tribe.foundation_burn.clone().unwrap();
    let number = burn.block;
    // Enough balance: exactly `amount` burned. Coinbase gets 35 SMT.
    let state = state_with(&[(burn.address, burn.amount + U256::from(5), &[])]);
    let out = run(spec.clone(), &state, &block(number, 5_000_000, vec![])).unwrap();
    assert_eq!(account(&out, burn.address).unwrap().balance, U256::from(5));
    assert_eq!(account(&out, COINBASE).unwrap().balance, ether(35));
    // Less than `amount`: all of it, and the emptied account is deleted.
    let state = state_with(&[(burn.address, U256::from(9), &[])]);
    let out = run(spec.clone(), &state, &block(number, 5_000_000, vec![])).unwrap();
    assert!(out.changes.accounts.contains(&(burn.address, None)));
    // The block after: reward only.
    let out = run(spec.clone(), &state, &block(number + 1, 5_000_000, vec![])).unwrap();
    assert!(account(&out, burn.address).is_none());
    assert_eq!(account(&out, COINBASE).unwrap().balance, ether(35));
    // Before SIP100: nothing.
    let out = run(spec, &state, &block(number - 1, 5_000_000, vec![])).unwrap();
    assert!(out.changes.accounts.is_empty());
}

#[test]
fn selfdestruct_and_empty_accounts_are_deleted() {
    // SELFDESTRUCT to OTHER (a new account gets the balance); a zero-value call to a missing
    // account does not create it (EIP-161).
    let mut code = vec![0x73];
    code.extend_from_slice(OTHER.as_slice());
    code.push(0xff);
    let mut state = state_with(&[(SENDER, ether(10), &[]), (CONTRACT, U256::from(3), &code)]);
    state
        .storage
        .entry(CONTRACT)
        .or_default()
        .insert(B256::ZERO, U256::from(1));
    let missing = address!("00000000000000000000000000000000000000dd");
    let txs = vec![tx(0, CONTRACT, 100_000, &[]), tx(1, missing, 21_000, &[])];
    let out = run(ChainSpec::devnet(), &state, &block(10, 8_000_000, txs)).unwrap();
    assert!(out.changes.accounts.contains(&(CONTRACT, None)));
    assert!(out.changes.wiped_storage.contains(&CONTRACT));
    assert_eq!(account(&out, OTHER).unwrap().balance, U256::from(3));
    assert!(!out.changes.accounts.iter().any(|(a, _)| *a == missing));
    let sorted = out.changes.accounts.windows(2).all(|w| w[0].0 < w[1].0);
    assert!(sorted, "accounts sorted by address");
}

#[test]
fn chief_called_from_init_code_is_metered() {
    // A contract under construction calling a chief keeps metering on (`createSync`, chain.md
    // §9): the chief frame pays 3 + 3 + 20000 for its SSTORE.
    let chief = hex!("6001600055" "00");
    let state = state_with(&[(SENDER, ether(10), &[]), (CHIEF, U256::ZERO, &chief)]);
    let mut init = hex!("60006000600060006000" "73").to_vec();
    init.extend_from_slice(CHIEF.as_slice());
    init.extend_from_slice(&hex!("61fffff1" "50" "00"));
    let mut create = tx(0, CHIEF, 200_000, &init).tx().clone();
    create.to = TxKind::Create;
    let create =
        TransactionSigned::from_parts(create, Signature::new(U256::from(1), U256::from(1), false));
    let out = run(
        ChainSpec::devnet(),
        &state,
        &block(10, 8_000_000, vec![create]),
    )
    .unwrap();
    let calldata = 5 * (4 + 68) + 21 * 68 + 3 * 68 + 68 + 68 + 4;
    let execution = 5 * 3 + 3 + 3 + 700 + (3 + 3 + 20_000) + 2;
    assert_eq!(gas_used(&out, 0), 53_000 + calldata + execution);
    assert_eq!(slot(&out, CHIEF, 0), Some(U256::from(1)));
}

/// `JUMPDEST PUSH1 0 JUMP`, then as a contract that loops inside a callee.
const LOOP: [u8; 4] = [0x5b, 0x60, 0x00, 0x56];

fn loop_request(to: Option<Address>, gas_limit: u64) -> crate::CallRequest {
    crate::CallRequest {
        from: SENDER,
        to,
        gas_limit,
        gas_price: 0,
        value: U256::ZERO,
        data: if to.is_none() {
            Bytes::from_static(&LOOP)
        } else {
            Bytes::new()
        },
    }
}

#[test]
fn calls_stop_at_their_deadline() {
    use std::time::{Duration, Instant};
    // CALL(gas, CONTRACT, 0, 0, 0, 0, 0) from the outer code, then loop there too.
    let mut caller =
        hex::decode("600060006000600060007300000000000000000000000000000000000000c05af1").unwrap();
    caller.extend_from_slice(&[0x5b, 0x60, 0x21, 0x56]);
    let state = state_with(&[
        (SENDER, ether(1), &[]),
        (CONTRACT, U256::ZERO, &LOOP),
        (OTHER, U256::ZERO, &caller),
    ]);
    let executor = BlockExecutor::spectrum(Arc::new(ChainSpec::devnet()));
    let header = block(10, 8_000_000, Vec::new()).block.header;
    // Ten billion gas would loop for seconds; the budget stops it.
    for to in [None, Some(CONTRACT), Some(OTHER)] {
        let started = Instant::now();
        let error = executor
            .call_until(
                header.header(),
                &state,
                &loop_request(to, 10_000_000_000),
                started + Duration::from_millis(50),
            )
            .unwrap_err();
        assert!(
            matches!(error, ExecutionError::CallTimeout),
            "{to:?}: {error}"
        );
    }
    // Within budget: the same call as without one (out of gas at a small limit).
    let bounded = executor
        .call_until(
            header.header(),
            &state,
            &loop_request(None, 100_000),
            Instant::now() + Duration::from_secs(60),
        )
        .unwrap();
    let unbounded = executor
        .call_with(header.header(), &state, &loop_request(None, 100_000))
        .unwrap();
    assert_eq!(bounded, unbounded);
    assert_eq!(bounded.halt.as_deref(), Some("out of gas"));
}
