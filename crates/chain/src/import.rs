//! Executing a block on the head and committing it; switching branches.

use alloy_primitives::{Address, B256, U256};
use spectrum_consensus::{TribeError, block_signer};
use spectrum_execution::{BlockExecutor, ExecutionRules, verify_receipts};
use spectrum_primitives::{GotExpected, RecoveredBlock, SealedBlock, SealedHeader};
use spectrum_storage_api::BlockCommit;

use crate::{
    Blockchain, ChainError, ExecutedBlock,
    phases::{Phase, PhaseClock},
    state_root::apply_state_roots_on,
};

impl Blockchain {
    /// Executes `block` on the head state (its parent), checks gas, bloom, receipts and state
    /// roots against the header, and commits it as the new head in one batch. Returns its gas.
    /// `parent` is the head's header when the caller has already read it (read here if not).
    /// `clock` times the phases (started by the caller, whose checks are charged to
    /// [`Phase::Checks`]).
    pub(crate) fn execute_and_commit(
        &self,
        block: SealedBlock,
        parent: Option<SealedHeader>,
        td: U256,
        clock: &mut PhaseClock<'_>,
        carried: Option<ExecutedBlock>,
    ) -> Result<u64, ChainError> {
        let number = block.number();
        let hash = block.hash();
        clock.lap(Phase::Checks);
        let prepared = match &carried {
            // Our producer's: the pool's senders, recovered when the transactions arrived.
            Some(carried) => Some(carried.senders.clone()),
            None => self.prepared.take(&hash),
        };
        let block = match prepared {
            // Recovered ahead: preparation keeps senders only for a body whose transactions
            // root is its header's, which the checks above verified for this body.
            Some(senders) if senders.len() == block.body.transactions.len() => {
                RecoveredBlock { block, senders }
            }
            _ => crate::senders::recover_block(block, self.recovery_threads).map_err(
                |(index, source)| ChainError::Sender {
                    number,
                    index,
                    source,
                },
            )?,
        };
        clock.lap(Phase::Recover);
        let execution = |source| ChainError::Execution {
            number,
            hash,
            source,
        };
        let invalid = |source| ChainError::Invalid {
            number,
            hash,
            source: Box::new(source),
        };
        let parent = match parent {
            Some(parent) => parent,
            None => self
                .db
                .header(&block.header().parent_hash)?
                .ok_or(ChainError::MissingBlock(block.header().parent_hash))?,
        };
        let author = self
            .validator
            .validate_block(&block.block, &parent, &block.senders)
            .map_err(invalid)?;
        let fee_recipient = self.fee_recipient(&block, author)?;
        clock.lap(Phase::Validate);
        let executor = BlockExecutor::new(self.rules.clone());
        // One snapshot of the head (the parent) for execution and the state root, read
        // through the state kept from earlier blocks.
        let snapshot = self.db.latest()?;
        let head = crate::state_cache::CachedSnapshot::new(&*snapshot, &self.state_cache);
        // What execution and the state root read of the parent state becomes the commit's
        // priors, so storage need not read the values the block overwrites (read_log.rs).
        let head = crate::read_log::ReadLog::new(&head);
        let (output, carried) = match carried {
            Some(carried) => {
                carried.check_result(&block, fee_recipient)?;
                // Checked to be this block's outcome on this parent: its priors are this
                // parent's values, read by the build.
                (carried.output, Some((carried.roots, carried.priors)))
            }
            None => (
                executor
                    .execute(&block, fee_recipient, &head)
                    .map_err(execution)?,
                None,
            ),
        };
        clock.lap(Phase::Execute);
        verify_receipts(block.header().header(), &output).map_err(execution)?;
        clock.lap(Phase::Receipts);
        self.validator
            .validate_after_execution(&block.block, &parent, &output.receipts)
            .map_err(invalid)?;
        clock.lap(Phase::Validate);
        let mut changes = output.changes;
        let (roots, priors) = match carried {
            // Our producer's outcome already holds the block's dev patches (build.rs).
            Some(carried) => carried,
            None => {
                // --dev only: the state patches the block carries (dev_patch.rs; off elsewhere).
                self.apply_block_dev_patches(&block, &head, &mut changes)?;
                let roots = apply_state_roots_on(&head, &mut changes)?;
                (roots, head.into_priors(&changes))
            }
        };
        clock.lap(Phase::StateRoot);
        // The snapshot (and the cached view over it) ends before the commit.
        drop(snapshot);
        if roots.state_root != block.header().state_root {
            return Err(ChainError::StateRoot {
                number,
                mismatch: GotExpected::new(roots.state_root, block.header().state_root),
            });
        }
        let writes = (
            changes.accounts.len().saturating_add(changes.storage.len()),
            roots.trie.len(),
        );
        let parent_hash = parent.hash();
        let commit = BlockCommit {
            block: block.block,
            receipts: output.receipts,
            total_difficulty: td,
            state: changes,
            trie: roots.trie,
            priors,
            make_canonical_head: true,
        };
        self.db.commit_block(&commit)?;
        self.state_cache
            .committed(parent_hash, hash, &commit.state, &commit.trie);
        clock.lap(Phase::Commit);
        self.phases.committed(writes.0, writes.1);
        Ok(output.gas_used)
    }

