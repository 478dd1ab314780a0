//! The reference devnet chains (`../shared/testdata/spectrum-devnet{,-multi}`) executed block
//! by block in memory under Spectrum's rules: every block's state root, receipts root, gas used
//! and bloom must equal its header's (and `expected.json`), every receipt's status and gas must
//! equal the reference node's, and the head state must equal `expected.json`'s `state`.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::{collections::HashMap, fs, path::Path, sync::Arc, time::Instant};

use alloy_primitives::{Address, B256, Bytes, Signature, U256};
use serde_json::Value;
use spectrum_chainspec::ChainSpec;
use spectrum_execution::{
    BlockExecutor,
    state_root::{apply_changes_and_compute_root, recompute_state_root},
    verify_receipts, verify_state_root,
};
use spectrum_primitives::{Block, Header, Limits, recover_signer_unchecked};
use spectrum_storage_api::{Account, MemoryState};

use common::{ChainView, hex_bytes, split_rlp_items};

/// The genesis state of `spec`.
fn genesis_state(spec: &ChainSpec) -> MemoryState {
    let mut state = MemoryState::default();
    for (address, account) in &spec.genesis.alloc {
        let trie = account.trie_account();
        if !account.code.is_empty() {
            state.codes.insert(trie.code_hash, account.code.clone());
        }
        state.accounts.insert(
            *address,
            Account {
                nonce: account.nonce,
                balance: account.balance,
                code_hash: trie.code_hash,
                ..Default::default()
            },
        );
        let slots: std::collections::BTreeMap<B256, U256> = account.storage_slots().collect();
        if !slots.is_empty() {
            state.storage.insert(*address, slots);
        }
    }
    state
}

/// The Tribe author: the coinbase, or the seal signer when the coinbase is zero (chain.md §6,
/// tribe.md §2: the seal is the last 65 bytes of extraData over the header without them).
fn author(header: &Header) -> Address {
    if !header.beneficiary.is_zero() {
        return header.beneficiary;
    }
    let extra = &header.extra_data;
    let split = extra.len().checked_sub(65).expect("extraData holds a seal");
    let (unsealed, seal) = extra.split_at(split);
    let mut bare = header.clone();
    bare.extra_data = Bytes::copy_from_slice(unsealed);
    let signature = Signature::new(
        U256::from_be_slice(&seal[..32]),
        U256::from_be_slice(&seal[32..64]),
        seal[64] == 1,
    );
    recover_signer_unchecked(&signature, bare.hash_slow()).expect("seal recovers")
}

