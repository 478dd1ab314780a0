//! geth 1.8's ethash header and uncle rules, as far as the test vectors need them. The PoW
//! seal (mixHash/nonce) is not verified: that is out of scope for spectrum-rs.

use std::collections::{HashMap, HashSet};

use alloy_primitives::{B256, U256};
use spectrum_execution::EthereumFork;
use spectrum_primitives::{EMPTY_OMMER_ROOT_HASH, Header};

/// `params.MaximumExtraDataSize`.
const MAX_EXTRA_DATA: usize = 32;
/// `params.MinGasLimit`.
const MIN_GAS_LIMIT: u64 = 5000;
/// `params.GasLimitBoundDivisor`.
const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
/// `params.MinimumDifficulty`.
const MIN_DIFFICULTY: u64 = 131_072;
/// `params.DifficultyBoundDivisor`.
const DIFFICULTY_BOUND_DIVISOR: u64 = 2048;
/// ethash `expDiffPeriod`.
const EXP_DIFF_PERIOD: u64 = 100_000;

/// EIP-100 difficulty with the fork's bomb delay (geth `makeDifficultyCalculator`).
pub fn difficulty(fork: EthereumFork, time: u64, parent: &Header) -> Result<U256, String> {
    let elapsed = time
        .checked_sub(parent.timestamp)
        .ok_or("timestamp before parent")?
        / 9;
    let y: i64 = if parent.ommers_hash == EMPTY_OMMER_ROOT_HASH {
        1
    } else {
        2
    };
    let factor: i64 = i64::try_from(elapsed)
        .map(|e| y.saturating_sub(e))
        .unwrap_or(i64::MIN)
        .max(-99);
    let step = parent.difficulty / U256::from(DIFFICULTY_BOUND_DIVISOR);
    let adjust = step * U256::from(factor.unsigned_abs());
    let mut diff = if factor >= 0 {
        parent.difficulty + adjust
    } else {
        parent.difficulty.saturating_sub(adjust)
    };
    diff = diff.max(U256::from(MIN_DIFFICULTY));
    let delay_from_parent = fork.bomb_delay() - 1;
    let fake = parent.number.saturating_sub(delay_from_parent);
    let fake = if parent.number >= delay_from_parent {
        fake
    } else {
        0
    };
    let periods = fake / EXP_DIFF_PERIOD;
    if periods > 1 {
        diff += U256::from(1) << usize::try_from(periods - 2).map_err(|e| e.to_string())?;
    }
    Ok(diff)
}

/// ethash `verifyHeader` without the seal and the future-time check.
pub fn verify_header(fork: EthereumFork, header: &Header, parent: &Header) -> Result<(), String> {
    if header.extra_data.len() > MAX_EXTRA_DATA {
        return Err(format!("extra data {} bytes", header.extra_data.len()));
    }
    if header.timestamp <= parent.timestamp {
        return Err("timestamp not after parent".into());
    }
    let want = difficulty(fork, header.timestamp, parent)?;
    if header.difficulty != want {
        return Err(format!("difficulty {} != {want}", header.difficulty));
    }
    if header.gas_limit > 0x7fff_ffff_ffff_ffff {
        return Err("gas limit above 2^63-1".into());
    }
    if header.gas_used > header.gas_limit {
        return Err(format!(
            "gas used {} > limit {}",
            header.gas_used, header.gas_limit
        ));
    }
    let diff = header.gas_limit.abs_diff(parent.gas_limit);
    if diff >= parent.gas_limit / GAS_LIMIT_BOUND_DIVISOR || header.gas_limit < MIN_GAS_LIMIT {
        return Err(format!(
            "gas limit {} out of bounds from parent {}",
            header.gas_limit, parent.gas_limit
        ));
    }
    if parent.number.checked_add(1) != Some(header.number) {
        return Err(format!("number {} after {}", header.number, parent.number));
    }
    Ok(())
}

/// What uncle validation needs to know about a stored block.
pub struct Ancestor<'a> {
    pub header: &'a Header,
    pub ommer_hashes: Vec<B256>,
}

/// ethash `VerifyUncles`. `ancestors` yields the parent, grandparent, … (at most 7 used).
pub fn verify_uncles<'a>(
    fork: EthereumFork,
    hash: B256,
    header: &Header,
    ommers: &[Header],
    ancestors: impl Iterator<Item = (B256, Ancestor<'a>)>,
) -> Result<(), String> {
    if ommers.is_empty() {
        return Ok(());
    }
    if ommers.len() > 2 {
        return Err(format!("{} uncles", ommers.len()));
    }
    let mut seen: HashSet<B256> = HashSet::new();
    let mut by_hash: HashMap<B256, &Header> = HashMap::new();
    for (ancestor_hash, ancestor) in ancestors.take(7) {
        by_hash.insert(ancestor_hash, ancestor.header);
        seen.extend(ancestor.ommer_hashes);
    }
    by_hash.insert(hash, header);
    seen.insert(hash);
    for ommer in ommers {
        let ommer_hash = ommer.hash_slow();
        if !seen.insert(ommer_hash) {
            return Err("duplicate uncle".into());
        }
        if by_hash.contains_key(&ommer_hash) {
            return Err("uncle is ancestor".into());
        }
        let Some(ommer_parent) = by_hash.get(&ommer.parent_hash) else {
            return Err("dangling uncle".into());
        };
        if ommer.parent_hash == header.parent_hash {
            return Err("dangling uncle (sibling)".into());
        }
        verify_header(fork, ommer, ommer_parent).map_err(|e| format!("uncle: {e}"))?;
    }
    Ok(())
}
