//! The Tribe header validator: every header rule of tribe.md §2, §5–§7 and chain.md §7 in one
//! call, per era of the block number, with the signer set from a [`SignerSetProvider`].

use std::{
    fmt,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use alloy_primitives::Address;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{SealedBlock, SealedHeader, public_key_to_address};

use crate::{
    authority::{
        CHIEF_NUMBER, check_coinbase, check_difficulty, check_role_delay, check_signer_authorised,
    },
    chief_tx::{validate_chief_tx_signed_by, validate_no_uncles, validate_transactions_eip155},
    error::TribeError,
    header_rules::{check_stateless_header_rules, gas_limit_rules_from},
    preverify::VerifiedSeals,
    seal::{recover_block_public_key, recover_block_signer},
    signers::SignerSetProvider,
    vrf::verify_block_vrf_with_key,
};

/// The local clock in Unix seconds, for the future-block rule (tribe.md §2). The node's one
/// clock: the header rules, the chain's near-future queue and sync's header checks all read it.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A clock stopped at a given second (tests, replays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0
    }
}

impl<F: Fn() -> u64 + Send + Sync> Clock for F {
    fn now(&self) -> u64 {
        self()
    }
}

/// Validates headers (and the pre-execution part of blocks) under Tribe.
#[derive(Clone)]
pub struct TribeValidator {
    spec: Arc<ChainSpec>,
    provider: Arc<dyn SignerSetProvider>,
    clock: Arc<dyn Clock>,
    gas_limit_rules_from: u64,
    /// Seals and VRF proofs verified ahead ([`Self::preverify_seal`]).
    verified: Arc<VerifiedSeals>,
}

impl fmt::Debug for TribeValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TribeValidator")
            .field("chain", &self.spec.name)
            .field("gas_limit_rules_from", &self.gas_limit_rules_from)
            .finish_non_exhaustive()
    }
}

impl TribeValidator {
    /// A validator for `spec`, reading signer sets from `provider` and the time from `clock`.
    /// Works out the network's [`gas_limit_rules_from`] once.
    pub fn new(
        spec: Arc<ChainSpec>,
        provider: Arc<dyn SignerSetProvider>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let gas_limit_rules_from = gas_limit_rules_from(&spec);
        Self {
            spec,
            provider,
            clock,
            gas_limit_rules_from,
            verified: Default::default(),
        }
    }

    /// Recovers `header`'s seal and, from SIP100, verifies its VRF proof on `parent`, and
    /// remembers the signer when both pass, so that [`Self::validate_header`] of this header on
    /// this parent does neither again. Needs no state: batch importers call it for many
    /// headers on several threads before importing them in order. A failure is not
    /// remembered: the header rules meet it again, in their order.
    pub fn preverify_seal(&self, header: &SealedHeader, parent: &SealedHeader) {
        let number = header.number;
        if number <= CHIEF_NUMBER || header.parent_hash != parent.hash() {
            return;
        }
        let Ok(public) = recover_block_public_key(header) else {
            return;
        };
        if self.spec.is_sip100(number)
            && verify_block_vrf_with_key(header, parent, &public).is_err()
        {
            return;
        }
        self.verified
            .insert(header.hash(), parent.hash(), public_key_to_address(&public));
    }

    /// The same validator reading the time from `clock` (the node injects its one clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The chain spec.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// First block the gas-limit floor and bound apply to (errata E5).
    pub fn gas_limit_rules_from(&self) -> u64 {
        self.gas_limit_rules_from
    }

    /// Every header rule for `header` against its `parent`, in this order:
    ///
    /// 1. header checks for all N > 0 (tribe.md §2, chain.md §7): bad-block list, parent link,
    ///    not in the future, nonce, extraData length, zero mixDigest, empty uncle hash,
    ///    difficulty range, minimum gap to the parent, gas limit maximum, gas used, gas-limit
    ///    floor and bound;
    /// 2. for N > 3 (tribe.md §5–§7): the chief of N, the seal's signer, the signer set at the
    ///    parent state, membership, coinbase (SIP100), role delay (SIP002), difficulty (unless
    ///    a skip block), the VRF (SIP100).
    ///
    /// Blocks 1–3 get step 1 only, as in the reference (no seal or signer check).
    pub fn validate_header(
        &self,
        header: &SealedHeader,
        parent: &SealedHeader,
    ) -> Result<(), TribeError> {
        self.validate_header_author(header, parent).map(|_| ())
    }