fn u64_field(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn b256_field(v: &Value, key: &str) -> B256 {
    v[key]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{key} in block"))
}

/// Decodes one storage value of geth 1.8's dump: the RLP encoding of the trimmed value.
fn dump_value(hex: &str) -> U256 {
    let bytes = hex_bytes(hex).expect("dump value hex");
    let mut buf = bytes.as_ref();
    let raw = alloy_rlp::Header::decode_bytes(&mut buf, false).expect("dump value RLP");
    U256::from_be_slice(raw)
}

fn compare_head_state(state: &MemoryState, expected: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let accounts = expected["state"].as_object().expect("state object");
    for (address, want) in accounts {
        let address: Address = address.parse().expect("address");
        let got = state.accounts.get(&address);
        if want["inDump"] == Value::Bool(false) {
            if got.is_some() {
                errors.push(format!("{address}: exists, expected absent"));
            }
            continue;
        }
        let Some(got) = got else {
            errors.push(format!("{address}: missing"));
            continue;
        };
        let balance: U256 = want["balance"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("balance");
        if got.balance != balance {
            errors.push(format!("{address}: balance {} != {balance}", got.balance));
        }
        if got.nonce != u64_field(want, "nonce") {
            errors.push(format!(
                "{address}: nonce {} != {}",
                got.nonce, want["nonce"]
            ));
        }
        if got.code_hash != b256_field(want, "codeHash") {
            errors.push(format!("{address}: code hash {}", got.code_hash));
        }
        let mut want_slots = std::collections::BTreeMap::new();
        if let Some(storage) = want["storage"].as_object() {
            for (slot, value) in storage {
                let slot: B256 = format!("0x{slot}").parse().expect("slot");
                let value = dump_value(value.as_str().expect("value"));
                if !value.is_zero() {
                    want_slots.insert(slot, value);
                }
            }
        }
        let empty = std::collections::BTreeMap::new();
        let got_slots = state.storage.get(&address).unwrap_or(&empty);
        if *got_slots != want_slots {
            errors.push(format!(
                "{address}: storage differs ({} slots, expected {})",
                got_slots.len(),
                want_slots.len()
            ));
        }
    }
    let in_dump = u64_field(expected, "dumpAccountCount");
    if u64::try_from(state.accounts.len()).ok() != Some(in_dump) {
        errors.push(format!(
            "{} accounts in state, reference dump has {in_dump}",
            state.accounts.len()
        ));
    }
    errors
}

fn run_chain(name: &str) {
    let dir = common::testdata(name);
    let started = Instant::now();
    let spec = Arc::new(ChainSpec::devnet());
    let expected: Value =
        serde_json::from_slice(&fs::read(dir.join("expected.json")).expect("expected.json"))
            .expect("expected.json parses");
    let chain = fs::read(dir.join("chain.rlp")).expect("chain.rlp");
    let items = split_rlp_items(&chain);
    let blocks_json = expected["blocks"].as_array().expect("blocks");
    assert_eq!(
        items.len(),
        blocks_json.len(),
        "blocks in chain.rlp vs expected.json"
    );

    let mut state = genesis_state(&spec);
    let genesis_root = recompute_state_root(&mut state);
    assert_eq!(genesis_root, spec.genesis_header().state_root);
    let genesis = Block::decode_bounded(items[0], &Limits::DEFAULT)
        .expect("genesis decodes")
        .seal_slow();
    assert_eq!(genesis.hash(), spec.genesis_header().hash(), "genesis hash");
    assert_eq!(genesis.hash(), b256_field(&expected, "genesisHash"));

    let executor = BlockExecutor::spectrum(spec.clone());
    let mut hashes: HashMap<u64, B256> = HashMap::from([(0, genesis.hash())]);
    let mut parent = genesis.hash();
    let mut txs = 0usize;
    for (number, (item, want)) in items.iter().zip(blocks_json).enumerate().skip(1) {
        let block = Block::decode_bounded(item, &Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("block {number} decodes: {e}"))
            .seal_slow();
        assert_eq!(block.header.parent_hash, parent, "block {number} parent");
        assert_eq!(
            block.hash(),
            b256_field(want, "hash"),
            "block {number} hash"
        );
        let header = block.header.header().clone();
        let recovered = block
            .try_recover()
            .unwrap_or_else(|(i, e)| panic!("block {number} tx {i}: {e}"));
        txs += recovered.senders.len();

        let recent: HashMap<u64, B256> = hashes
            .iter()
            .filter(|(n, _)| **n + 256 >= header.number)
            .map(|(n, h)| (*n, *h))
            .collect();
        let view = ChainView {
            state: &state,
            hashes: &recent,
        };
        let mut output = executor
            .execute(&recovered, author(&header), &view)
            .unwrap_or_else(|e| panic!("{name} block {number}: {e}"));

        // Receipts as the reference node reported them.
        let want_txs = want["transactions"].as_array().expect("transactions");
        assert_eq!(
            output.receipts.len(),
            want_txs.len(),
            "block {number} tx count"
        );
        let mut prev_cumulative = 0;
        for (i, (got, tx)) in output.receipts.iter().zip(want_txs).enumerate() {
            let receipt = &tx["receipt"];
            let status = u64_field(receipt, "status") == 1;
            let cumulative = u64_field(receipt, "cumulativeGasUsed");
            assert_eq!(
                (
                    got.receipt.status.coerce_status(),
                    got.receipt.cumulative_gas_used
                ),
                (status, cumulative),
                "{name} block {number} tx {i} (status, cumulativeGasUsed); gasUsed here {}, \
                 reference {}",
                got.receipt.cumulative_gas_used - prev_cumulative,
                receipt["gasUsed"]
            );
            prev_cumulative = got.receipt.cumulative_gas_used;
        }
        verify_receipts(&header, &output).unwrap_or_else(|e| panic!("{name} block {number}: {e}"));
        assert_eq!(output.gas_used, u64_field(want, "gasUsed"));
        assert_eq!(header.receipts_root, b256_field(want, "receiptsRoot"));
        assert_eq!(
            header.logs_bloom,
            want["logsBloom"]
                .as_str()
                .unwrap()
                .parse::<alloy_primitives::Bloom>()
                .unwrap()
        );

        let root = apply_changes_and_compute_root(&mut state, &mut output.changes);
        verify_state_root(&header, root).unwrap_or_else(|e| panic!("{name} block {number}: {e}"));
        assert_eq!(root, b256_field(want, "stateRoot"));

        hashes.insert(number as u64, block_hash(&header));
        parent = block_hash(&header);
    }

    let errors = compare_head_state(&state, &expected);
    assert!(errors.is_empty(), "{name} head state differs: {errors:#?}");
    assert_eq!(
        recompute_state_root(&mut state.clone()),
        b256_field(&expected, "dumpRoot")
    );
    println!(
        "{name}: {} blocks, {txs} transactions executed and verified in {:.2?}",
        items.len() - 1,
        started.elapsed()
    );
    let _ = Path::new(name);
}

fn block_hash(header: &Header) -> B256 {
    header.hash_slow()
}

#[test]
fn spectrum_devnet_chain() {
    run_chain("spectrum-devnet");
}

#[test]
fn spectrum_devnet_multi_chain() {
    run_chain("spectrum-devnet-multi");
}
