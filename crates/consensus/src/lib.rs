//! The Tribe consensus engine of Spectrum (spec: `shared/spec/tribe.md`, corrected by
//! `shared/spec/errata.md`, which stands where the two disagree).
//!
//! **Owns:** the consensus rules of Tribe, expressed as pure functions over headers, blocks and
//! the signer set read at the parent state:
//! - the header seal ([`seal`], tribe.md §2) and the VRF ([`vrf`], tribe.md §4);
//! - the signer set ([`SignerSet`], [`SignerSetProvider`], tribe.md §5): the rules are written
//!   over the trait; the execution layer implements it with read-only chief calls;
//! - every header rule, applied per era by [`TribeValidator::validate_header`];
//! - the chief-update transaction and body rules (tribe.md §8, §14);
//! - fork choice (tribe.md §13).
//!
//! **Must not touch:** the database, networking, or execution. Rules that need chain state get
//! it through [`SignerSetProvider`] or as plain arguments; this crate never opens storage or a
//! socket itself.
//!
//! # Rules and their functions
//!
//! Header rules, all blocks N > 0 ([`header_rules`], in `validate_header` order):
//!
//! | rule | spec | function | error |
//! |---|---|---|---|
//! | hash not on the bad-block list | chain.md §10 | [`check_bad_block`] | `BadBlock` |
//! | parent hash and `number = P.number + 1` | tribe.md §2 | [`check_parent_link`] | `ParentHashMismatch`, `InvalidNumber` |
//! | time ≤ local clock | tribe.md §2 | [`check_not_future`] | `FutureBlock` |
//! | nonce 0 or all ones | tribe.md §2 | [`check_nonce`] | `InvalidNonce` |
//! | extraData ≥ 97 B (any length) before SIP100, ≥ 226 B from | tribe.md §2–§3, errata E1 | [`check_extra_data_length`] | `ExtraDataTooShort` |
//! | mixDigest zero | tribe.md §2 | [`check_mix_digest`] | `NonZeroMixDigest` |
//! | uncle hash = keccak(rlp([])) | tribe.md §2 | [`check_uncle_hash`] | `HasUncles` |
//! | difficulty 1..=3 (1..=6 under chief 1.0.0), skip blocks and blocks before the first chief included (stricter than the reference, see the function) | tribe.md §2, §6 | [`check_difficulty_range`], [`max_difficulty`] | `DifficultyOutOfRange` |
//! | `time ≥ P.time + period` (`period − 1` from SIP002) | tribe.md §2 | [`check_min_timestamp`] | `TooEarly` |
//! | gasLimit ≤ 2^63 − 1 | chain.md §7 | [`check_gas_limit_max`] | `GasLimitTooHigh` |
//! | gasUsed ≤ gasLimit | chain.md §7 | [`check_gas_used`] | `GasUsedAboveLimit` |
//! | gasLimit ≥ floor, change < parent/1024 (not at Sip004, not below [`gas_limit_rules_from`]) | chain.md §7, errata E5 | [`check_gas_limit`] | `GasLimitBelowFloor`, `GasLimitBound` |
//!
//! Signer rules, blocks N > 3 ([`authority`], [`seal`], [`vrf`]):
//!
//! | rule | spec | function | error |
//! |---|---|---|---|
//! | a chief governs N | tribe.md §5, chain.md §4 | `ChainSpec::chief_at` | `NoChief` |
//! | the seal recovers a signer | tribe.md §2 | [`recover_block_signer`] | `Seal` |
//! | the signer set loads at P (leaders non-empty from SIP100) | tribe.md §5 | [`SignerSetProvider::signer_set`] | `Provider`, `NoLeaders` |
//! | membership | tribe.md §7.3 | [`check_signer_authorised`] | `UnauthorisedSigner` |
//! | coinbase ≠ 0 from SIP100 | tribe.md §7.2 | [`check_coinbase`] | `ZeroCoinbase` |
//! | role delay from SIP002 | tribe.md §7.1, errata E3 | [`check_role_delay`], [`role_delay`] | `TooEarly` |
//! | difficulty of the signer's role, unless skip block | tribe.md §6, errata E4, E6 | [`check_difficulty`], [`expected_difficulty`] | `WrongDifficulty` |
//! | VRF from SIP100 | tribe.md §4 | [`verify_block_vrf`] | `Vrf` |
//!
//! Body rules ([`chief_tx`]):
//!
//! | rule | spec | function | error |
//! |---|---|---|---|
//! | no uncles in the body | tribe.md §14.2 | [`validate_no_uncles`] | `UnclesInBody` |
//! | every tx EIP-155 from SIP003 | tribe.md §14.2, chain.md §8 | [`validate_transactions_eip155`] | `UnprotectedTransaction` |
//! | N > 3: non-empty, chief update at index 0 only, sent by the signer | tribe.md §8 | [`validate_chief_tx`], [`is_chief_update`] | `NoTransactions`, `MissingChiefTx`, `ChiefTxNotFirst`, `DuplicateChiefTx`, `ChiefTxSender` |
//! | from SIP100 receipts\[0\].status = 1 (after execution) | tribe.md §8 | [`validate_chief_tx_receipt`] | `ChiefTxFailed` |
//! | from SIP100 (parent under 1.0.0) volunteer = takeMiner(P) (lists from state) | tribe.md §8.1 | [`validate_chief_volunteer`], [`take_miner`] | `WrongVolunteer` |
//!
//! [`TribeValidator::validate_block_pre_execution`] runs the header rules and the first three
//! body rules. Fork choice: [`is_better_head`] / [`head_choice`] (tribe.md §13).
//!
//! Every rule is a function named for it, documented with the spec section it implements, and
//! every failure is a typed [`TribeError`] carrying the values involved. Non-test code here
//! cannot panic: the workspace's lints forbid `unwrap`, `expect` and `panic!`, the ones below
//! slice indexing and unchecked arithmetic.

