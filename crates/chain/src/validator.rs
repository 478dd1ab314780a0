//! The consensus edge: header rules are someone else's (Tribe's), applied through this trait.

use spectrum_primitives::SealedHeader;

/// Decides whether a header may follow its parent under the chain's consensus rules.
///
/// Called for every block before its body is checked or executed, never for the genesis.
/// It does not check what needs execution (gas used, roots): the chain does that after.
pub trait HeaderValidator: Send + Sync {
    /// `Ok` if `header` is valid on top of `parent`; otherwise the rule it breaks, in words
    /// (the consensus crate's typed error, rendered).
    fn validate_header(&self, header: &SealedHeader, parent: &SealedHeader) -> Result<(), String>;
}

/// No consensus rules: only what execution proves (roots, gas) is checked. Used until the Tribe
/// engine lands, and for the Ethereum test vectors, whose PoW seals we do not verify.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecutionChecksOnly;

impl HeaderValidator for ExecutionChecksOnly {
    fn validate_header(
        &self,
        _header: &SealedHeader,
        _parent: &SealedHeader,
    ) -> Result<(), String> {
        Ok(())
    }
}
