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
    for block in ChainFileReader::open(testdata("spectrum-devnet-multi").join("chain.rlp")).unwrap()
    {
        if let InsertOutcome::Canonical { .. } =
            node.chain.insert_block(block.unwrap().seal_slow()).unwrap()
        {
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
