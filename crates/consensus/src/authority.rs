//! Authorisation, difficulty and timing of the block's signer (tribe.md §6, §7; errata E3, E4):
//! pure functions of the block number, the recovered signer and the [`SignerSet`] read at the
//! parent state. They apply to blocks N > 3 only ([`CHIEF_NUMBER`]).

use alloy_primitives::{Address, U256};
use spectrum_chainspec::{ChainSpec, ChiefEntry};
use spectrum_primitives::Header;

use crate::{
    error::TribeError,
    header_rules::{CHIEF_100_MAX_DIFFICULTY, is_skip_block, tribe_period},
    signers::{SignerSet, is_chief_100},
};

/// Blocks up to this number are not signer-checked and carry no chief-update transaction
/// (tribe.md §1, the reference's `CHIEF_NUMBER`).
pub const CHIEF_NUMBER: u64 = 3;

/// The difficulty signer `signer` must give block `number` (tribe.md §6; errata E4: before
/// 1.0.0 `sl` is the number of listed signers).
///
/// Before chief 1.0.0, with `idx` the first index of the signer: before SIP002 2 if
/// `N mod sl == idx`, else 1; from SIP002 3 if `N mod sl == idx`, 2 if `(N+1) mod sl == idx`,
/// else 1. Under chief 1.0.0: a listed signer gets 6 in turn, 5 at index 0, else 1; an unlisted
/// leader at position `i` of `L'` ([`SignerSet::rotated_leaders`]) gets `5 − i` in a slot-0
/// block (`N mod sl == 0`) and `4 − i` otherwise; anyone else 1. A leader so far down `L'`
/// that the reference's value is 0 or negative gets 0 here: no header matches either.
pub fn expected_difficulty(
    spec: &ChainSpec,
    chief: &ChiefEntry,
    number: u64,
    signer: Address,
    set: &SignerSet,
) -> u64 {
    let slot = set.slot(number);
    let index = set.index_of(signer);
    if is_chief_100(chief) {
        if let Some(idx) = index {
            if slot == Some(idx) {
                return CHIEF_100_MAX_DIFFICULTY;
            }
            if idx == 0 {
                return CHIEF_100_MAX_DIFFICULTY.saturating_sub(1);
            }
            return 1;
        }
        if let Some(slot) = slot
            && let Some(i) = set.rotated_leaders().iter().position(|l| *l == signer)
        {
            let i = u64::try_from(i).unwrap_or(u64::MAX);
            let top = if slot == 0 { 5u64 } else { 4u64 };
            return top.saturating_sub(i);
        }
        return 1;
    }
    let Some(idx) = index else {
        return 1;
    };
    if spec.is_sip002(number) {
        if slot == Some(idx) {
            3
        } else if number
            .checked_add(1)
            .and_then(|n| n.checked_rem(set.modulus()))
            == Some(idx)
        {
            2
        } else {
            1
        }
    } else if slot == Some(idx) {
        2
    } else {
        1
    }
}

/// The minimum delay after the parent for signer `signer` at block `number` (tribe.md §7
/// item 1 in the general form of errata E3, the reference's `GetPeriod`/`GetPeriodChief100`).
///
/// Before chief 1.0.0 (`Main = period − 1`, `Subs = period + 3`, `Other = period + 7`):
/// `Main` if `signers[N mod sl]` is the signer, `Subs` if `signers[(N+1) mod sl]` is, else
/// `Other` (also for N ≤ 3: `Subs`; an empty list: `Other`). Under chief 1.0.0: `Main` if
/// `signers[N mod sl]` is the signer, `Subs` if `signers[0]` is, for position `i` in `L'`
/// `Subs + 4i` in a slot-0 block and `Other + 4i` otherwise, else `period + 23` (also for an
/// empty list). Mainnet 14/18/22/…/38 s, devnet 2/6/10/…/26 s.
pub fn role_delay(
    spec: &ChainSpec,
    chief: &ChiefEntry,
    number: u64,
    signer: Address,
    set: &SignerSet,
) -> u64 {
    let period = tribe_period(spec);
    let main = period.saturating_sub(1);
    let subs = period.saturating_add(3);
    let other = period.saturating_add(7);
    let step = subs.saturating_sub(main);
    let slot = set.slot(number);
    let in_turn = slot.and_then(|s| set.signer_at(s)) == Some(signer);
    if is_chief_100(chief) {
        let none = period.saturating_sub(1).saturating_add(24);
        let Some(slot) = slot else {
            return none;
        };
        if in_turn {
            return main;
        }
        if set.signers.first() == Some(&signer) {
            return subs;
        }
        if let Some(i) = set.rotated_leaders().iter().position(|l| *l == signer) {
            let i = u64::try_from(i).unwrap_or(u64::MAX);
            let base = if slot == 0 { subs } else { other };
            return base.saturating_add(i.saturating_mul(step));
        }
        return none;
    }
    if number <= CHIEF_NUMBER {
        return subs;
    }
    if in_turn {
        return main;
    }
    let next = number
        .checked_add(1)
        .and_then(|n| n.checked_rem(set.modulus()))
        .and_then(|s| set.signer_at(s));
    if next == Some(signer) {
        return subs;
    }
    other
}

