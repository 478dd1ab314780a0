//! Our validator extensions `tribe_nextSlots` and `tribe_missedSlots` on the reference devnet
//! chain (period 3; from block 63 chief 1.0.0 with signer limit 5, the one signer S in slot 0
//! and four empty slots). The case where another signer fills a slot is covered with real
//! processes in bin/spectrum/tests/validator_e2e.rs.

use serde_json::{Value, json};

use crate::harness::{SIGNER, shared};

fn lower(value: &Value) -> String {
    value.as_str().unwrap().to_lowercase()
}

/// After head 220: 221..=224 are empty slots, filled by signers[0] = S at period + 3 = 6 s;
/// 225 is slot 0, S's own, at period − 1 = 2 s.
#[test]
fn next_slots_follow_the_signer_list_and_role_delays() {
    let node = shared();
    let slots = node.result("tribe_nextSlots", json!([5]));
    let slots = slots.as_array().unwrap();
    assert_eq!(slots.len(), 5);
    for (i, slot) in slots.iter().enumerate() {
        let number = 221 + i as u64;
        assert_eq!(slot["number"], json!(number));
        assert_eq!(lower(&slot["signer"]), SIGNER);
        let in_turn = number.is_multiple_of(5);
        assert_eq!(slot["inTurn"], json!(in_turn), "{slot}");
        assert_eq!(slot["delay"], json!(if in_turn { 2 } else { 6 }), "{slot}");
    }
    // Hex counts work too, and a huge count is capped, not refused.
    assert_eq!(
        node.result("tribe_nextSlots", json!(["0x2"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        node.result("tribe_nextSlots", json!([1_000_000]))
            .as_array()
            .unwrap()
            .len(),
        1024
    );
    let (code, _, _) = node.error("tribe_nextSlots", json!(["many"]));
    assert_eq!(code, -32602);
}

/// S sealed every block itself: none of its in-turn slots (every block under 0.0.7, slot 0
/// from 63) was missed; an address that never had a slot missed none either.
#[test]
fn missed_slots_of_a_signer_that_sealed_everything_are_none() {
    let node = shared();
    assert_eq!(
        node.result("tribe_missedSlots", json!([SIGNER, 1, 220])),
        json!([])
    );
    assert_eq!(
        node.result("tribe_missedSlots", json!([SIGNER, "0x3c", "0xdc"])),
        json!([])
    );
    let other = "0x00000000000000000000000000000000000000aa";
    assert_eq!(
        node.result("tribe_missedSlots", json!([other, 1, 220])),
        json!([])
    );
}

#[test]
fn missed_slots_ranges_are_checked() {
    let node = shared();
    let (code, message, _) = node.error("tribe_missedSlots", json!([SIGNER, 10, 5]));
    assert_eq!(code, -32602);
    assert!(message.contains("toBlock is below fromBlock"), "{message}");
    let (code, message, _) = node.error("tribe_missedSlots", json!([SIGNER, 1, 5000]));
    assert_eq!(code, -32602);
    assert!(
        message.contains("at most 1024 blocks per call"),
        "{message}"
    );
    let (code, message, _) = node.error("tribe_missedSlots", json!([SIGNER, 500, 600]));
    assert_eq!(
        (code, message.as_str()),
        (-32000, "fromBlock is beyond the head")
    );
    let (code, _, _) = node.error("tribe_missedSlots", json!(["nope", 1, 2]));
    assert_eq!(code, -32602);
}
