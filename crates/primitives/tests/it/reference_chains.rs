//! The reference node's own chains (devnet-A and devnet-multi, exported by `smc` and read back
//! over its RPC into expected.json) decode, hash, re-encode and root exactly as smc computed them.
//!
//! The chain files are read with a plain loop over `Block::decode` here, because primitives
//! cannot depend on the import crate that owns chain-file reading.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;

use alloy_consensus::Eip658Value;
use alloy_rlp::{Decodable, Encodable};
use serde_json::Value;
use spectrum_primitives::{
    Address, B64, B256, Block, Bloom, Bytes, Limits, Log, Receipt, ReceiptWithBloom, SealedHeader,
    TransactionSigned, TxKind, U256, logs_bloom, receipts_root, transactions_root,
};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata");

/// One reference chain: its blocks with their exact bytes, and smc's RPC record of them.
struct Reference {
    name: &'static str,
    blocks: Vec<(Block, Vec<u8>)>,
    expected: Value,
}

fn load(name: &'static str, block_count: usize) -> Reference {
    let dir = format!("{TESTDATA}/{name}");
    let read = |file: &str| {
        let path = format!("{dir}/{file}");
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "reference file {path} is missing or unreadable ({e}): these tests need the \
                 shared test data (/work/shared/testdata/{name}, see its README)"
            )
        })
    };
    let bytes = read("chain.rlp");
    let expected: Value = serde_json::from_slice(&read("expected.json")).unwrap();

    let mut blocks = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let before = rest;
        let block = Block::decode(&mut rest)
            .unwrap_or_else(|e| panic!("{name}: block {} does not decode: {e}", blocks.len()));
        let raw = before[..before.len() - rest.len()].to_vec();
        blocks.push((block, raw));
    }
    assert_eq!(
        blocks.len(),
        block_count,
        "{name}: number of blocks in chain.rlp"
    );
    assert_eq!(
        expected["blocks"].as_array().map(Vec::len),
        Some(block_count),
        "{name}: number of blocks in expected.json"
    );
    Reference {
        name,
        blocks,
        expected,
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("expected.json: `{key}` is not a string in {v:.200}"))
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("expected.json: `{key}` is not an integer in {v:.200}"))
}

fn parse<T: FromStr>(v: &Value, key: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    let s = str_of(v, key);
    s.parse()
        .unwrap_or_else(|e| panic!("expected.json: `{key}` = {s:?} does not parse: {e:?}"))
}

/// The receipt in its consensus form, rebuilt from the RPC fields that form covers.
fn receipt_from_json(r: &Value) -> ReceiptWithBloom {
    let status = match u64_of(r, "status") {
        0 => false,
        1 => true,
        other => panic!("receipt status {other}"),
    };
    let logs = r["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|log| {
            let topics = log["topics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| B256::from_str(t.as_str().unwrap()).unwrap())
                .collect();
            Log::new(parse(log, "address"), topics, parse(log, "data")).unwrap()
        })
        .collect();
    Receipt {
        status: Eip658Value::Eip658(status),
        cumulative_gas_used: u64_of(r, "cumulativeGasUsed"),
        logs,
    }
    .with_bloom()
}

