//! The subcommands added for issue 16's state-size and long-chain measurements.

pub(crate) mod long_chain;
pub(crate) mod state_size;
