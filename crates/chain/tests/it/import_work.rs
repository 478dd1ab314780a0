//! How much work import does per block: the costly steps run once, not once per rule that
//! needs their result.

use spectrum_chain::{InsertOutcome, test_utils::TestChain};
use spectrum_consensus::seal_recoveries_on_this_thread;
use spectrum_import::ChainFileReader;

use crate::reference_chains::testdata;

/// Each block's seal is recovered once, on the import thread: the header rules recover it and
/// hand the signer to the VRF check, the chief-update sender rule and the fee recipient (a
/// zero coinbase pays the signer). Blocks 1–3 have no seal rules; their seal is recovered only
/// when their coinbase is zero (for the fee recipient).
#[test]
fn the_seal_is_recovered_once_per_block() {
    let node = TestChain::devnet();
    let blocks: Vec<_> = ChainFileReader::open(testdata("spectrum-devnet-multi").join("chain.rlp"))
        .unwrap()
        .map(|block| block.unwrap().seal_slow())
        .collect();
    let mut expected = 0u64;
    let before = seal_recoveries_on_this_thread();
    for block in blocks {
        let number = block.number();
        let paid_to_signer = block.header.beneficiary.is_zero();
        match node.chain.insert_block(block).unwrap() {
            InsertOutcome::AlreadyKnown => continue,
            InsertOutcome::Canonical { .. } => {}
            other => panic!("block {number}: {other:?}"),
        }
        if number > 3 || paid_to_signer {
            expected += 1;
        }
    }
    assert!(
        expected > 400,
        "the multi chain has 409 blocks after the genesis"
    );
    assert_eq!(seal_recoveries_on_this_thread() - before, expected);
}

/// The chain times its own import, phase by phase, for every block executed on the head:
/// what `spectrum-bench import` prints and the metrics' import histogram read.
#[test]
fn import_phases_are_timed_by_the_chain_itself() {
    let node = TestChain::devnet();
    let before = node.chain.import_phases();
    let mut imported = 0u64;
    let blocks = multi_chain();
    node.chain.prepare_blocks(&blocks[..100]);
    for block in blocks {
        if let InsertOutcome::Canonical { .. } = node.chain.insert_block(block).unwrap() {
            imported += 1;
        }
    }
    let phases = node.chain.import_phases().since(&before);
    assert_eq!(phases.blocks, imported);
    assert!(
        phases.state_writes >= imported,
        "every block pays its signer at least"
    );
    assert!(phases.trie_writes >= imported);
    for phase in spectrum_chain::Phase::ALL {
        assert!(
            phases.of(phase) > std::time::Duration::ZERO,
            "{phase:?} was never timed"
        );
    }
    assert_eq!(phases.total(), phases.time.iter().sum());
}

/// `block` with one bit of its VRF proof flipped: the proof is covered by the seal hash, so
/// the seal recovers another signer.
fn signed_by_another(block: &spectrum_primitives::SealedBlock) -> spectrum_primitives::SealedBlock {
    let mut tampered = block.clone().unseal();
    let mut extra = tampered.header.extra_data.to_vec();
    extra[40] ^= 1;
    tampered.header.extra_data = extra.into();
    tampered.seal_slow()
}

/// The chain's head is the last of `blocks`.
fn assert_head_is_last(node: &TestChain, blocks: &[spectrum_primitives::SealedBlock]) {
    let head = node.chain.provider().head().unwrap().unwrap();
    let last = blocks.last().unwrap();
    assert_eq!(head, (last.number(), last.hash()));
}

fn multi_chain() -> Vec<spectrum_primitives::SealedBlock> {
    ChainFileReader::open(testdata("spectrum-devnet-multi").join("chain.rlp"))
        .unwrap()
        .map(|block| block.unwrap().seal_slow())
        .collect()
}

/// Blocks prepared in batches (senders, seals and VRF proofs over every core) import to the
/// same chain, and the import thread recovers no seal of a prepared block after block 3.
#[test]
fn prepared_batches_import_the_same_chain_without_recovering_seals_again() {
    let blocks = multi_chain();
    let node = TestChain::devnet();
    let before = seal_recoveries_on_this_thread();
    let mut expected = 0u64;
    for batch in blocks.chunks(64) {
        node.chain.prepare_blocks(batch);
        for block in batch {
            if (1..=3).contains(&block.number()) && block.header.beneficiary.is_zero() {
                expected += 1;
            }
            node.chain.insert_block(block.clone()).unwrap();
        }
    }
    assert_eq!(seal_recoveries_on_this_thread() - before, expected);
    assert_head_is_last(&node, &blocks);
}

/// A block whose seal no longer recovers its signer, in a prepared batch, is refused by the
/// same rule, with the same error, as without preparation.
#[test]
fn a_tampered_block_in_a_prepared_batch_is_refused_by_the_same_rule() {
    let blocks = multi_chain();
    let tampered = signed_by_another(&blocks[200]);
    let mut batch: Vec<_> = blocks[..200].to_vec();
    batch.push(tampered);

    let refusal = |prepare: bool| {
        let node = TestChain::devnet();
        if prepare {
            node.chain.prepare_blocks(&batch);
        }
        let (last, earlier) = batch.split_last().unwrap();
        for block in earlier {
            node.chain.insert_block(block.clone()).unwrap();
        }
        node.chain
            .insert_block(last.clone())
            .unwrap_err()
            .to_string()
    };
    let unprepared = refusal(false);
    assert!(
        unprepared.contains("signer") || unprepared.contains("Signer"),
        "{unprepared}"
    );
    assert_eq!(refusal(true), unprepared);
}

