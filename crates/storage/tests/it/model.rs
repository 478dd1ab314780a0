//! Property: over random blocks of state changes, the database's historical reads agree with
//! an in-memory model (`MemoryState`) at every block, and unwinding restores the model's state.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256};
use proptest::prelude::*;
use spectrum_storage_api::{Account, MemoryState, StateChanges, StateProvider};

use crate::common::*;

const ADDRESSES: u8 = 4;
const SLOTS: u8 = 4;

fn small_account() -> impl Strategy<Value = Option<Account>> {
    prop_oneof![
        1 => Just(None),
        3 => (0u64..3, 0u64..3).prop_map(|(n, b)| Some(account(n, b))),
    ]
}

/// One block's changes over a small universe of addresses and slots, so that keys are changed,
/// deleted and re-created across blocks.
fn block_changes() -> impl Strategy<Value = StateChanges> {
    (
        prop::collection::btree_map(0..ADDRESSES, small_account(), 0..3),
        prop::collection::btree_set(0..ADDRESSES, 0..2),
        prop::collection::btree_map((0..ADDRESSES, 0..SLOTS), 0u64..3, 0..5),
    )
        .prop_map(|(accounts, wiped, storage)| StateChanges {
            accounts: accounts
                .into_iter()
                .map(|(a, acc)| (addr(a), acc))
                .collect(),
            wiped_storage: wiped.into_iter().map(addr).collect(),
            storage: storage
                .into_iter()
                .map(|((a, s), v)| (addr(a), slot(s), U256::from(v)))
                .collect(),
            codes: vec![],
        })
}

fn assert_state_matches(
    read_account: impl Fn(&Address) -> Option<Account>,
    read_storage: impl Fn(&Address, &B256) -> U256,
    model: &MemoryState,
    what: &str,
) -> Result<(), TestCaseError> {
    for a in 0..ADDRESSES {
        let address = addr(a);
        prop_assert_eq!(
            read_account(&address),
            model.account(&address).unwrap(),
            "{} account {}",
            what,
            a
        );
        for s in 0..SLOTS {
            prop_assert_eq!(
                read_storage(&address, &slot(s)),
                model.storage(&address, &slot(s)).unwrap(),
                "{} slot {}/{}",
                what,
                a,
                s
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn history_agrees_with_an_in_memory_model(
        blocks in prop::collection::vec(block_changes(), 1..7),
        unwind_seed in any::<u64>(),
        fork in prop::collection::vec(block_changes(), 0..4),
    ) {
        let (_dir, db) = temp_db();
        let mut g = genesis("model", b"model", vec![(addr(0), account(1, 1))]);
        g.storage = vec![(addr(0), slot(0), U256::from(1)), (addr(1), slot(1), U256::from(2))];
        let mut model = MemoryState::default();
        model.apply(&StateChanges {
            accounts: g.accounts.iter().map(|(a, acc)| (*a, Some(*acc))).collect(),
            storage: g.storage.clone(),
            ..Default::default()
        });
        db.init_genesis(g).unwrap();

        let mut models = vec![model.clone()];
        for changes in &blocks {
            commit_state(&db, changes.clone());
            model.apply(changes);
            models.push(model.clone());
        }

        for (n, expected) in (0u64..).zip(&models) {
            assert_state_matches(
                |a| db.account_at(a, n).unwrap(),
                |a, s| db.storage_at(a, s, n).unwrap(),
                expected,
                &format!("block {n}"),
            )?;
            let state = db.state_at(n).unwrap();
            assert_state_matches(
                |a| state.account(a).unwrap(),
                |a, s| state.storage(a, s).unwrap(),
                expected,
                &format!("provider at block {n}"),
            )?;
        }
        assert_state_matches(
            |a| db.account(a).unwrap(),
            |a, s| db.storage(a, s).unwrap(),
            &model,
            "plain state",
        )?;

        // Unwind to a random earlier block: the plain state and the remaining history agree
        // with the model there, and the announced changes take the head state to it.
        let target = unwind_seed % (blocks.len() as u64 + 1);
        // Replayed literally (a deletion here implies no wipe: every slot to restore is listed).
        let changes = db.unwind_changes(target).unwrap();
        let mut replayed = model.clone();
        for (address, account) in &changes.accounts {
            match account {
                Some(account) => replayed.accounts.insert(*address, *account),
                None => replayed.accounts.remove(address),
            };
        }
        for (address, slot, value) in &changes.storage {
            let slots = replayed.storage.entry(*address).or_default();
            if value.is_zero() {
                slots.remove(slot);
            } else {
                slots.insert(*slot, *value);
            }
        }
        prop_assert!(changes.wiped_storage.is_empty() && changes.codes.is_empty());
        let expected = &models[target as usize];
        prop_assert_eq!(&replayed.accounts, &expected.accounts);
        let non_empty = |s: &BTreeMap<Address, BTreeMap<B256, U256>>| {
            s.iter()
                .filter(|(_, slots)| !slots.is_empty())
                .map(|(a, v)| (*a, v.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        prop_assert_eq!(non_empty(&replayed.storage), non_empty(&expected.storage));

        db.unwind_to(target).unwrap();
        assert_state_matches(
            |a| db.account(a).unwrap(),
            |a, s| db.storage(a, s).unwrap(),
            expected,
            "plain state after unwind",
        )?;
        // Then a fork on top: stale history of the unwound blocks must not leak into reads.
        models.truncate(target as usize + 1);
        let mut model = models[target as usize].clone();
        for changes in &fork {
            commit_state(&db, changes.clone());
            model.apply(changes);
            models.push(model.clone());
        }
        for (n, expected) in (0u64..).zip(&models) {
            assert_state_matches(
                |a| db.account_at(a, n).unwrap(),
                |a, s| db.storage_at(a, s, n).unwrap(),
                expected,
                &format!("block {n} after unwind and fork"),
            )?;
        }
    }
}
