//! Our chief, ChiefBase and POC behave like the reference node's under our engine.
//!
//! Two chains differ only in those three contracts: the reference's, copied (code and
//! storage) from `spectrum-devnet-multi` after block 64 as our node imports it, and ours,
//! installed by `tribe_genesis_alloc` with the same parameters (see `twin/mod.rs`). Our block
//! producer drives both through the same scenario as the reference's five-node run (README of
//! the test data): signer rotation, stakers depositing and being picked by the VRF, missed
//! slots sealed by another signer and penalised, the blacklist emptied at the epoch, `start`,
//! `stop`, `withdraw`, `withdrawSurplus`, leaders appended, down and removed. After every block
//! both chains must give every node the same role, every transaction the same status and logs,
//! and every contract view the same answer; every block passes our verifier on both.
//!
//! The smaller tests below pin edges found by this comparison where a first version of our
//! contracts answered differently from the reference's; each states the reference's behaviour.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::twin;

use alloy_primitives::{Address, U256};
use spectrum_contracts::abi::PocNodeCall;
use twin::{
    Action, Actor, Cast, DEPOSIT_HALVING, Expect, Sealed, Twins, WITHDRAW_WAIT, chief_status, short,
};

/// [`WITHDRAW_WAIT`] as a count of blocks to seal.
const WAIT_BLOCKS: usize = WITHDRAW_WAIT as usize;
/// [`DEPOSIT_HALVING`] as a count of blocks to seal.
const HALVING_BLOCKS: usize = DEPOSIT_HALVING as usize;

fn contains(list: &[Address], node: &Actor) -> bool {
    list.contains(&node.address)
}

#[test]
fn our_contracts_behave_as_the_reference_under_the_engine() {
    let mut t = Twins::new();
    let n = Cast::new();

    // Genesis: the reference's state after block 64 (tribe[64] of expected.json).
    let zero = Address::ZERO;
    assert_eq!(t.signers(), [n.a.address, zero, zero, zero, zero]);
    assert_eq!(t.leaders(), [n.a.address]);
    assert!(t.poc_list("getNormalList()").is_empty());
    assert_eq!(t.min_deposit(), 10);

    staking(&mut t, &n);
    let missed = missed_slot_and_epoch(&mut t, &n);
    assert!(
        missed < 25,
        "the miss falls before the first epoch boundary"
    );
    leaders_rotate(&mut t, &n);
    leader_and_staker_down(&mut t, &n);
    surplus_stop_and_withdraw(&mut t, &n);
    remove_leader(&mut t, &n);
    deposit_halving(&mut t, &n);

    // The whole ladder of roles occurred on both chains.
    let seen = |signer: &str, difficulty: u64| {
        t.history
            .iter()
            .any(|s| s.signer == signer && s.difficulty == difficulty)
    };
    for (signer, difficulty) in [
        ("A", 6),
        ("A", 5),
        ("A", 4),
        ("B", 6),
        ("C", 6),
        ("D", 6),
        ("D", 5),
    ] {
        assert!(
            seen(signer, difficulty),
            "no block by {signer} at difficulty {difficulty}"
        );
    }
}

/// Deposits (and the ways they fail), VRF-picked volunteers and the stakers' first round.
fn staking(t: &mut Twins, n: &Cast) {
    let (a, b, c, d, user1, user2) = (&n.a, &n.b, &n.c, &n.d, &n.user1, &n.user2);
    let block1 = t.seal(
        &[],
        &[
            Action::deposit(b, user1, 10, Expect::Success),
            Action::deposit(c, user2, 10, Expect::Success),
            Action::deposit(d, user1, 9, Expect::Revert),
            Action::poc(PocNodeCall::Start, b, user2, Expect::Revert),
            Action::poc(PocNodeCall::Stop, c, user1, Expect::Revert),
        ],
    );
    assert_eq!(
        (block1.signer, block1.difficulty),
        ("A", 5),
        "slot-0 leader out of turn"
    );
    assert_eq!(t.poc_list("getNormalList()"), [b.address, c.address]);
    assert_eq!(t.miner_status(b), (U256::from(10u64), 0, user1.address));
    t.seal(&[], &[Action::deposit(b, user2, 10, Expect::Revert)]);

    // Blocks 2 and 3 pick B and C (VRF order); block 4 ends the round.
    t.seal_until(&[], 3, "B and C in the signer list", |t| {
        contains(&t.signers(), b) && contains(&t.signers(), c)
    });
    assert_eq!(t.next_number(), 5);
    let round = t.signers();
    assert_eq!(round[0], a.address);
    for _ in 0..5 {
        t.seal(&[], &[]);
    }
    for sealed in &t.history[4..9] {
        let in_turn = round[(sealed.number % 5) as usize];
        if in_turn.is_zero() {
            assert_eq!(
                (sealed.signer, sealed.difficulty),
                ("A", 5),
                "block {}",
                sealed.number
            );
        } else {
            assert_eq!(short(in_turn), sealed.signer, "block {}", sealed.number);
            assert_eq!(sealed.difficulty, 6, "block {}", sealed.number);
        }
    }
}

