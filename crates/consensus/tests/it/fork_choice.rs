//! Fork choice (tribe.md §13): heavier total difficulty wins, then the lower number, then a tie.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::recorded::{devnet_a, devnet_multi};
use spectrum_consensus::{HeadChoice, head_choice, is_better_head};
use spectrum_primitives::{Header, U256};

fn header(number: u64, difficulty: u64) -> Header {
    Header {
        number,
        difficulty: U256::from(difficulty),
        ..Header::default()
    }
}

#[test]
fn heavier_total_difficulty_wins_whatever_the_number() {
    let td = |n: u64| U256::from(n);
    // A shorter chain with more weight beats a longer lighter one, and the other way round.
    assert!(is_better_head(
        td(101),
        &header(10, 6),
        td(100),
        &header(20, 1)
    ));
    assert!(!is_better_head(
        td(100),
        &header(20, 1),
        td(101),
        &header(10, 6)
    ));
    assert_eq!(
        head_choice(td(99), &header(30, 6), td(100), &header(20, 1)),
        HeadChoice::Current
    );
}

#[test]
fn equal_total_difficulty_prefers_the_lower_number() {
    let td = U256::from(500);
    assert_eq!(
        head_choice(td, &header(40, 1), td, &header(41, 1)),
        HeadChoice::New
    );
    assert!(is_better_head(td, &header(40, 1), td, &header(41, 1)));
    assert_eq!(
        head_choice(td, &header(42, 1), td, &header(41, 1)),
        HeadChoice::Current
    );
    assert!(!is_better_head(td, &header(42, 1), td, &header(41, 1)));
}

#[test]
fn equal_total_difficulty_and_number_is_a_tie_that_keeps_the_head() {
    let td = U256::from(500);
    assert_eq!(
        head_choice(td, &header(41, 5), td, &header(41, 5)),
        HeadChoice::Tie
    );
    assert!(!is_better_head(td, &header(41, 5), td, &header(41, 5)));
}

/// tribe.md §13: the in-turn sibling (difficulty 6) of a stand-in block (5) on the same parent
/// wins, so the priority ladder decides the canonical chain.
#[test]
fn in_turn_sibling_beats_the_stand_in() {
    let parent_td = U256::from(1000);
    let in_turn = header(146, 6);
    let stand_in = header(146, 5);
    let td = |h: &Header| parent_td + h.difficulty;
    assert!(is_better_head(
        td(&in_turn),
        &in_turn,
        td(&stand_in),
        &stand_in
    ));
    assert!(!is_better_head(
        td(&stand_in),
        &stand_in,
        td(&in_turn),
        &in_turn
    ));
}

/// Along both reference chains each block is a better head than its parent, with the
/// totalDifficulty the reference reported, and the reported total is the running sum.
#[test]
fn every_reference_block_beats_its_parent() {
    for fixture in [devnet_a(), devnet_multi()] {
        let tds: Vec<U256> = fixture.expected["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| U256::from(b["totalDifficulty"].as_u64().unwrap()))
            .collect();
        let mut running = U256::ZERO;
        for (block, td) in fixture.blocks.iter().zip(&tds) {
            running += block.header.difficulty;
            assert_eq!(running, *td, "{}: block {}", fixture.name, block.number());
        }
        for (pair, tds) in fixture.blocks.windows(2).zip(tds.windows(2)) {
            assert!(is_better_head(
                tds[1],
                &pair[1].header,
                tds[0],
                &pair[0].header
            ));
        }
    }
}
