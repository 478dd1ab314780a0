//! Assembling, executing and sealing one block (tribe.md §15).

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use secp256k1::SecretKey;
use spectrum_chain::{ExecutedBlock, apply_state_roots_on};
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::{
    CHIEF_UPDATE_SELECTOR, EXTRA_SEAL, EXTRA_VANITY, is_chief_100, is_chief_update, sign_header,
    vrf_message, vrf_prove,
};
use spectrum_execution::{BlockBuilder, ExecutionError};
use spectrum_primitives::{
    Block, BlockBody, EMPTY_OMMER_ROOT_HASH, Header, SealedBlock, SealedHeader, TransactionSigned,
    logs_bloom, receipts_root, sign_transaction, transactions_root,
};
use spectrum_storage_api::StateProvider;

use crate::{BlockProducer, ProducerError, SlotPlan};

/// Gas of the chief-update transaction as the reference sends it (tribe.md §8). It buys no
/// gas under SIP001, so the value only matters to what the transaction looks like.
pub const CHIEF_UPDATE_GAS: u64 = 4_712_388;
/// Gas price of the chief-update transaction as the reference sends it: 18 gwei.
pub const CHIEF_UPDATE_GAS_PRICE: u128 = 18_000_000_000;

/// A transaction offered for the block, with its already recovered sender.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The transaction.
    pub tx: TransactionSigned,
    /// Its sender.
    pub sender: Address,
}

impl Candidate {
    /// Recovers the sender of `tx`; `None` if the signature is invalid.
    pub fn recover(tx: TransactionSigned) -> Option<Self> {
        let sender = tx.recover_sender().ok()?;
        Some(Self { tx, sender })
    }
}

/// What to build.
#[derive(Debug)]
pub struct BuildRequest<'a> {
    /// The parent: must be the canonical head.
    pub parent: B256,
    /// The signer's key (the node key).
    pub key: &'a SecretKey,
    /// Who receives fees and reward; `None` = the wallet the signer's node key is bound to in
    /// Anmap at the parent's state, else the signer (as the reference picks it; see
    /// [`BlockProducer::coinbase`]).
    pub coinbase: Option<Address>,
    /// The block's time; `None` = the earliest the signer's role allows. Never earlier.
    pub timestamp: Option<u64>,
    /// Transactions to include, in the order to try them (the pool's best first). Those
    /// that do not fit or are invalid on the state are left out, see [`BuiltBlock`].
    pub transactions: Vec<Candidate>,
}

/// Why a candidate transaction is not in the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Invalid on this state (nonce, funds, chain id, a chief update from outside): it
    /// should be dropped from the pool.
    Invalid {
        /// Its hash.
        hash: B256,
        /// Why.
        reason: String,
    },
    /// Valid perhaps, but not now: no gas left for it, or an earlier transaction of its
    /// sender was left out (its nonce would not follow). It stays in the pool.
    Deferred {
        /// Its hash.
        hash: B256,
    },
}

/// A sealed block, ready for import.
#[derive(Debug, Clone)]
pub struct BuiltBlock {
    /// The block.
    pub block: SealedBlock,
    /// Its execution outcome, for `Blockchain::insert_built_block` to commit without
    /// executing the block again.
    pub executed: ExecutedBlock,
    /// The slot it was built for.
    pub plan: SlotPlan,
    /// Candidates left out.
    pub skipped: Vec<Skipped>,
}

