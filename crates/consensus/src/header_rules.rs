//! The standalone header rules (tribe.md §2 `verifyHeader` / `verifyCascadingFields`, chain.md §7,
//! errata E1, E5): each a pure function of the header, its parent and the chain spec.

use alloy_primitives::{B64, B256, U256};
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{EMPTY_OMMER_ROOT_HASH, Header, SealedHeader};

use crate::{
    error::TribeError,
    seal::{EXTRA_SEAL, EXTRA_VANITY},
    signers::CHIEF_100_VERSION,
    vrf::EXTRA_VRF,
};

/// The largest gas limit a header may carry, 2^63 − 1 (chain.md §7).
pub const MAX_GAS_LIMIT: u64 = i64::MAX.unsigned_abs();

/// The gas limit may change by less than `parent / GAS_LIMIT_BOUND_DIVISOR` (chain.md §7).
pub const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;

/// The only two nonces a header may carry (tribe.md §2).
pub const ALLOWED_NONCES: [B64; 2] = [B64::ZERO, B64::new([0xff; 8])];

/// The period the reference uses when its config says 0 (tribe.md §1: the engine default).
pub const DEFAULT_PERIOD: u64 = 15;

/// How far ahead of the local clock the reference still queues a block instead of dropping it
/// (tribe.md §2). Consensus only says "future"; see [`TribeError::FutureBlock`].
pub const FUTURE_BLOCK_QUEUE_SECONDS: u64 = 30;

/// The Tribe period of `spec` in seconds (chain.md §1: 15 on mainnet and testnet, 3 on the
/// devnet), with the reference's 0 read as [`DEFAULT_PERIOD`].
pub fn tribe_period(spec: &ChainSpec) -> u64 {
    match spec.period() {
        0 => DEFAULT_PERIOD,
        period => period,
    }
}

/// The first block number at which the gas-limit floor and the parent/1024 bound are enforced
/// (chain.md §7, errata E5): the chain spec's `gasLimitRulesFrom`, 58 on devnet (whose built-in
/// snapshot history breaks both rules below it) and 0 elsewhere.
pub fn gas_limit_rules_from(spec: &ChainSpec) -> u64 {
    spec.tribe.gas_limit_rules_from
}

/// Whether block `number` is a chief start block, whose difficulty is neither range- nor
/// role-checked (tribe.md §6 "Skip blocks", errata E6).
///
/// All chief start blocks are skipped, the SIP100 one included: the running reference client
/// skips it too (its skip list shares a cache that holds the full chief list), and the devnet
/// data cannot tell (its block 63 carries the difficulty the non-skip rule gives, errata E6).
/// Skipping never refuses a block the reference accepts.
pub fn is_skip_block(spec: &ChainSpec, number: u64) -> bool {
    spec.tribe.chiefs.iter().any(|c| c.start_block == number)
}

/// The bad-block rule (chain.md §10): a block whose hash is listed is refused on every network.
pub fn check_bad_block(spec: &ChainSpec, hash: B256) -> Result<(), TribeError> {
    if spec.is_bad_block(&hash) {
        return Err(TribeError::BadBlock { hash });
    }
    Ok(())
}

/// The parent link (tribe.md §2 "number = P.number + 1, parent must exist"): `parentHash` is the
/// parent's hash and the number follows the parent's.
pub fn check_parent_link(header: &Header, parent: &SealedHeader) -> Result<(), TribeError> {
    if header.parent_hash != parent.hash() {
        return Err(TribeError::ParentHashMismatch {
            expected: parent.hash(),
            got: header.parent_hash,
        });
    }
    if parent.number.checked_add(1) != Some(header.number) {
        return Err(TribeError::InvalidNumber {
            parent: parent.number,
            got: header.number,
        });
    }
    Ok(())
}

/// The future-block rule (tribe.md §2): `time` must not be greater than the local clock `now`.
pub fn check_not_future(header: &Header, now: u64) -> Result<(), TribeError> {
    if header.timestamp > now {
        return Err(TribeError::FutureBlock {
            time: header.timestamp,
            now,
        });
    }
    Ok(())
}

/// The nonce rule (tribe.md §2): all zeros or all ones.
pub fn check_nonce(header: &Header) -> Result<(), TribeError> {
    if !ALLOWED_NONCES.contains(&header.nonce) {
        return Err(TribeError::InvalidNonce {
            nonce: header.nonce,
        });
    }
    Ok(())
}

/// The minimum extraData length of block `number` (tribe.md §2, §3; errata E1): vanity (32)
/// or VRF (161) plus the 65-byte seal, by SIP100 of the block's number.
pub fn min_extra_data_len(spec: &ChainSpec, number: u64) -> usize {
    let prefix = if spec.is_sip100(number) {
        EXTRA_VRF
    } else {
        EXTRA_VANITY
    };
    prefix.saturating_add(EXTRA_SEAL)
}

