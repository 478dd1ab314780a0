//! Runs one BlockchainTests case: genesis, block import with fork choice, final checks.

use std::{collections::HashMap, sync::Arc};

use alloy_primitives::{B256, U256, keccak256};
use spectrum_execution::{
    BlockExecutor, EthereumFork,
    state_root::{apply_changes_and_compute_root, recompute_state_root},
    verify_receipts, verify_state_root,
};
use spectrum_primitives::{Block, Header, Limits, SealedHeader, transactions_root};
use spectrum_storage_api::MemoryState;

use super::{
    consensus::{Ancestor, verify_header, verify_uncles},
    json::{Case, build_state, compare_post_state},
};
use crate::common::{ChainView, hex_bytes};

/// A block the runner has imported.
struct Stored {
    header: Header,
    ommer_hashes: Vec<B256>,
    state: Arc<MemoryState>,
    total_difficulty: U256,
}

/// The blocks of one case, by hash, and the head.
struct Chain {
    fork: EthereumFork,
    executor: BlockExecutor,
    blocks: HashMap<B256, Stored>,
    head: B256,
}

impl Chain {
    fn ancestors(&self, mut hash: B256) -> impl Iterator<Item = (B256, Ancestor<'_>)> {
        std::iter::from_fn(move || {
            let stored = self.blocks.get(&hash)?;
            let current = hash;
            hash = stored.header.parent_hash;
            Some((
                current,
                Ancestor {
                    header: &stored.header,
                    ommer_hashes: stored.ommer_hashes.clone(),
                },
            ))
        })
    }

    /// The 256 most recent hashes before a block whose parent is `parent` (for BLOCKHASH).
    fn recent_hashes(&self, parent: B256) -> HashMap<u64, B256> {
        self.ancestors(parent)
            .take(256)
            .map(|(hash, a)| (a.header.number, hash))
            .collect()
    }

    /// Imports one block; `Err` says why it is rejected (the chain is then unchanged).
    fn import(&mut self, rlp: &str) -> Result<B256, String> {
        let bytes = hex_bytes(rlp)?;
        let block = Block::decode_bounded(&bytes, &Limits::DEFAULT).map_err(|e| e.to_string())?;
        let sealed = block.seal_slow();
        let hash = sealed.hash();
        if self.blocks.contains_key(&hash) {
            return Ok(hash);
        }
        let header = sealed.header.header().clone();
        let parent = self
            .blocks
            .get(&header.parent_hash)
            .ok_or("unknown parent")?;
        verify_header(self.fork, &header, &parent.header)?;
        verify_uncles(
            self.fork,
            hash,
            &header,
            &sealed.body.ommers,
            self.ancestors(header.parent_hash),
        )?;
        let ommer_hash = keccak256(alloy_rlp::encode(&sealed.body.ommers));
        if ommer_hash != header.ommers_hash {
            return Err("uncle hash mismatch".into());
        }
        if transactions_root(&sealed.body.transactions) != header.transactions_root {
            return Err("transactions root mismatch".into());
        }
        let ommer_hashes = sealed.body.ommers.iter().map(Header::hash_slow).collect();
        let recovered = sealed
            .try_recover()
            .map_err(|(i, e)| format!("transaction {i}: {e}"))?;

        let hashes = self.recent_hashes(header.parent_hash);
        let view = ChainView {
            state: &parent.state,
            hashes: &hashes,
        };
        let mut output = self
            .executor
            .execute(&recovered, header.beneficiary, &view)
            .map_err(|e| e.to_string())?;
        verify_receipts(&header, &output).map_err(|e| e.to_string())?;
        let mut state = MemoryState::clone(&parent.state);
        let root = apply_changes_and_compute_root(&mut state, &mut output.changes);
        verify_state_root(&header, root).map_err(|e| e.to_string())?;

        let total_difficulty = parent.total_difficulty + header.difficulty;
        let head_td = self
            .blocks
            .get(&self.head)
            .map(|h| h.total_difficulty)
            .unwrap_or_default();
        if total_difficulty > head_td {
            self.head = hash;
        }
        self.blocks.insert(
            hash,
            Stored {
                header,
                ommer_hashes,
                state: Arc::new(state),
                total_difficulty,
            },
        );
        Ok(hash)
    }
}

/// Runs `case`; `Err` describes the first failed check.
pub fn run_case(fork: EthereumFork, case: &Case) -> Result<(), String> {
    // 1. Genesis: the state of `pre` and the header of `genesisRLP`.
    let mut genesis_state = build_state(&case.pre)?;
    let root = recompute_state_root(&mut genesis_state);
    if let Some(want) = case.genesis_block_header.state_root
        && root != want
    {
        return Err(format!("genesis state root {root} != {want}"));
    }
    let genesis_rlp = case.genesis_rlp.as_deref().ok_or("no genesisRLP")?;
    let genesis = Block::decode_bounded(&hex_bytes(genesis_rlp)?, &Limits::DEFAULT)
        .map_err(|e| format!("genesis RLP: {e}"))?;
    let genesis = SealedHeader::seal(genesis.header);
    if genesis.hash() != case.genesis_block_header.hash {
        return Err(format!(
            "genesis hash {} != {}",
            genesis.hash(),
            case.genesis_block_header.hash
        ));
    }
    if genesis.state_root != root {
        return Err(format!(
            "genesis header root {} != computed {root}",
            genesis.state_root
        ));
    }
    let genesis_hash = genesis.hash();
    let mut chain = Chain {
        fork,
        executor: BlockExecutor::ethereum(fork),
        blocks: HashMap::new(),
        head: genesis_hash,
    };
    let genesis_header = genesis.into_header();
    chain.blocks.insert(
        genesis_hash,
        Stored {
            total_difficulty: genesis_header.difficulty,
            header: genesis_header,
            ommer_hashes: Vec::new(),
            state: Arc::new(genesis_state),
        },
    );

    // 2. Blocks.
    for (i, block) in case.blocks.iter().enumerate() {
        let result = chain.import(&block.rlp);
        match (block.expected_exception(), result) {
            (Some(reason), Ok(hash)) => {
                return Err(format!("block {i} ({hash}) accepted, expected {reason}"));
            }
            (Some(_), Err(_)) => {}
            (None, Err(e)) => return Err(format!("block {i} rejected: {e}")),
            (None, Ok(hash)) => {
                if let Some(want) = &block.block_header
                    && want.hash != hash
                {
                    return Err(format!("block {i} hash {hash} != {}", want.hash));
                }
            }
        }
    }

    // 3. Head and state.
    if chain.head != case.lastblockhash {
        return Err(format!(
            "head {} != lastblockhash {}",
            chain.head, case.lastblockhash
        ));
    }
    let head = chain.blocks.get(&chain.head).ok_or("head not stored")?;
    if let Some(post) = &case.post_state {
        compare_post_state(&head.state, post)?;
    }
    if let Some(want) = case.post_state_hash {
        let got = spectrum_execution::state_root::state_root(&head.state);
        if got != want {
            return Err(format!("post state root {got} != {want}"));
        }
    }
    Ok(())
}