    /// [`Self::validate_header`], returning the seal's signer it recovered (`None` for blocks
    /// 1–3, whose seal is not checked). The seal is recovered once, for the signer and the VRF,
    /// so that import need not recover it again for the fee recipient.
    pub fn validate_header_author(
        &self,
        header: &SealedHeader,
        parent: &SealedHeader,
    ) -> Result<Option<Address>, TribeError> {
        let spec = &*self.spec;
        check_stateless_header_rules(
            spec,
            header,
            parent,
            self.clock.now(),
            self.gas_limit_rules_from,
        )?;

        let number = header.number;
        if number <= CHIEF_NUMBER {
            return Ok(None);
        }
        let chief = spec
            .chief_at(number)
            .ok_or(TribeError::NoChief { number })?;
        // A seal verified ahead (with its VRF proof) is not recovered again.
        let (signer, public) = match self.verified.take(header.hash(), parent.hash()) {
            Some(signer) => (signer, None),
            None => {
                let public = recover_block_public_key(header)?;
                (public_key_to_address(&public), Some(public))
            }
        };
        let set = self.provider.signer_set(parent, chief)?;
        if spec.is_sip100(number) && set.leaders.is_empty() {
            return Err(TribeError::NoLeaders {
                parent: parent.hash(),
            });
        }
        check_signer_authorised(spec, number, signer, &set)?;
        check_coinbase(spec, header)?;
        check_role_delay(spec, chief, header, parent, signer, &set)?;
        check_difficulty(spec, chief, header, signer, &set)?;
        if spec.is_sip100(number)
            && let Some(public) = public
        {
            verify_block_vrf_with_key(header, parent, &public)?;
        }
        Ok(Some(signer))
    }

    /// The header rules that need no state, for a block whose parent's state does not exist
    /// yet (a side-chain block on a side-chain parent): every rule of step 1 of
    /// [`Self::validate_header`] (the difficulty range bounds what the block may add to its
    /// branch's total difficulty), and for N > 3 a seal that recovers a signer. Authorisation,
    /// the role's difficulty and delay and the VRF wait until the parent's state exists, i.e.
    /// until the branch is executed.
    pub fn validate_header_without_state(
        &self,
        header: &SealedHeader,
        parent: &SealedHeader,
    ) -> Result<(), TribeError> {
        check_stateless_header_rules(
            &self.spec,
            header,
            parent,
            self.clock.now(),
            self.gas_limit_rules_from,
        )?;
        if header.number > CHIEF_NUMBER {
            recover_block_signer(header)?;
        }
        Ok(())
    }

    /// The rules that can be checked before executing `block` (tribe.md §14 steps 1–3):
    /// [`Self::validate_header`], no uncles in the body, EIP-155 from SIP003
    /// ([`validate_transactions_eip155`]) and the structural chief-update rules
    /// ([`validate_chief_tx`]; `senders[i]` is the recovered sender of transaction `i`).
    ///
    /// Not included: the transactions root (a body/header consistency check of the import
    /// pipeline) and the two chief-update rules that need execution
    /// ([`crate::validate_chief_tx_receipt`], [`crate::validate_chief_volunteer`]).
    ///
    /// Returns the seal's signer when the header rules recovered it (blocks after 3).
    pub fn validate_block_pre_execution(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        senders: &[Address],
    ) -> Result<Option<Address>, TribeError> {
        let author = self.validate_header_author(&block.header, parent)?;
        validate_no_uncles(block)?;
        validate_transactions_eip155(block, &self.spec)?;
        validate_chief_tx_signed_by(block, senders, &self.spec, author)?;
        Ok(author)
    }
}
