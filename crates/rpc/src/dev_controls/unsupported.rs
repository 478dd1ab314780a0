//! Dev methods that cannot keep the dev chain a chain of real Tribe blocks yet: they answer
//! with why, instead of "method not found", so a test suite's failure names the reason.
//!
//! A state setter (`anvil_setBalance`, `setCode`, `setNonce`, `setStorageAt`) changes state
//! outside any transaction; a block built on that state has a state root that re-executing
//! its transactions does not give, so our own `Blockchain::insert_block` (and any node
//! importing the chain) refuses it. Likewise a transaction "from" an impersonated account has
//! no valid signature, and sender recovery refuses the block. Both need a dev-only block rule
//! (a patch or an unsigned sender recorded in the block and applied by execution on the dev
//! chain only), which execution does not have.

use jsonrpsee::{RpcModule, core::RegisterMethodError};

use crate::{api::Api, error::server_error};

const STATE_SETTERS: &[&str] = &[
    "anvil_setBalance",
    "hardhat_setBalance",
    "anvil_setCode",
    "hardhat_setCode",
    "anvil_setNonce",
    "hardhat_setNonce",
    "anvil_setStorageAt",
    "hardhat_setStorageAt",
    "anvil_loadState",
];

const IMPERSONATION: &[&str] = &[
    "anvil_impersonateAccount",
    "hardhat_impersonateAccount",
    "anvil_stopImpersonatingAccount",
    "hardhat_stopImpersonatingAccount",
];

/// Why a state setter is refused.
pub(crate) const STATE_SETTER_REFUSAL: &str = "not supported on spectrum --dev: state changes only through blocks our verifier accepts, and a state patch outside a transaction would give a block whose state root re-execution does not reproduce; fund accounts with a transfer from a dev account (eth_accounts) instead";

/// Why impersonation is refused.
pub(crate) const IMPERSONATION_REFUSAL: &str = "not supported on spectrum --dev: a transaction from an account without its key has no valid signature, and every block must pass sender recovery; use the dev accounts (eth_accounts), whose keys the node holds";

pub(super) fn register(module: &mut RpcModule<Api>) -> Result<(), RegisterMethodError> {
    for name in STATE_SETTERS {
        module.register_method(name, |_, _, _| {
            Err::<(), _>(server_error(STATE_SETTER_REFUSAL))
        })?;
    }
    for name in IMPERSONATION {
        module.register_method(name, |_, _, _| {
            Err::<(), _>(server_error(IMPERSONATION_REFUSAL))
        })?;
    }
    Ok(())
}
