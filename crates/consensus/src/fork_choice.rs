//! Fork choice (tribe.md §13): total difficulty, then the lower number, then a coin flip
//! (geth 1.8 `WriteBlockAndState`).

use alloy_primitives::U256;
use spectrum_primitives::Header;

/// What the fork-choice rule says about a new block against the current head (tribe.md §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadChoice {
    /// The new block becomes the head.
    New,
    /// The current head stays.
    Current,
    /// Equal total difficulty and equal number: the reference flips a coin (50 %); the caller
    /// decides.
    Tie,
}

/// The fork-choice rule (tribe.md §13): the higher total difficulty wins; on equal total
/// difficulty the block with the lower number wins; on equal number too it is a [`HeadChoice::Tie`].
pub fn head_choice(
    new_td: U256,
    new_header: &Header,
    current_td: U256,
    current_header: &Header,
) -> HeadChoice {
    match new_td.cmp(&current_td) {
        std::cmp::Ordering::Greater => HeadChoice::New,
        std::cmp::Ordering::Less => HeadChoice::Current,
        std::cmp::Ordering::Equal => match new_header.number.cmp(&current_header.number) {
            std::cmp::Ordering::Less => HeadChoice::New,
            std::cmp::Ordering::Greater => HeadChoice::Current,
            std::cmp::Ordering::Equal => HeadChoice::Tie,
        },
    }
}

/// Whether the new block should replace the current head (tribe.md §13, [`head_choice`]).
/// A [`HeadChoice::Tie`] keeps the current head: the reference's coin flip is a local choice,
/// not consensus, and keeping the first-seen block avoids needless reorgs.
pub fn is_better_head(
    new_td: U256,
    new_header: &Header,
    current_td: U256,
    current_header: &Header,
) -> bool {
    head_choice(new_td, new_header, current_td, current_header) == HeadChoice::New
}