impl BlockProducer {
    /// Builds, executes and seals the block after `request.parent` signed by `request.key`.
    /// The block is not inserted: hand it with its outcome to `Blockchain::insert_built_block`,
    /// which checks it like any other block but does not execute it again.
    pub fn build(&self, request: BuildRequest<'_>) -> Result<BuiltBlock, ProducerError> {
        let parent = self.head_parent(request.parent)?;
        let signer = spectrum_primitives::public_key_to_address(
            &request.key.public_key(secp256k1::SECP256K1),
        );
        let plan = self.plan(&parent, signer)?;
        let timestamp = request.timestamp.unwrap_or(plan.earliest);
        if timestamp < plan.earliest {
            return Err(ProducerError::TooEarly {
                earliest: plan.earliest,
                got: timestamp,
            });
        }
        let coinbase = request
            .coinbase
            .unwrap_or_else(|| self.coinbase(&parent, signer));
        let (extra_data, vrfn) = self.extra_data(&parent, plan.number, request.key)?;
        let mut header = Header {
            parent_hash: parent.hash(),
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: coinbase,
            difficulty: U256::from(plan.difficulty),
            number: plan.number,
            gas_limit: next_gas_limit(&self.spec, parent.header()),
            timestamp,
            extra_data,
            ..Header::default()
        };

        // One snapshot of the head for execution and the state root; what they read of it
        // becomes the commit's priors (`spectrum_chain::ReadLog`).
        let snapshot = self.db.latest()?;
        let state = spectrum_chain::ReadLog::new(&*snapshot);
        let mut builder = self.executor.builder(&header, coinbase, &state)?;
        let mut transactions = Vec::with_capacity(request.transactions.len().saturating_add(1));
        let mut senders = Vec::with_capacity(transactions.capacity());
        if let Some(chief_tx) = self.chief_update_tx(&parent, &plan, vrfn, request.key, &state)? {
            let receipt = builder
                .push(&chief_tx, signer)
                .map_err(|e| ProducerError::ChiefUpdate(e.to_string()))?;
            // tribe.md §8: from SIP100 an update that reverts makes the block invalid.
            if self.spec.is_sip100(plan.number) && !receipt.receipt.status.coerce_status() {
                return Err(ProducerError::ChiefUpdate(
                    "update() reverted: the chief contract refused this signer".into(),
                ));
            }
            transactions.push(chief_tx);
            senders.push(signer);
        }
        let skipped = self.fill(
            plan.number,
            &mut builder,
            (&mut transactions, &mut senders),
            request.transactions,
        )?;

        let mut output = builder.finish()?;
        // --dev only: the state patches this block carries (`spectrum_chain::dev_patch`).
        let patch_txs = transactions
            .iter()
            .filter(|tx| tx.tx().to.to() == Some(&spectrum_chain::DEV_PATCH_ADDRESS))
            .filter_map(|tx| Some((tx, tx.recover_sender().ok()?)));
        let patches = spectrum_chain::block_dev_patches(
            self.spec.tribe.dev_state_patches,
            signer,
            patch_txs,
        )?;
        spectrum_chain::apply_dev_patches(&patches, &state, &mut output.changes)?;
        let roots = apply_state_roots_on(&state, &mut output.changes)?;
        let priors = state.into_priors(&output.changes);
        header.state_root = roots.state_root;
        header.transactions_root = transactions_root(&transactions);
        header.receipts_root = receipts_root(&output.receipts);
        header.logs_bloom = logs_bloom(&output.receipts);
        header.gas_used = output.gas_used;
        let header = sign_header(header, request.key)?;
        let block = Block {
            header,
            body: BlockBody {
                transactions,
                ommers: Vec::new(),
            },
        }
        .seal_slow();
        let executed = ExecutedBlock {
            block_hash: block.hash(),
            parent_hash: parent.hash(),
            fee_recipient: coinbase,
            senders,
            output,
            roots,
            priors,
        };
        Ok(BuiltBlock {
            block,
            executed,
            plan,
            skipped,
        })
    }

    /// The parent header, which must be the canonical head.
    fn head_parent(&self, parent: B256) -> Result<SealedHeader, ProducerError> {
        let header = self
            .db
            .header(&parent)?
            .ok_or(ProducerError::UnknownParent(parent))?;
        let (_, head) = self
            .db
            .head()?
            .ok_or(ProducerError::UnknownParent(parent))?;
        if head != parent {
            return Err(ProducerError::ParentNotHead { parent, head });
        }
        Ok(header)
    }

    /// extraData (tribe.md §3): from SIP100 the VRF output and proof over the parent, else a
    /// zero vanity; then room for the seal. Returns it with the VRF output (zero before SIP100).
    fn extra_data(
        &self,
        parent: &SealedHeader,
        number: u64,
        key: &SecretKey,
    ) -> Result<(Bytes, B256), ProducerError> {
        if !self.spec.is_sip100(number) {
            return Ok((vec![0u8; EXTRA_VANITY + EXTRA_SEAL].into(), B256::ZERO));
        }
        let parent_vanity = parent.extra_data.get(..EXTRA_VANITY).unwrap_or_default();
        let message = vrf_message(parent.number, parent_vanity)?;
        let (output, proof) = vrf_prove(key, &message)?;
        let mut extra = Vec::with_capacity(output.len() + proof.len() + EXTRA_SEAL);
        extra.extend_from_slice(&output);
        extra.extend_from_slice(&proof);
        extra.resize(extra.len() + EXTRA_SEAL, 0);
        Ok((extra.into(), B256::from(output)))
    }