/// C misses its slot: the slot-0 leader seals it, C is stopped and blacklisted and its slot
/// emptied; it cannot start again until the epoch block empties the blacklist. Returns the
/// block of the miss.
fn missed_slot_and_epoch(t: &mut Twins, n: &Cast) -> u64 {
    let (c, user2) = (&n.c, &n.user2);
    t.seal_until(&[], 15, "C's slot comes next", |t| {
        let slot = (t.next_number() % 5) as usize;
        slot != 0 && t.signers()[slot] == c.address
    });
    let slot = (t.next_number() % 5) as usize;
    let miss = t.seal(&[c], &[]);
    assert_missed(&miss, c, "A", 5);
    assert_eq!(t.signers()[slot], Address::ZERO, "C's slot is emptied");
    assert_eq!(t.poc_list("getBlackList()"), [c.address]);
    assert_eq!(t.poc_list("getStopList()"), [c.address]);
    assert!(!contains(&t.poc_list("getNormalList()"), c));
    assert_eq!(chief_status(&t.reference).black_list, [c.address]);
    assert_eq!(t.miner_status(c).1, miss.number, "stop block");

    t.seal(
        &[],
        &[Action::poc(PocNodeCall::Start, c, user2, Expect::Revert)],
    );
    t.seal_until(&[], 25, "the epoch block is next", |t| {
        t.next_number() == 25
    });
    assert_eq!(t.poc_list("getBlackList()"), [c.address]);
    // Block 25's chief update empties the blacklist before C's owner starts it again.
    t.seal(
        &[],
        &[Action::poc(PocNodeCall::Start, c, user2, Expect::Success)],
    );
    assert!(t.poc_list("getBlackList()").is_empty());
    assert!(t.poc_list("getStopList()").is_empty());
    assert_eq!(
        t.poc_list("getNormalList()").last(),
        Some(&c.address),
        "start appends"
    );
    assert_eq!(t.miner_status(c).1, 0, "start resets the stop block");
    miss.number
}

fn assert_missed(sealed: &Sealed, owner: &Actor, by: &str, difficulty: u64) {
    assert_eq!(sealed.slot_owner, owner.address, "block {}", sealed.number);
    assert_eq!(
        (sealed.signer, sealed.difficulty),
        (by, difficulty),
        "block {}: who sealed {}'s missed slot",
        sealed.number,
        owner.name
    );
}

/// Only the owner appends leaders, once each; slot 0 then alternates between A and D, and D
/// seals its slot-0 blocks in turn.
fn leaders_rotate(t: &mut Twins, n: &Cast) {
    let (a, d, e, user1, user2) = (&n.a, &n.d, &n.e, &n.user1, &n.user2);
    t.seal(
        &[],
        &[
            Action::append_leader(d.address, user1, Expect::Success),
            Action::append_leader(e.address, user2, Expect::Revert),
            Action::append_leader(a.address, user1, Expect::Revert),
        ],
    );
    assert_eq!(t.leaders(), [a.address, d.address]);
    let mut slot0 = Vec::new();
    for _ in 0..3 {
        t.seal_until(&[], 5, "a round starts", |t| t.next_number() % 5 == 0);
        slot0.push(t.signers()[0]);
        let first = t.seal(&[], &[]);
        assert_eq!(
            first.difficulty, 6,
            "slot-0 leader in turn at {}",
            first.number
        );
    }
    assert!(
        slot0 == [d.address, a.address, d.address] || slot0 == [a.address, d.address, a.address],
        "slot 0 alternates: {slot0:?}"
    );
}

