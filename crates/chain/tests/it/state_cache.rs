//! The state kept in memory between blocks (issue 16, item 3): reads are served from it, and it
//! never serves another state's values (after an unwind, a reorganisation, or when too small).

use spectrum_chain::{Blockchain, InsertOutcome, test_utils::TestChain};
use spectrum_import::ChainFileReader;
use spectrum_primitives::SealedBlock;

use crate::reference_chains::testdata;

fn multi_chain() -> Vec<SealedBlock> {
    ChainFileReader::open(testdata("spectrum-devnet-multi").join("chain.rlp"))
        .unwrap()
        .map(|block| block.unwrap().seal_slow())
        .collect()
}

fn import(chain: &Blockchain, blocks: &[SealedBlock]) {
    for block in blocks {
        let outcome = chain.insert_block(block.clone()).unwrap();
        assert!(
            matches!(
                outcome,
                InsertOutcome::Canonical { .. } | InsertOutcome::AlreadyKnown
            ),
            "block {}: {outcome:?}",
            block.number()
        );
    }
}

fn head_is(chain: &Blockchain, block: &SealedBlock) {
    let head = chain.provider().head().unwrap().unwrap();
    assert_eq!(head, (block.number(), block.hash()));
}

/// Consecutive blocks read most of their state from the cache, and the chain is the same
/// (every block's state root checked against its header).
#[test]
fn consecutive_blocks_read_state_from_memory() {
    let blocks = multi_chain();
    let node = TestChain::devnet();
    import(&node.chain, &blocks);
    head_is(&node.chain, blocks.last().unwrap());
    let (hits, misses) = node.chain.state_cache_counts();
    assert!(
        hits > misses,
        "hits {hits} should outnumber misses {misses}"
    );
}

/// Unwound and re-executed blocks, and a cache too small to hold one block's reads, give the
/// same chain: no entry of a later state is read on an earlier one.
#[test]
fn an_unwind_or_a_small_budget_never_serves_stale_state() {
    let blocks = multi_chain();
    let node = TestChain::devnet();
    import(&node.chain, &blocks[..=300]);
    node.chain.unwind_to(250).unwrap();
    // Blocks 251..=300 are stored: they are executed again as they extend the head.
    import(&node.chain, &blocks[251..]);
    head_is(&node.chain, blocks.last().unwrap());

    // 1 MiB holds a few dozen of these blocks' reads and writes: emptied several times.
    let TestChain {
        chain, dir: _tiny, ..
    } = TestChain::devnet();
    let tiny = chain.with_state_cache_mb(1);
    import(&tiny, &blocks);
    head_is(&tiny, blocks.last().unwrap());

    let TestChain {
        chain, dir: _off, ..
    } = TestChain::devnet();
    let off = chain.with_state_cache_mb(0);
    import(&off, &blocks[..=50]);
    assert_eq!(off.state_cache_counts(), (0, 0));
}