/// Many small batches, each prepared on another thread while the one before it is inserted:
/// the same chain, and no seal recovered again on the inserting thread, not even for the first
/// block of a batch, whose parent was not yet stored when it was prepared.
#[test]
fn a_prepared_stream_imports_the_same_chain_without_recovering_seals_again() {
    let blocks = multi_chain();
    let node = TestChain::devnet();
    let expected = blocks
        .iter()
        .filter(|b| (1..=3).contains(&b.number()) && b.header.beneficiary.is_zero())
        .count() as u64;
    let limits = spectrum_chain::BatchLimits {
        blocks: 7,
        bytes: usize::MAX,
    };
    let before = seal_recoveries_on_this_thread();
    let mut inserted = 0u64;
    node.chain
        .insert_prepared_stream(blocks.iter().cloned().map(Ok), limits, |block| {
            inserted += 1;
            node.chain.insert_block(block).map(drop)
        })
        .unwrap();
    assert_eq!(
        inserted,
        blocks.len() as u64,
        "the genesis too, as already known"
    );
    assert_eq!(seal_recoveries_on_this_thread() - before, expected);
    assert_head_is_last(&node, &blocks);
}

/// A stream that fails part-way: the blocks read before the failure are imported, then its
/// error is returned; nothing after it is read into the chain.
#[test]
fn a_stream_read_error_comes_after_the_blocks_before_it() {
    let blocks = multi_chain();
    let node = TestChain::devnet();
    let stream = blocks.iter().cloned().enumerate().map(|(i, block)| {
        if i == 101 {
            Err("the file ends in the middle of block 101".to_owned())
        } else {
            Ok(block)
        }
    });
    let error = node
        .chain
        .insert_prepared_stream(stream, spectrum_chain::BatchLimits::default(), |block| {
            node.chain
                .insert_block(block)
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .unwrap_err();
    assert_eq!(error, "the file ends in the middle of block 101");
    let head = node.chain.provider().head().unwrap().unwrap();
    assert_eq!(head, (100, blocks[100].hash()));
}

/// A block refused while the next batch is being prepared: the refusal is the one an unprepared
/// import gives, the head stays on its parent, and the stream returns (the preparing thread
/// stops at its next hand-over instead of reading the rest).
#[test]
fn a_refused_block_stops_a_prepared_stream_with_the_same_error() {
    let mut blocks = multi_chain();
    blocks[200] = signed_by_another(&blocks[200]);

    let unprepared = {
        let node = TestChain::devnet();
        for block in &blocks[..200] {
            node.chain.insert_block(block.clone()).unwrap();
        }
        node.chain
            .insert_block(blocks[200].clone())
            .unwrap_err()
            .to_string()
    };
    let node = TestChain::devnet();
    let read = std::sync::atomic::AtomicUsize::new(0);
    let stream = blocks.iter().cloned().map(|block| {
        read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(block)
    });
    let limits = spectrum_chain::BatchLimits {
        blocks: 16,
        bytes: usize::MAX,
    };
    let error = node
        .chain
        .insert_prepared_stream(stream, limits, |block| {
            node.chain
                .insert_block(block)
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .unwrap_err();
    assert_eq!(error, unprepared);
    let head = node.chain.provider().head().unwrap().unwrap();
    assert_eq!(head, (199, blocks[199].hash()));
    let read = read.into_inner();
    assert!(
        read < blocks.len(),
        "the preparing thread went on to read all {read} blocks after the refusal"
    );
}

/// A batch holding a block with a forged body (another block's transaction in place of its
/// own: same count, the genuine header) leaves no senders behind for the genuine block, which
/// then imports as if nothing had been prepared.
#[test]
fn a_forged_body_in_a_prepared_batch_leaves_no_senders_for_the_genuine_block() {
    let blocks = multi_chain();
    let first_sender = |b: &spectrum_primitives::SealedBlock| {
        b.body
            .transactions
            .first()
            .map(|tx| tx.recover_sender().unwrap())
    };
    // A block whose successor has as many transactions, the first from another sender.
    let at = (100..blocks.len() - 1)
        .find(|&i| {
            let (a, b) = (&blocks[i], &blocks[i + 1]);
            a.body.transactions.len() == b.body.transactions.len()
                && first_sender(a).is_some()
                && first_sender(a) != first_sender(b)
        })
        .expect("such a pair in the multi-signer chain");
    let genuine = &blocks[at];
    let mut forged = genuine.clone();
    forged.body.transactions = blocks[at + 1].body.transactions.clone();

    let node = TestChain::devnet();
    for block in &blocks[..at] {
        node.chain.insert_block(block.clone()).unwrap();
    }
    node.chain.prepare_blocks(std::slice::from_ref(&forged));
    let outcome = node.chain.insert_block(genuine.clone()).unwrap();
    assert!(
        matches!(outcome, InsertOutcome::Canonical { number, .. } if number == genuine.number()),
        "{outcome:?}"
    );
}