    /// Our chief-update transaction (tribe.md §8), if the block has a chief: `update(volunteer)`
    /// from the signer with its state nonce, EIP-155 signed. From SIP100 the volunteer is
    /// `takeMiner` over the parent's lists with this block's VRF output (§8.1).
    fn chief_update_tx(
        &self,
        parent: &SealedHeader,
        plan: &SlotPlan,
        vrfn: B256,
        key: &SecretKey,
        state: &dyn StateProvider,
    ) -> Result<Option<TransactionSigned>, ProducerError> {
        let Some(chief) = self.spec.chief_at(plan.number) else {
            return Ok(None);
        };
        let parent_chief_100 = self.spec.chief_at(parent.number).is_some_and(is_chief_100);
        let volunteer = if self.spec.is_sip100(plan.number) && parent_chief_100 {
            self.chief.expected_volunteer(parent, chief, vrfn)?
        } else {
            Address::ZERO
        };
        let nonce = state
            .account(&plan.signer)
            .map_err(ExecutionError::from)?
            .map(|a| a.nonce)
            .unwrap_or(0);
        let mut input = Vec::with_capacity(36);
        input.extend_from_slice(&CHIEF_UPDATE_SELECTOR);
        input.extend_from_slice(&[0u8; 12]);
        input.extend_from_slice(volunteer.as_slice());
        let tx = TxLegacy {
            chain_id: Some(self.spec.chain_id),
            nonce,
            gas_price: CHIEF_UPDATE_GAS_PRICE,
            gas_limit: CHIEF_UPDATE_GAS,
            to: TxKind::Call(chief.address),
            value: U256::ZERO,
            input: input.into(),
        };
        Ok(Some(sign_transaction(tx, key)))
    }

    /// Adds `candidates` in order while gas lasts. A transaction invalid on the state is left
    /// out (and its sender's later ones deferred, their nonces would no longer follow); one
    /// that does not fit the gas left is deferred.
    fn fill(
        &self,
        number: u64,
        builder: &mut BlockBuilder<'_>,
        (transactions, senders): (&mut Vec<TransactionSigned>, &mut Vec<Address>),
        candidates: Vec<Candidate>,
    ) -> Result<Vec<Skipped>, ProducerError> {
        /// Below this much gas left no transaction fits: stop trying.
        const MIN_TX_GAS: u64 = 21_000;
        let mut skipped = Vec::new();
        let mut failed_senders = std::collections::HashSet::new();
        for candidate in candidates {
            let hash = candidate.tx.hash();
            if builder.gas_left() < MIN_TX_GAS
                || candidate.tx.tx().gas_limit > builder.gas_left()
                || failed_senders.contains(&candidate.sender)
            {
                skipped.push(Skipped::Deferred { hash });
                continue;
            }
            if is_chief_update(&self.spec, number, &candidate.tx) {
                skipped.push(Skipped::Invalid {
                    hash,
                    reason: "chief-update transactions come only from the block's signer".into(),
                });
                continue;
            }
            match builder.push(&candidate.tx, candidate.sender) {
                Ok(_) => {
                    transactions.push(candidate.tx);
                    senders.push(candidate.sender);
                }
                Err(ExecutionError::Transaction { error, .. }) => {
                    failed_senders.insert(candidate.sender);
                    skipped.push(Skipped::Invalid {
                        hash,
                        reason: error.to_string(),
                    });
                }
                Err(other) => return Err(other.into()),
            }
        }
        Ok(skipped)
    }
}

/// The gas limit of the next block: the parent's, moved toward the chain's floor if below it,
/// within the ±1/1024 bound (chain.md §7).
fn next_gas_limit(spec: &ChainSpec, parent: &Header) -> u64 {
    let number = parent.number.saturating_add(1);
    let floor = spec.min_gas_limit(number);
    if parent.gas_limit >= floor {
        return parent.gas_limit;
    }
    // The fork block itself may jump to the new floor (its bound is not checked).
    if number == spec.tribe.sip004_block {
        return floor;
    }
    let step = (parent.gas_limit / spectrum_consensus::GAS_LIMIT_BOUND_DIVISOR).saturating_sub(1);
    parent.gas_limit.saturating_add(step).min(floor)
}
