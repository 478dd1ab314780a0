//! The Tribe consensus engine of Spectrum (spec: `shared/spec/tribe.md`, corrected by
//! `shared/spec/errata.md`, which stands where the two disagree).
//!
//! **Owns:** the consensus rules of Tribe, expressed as pure functions over headers.
//! - now: the header seal ([`seal`], tribe.md §2): seal hash, signer recovery, signing, the
//!   genesis signer; and the VRF ([`vrf`], tribe.md §4): proving, verifying, the per-block
//!   message and the per-block check of extraData's VRF output and proof;
//! - later: the remaining header rules (§2), the signer and leader sets (§5), difficulty (§6),
//!   authorisation and timing (§7), the chief-update transaction rules (§8) and fork choice
//!   (§13).
//!
//! **Must not touch:** the database, networking, or execution. Rules that need chain state (the
//! signer list read from the chief contracts at the parent state) will get it through traits
//! implemented elsewhere; this crate never opens storage or a socket itself.
//!
//! Every rule is a function named for it, documented with the spec section it implements, and
//! every failure is a typed error carrying the values involved. Non-test code here cannot panic:
//! the lints below forbid `unwrap`, `expect`, `panic!`, slice indexing and unchecked arithmetic.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod seal;
pub mod vrf;

pub use seal::{
    EXTRA_SEAL, EXTRA_VANITY, SealError, block_signer, genesis_signer, recover_block_public_key,
    recover_block_signer, seal_hash, sign_header,
};
pub use vrf::{
    EXTRA_VRF, PointDefect, VRF_OUTPUT_LEN, VRF_PROOF_LEN, VrfError, VrfOutput, VrfProof,
    hash_to_curve, verify_block_vrf, vrf_message, vrf_prove, vrf_verify,
};
