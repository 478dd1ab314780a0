//! Checks on what peers send before anything is imported: headers against their parent under
//! the Tribe rules that need no state (the signer set needs the parent's state, so
//! authorisation is checked on import), and bodies against their headers.

use alloy_primitives::keccak256;
use spectrum_chainspec::ChainSpec;
use spectrum_consensus::{
    CHIEF_NUMBER, TribeError, check_stateless_header_rules, gas_limit_rules_from,
    recover_block_signer,
};
use spectrum_primitives::{BlockBody, SealedHeader, transactions_root};

/// Header checks without state, for one chain spec.
#[derive(Debug, Clone)]
pub struct HeaderChecks {
    spec: std::sync::Arc<ChainSpec>,
    gas_limit_rules_from: u64,
}

impl HeaderChecks {
    /// Checks for `spec`.
    pub fn new(spec: std::sync::Arc<ChainSpec>) -> Self {
        let gas_limit_rules_from = gas_limit_rules_from(&spec);
        Self {
            spec,
            gas_limit_rules_from,
        }
    }

    /// Tribe's header rules for `header` after `parent` that need no state (tribe.md §2, chain.md
    /// §7), and for blocks after 3 a seal that recovers a signer. `now` is the local clock plus
    /// the near-future allowance (such blocks are held by the chain until their time).
    pub fn check(
        &self,
        header: &SealedHeader,
        parent: &SealedHeader,
        now: u64,
    ) -> Result<(), TribeError> {
        check_stateless_header_rules(&self.spec, header, parent, now, self.gas_limit_rules_from)?;
        if header.number > CHIEF_NUMBER {
            recover_block_signer(header)?;
        }
        Ok(())
    }
}

/// Whether `body` is the body of `header`: its transactions root and uncle hash.
pub fn body_matches(header: &SealedHeader, body: &BlockBody) -> bool {
    transactions_root(&body.transactions) == header.transactions_root
        && keccak256(alloy_rlp::encode(&body.ommers)) == header.ommers_hash
}
