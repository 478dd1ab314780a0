//! Tribe's contract reads: the signer set, leaders, volunteers and staking lists the consensus
//! rules need (tribe.md §5, §8.1), and the chief, ChiefBase, POC and Anmap views of the
//! `tribe_*` JSON-RPC calls, all as read-only calls on the state after one block.
//!
//! **Owns:** [`ChiefContracts`] (which state a read runs on: one snapshot of the
//! `StateProviderFactory` seam, the block's own state), the call plumbing and the decoding of
//! answers into [`ChiefStatus`] / [`PocStatus`], and who is due at a height and whose in-turn
//! slot a block filled ([`Slot`], [`MissedSlot`]). Selectors and decoders are
//! `spectrum_contracts::abi`'s, the one ABI module of the Tribe contracts.
//!
//! **Must not touch:** the database (it reads through `spectrum-storage-api`'s traits), the
//! consensus rules themselves (`spectrum-consensus`), the chain's import path.

mod cache;
mod reads;
mod slots;
mod views;

pub use reads::ChiefContracts;
pub use slots::{MissedSlot, Slot, SlotError, due};
pub use views::{ChiefStatus, PocStatus, ValidatorRole};