fn check_chain(reference: &Reference) {
    let name = reference.name;
    let expected_blocks = reference.expected["blocks"].as_array().unwrap();
    let chain_id = u64_of(&reference.expected, "chainId");
    let mut parent_hash = B256::ZERO;
    let mut tx_count = 0usize;

    for (i, ((block, raw), exp)) in reference.blocks.iter().zip(expected_blocks).enumerate() {
        let at = format!("{name} block {i}");
        let header = &block.header;
        assert_eq!(
            header.number, i as u64,
            "{at}: blocks run from genesis without gaps"
        );
        assert_eq!(u64_of(exp, "number"), header.number, "{at}");

        // Bytes: the bounded decoder agrees with the loop, and re-encoding gives the file's bytes.
        let bounded = Block::decode_bounded(raw, &Limits::DEFAULT).unwrap();
        assert!(
            bounded == *block,
            "{at}: decode_bounded differs from decode"
        );
        let mut reencoded = Vec::with_capacity(raw.len());
        block.encode(&mut reencoded);
        assert!(reencoded == *raw, "{at}: re-encoding changes the bytes");
        assert_eq!(block.length(), raw.len(), "{at}: Encodable::length");
        assert_eq!(raw.len() as u64, u64_of(exp, "size"), "{at}: block size");

        // Header: hash (sealed both ways) and every field smc reports.
        let hash: B256 = parse(exp, "hash");
        let sealed = block.clone().seal_slow();
        assert_eq!(sealed.hash(), hash, "{at}: header hash");
        let mut header_bytes = Vec::new();
        header.encode(&mut header_bytes);
        let from_bytes = SealedHeader::decode_bounded(&header_bytes, &Limits::DEFAULT).unwrap();
        assert_eq!(
            from_bytes.hash(),
            hash,
            "{at}: SealedHeader::decode_bounded hash"
        );
        assert_eq!(header.parent_hash, parent_hash, "{at}: parent link");
        assert_eq!(header.parent_hash, parse::<B256>(exp, "parentHash"), "{at}");
        assert_eq!(header.ommers_hash, parse::<B256>(exp, "sha3Uncles"), "{at}");
        assert_eq!(header.beneficiary, parse::<Address>(exp, "miner"), "{at}");
        assert_eq!(header.state_root, parse::<B256>(exp, "stateRoot"), "{at}");
        assert_eq!(
            header.transactions_root,
            parse::<B256>(exp, "transactionsRoot"),
            "{at}"
        );
        assert_eq!(
            header.receipts_root,
            parse::<B256>(exp, "receiptsRoot"),
            "{at}"
        );
        assert_eq!(header.logs_bloom, parse::<Bloom>(exp, "logsBloom"), "{at}");
        assert_eq!(
            header.difficulty,
            U256::from(u64_of(exp, "difficulty")),
            "{at}"
        );
        assert_eq!(header.gas_limit, u64_of(exp, "gasLimit"), "{at}");
        assert_eq!(header.gas_used, u64_of(exp, "gasUsed"), "{at}");
        assert_eq!(header.timestamp, u64_of(exp, "timestamp"), "{at}");
        assert_eq!(header.extra_data, parse::<Bytes>(exp, "extraData"), "{at}");
        assert_eq!(header.mix_hash, parse::<B256>(exp, "mixHash"), "{at}");
        assert_eq!(header.nonce, parse::<B64>(exp, "nonce"), "{at}");
        assert!(
            block.body.ommers.is_empty(),
            "{at}: Tribe blocks have no uncles"
        );
        parent_hash = hash;

        // Transactions: root, count, and per transaction hash, sender and fields.
        let txs = &block.body.transactions;
        let exp_txs = exp["transactions"].as_array().unwrap();
        assert_eq!(
            transactions_root(txs),
            header.transactions_root,
            "{at}: transactionsRoot"
        );
        assert_eq!(txs.len() as u64, u64_of(exp, "txCount"), "{at}: txCount");
        assert_eq!(
            txs.len(),
            exp_txs.len(),
            "{at}: transactions in expected.json"
        );
        let mut receipts = Vec::with_capacity(txs.len());
        for (j, (tx, etx)) in txs.iter().zip(exp_txs).enumerate() {
            let at = format!("{at} tx {j}");
            assert_eq!(u64_of(etx, "index"), j as u64, "{at}");
            assert_eq!(tx.hash(), parse::<B256>(etx, "hash"), "{at}: hash");
            assert_eq!(
                tx.recover_sender(),
                Ok(parse::<Address>(etx, "from")),
                "{at}: sender"
            );
            let fields = tx.tx();
            assert_eq!(fields.nonce, u64_of(etx, "nonce"), "{at}");
            assert_eq!(fields.gas_limit, u64_of(etx, "gas"), "{at}");
            assert_eq!(fields.gas_price, parse::<u128>(etx, "gasPrice"), "{at}");
            assert_eq!(fields.value, parse::<U256>(etx, "value"), "{at}");
            assert_eq!(fields.input, parse::<Bytes>(etx, "input"), "{at}");
            let to = match etx["to"].as_str() {
                None => TxKind::Create,
                Some(to) => TxKind::Call(to.parse().unwrap()),
            };
            assert_eq!(fields.to, to, "{at}: to");
            assert_eq!(fields.chain_id, Some(chain_id), "{at}: EIP-155 chain id");
            let v = 35 + 2 * chain_id + u64::from(tx.signature().v());
            assert_eq!(
                v,
                u64::from_str_radix(&str_of(etx, "v")[2..], 16).unwrap(),
                "{at}: v"
            );
            assert_eq!(tx.signature().r(), parse::<U256>(etx, "r"), "{at}: r");
            assert_eq!(tx.signature().s(), parse::<U256>(etx, "s"), "{at}: s");

            // The transaction alone, as a wallet would send it, decodes to the same thing.
            let mut tx_bytes = Vec::new();
            tx.encode(&mut tx_bytes);
            let alone = TransactionSigned::decode_raw(&tx_bytes, &Limits::DEFAULT).unwrap();
            assert!(alone == *tx, "{at}: decode_raw of the re-encoded tx");

            let receipt = receipt_from_json(&etx["receipt"]);
            assert_eq!(
                receipt.logs_bloom,
                parse::<Bloom>(&etx["receipt"], "logsBloom"),
                "{at}: receipt bloom"
            );
            // The consensus encoding of a receipt round-trips too.
            let mut receipt_bytes = Vec::new();
            receipt.encode(&mut receipt_bytes);
            assert_eq!(
                ReceiptWithBloom::decode(&mut &receipt_bytes[..]).unwrap(),
                receipt,
                "{at}: receipt RLP"
            );
            receipts.push(receipt);
        }
        tx_count += txs.len();

        // Receipts: root and bloom the header commits to.
        assert_eq!(
            receipts_root(&receipts),
            header.receipts_root,
            "{at}: receiptsRoot"
        );
        assert_eq!(logs_bloom(&receipts), header.logs_bloom, "{at}: logsBloom");
    }

    assert_eq!(
        parent_hash,
        expected_blocks
            .last()
            .map(|b| parse::<B256>(b, "hash"))
            .unwrap(),
        "{name}: head hash"
    );
    assert_eq!(
        reference.blocks[0].0.clone().seal_slow().hash(),
        parse::<B256>(&reference.expected, "genesisHash"),
        "{name}: genesis hash"
    );
    assert!(tx_count > 0, "{name}: the chain has transactions to check");
}

#[test]
fn devnet_a_matches_the_reference_node() {
    // README: 221 blocks (0..220), 336 transactions.
    let reference = load("spectrum-devnet", 221);
    check_chain(&reference);
    let txs: usize = reference
        .blocks
        .iter()
        .map(|(b, _)| b.body.transactions.len())
        .sum();
    assert_eq!(txs, 336);
}

#[test]
fn devnet_multi_matches_the_reference_node() {
    // README: 413 blocks (0..412), 637 transactions, five signers.
    let reference = load("spectrum-devnet-multi", 413);
    check_chain(&reference);
    let txs: usize = reference
        .blocks
        .iter()
        .map(|(b, _)| b.body.transactions.len())
        .sum();
    assert_eq!(txs, 637);
}