/// The extraData length rule (tribe.md §2, §3; errata E1): at least 97 bytes before SIP100
/// (any longer length, e.g. the 226-byte VRF layout of devnet blocks 7–14, is accepted), at
/// least 226 from SIP100. There is no maximum.
pub fn check_extra_data_length(spec: &ChainSpec, header: &Header) -> Result<(), TribeError> {
    let min = min_extra_data_len(spec, header.number);
    let len = header.extra_data.len();
    if len < min {
        return Err(TribeError::ExtraDataTooShort { len, min });
    }
    Ok(())
}

/// The mix-digest rule (tribe.md §2): zero.
pub fn check_mix_digest(header: &Header) -> Result<(), TribeError> {
    if header.mix_hash != B256::ZERO {
        return Err(TribeError::NonZeroMixDigest {
            got: header.mix_hash,
        });
    }
    Ok(())
}

/// The uncle-hash rule (tribe.md §2): keccak256(rlp([])), since blocks with uncles are invalid.
pub fn check_uncle_hash(header: &Header) -> Result<(), TribeError> {
    if header.ommers_hash != EMPTY_OMMER_ROOT_HASH {
        return Err(TribeError::HasUncles {
            uncle_hash: header.ommers_hash,
        });
    }
    Ok(())
}

/// The largest difficulty before chief 1.0.0 (in-turn 3 from SIP002, tribe.md §6) and the one
/// that bounds the blocks before the first chief.
pub const PRE_CHIEF_100_MAX_DIFFICULTY: u64 = 3;

/// The largest difficulty under chief 1.0.0 (in-turn 6, tribe.md §6).
pub const CHIEF_100_MAX_DIFFICULTY: u64 = 6;

/// The largest difficulty block `number` may carry: 6 under chief 1.0.0, 3 under earlier chiefs
/// and before the first chief (tribe.md §2, §6).
pub fn max_difficulty(spec: &ChainSpec, number: u64) -> u64 {
    match spec.chief_at(number) {
        Some(chief) if chief.version == CHIEF_100_VERSION => CHIEF_100_MAX_DIFFICULTY,
        _ => PRE_CHIEF_100_MAX_DIFFICULTY,
    }
}

/// The difficulty range rule (tribe.md §2), for every N > 0: 1..=6 under chief 1.0.0, 1..=3
/// under earlier chiefs and before the first chief.
///
/// **Stricter than the reference**, which range-checks only blocks a chief governs and that are
/// not skip blocks ([`is_skip_block`]): there it accepts any difficulty, so one forged block 1 or
/// chief start block of difficulty 2^128 outweighs any chain (blocks 1–3 carry no checked seal
/// either). No producer ever gives such blocks more than its era's largest difficulty (the
/// devnet's blocks 1–3 carry 2, its chief 1.0.0 start block 5; errata E6), so the bound refuses
/// only forged blocks. The role rule ([`crate::check_difficulty`]) still skips skip blocks.
pub fn check_difficulty_range(spec: &ChainSpec, header: &Header) -> Result<(), TribeError> {
    let number = header.number;
    if number == 0 {
        return Ok(());
    }
    let max = max_difficulty(spec, number);
    let got = header.difficulty;
    if got < U256::from(1u8) || got > U256::from(max) {
        return Err(TribeError::DifficultyOutOfRange { got, min: 1, max });
    }
    Ok(())
}

/// The minimum-gap rule of the header check (tribe.md §2): `time ≥ P.time + period` before
/// SIP002, `time ≥ P.time + period − 1` from SIP002 (the role delay of §7 comes on top, see
/// [`crate::check_role_delay`]). Applies to every N > 0.
pub fn check_min_timestamp(
    spec: &ChainSpec,
    header: &Header,
    parent: &Header,
) -> Result<(), TribeError> {
    let period = tribe_period(spec);
    let gap = if spec.is_sip002(header.number) {
        period.saturating_sub(1)
    } else {
        period
    };
    let earliest = parent.timestamp.saturating_add(gap);
    if header.timestamp < earliest {
        return Err(TribeError::TooEarly {
            earliest,
            got: header.timestamp,
        });
    }
    Ok(())
}

/// The gas-limit maximum (chain.md §7): `gasLimit ≤ 2^63 − 1`.
pub fn check_gas_limit_max(header: &Header) -> Result<(), TribeError> {
    if header.gas_limit > MAX_GAS_LIMIT {
        return Err(TribeError::GasLimitTooHigh {
            limit: header.gas_limit,
            max: MAX_GAS_LIMIT,
        });
    }
    Ok(())
}

/// The gas-used rule (chain.md §7): `gasUsed ≤ gasLimit`.
pub fn check_gas_used(header: &Header) -> Result<(), TribeError> {
    if header.gas_used > header.gas_limit {
        return Err(TribeError::GasUsedAboveLimit {
            used: header.gas_used,
            limit: header.gas_limit,
        });
    }
    Ok(())
}