/// The membership rule (tribe.md §7 item 3). Before SIP100 the signer must be listed anywhere.
/// From SIP100 a listed signer may seal only its own slot (`N mod sl == idx`) or, at index 0,
/// any slot; an unlisted signer only if it is a leader.
pub fn check_signer_authorised(
    spec: &ChainSpec,
    number: u64,
    signer: Address,
    set: &SignerSet,
) -> Result<(), TribeError> {
    let slot = set.slot(number);
    let allowed = match set.index_of(signer) {
        Some(idx) if spec.is_sip100(number) => slot == Some(idx) || idx == 0,
        Some(_) => true,
        None => spec.is_sip100(number) && set.leaders.contains(&signer),
    };
    if !allowed {
        return Err(TribeError::UnauthorisedSigner { signer, slot });
    }
    Ok(())
}

/// The coinbase rule (tribe.md §7 item 2, §2): from SIP100 the coinbase must not be zero.
pub fn check_coinbase(spec: &ChainSpec, header: &Header) -> Result<(), TribeError> {
    if spec.is_sip100(header.number) && header.beneficiary == Address::ZERO {
        return Err(TribeError::ZeroCoinbase);
    }
    Ok(())
}

/// The role-timing rule (tribe.md §7 item 1, errata E3): from SIP002,
/// `time ≥ P.time + role_delay(N, signer)` ([`role_delay`]).
pub fn check_role_delay(
    spec: &ChainSpec,
    chief: &ChiefEntry,
    header: &Header,
    parent: &Header,
    signer: Address,
    set: &SignerSet,
) -> Result<(), TribeError> {
    if !spec.is_sip002(header.number) {
        return Ok(());
    }
    let delay = role_delay(spec, chief, header.number, signer, set);
    let earliest = parent.timestamp.saturating_add(delay);
    if header.timestamp < earliest {
        return Err(TribeError::TooEarly {
            earliest,
            got: header.timestamp,
        });
    }
    Ok(())
}