    /// Who receives the block's fees: under Tribe the author (coinbase, or the seal signer when
    /// the coinbase is zero; chain.md §6); under Ethereum rules the beneficiary. `author` is the
    /// signer the validator already recovered, if it did; only otherwise is the seal recovered
    /// here.
    fn fee_recipient(
        &self,
        block: &RecoveredBlock,
        author: Option<Address>,
    ) -> Result<Address, ChainError> {
        let header = block.header().header();
        match &self.rules {
            ExecutionRules::Spectrum(_) if header.beneficiary == Address::ZERO => author
                .map_or_else(|| block_signer(header), Ok)
                .map_err(|e| ChainError::Invalid {
                    number: header.number,
                    hash: block.hash(),
                    source: Box::new(TribeError::Seal(e)),
                }),
            _ => Ok(header.beneficiary),
        }
    }

    /// Unwinds the canonical chain to block `number` (restoring state and trie) in one batch.
    pub fn unwind_to(&self, number: u64) -> Result<(), ChainError> {
        let mut changes = self.db.unwind_changes(number)?;
        let roots = crate::apply_state_roots(&*self.db, &mut changes)?;
        let expected = self
            .db
            .header_by_number(number)?
            .ok_or(ChainError::MissingCanonical(number))?
            .state_root;
        if roots.state_root != expected {
            // The stored trie and history disagree: refuse rather than write a broken state.
            return Err(ChainError::UnwindStateRoot {
                number,
                mismatch: GotExpected::new(roots.state_root, expected),
            });
        }
        self.db.unwind_to_with_trie(number, &roots.trie)?;
        Ok(())
    }

    /// Makes the branch ending in stored block `tip` canonical: unwinds to the fork point and
    /// executes the branch. If a branch block fails, it and the rest of the branch are
    /// remembered as bad (when the failure is the block's fault), the old chain is restored and
    /// the error returned (for the tip itself, or [`ChainError::BranchFailed`] for an earlier
    /// block). Holds only the hashes of both chains in memory, never their blocks. Returns the
    /// fork point's number.
    pub(crate) fn reorg_to(&self, tip: B256) -> Result<u64, ChainError> {
        let (head, _) = self.db.head()?.ok_or(ChainError::NoHead)?;
        let (fork_point, branch) = self.branch_from_canonical(tip, head)?;
        let old_chain = self.canonical_hashes(fork_point, head)?;
        tracing::info!(
            fork_point,
            old_head = head,
            new_blocks = branch.len(),
            "reorganising"
        );
        self.unwind_to(fork_point)?;
        for (index, hash) in branch.iter().enumerate() {
            let Err(error) = self.execute_stored(*hash) else {
                continue;
            };
            tracing::warn!(%error, "branch block failed; restoring the previous chain");
            if error.is_invalid_block() {
                self.remember_failed_branch(branch.get(index..).unwrap_or_default());
            }
            self.unwind_to(fork_point)?;
            for old in &old_chain {
                self.execute_stored(*old)?;
            }
            if *hash == tip {
                return Err(error);
            }
            let (number, _) = self.stored_number(tip)?;
            let (failed_number, _) = self.stored_number(*hash)?;
            return Err(ChainError::BranchFailed {
                number,
                hash: tip,
                failed_number,
                failed_hash: *hash,
                source: Box::new(error),
            });
        }
        Ok(fork_point)
    }

    /// Executes and commits the stored block `hash` on the head, with its stored total
    /// difficulty.
    fn execute_stored(&self, hash: B256) -> Result<u64, ChainError> {
        let block = self
            .db
            .block(&hash)?
            .ok_or(ChainError::MissingBlock(hash))?;
        let td = self
            .db
            .total_difficulty(&hash)?
            .ok_or(ChainError::MissingTotalDifficulty(hash))?;
        self.execute_and_commit(block, None, td, &mut self.phases.start(), None)
    }

    fn stored_number(&self, hash: B256) -> Result<(u64, B256), ChainError> {
        let number = self
            .db
            .block_number(&hash)?
            .ok_or(ChainError::MissingBlock(hash))?;
        Ok((number, hash))
    }

    /// The stored branch ending at `tip`, from just after its last canonical ancestor, oldest
    /// first, and that ancestor's number; refused if that ancestor is more than the allowed
    /// reorg depth below `head`.
    fn branch_from_canonical(&self, tip: B256, head: u64) -> Result<(u64, Vec<B256>), ChainError> {
        let mut branch = Vec::new();
        let mut hash = tip;
        loop {
            let header = self
                .db
                .header(&hash)?
                .ok_or(ChainError::MissingBlock(hash))?;
            if head.saturating_sub(header.number) > self.max_reorg_depth {
                let (number, _) = self.stored_number(tip)?;
                return Err(ChainError::ReorgTooDeep {
                    number,
                    hash: tip,
                    fork_point: header.number,
                    head,
                    max_depth: self.max_reorg_depth,
                });
            }
            if self.db.canonical_hash(header.number)? == Some(hash) {
                branch.reverse();
                return Ok((header.number, branch));
            }
            branch.push(hash);
            hash = header.parent_hash;
        }
    }

    /// Hashes of the canonical blocks `from + 1 ..= to`, oldest first.
    fn canonical_hashes(&self, from: u64, to: u64) -> Result<Vec<B256>, ChainError> {
        let mut hashes = Vec::new();
        let mut number = from;
        while number < to {
            number = number.saturating_add(1);
            hashes.push(
                self.db
                    .canonical_hash(number)?
                    .ok_or(ChainError::MissingCanonical(number))?,
            );
        }
        Ok(hashes)
    }
}