/// Every header rule that needs neither state nor the signer set (tribe.md §2, chain.md §7), in
/// the reference's order: bad-block list, parent link, not after `now`, nonce, extraData length,
/// zero mixDigest, empty uncle hash, difficulty range, minimum gap to the parent, gas limit
/// maximum, gas used, gas-limit floor and bound (from `gas_limit_rules_from`). Block import runs
/// them before the signer rules; sync runs them on downloaded headers before fetching bodies.
pub fn check_stateless_header_rules(
    spec: &ChainSpec,
    header: &SealedHeader,
    parent: &SealedHeader,
    now: u64,
    gas_limit_rules_from: u64,
) -> Result<(), TribeError> {
    check_bad_block(spec, header.hash())?;
    check_parent_link(header, parent)?;
    check_not_future(header, now)?;
    check_nonce(header)?;
    check_extra_data_length(spec, header)?;
    check_mix_digest(header)?;
    check_uncle_hash(header)?;
    check_difficulty_range(spec, header)?;
    check_min_timestamp(spec, header, parent)?;
    check_gas_limit_max(header)?;
    check_gas_used(header)?;
    check_gas_limit(spec, header, parent, gas_limit_rules_from)
}

/// The gas-limit floor and bound (chain.md §7, errata E5): `gasLimit ≥ minGasLimit(N)` (5,000,
/// 40,000,000 from Sip004) and `|gasLimit − P.gasLimit| < P.gasLimit / 1024`; neither is checked
/// at the Sip004 block itself, nor below `rules_from` ([`gas_limit_rules_from`]: 58 on the
/// devnet, whose snapshot history breaks both, 0 elsewhere).
pub fn check_gas_limit(
    spec: &ChainSpec,
    header: &Header,
    parent: &Header,
    rules_from: u64,
) -> Result<(), TribeError> {
    let number = header.number;
    if number == spec.tribe.sip004_block || number < rules_from {
        return Ok(());
    }
    let floor = spec.min_gas_limit(number);
    if header.gas_limit < floor {
        return Err(TribeError::GasLimitBelowFloor {
            limit: header.gas_limit,
            floor,
        });
    }
    let max_delta = parent.gas_limit / GAS_LIMIT_BOUND_DIVISOR;
    if header.gas_limit.abs_diff(parent.gas_limit) >= max_delta {
        return Err(TribeError::GasLimitBound {
            parent: parent.gas_limit,
            got: header.gas_limit,
            max_delta,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_limit_rules_start_at_58_on_devnet_only() {
        assert_eq!(gas_limit_rules_from(&ChainSpec::devnet()), 58);
        assert_eq!(gas_limit_rules_from(&ChainSpec::mainnet()), 0);
        assert_eq!(gas_limit_rules_from(&ChainSpec::testnet()), 0);
    }

    #[test]
    fn difficulty_range_at_blocks_one_to_three() {
        // Mainnet (tribe.md §1): block 1 has no chief, block 2 is chief 0.0.5's start (skip),
        // block 3 must be in 1..=3. Before the fix blocks 1 and 2 took any difficulty.
        let spec = ChainSpec::mainnet();
        let with = |number, difficulty: U256| Header {
            number,
            difficulty,
            ..Header::default()
        };
        let huge = U256::from(1u8) << 128;
        let out_of_range = |got| {
            Err(TribeError::DifficultyOutOfRange {
                got,
                min: 1,
                max: 3,
            })
        };
        for n in [1, 2, 3] {
            assert_eq!(
                check_difficulty_range(&spec, &with(n, huge)),
                out_of_range(huge)
            );
            assert_eq!(
                check_difficulty_range(&spec, &with(n, U256::from(4u8))),
                out_of_range(U256::from(4u8))
            );
            assert_eq!(
                check_difficulty_range(&spec, &with(n, U256::from(3u8))),
                Ok(())
            );
            assert_eq!(
                check_difficulty_range(&spec, &with(n, U256::ZERO)),
                out_of_range(U256::ZERO)
            );
        }
        // Skip blocks on mainnet: every chief start, SIP100's included (errata E6); their role
        // is not checked, their range is.
        for n in [2, 595_888, 2_823_366] {
            assert!(is_skip_block(&spec, n));
        }
        assert!(!is_skip_block(&spec, 2_823_367));
        assert_eq!(
            check_difficulty_range(&spec, &with(2_823_366, huge)),
            Err(TribeError::DifficultyOutOfRange {
                got: huge,
                min: 1,
                max: 6
            })
        );
        assert_eq!(
            check_difficulty_range(&spec, &with(2_823_366, U256::from(6u8))),
            Ok(())
        );
    }

    #[test]
    fn zero_period_reads_as_fifteen() {
        let mut spec = ChainSpec::devnet();
        assert_eq!(tribe_period(&spec), 3);
        spec.tribe.period = 0;
        assert_eq!(tribe_period(&spec), 15);
    }

    #[test]
    fn extra_data_minimum_by_era() {
        let spec = ChainSpec::devnet();
        assert_eq!(min_extra_data_len(&spec, 62), 97);
        assert_eq!(min_extra_data_len(&spec, 63), 226);
    }
}