// `unwrap`, `expect` and `panic!` are denied workspace-wide (Cargo.toml `[workspace.lints]`);
// indexing, slicing and unchecked arithmetic are denied here, where the code is audited for them.
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

pub mod authority;
pub mod chief_tx;
mod error;
pub mod fork_choice;
pub mod header_rules;
mod preverify;
pub mod seal;
pub mod signers;
mod validator;
pub mod vrf;

pub use authority::{
    CHIEF_NUMBER, check_coinbase, check_difficulty, check_role_delay, check_signer_authorised,
    expected_difficulty, role_delay,
};
pub use chief_tx::{
    CHIEF_UPDATE_SELECTOR, chief_tx_volunteer, is_chief_address_on_block, is_chief_update,
    is_chief_update_call, take_miner, validate_chief_tx, validate_chief_tx_receipt,
    validate_chief_tx_signed_by, validate_chief_volunteer, validate_no_uncles,
    validate_transactions_eip155,
};
pub use error::TribeError;
pub use fork_choice::{HeadChoice, head_choice, is_better_head};
pub use header_rules::{
    ALLOWED_NONCES, CHIEF_100_MAX_DIFFICULTY, DEFAULT_PERIOD, FUTURE_BLOCK_QUEUE_SECONDS,
    GAS_LIMIT_BOUND_DIVISOR, MAX_GAS_LIMIT, PRE_CHIEF_100_MAX_DIFFICULTY, check_bad_block,
    check_difficulty_range, check_extra_data_length, check_gas_limit, check_gas_limit_max,
    check_gas_used, check_min_timestamp, check_mix_digest, check_nonce, check_not_future,
    check_parent_link, check_stateless_header_rules, check_uncle_hash, gas_limit_rules_from,
    is_skip_block, max_difficulty, min_extra_data_len, tribe_period,
};
pub use seal::{
    EXTRA_SEAL, EXTRA_VANITY, SealError, block_signer, genesis_signer, recover_block_public_key,
    recover_block_signer, seal_hash, seal_recoveries_on_this_thread, sign_header,
};
pub use signers::{
    CHIEF_100_VERSION, ProviderError, SignerSet, SignerSetProvider, is_chief_100, leader_sort,
};
pub use validator::{Clock, FixedClock, SystemClock, TribeValidator};
pub use vrf::{
    EXTRA_VRF, PointDefect, VRF_OUTPUT_LEN, VRF_PROOF_LEN, VrfError, VrfOutput, VrfProof,
    hash_to_curve, verify_block_vrf, verify_block_vrf_with_key, vrf_message, vrf_prove, vrf_verify,
};