/// The slot-0 leader D is down for a whole round and so is a staker with a slot in it: A, as
/// the other leader L'[0], seals D's slot-0 block (difficulty 5) and the empty and missed
/// slots (4). The staker is penalised, the leader is not. At the next epoch its owner starts
/// it again.
fn leader_and_staker_down(t: &mut Twins, n: &Cast) {
    let d = &n.d;
    t.seal_until(&[], 10, "a round of D starts", |t| {
        t.next_number() % 5 == 0 && t.signers()[0] == d.address
    });
    let round = t.signers();
    let staker = [&n.b, &n.c, &n.e]
        .into_iter()
        .find(|s| round[1..].contains(&s.address))
        .cloned()
        .expect("a staker holds a slot in D's round");
    for _ in 0..5 {
        let sealed = t.seal(&[d, &staker], &[]);
        let expected = match sealed.number % 5 {
            0 => ("A".to_owned(), 5),
            _ if sealed.slot_owner.is_zero() || sealed.slot_owner == staker.address => {
                ("A".to_owned(), 4)
            }
            _ => (short(sealed.slot_owner), 6),
        };
        assert_eq!(
            (sealed.signer.to_owned(), sealed.difficulty),
            expected,
            "block {}",
            sealed.number
        );
        if !t.next_number().is_multiple_of(5) {
            // Within the round D keeps its slot: a leader is never penalised.
            assert_eq!(t.signers()[0], d.address, "after block {}", sealed.number);
        }
    }
    assert_eq!(
        t.signers()[0],
        n.a.address,
        "the next round's slot 0 goes to the next leader as usual"
    );
    let missed = t
        .history
        .iter()
        .rev()
        .take(5)
        .find(|s| s.slot_owner == staker.address);
    assert!(
        missed.is_some_and(|s| s.signer == "A" && s.difficulty == 4),
        "{}'s missed slot sealed by A as the other leader: {missed:?}",
        staker.name
    );
    assert!(contains(&t.poc_list("getBlackList()"), &staker));
    assert!(contains(&t.poc_list("getStopList()"), &staker));
    assert!(
        !contains(&t.poc_list("getStopList()"), d) && !contains(&t.poc_list("getBlackList()"), d)
    );

    let epoch = t.next_number().div_ceil(25) * 25;
    t.seal_until(&[], 25, "the epoch block is next", |t| {
        t.next_number() == epoch
    });
    t.seal(
        &[],
        &[Action::poc(
            PocNodeCall::Start,
            &staker,
            n.owner_of(&staker),
            Expect::Success,
        )],
    );
    assert!(contains(&t.poc_list("getNormalList()"), &staker));
}

/// E stakes more than the minimum and takes the surplus back; once the VRF picks it, its owner
/// stops it: it keeps its slot for the coming round, misses it without being blacklisted
/// (it is already stopped), and withdraws after the wait.
fn surplus_stop_and_withdraw(t: &mut Twins, n: &Cast) {
    let (e, user1, user2) = (&n.e, &n.user1, &n.user2);
    t.seal(&[], &[Action::deposit(e, user1, 25, Expect::Success)]);
    t.seal(
        &[],
        &[
            Action::poc(PocNodeCall::WithdrawSurplus, e, user2, Expect::Revert),
            Action::poc(PocNodeCall::WithdrawSurplus, e, user1, Expect::Success),
            Action::poc(PocNodeCall::WithdrawSurplus, e, user1, Expect::Revert),
        ],
    );
    let stake = U256::from(t.min_deposit());
    assert_eq!(t.miner_status(e), (stake, 0, user1.address));

    t.seal_until(&[], 40, "E picked for the next round", |t| {
        contains(&t.volunteers(), e)
    });
    let stop = t.seal(
        &[],
        &[
            Action::poc(PocNodeCall::Stop, e, user1, Expect::Success),
            Action::poc(PocNodeCall::Withdraw, e, user1, Expect::Revert),
        ],
    );
    assert_eq!(t.miner_status(e).1, stop.number);
    t.seal_until(&[e], 10, "E's round is over", |t| {
        !contains(&t.signers(), e) && !contains(&t.volunteers(), e)
    });
    let missed = t
        .history
        .iter()
        .find(|s| s.number > stop.number && s.slot_owner == e.address)
        .expect("E held a slot after it stopped");
    assert_ne!(missed.signer, "E");
    assert!(
        !contains(&t.poc_list("getBlackList()"), e),
        "a stopped staker is not blacklisted"
    );
    assert_eq!(t.miner_status(e).1, stop.number, "the stop block stays");

    // The reference pays out once more than withdrawWaitNumber blocks have passed.
    t.seal_until(&[], WAIT_BLOCKS + 2, "the wait is over", |t| {
        t.next_number() == stop.number + WITHDRAW_WAIT + 1
    });
    let held = t.reference.balance(t.reference.contracts.poc);
    t.seal(
        &[],
        &[Action::poc(
            PocNodeCall::Withdraw,
            e,
            user1,
            Expect::Success,
        )],
    );
    assert_eq!(t.reference.balance(t.reference.contracts.poc), held - stake);
    assert_eq!(t.miner_status(e), (U256::ZERO, 0, Address::ZERO));
    assert!(!contains(&t.poc_list("getStopList()"), e));
}

