//! Dev methods that cannot keep the dev chain a chain of real Tribe blocks yet: they answer
//! with why, instead of "method not found", so a test suite's failure names the reason.
//!
//! A transaction "from" an impersonated account has no valid signature, and sender recovery
//! refuses any block holding it (ours at insert, and every importing node's). It would need a
//! dev-only block rule (the unsigned sender recorded in the block, as state patches are in
//! `spectrum_chain::dev_patch`, and execution run with that sender on the dev chain only).

use jsonrpsee::{RpcModule, core::RegisterMethodError};

use crate::{api::Api, error::server_error};

const IMPERSONATION: &[&str] = &[
    "anvil_impersonateAccount",
    "hardhat_impersonateAccount",
    "anvil_stopImpersonatingAccount",
    "hardhat_stopImpersonatingAccount",
];

/// Why impersonation is refused.
pub(crate) const IMPERSONATION_REFUSAL: &str = "not supported on spectrum --dev: a transaction from an account without its key has no valid signature, and every block must pass sender recovery; use the dev accounts (eth_accounts), whose keys the node holds";

pub(super) fn register(module: &mut RpcModule<Api>) -> Result<(), RegisterMethodError> {
    for name in IMPERSONATION {
        module.register_method(name, |_, _, _| {
            Err::<(), _>(server_error(IMPERSONATION_REFUSAL))
        })?;
    }
    Ok(())
}
