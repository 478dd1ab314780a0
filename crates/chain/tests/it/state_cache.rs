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
    let stats = node.chain.state_cache_stats();
    let (hits, misses) = (stats.hits, stats.misses);
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

    // 16 KB holds a few blocks' reads and writes: evicted every few blocks.
    let TestChain {
        chain, dir: _tiny, ..
    } = TestChain::devnet();
    let tiny = chain.with_state_cache_bytes(16_000);
    import(&tiny, &blocks);
    head_is(&tiny, blocks.last().unwrap());
    assert!(tiny.state_cache_stats().rotations > 100);

    let TestChain {
        chain, dir: _off, ..
    } = TestChain::devnet();
    let off = chain.with_state_cache_mb(0);
    import(&off, &blocks[..=50]);
    let stats = off.state_cache_stats();
    assert_eq!((stats.hits, stats.misses), (0, 0));
}

/// Misses of one block on a cache that never evicts and on a small one, and the evictions
/// of the small one during that block.
struct BlockMisses {
    roomy: u64,
    small: u64,
    evictions: u64,
}

/// Imports `blocks` (after genesis) into two chains, one block at a time, with the state
/// cache's figures per block; the small cache must stay within its budget after every block.
fn misses_per_block(
    roomy: &Blockchain,
    small: &Blockchain,
    blocks: &[SealedBlock],
) -> Vec<BlockMisses> {
    let mut per_block = Vec::new();
    for block in blocks {
        let before = (roomy.state_cache_stats(), small.state_cache_stats());
        import(roomy, std::slice::from_ref(block));
        import(small, std::slice::from_ref(block));
        let after = (roomy.state_cache_stats(), small.state_cache_stats());
        assert!(
            after.1.bytes <= after.1.budget,
            "block {}: {} bytes over a budget of {}",
            block.number(),
            after.1.bytes,
            after.1.budget
        );
        per_block.push(BlockMisses {
            roomy: after.0.misses - before.0.misses,
            small: after.1.misses - before.1.misses,
            evictions: after.1.rotations - before.1.rotations,
        });
    }
    per_block
}

/// Over a small budget the cache evicts the state read least recently, not everything: it
/// stays within its budget after every block, and the state the next blocks read again (the
/// chief contracts, the signers, the trie paths to them) is still served from memory after an
/// eviction. A block after an eviction then mostly misses exactly what it misses on a cache
/// that never evicts; on a cache emptied whole it misses everything it reads.
#[test]
fn a_small_budget_keeps_the_recent_state_and_stays_within_it() {
    let blocks = multi_chain();
    let roomy = TestChain::devnet();
    let TestChain {
        chain, dir: _small, ..
    } = TestChain::devnet();
    // About a hundred entries per generation: the whole chain's state is some 440.
    let small = chain.with_state_cache_bytes(32_000);
    let per_block = misses_per_block(&roomy.chain, &small, &blocks[1..]);
    head_is(&small, blocks.last().unwrap());

    let stats = small.state_cache_stats();
    assert!(stats.rotations >= 10, "{stats:?}");
    let after_eviction: Vec<&BlockMisses> = per_block
        .windows(2)
        .filter(|pair| pair[0].evictions > 0)
        .map(|pair| &pair[1])
        .collect();
    let as_if_roomy = after_eviction
        .iter()
        .filter(|block| block.small == block.roomy)
        .count();
    assert!(
        as_if_roomy * 2 >= after_eviction.len(),
        "{as_if_roomy} of {} blocks after an eviction missed no more than without it",
        after_eviction.len()
    );
    let (roomy_misses, small_misses) = per_block
        .iter()
        .fold((0, 0), |(r, s), block| (r + block.roomy, s + block.small));
    assert!(
        small_misses <= 3 * roomy_misses,
        "{small_misses} misses against {roomy_misses} without evictions"
    );
    assert!(stats.promotions > 0, "{stats:?}");

    // The metrics count the same (process-wide: other tests' chains add to them).
    let text = spectrum_metrics::get().encode();
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    assert!(value("spectrum_chain_state_cache_evictions_total ") >= stats.rotations);
    assert!(value("spectrum_chain_state_cache_reads_total{result=\"hit\"} ") >= stats.hits);
    assert!(value("spectrum_chain_state_cache_reads_total{result=\"miss\"} ") >= stats.misses);
}