/// The difficulty rule (tribe.md §6, §7 item 4): the header's difficulty equals
/// [`expected_difficulty`], except at skip blocks ([`is_skip_block`]).
pub fn check_difficulty(
    spec: &ChainSpec,
    chief: &ChiefEntry,
    header: &Header,
    signer: Address,
    set: &SignerSet,
) -> Result<(), TribeError> {
    if is_skip_block(spec, header.number) {
        return Ok(());
    }
    let expected = expected_difficulty(spec, chief, header.number, signer, set);
    if header.difficulty != U256::from(expected) {
        return Err(TribeError::WrongDifficulty {
            expected,
            got: header.difficulty,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    const A: Address = address!("00000000000000000000000000000000000000aa");
    const B: Address = address!("00000000000000000000000000000000000000bb");
    const C: Address = address!("00000000000000000000000000000000000000cc");
    const D: Address = address!("00000000000000000000000000000000000000dd");
    const E: Address = address!("00000000000000000000000000000000000000ee");
    const X: Address = address!("00000000000000000000000000000000000000ff");

    fn mainnet_chief(version: &str) -> ChiefEntry {
        let spec = ChainSpec::mainnet();
        spec.tribe
            .chiefs
            .iter()
            .find(|c| c.version == version)
            .cloned()
            .unwrap()
    }

    /// tribe.md §6 "Resulting ladder with 5 leaders" and §7's 14…34 s, on mainnet (sl = 17).
    #[test]
    fn chief_100_ladder_with_five_leaders() {
        let spec = ChainSpec::mainnet();
        let chief = mainnet_chief("1.0.0");
        let mut signers = vec![Address::ZERO; 17];
        signers[0] = B; // slot-0 leader of this round
        signers[3] = X; // a staker in slot 3
        let set = SignerSet {
            signers,
            leaders: vec![A, B, C, D, E],
        };
        // L' = [C, D, E, A].
        assert_eq!(set.rotated_leaders(), vec![C, D, E, A]);
        let normal = 17 * 200_000 + 3; // SIP100 era, N mod 17 = 3: X's slot
        let leader_slot = 17 * 200_000; // N mod 17 = 0
        let diff = |n, s| expected_difficulty(&spec, &chief, n, s, &set);
        let delay = |n, s| role_delay(&spec, &chief, n, s, &set);
        assert_eq!(
            [X, B, C, D, E, A].map(|s| diff(normal, s)),
            [6, 5, 4, 3, 2, 1]
        );
        assert_eq!(
            [X, B, C, D, E, A].map(|s| delay(normal, s)),
            [14, 18, 22, 26, 30, 34]
        );
        assert_eq!(
            [B, C, D, E, A].map(|s| diff(leader_slot, s)),
            [6, 5, 4, 3, 2]
        );
        assert_eq!(
            [B, C, D, E, A].map(|s| delay(leader_slot, s)),
            [14, 18, 22, 26, 30]
        );
        // The staker out of its slot: difficulty 1, "no role" delay, not authorised.
        assert_eq!(diff(normal + 1, X), 1);
        assert_eq!(delay(normal + 1, X), 38);
        assert_eq!(
            check_signer_authorised(&spec, normal + 1, X, &set),
            Err(TribeError::UnauthorisedSigner {
                signer: X,
                slot: Some(4)
            })
        );
        // Leaders and the in-turn staker are authorised; an outsider is not.
        for s in [X, A, B, C, D, E] {
            assert_eq!(check_signer_authorised(&spec, normal, s, &set), Ok(()));
        }
        let outsider = address!("0000000000000000000000000000000000000001");
        assert!(check_signer_authorised(&spec, normal, outsider, &set).is_err());
        assert_eq!(diff(normal, outsider), 1);
    }

    /// tribe.md §6/§7 before chief 1.0.0: 3/2/1 and 14/18/22 from SIP002, 2/1 before.
    #[test]
    fn pre_100_roles() {
        let spec = ChainSpec::mainnet();
        let chief = mainnet_chief("0.0.6");
        let set = SignerSet {
            signers: vec![A, B, C],
            leaders: vec![],
        };
        let n = 600_000; // SIP002 era, n mod 3 = 0
        assert_eq!(n % 3, 0);
        assert_eq!(
            [A, B, C, X].map(|s| expected_difficulty(&spec, &chief, n, s, &set)),
            [3, 2, 1, 1]
        );
        assert_eq!(
            [A, B, C, X].map(|s| role_delay(&spec, &chief, n, s, &set)),
            [14, 18, 22, 22]
        );
        let old = mainnet_chief("0.0.5");
        let n = 300_000; // before SIP002, n mod 3 = 0
        assert_eq!(
            [A, B, C].map(|s| expected_difficulty(&spec, &old, n, s, &set)),
            [2, 1, 1]
        );
        assert!(check_signer_authorised(&spec, n, C, &set).is_ok());
        assert!(check_signer_authorised(&spec, n, X, &set).is_err());
    }

    #[test]
    fn empty_signer_list_does_not_divide_by_zero() {
        let spec = ChainSpec::mainnet();
        let set = SignerSet {
            signers: vec![],
            leaders: vec![A],
        };
        let chief = mainnet_chief("1.0.0");
        assert_eq!(expected_difficulty(&spec, &chief, 3_000_000, A, &set), 1);
        assert_eq!(role_delay(&spec, &chief, 3_000_000, A, &set), 38);
        assert!(check_signer_authorised(&spec, 3_000_000, A, &set).is_ok());
        let old = mainnet_chief("0.0.6");
        assert_eq!(expected_difficulty(&spec, &old, 600_000, A, &set), 1);
        assert_eq!(role_delay(&spec, &old, 600_000, A, &set), 22);
    }

    #[test]
    fn deep_leader_gets_no_valid_difficulty() {
        let spec = ChainSpec::mainnet();
        let chief = mainnet_chief("1.0.0");
        let leaders: Vec<Address> = (1u8..=8).map(Address::with_last_byte).collect();
        let set = SignerSet {
            signers: vec![leaders[0], Address::ZERO],
            leaders: leaders.clone(),
        };
        // L' = leaders[1..]; position 6 (leaders[7]) is past 5 − i ≥ 1.
        assert_eq!(expected_difficulty(&spec, &chief, 4, leaders[7], &set), 0);
        assert_eq!(expected_difficulty(&spec, &chief, 4, leaders[5], &set), 1);
    }
}