/// The owner removes D; the last leader cannot be removed; slot 0 is A's from then on.
fn remove_leader(t: &mut Twins, n: &Cast) {
    let (a, d, user1) = (&n.a, &n.d, &n.user1);
    t.seal(
        &[],
        &[
            Action::remove_leader(d.address, user1, Expect::Success),
            Action::remove_leader(a.address, user1, Expect::Revert),
        ],
    );
    assert_eq!(t.leaders(), [a.address]);
    for _ in 0..2 {
        t.seal_until(&[], 6, "a round starts", |t| t.next_number() % 5 == 0);
        assert_eq!(t.signers()[0], a.address);
        t.seal(&[], &[]);
    }
    assert!(!contains(&t.leaders(), d));
}

/// The minimum deposit halves every [`DEPOSIT_HALVING`] blocks, three times; deposits follow it.
fn deposit_halving(t: &mut Twins, n: &Cast) {
    let (d, e, user1) = (&n.d, &n.e, &n.user1);
    let halving = DEPOSIT_HALVING;
    t.seal_until(&[], 2 * HALVING_BLOCKS, "the second halving", |t| {
        t.next_number() > 2 * halving
    });
    assert_eq!(t.min_deposit(), 2, "10 >> 2 from block {}", 2 * halving);
    t.seal(
        &[],
        &[
            Action::deposit(e, user1, 1, Expect::Revert),
            Action::deposit(d, user1, 2, Expect::Success),
        ],
    );
    t.seal_until(&[], HALVING_BLOCKS + 2, "the third halving", |t| {
        t.next_number() > 3 * halving
    });
    assert_eq!(t.min_deposit(), 1, "at most three halvings: 10 >> 3");
    t.seal(&[], &[Action::deposit(e, user1, 1, Expect::Success)]);
    assert!(contains(&t.poc_list("getNormalList()"), d));
}

// ---------------------------------------------------------------------------------------------
// Edges where ours once differed from the reference's
// ---------------------------------------------------------------------------------------------

/// POC `withdraw` pays out only when `block.number - stop_block > withdrawWaitNumber`, not
/// already at `==`.
#[test]
fn withdraw_exactly_at_the_wait_reverts_as_the_reference() {
    let mut t = Twins::new();
    let Cast { b, user1, .. } = Cast::new();
    t.seal(&[], &[Action::deposit(&b, &user1, 10, Expect::Success)]);
    let stop = t.seal(
        &[],
        &[Action::poc(PocNodeCall::Stop, &b, &user1, Expect::Success)],
    );
    t.seal_until(&[], WAIT_BLOCKS + 2, "stop + the wait", |t| {
        t.next_number() == stop.number + WITHDRAW_WAIT
    });
    t.seal(
        &[],
        &[Action::poc(
            PocNodeCall::Withdraw,
            &b,
            &user1,
            Expect::Revert,
        )],
    );
}

/// ChiefBase `removeLeader` of an address that is not a leader succeeds and changes nothing
/// (while there is more than one leader).
#[test]
fn remove_leader_of_a_non_leader_succeeds_as_the_reference() {
    let mut t = Twins::new();
    let Cast { d, e, user1, .. } = Cast::new();
    t.seal(
        &[],
        &[Action::append_leader(d.address, &user1, Expect::Success)],
    );
    t.seal(
        &[],
        &[Action::remove_leader(e.address, &user1, Expect::Success)],
    );
}

/// ChiefBase `appendLeader` on a full list (5 leaders) succeeds and changes nothing.
#[test]
fn append_leader_to_a_full_list_succeeds_as_the_reference() {
    let mut t = Twins::new();
    let Cast {
        b, c, d, e, user1, ..
    } = Cast::new();
    t.seal(
        &[],
        &[
            Action::append_leader(b.address, &user1, Expect::Success),
            Action::append_leader(c.address, &user1, Expect::Success),
            Action::append_leader(d.address, &user1, Expect::Success),
            Action::append_leader(e.address, &user1, Expect::Success),
            Action::append_leader(user1.address, &user1, Expect::Success),
        ],
    );
}

/// Chief `getStatus().numberList` holds 1 for every signer, as the reference's (not read
/// by the engine or tribe_getStatus, but visible to anyone calling the chief).
#[test]
fn get_status_number_list_is_the_reference_s() {
    let mut t = Twins::new();
    for _ in 0..4 {
        t.seal(&[], &[]);
    }
    assert_eq!(
        chief_status(&t.ours).numbers,
        chief_status(&t.reference).numbers,
        "after block 4 (ours, reference)"
    );
}
