//! The reference node's devnet chains, imported through the one import path into a real
//! RocksDB with full Tribe validation (seal, signer sets read from the chief contracts, difficulty,
//! delays, VRF, chief-update transaction and volunteer): every block hash, state root, receipts root, gas used and total difficulty as
//! recorded, the head state as recorded, history readable, and a reorg between the two chains
//! (they share blocks 0..=56 and fork after).

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::PathBuf, str::FromStr, sync::Arc};

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use serde_json::Value;
use spectrum_chain::{
    InsertOutcome,
    test_utils::{TestChain, tribe_chain},
};
use spectrum_import::ChainFileReader;
use spectrum_storage_api::ChainReader;

pub(crate) fn testdata(name: &str) -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ))
    .join(name);
    assert!(
        dir.is_dir(),
        "test data {} not found: ../shared/testdata must sit beside the clone",
        dir.display()
    );
    dir
}

fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(testdata(name).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

type Node = TestChain;

fn devnet_node() -> Node {
    TestChain::devnet()
}

/// Imports the blocks of `name`'s chain file numbered up to `last`, returning their outcomes.
fn import(node: &Node, name: &str, last: u64) -> Vec<InsertOutcome> {
    ChainFileReader::open(testdata(name).join("chain.rlp"))
        .unwrap()
        .map(|block| block.unwrap().seal_slow())
        .take_while(|block| block.number() <= last)
        .map(|block| {
            let number = block.number();
            node.chain
                .insert_block(block)
                .unwrap_or_else(|e| panic!("{name} block {number}: {e}"))
        })
        .collect()
}

fn hex_u256(v: &Value) -> U256 {
    match v {
        Value::String(s) if s.starts_with("0x") => U256::from_str_radix(&s[2..], 16).unwrap(),
        Value::String(s) => U256::from_str(s).unwrap(),
        Value::Number(n) => U256::from(n.as_u64().unwrap()),
        other => panic!("not a number: {other}"),
    }
}

fn b256(v: &Value) -> B256 {
    v.as_str().unwrap().parse().unwrap()
}

/// Every block's recorded values equal what the database holds.
fn assert_blocks_match(db: &dyn ChainReader, expected: &Value) {
    for block in expected["blocks"].as_array().unwrap() {
        let number = block["number"].as_u64().unwrap();
        let hash = b256(&block["hash"]);
        assert_eq!(
            db.canonical_hash(number).unwrap(),
            Some(hash),
            "canonical hash of {number}"
        );
        let header = db.header(&hash).unwrap().unwrap();
        assert_eq!(
            header.state_root,
            b256(&block["stateRoot"]),
            "state root of {number}"
        );
        assert_eq!(
            header.receipts_root,
            b256(&block["receiptsRoot"]),
            "receipts root of {number}"
        );
        assert_eq!(
            U256::from(header.gas_used),
            hex_u256(&block["gasUsed"]),
            "gas used of {number}"
        );
        assert_eq!(
            db.total_difficulty(&hash).unwrap(),
            Some(hex_u256(&block["totalDifficulty"])),
            "td of {number}"
        );
        let receipts = db.receipts(&hash).unwrap().unwrap();
        for tx in block["transactions"].as_array().unwrap() {
            let index = tx["index"].as_u64().unwrap() as usize;
            let location = db
                .tx_location(&b256(&tx["hash"]))
                .unwrap()
                .expect("tx lookup");
            assert_eq!(
                (location.block_number, location.index as usize),
                (number, index)
            );
            let receipt = &receipts[index];
            assert_eq!(
                U256::from(receipt.receipt.cumulative_gas_used),
                hex_u256(&tx["receipt"]["cumulativeGasUsed"])
            );
            assert_eq!(
                U256::from(receipt.receipt.status.coerce_status() as u8),
                hex_u256(&tx["receipt"]["status"])
            );
        }
    }
}

/// The head state equals the reference node's dump.
fn assert_head_state_matches(db: &dyn ChainReader, expected: &Value) {
    let state = expected["state"].as_object().unwrap();
    let head = db.latest().unwrap();
    for (address, want) in state {
        let address = Address::from_str(address).unwrap();
        let account = head.account(&address).unwrap();
        let in_dump = want["inDump"]
            .as_bool()
            .or_else(|| want["inDump"].as_str().map(|s| s == "True"))
            .unwrap();
        if !in_dump {
            assert!(
                account.is_none_or(|a| a.is_empty()),
                "{address} must not exist"
            );
            continue;
        }
        let account = account.unwrap_or_else(|| panic!("{address} missing"));
        assert_eq!(
            account.balance,
            hex_u256(&want["balance"]),
            "balance of {address}"
        );
        assert_eq!(
            U256::from(account.nonce),
            hex_u256(&want["nonce"]),
            "nonce of {address}"
        );
        assert_eq!(
            account.code_hash,
            b256(&want["codeHash"]),
            "code hash of {address}"
        );
        // Large codes are recorded by size only.
        if let Some(size) = want["codeSize"].as_u64() {
            let code = head.code(&account.code_hash).unwrap().unwrap_or_default();
            assert_eq!(code.len() as u64, size, "code size of {address}");
        }
        let code: Bytes = want["code"]
            .as_str()
            .map(|c| c.parse().unwrap())
            .unwrap_or_default();
        if !code.is_empty() {
            assert_eq!(head.code(&account.code_hash).unwrap(), Some(code.clone()));
            assert_eq!(keccak256(&code), account.code_hash);
        }
        if let Some(slots) = want["storageAt_0_7"].as_object() {
            for (slot, value) in slots {
                let slot =
                    B256::from(U256::from_str_radix(slot.trim_start_matches("0x"), 16).unwrap());
                assert_eq!(
                    head.storage(&address, &slot).unwrap(),
                    hex_u256(value),
                    "slot {slot} of {address}"
                );
            }
        }
    }
}

#[test]
fn devnet_a_imports_with_every_recorded_root_and_state() {
    let node = devnet_node();
    let outcomes = import(&node, "spectrum-devnet", u64::MAX);
    assert_eq!(
        outcomes[0],
        InsertOutcome::AlreadyKnown,
        "block 0 is our genesis"
    );
    assert!(
        outcomes[1..]
            .iter()
            .all(|o| matches!(o, InsertOutcome::Canonical { .. }))
    );
    let expected = expected("spectrum-devnet");
    let db = &**node.chain.provider();
    assert_eq!(db.head().unwrap().unwrap().0, 220);
    assert_blocks_match(db, &expected);
    assert_head_state_matches(db, &expected);
}

#[test]
fn devnet_multi_imports_with_every_recorded_root_and_state() {
    let node = devnet_node();
    import(&node, "spectrum-devnet-multi", u64::MAX);
    let expected = expected("spectrum-devnet-multi");
    let db = &**node.chain.provider();
    assert_eq!(db.head().unwrap().unwrap().0, 412);
    assert_blocks_match(db, &expected);
    assert_head_state_matches(db, &expected);
}

/// State at a past block equals the head state of a node that imported only up to it.
#[test]
fn historical_state_equals_the_state_of_a_shorter_import() {
    let full = devnet_node();
    import(&full, "spectrum-devnet", u64::MAX);
    let expected = expected("spectrum-devnet");
    let addresses: Vec<Address> = expected["state"]
        .as_object()
        .unwrap()
        .keys()
        .map(|a| Address::from_str(a).unwrap())
        .collect();
    for at in [3, 57, 66, 100, 137] {
        let partial = devnet_node();
        import(&partial, "spectrum-devnet", at);
        let db = full.chain.provider().by_number(at).unwrap();
        let past = partial.chain.provider().latest().unwrap();
        for address in &addresses {
            assert_eq!(
                db.account(address).unwrap(),
                past.account(address).unwrap(),
                "{address} at {at}"
            );
            for slot in 0..8u64 {
                let slot = B256::from(U256::from(slot));
                assert_eq!(
                    db.storage(address, &slot).unwrap(),
                    past.storage(address, &slot).unwrap()
                );
            }
        }
    }
}

/// Devnet-A and the multi chain share blocks 0..=56. Importing A, then the heavier multi chain,
/// reorganises onto it; importing A again only stores known blocks.
#[test]
fn reorg_onto_the_heavier_chain_and_back_is_refused_while_lighter() {
    let node = devnet_node();
    import(&node, "spectrum-devnet", u64::MAX);
    let outcomes = import(&node, "spectrum-devnet-multi", u64::MAX);
    let reorgs: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, InsertOutcome::Reorg { .. }))
        .collect();
    assert_eq!(
        reorgs.len(),
        1,
        "exactly one block tips the balance: {reorgs:?}"
    );
    assert!(matches!(
        reorgs[0],
        InsertOutcome::Reorg { fork_point: 56, .. }
    ));
    assert!(
        outcomes.contains(&InsertOutcome::SideChain),
        "the branch starts lighter"
    );
    let db = &**node.chain.provider();
    let multi = expected("spectrum-devnet-multi");
    assert_eq!(db.head().unwrap().unwrap().0, 412);
    assert_blocks_match(db, &multi);
    assert_head_state_matches(db, &multi);
    // A's transactions after the fork are no longer canonical.
    let a = expected("spectrum-devnet");
    let a_tx = b256(&a["blocks"][60]["transactions"][1]["hash"]);
    assert_eq!(db.tx_location(&a_tx).unwrap(), None);
    // Importing A again changes nothing.
    let again = import(&node, "spectrum-devnet", u64::MAX);
    assert!(again.iter().all(|o| *o == InsertOutcome::AlreadyKnown));
    assert_eq!(db.head().unwrap().unwrap().0, 412);
}

/// Unwinding restores state and trie: re-importing the unwound blocks reproduces every root.
#[test]
fn unwind_then_reimport_reproduces_the_chain() {
    let node = devnet_node();
    import(&node, "spectrum-devnet", u64::MAX);
    node.chain.unwind_to(100).unwrap();
    let db = &**node.chain.provider();
    assert_eq!(db.head().unwrap().unwrap().0, 100);
    let outcomes = import(&node, "spectrum-devnet", u64::MAX);
    assert!(
        outcomes[..=100]
            .iter()
            .all(|o| *o == InsertOutcome::AlreadyKnown)
    );
    assert!(
        outcomes[101..]
            .iter()
            .all(|o| matches!(o, InsertOutcome::Canonical { .. }))
    );
    let expected = expected("spectrum-devnet");
    assert_blocks_match(db, &expected);
    assert_head_state_matches(db, &expected);
}

fn multi_block(number: u64) -> spectrum_primitives::Block {
    ChainFileReader::open(testdata("spectrum-devnet-multi").join("chain.rlp"))
        .unwrap()
        .nth(number as usize)
        .unwrap()
        .unwrap()
}

fn node_key(name: &str) -> secp256k1::SecretKey {
    secp256k1::SecretKey::from_byte_array(keccak256(format!("spectrum-devnet-multi-node-{name}")).0)
        .unwrap()
}

fn rejection(node: &Node, block: spectrum_primitives::Block) -> spectrum_chain::ChainError {
    match node.chain.insert_block(block.seal_slow()) {
        Err(e) => e,
        Ok(outcome) => panic!("tampered block accepted: {outcome:?}"),
    }
}

/// The Tribe rule a refusal names.
fn tribe_rule(error: spectrum_chain::ChainError) -> spectrum_consensus::TribeError {
    match error {
        spectrum_chain::ChainError::Invalid { source, .. } => *source,
        other => panic!("not a Tribe refusal: {other}"),
    }
}

/// Tribe runs inside the import path: blocks re-sealed by a key outside the signer set, or
/// without their chief-update transaction, are refused by the rule they break, and nothing of
/// them is written (the genuine block still imports after).
#[test]
fn tribe_rules_refuse_tampered_blocks_in_the_import_path() {
    use spectrum_consensus::TribeError;
    let node = devnet_node();
    import(&node, "spectrum-devnet-multi", 110);
    let genuine = multi_block(111);
    let signer = spectrum_consensus::block_signer(&genuine.header).unwrap();
    assert_eq!(
        signer,
        spectrum_consensus::block_signer(&{
            let mut h = genuine.header.clone();
            h = spectrum_consensus::sign_header(h, &node_key("B")).unwrap();
            h
        })
        .unwrap(),
        "block 111 is B's"
    );

    // Re-sealed by D, who was no signer or leader at 111: membership is checked before the
    // VRF (which D's key cannot match either), so membership is the rule named.
    let mut outsider = genuine.clone();
    outsider.header = spectrum_consensus::sign_header(outsider.header, &node_key("D")).unwrap();
    let d = spectrum_consensus::block_signer(&outsider.header).unwrap();
    let rule = tribe_rule(rejection(&node, outsider));
    assert!(
        matches!(rule, TribeError::UnauthorisedSigner { signer, slot: Some(_) } if signer == d),
        "{rule}"
    );

    // The chief-update transaction removed, the roots fixed, re-sealed by B itself.
    let mut no_chief = genuine.clone();
    no_chief.body.transactions.remove(0);
    // Block 111 holds only its chief update (expected.json: txCount 1): nothing is left.
    assert!(no_chief.body.transactions.is_empty());
    no_chief.header.transactions_root =
        spectrum_primitives::transactions_root(&no_chief.body.transactions);
    no_chief.header = spectrum_consensus::sign_header(no_chief.header, &node_key("B")).unwrap();
    let rule = tribe_rule(rejection(&node, no_chief));
    assert_eq!(rule, TribeError::NoTransactions);

    let db = &**node.chain.provider();
    assert_eq!(
        db.head().unwrap().unwrap().0,
        110,
        "nothing of the tampered blocks was written"
    );
    assert!(matches!(
        node.chain.insert_block(genuine.seal_slow()).unwrap(),
        InsertOutcome::Canonical { .. }
    ));
}

/// A block up to 30 s ahead of the local clock is held, not refused, and imported once its time
/// has come; further ahead it is refused (tribe.md §2).
#[test]
fn near_future_blocks_wait_for_their_time() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let now = Arc::new(AtomicU64::new(0));
    let clock = now.clone();
    let mut node = devnet_node();
    node.chain = tribe_chain(node.store.clone(), node.spec.clone())
        .with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
    now.store(u64::MAX / 2, Ordering::SeqCst);
    import(&node, "spectrum-devnet-multi", 110);
    let block = multi_block(111).seal_slow();
    let time = block.header.timestamp;

    now.store(time - 31, Ordering::SeqCst);
    assert!(matches!(
        node.chain.insert_block(block.clone()),
        Err(spectrum_chain::ChainError::FutureBlock { .. })
    ));

    now.store(time - 10, Ordering::SeqCst);
    assert_eq!(
        node.chain.insert_block(block.clone()).unwrap(),
        InsertOutcome::Future { until: time }
    );
    assert_eq!(node.chain.future_block_count(), 1);
    now.store(time - 1, Ordering::SeqCst);
    assert!(node.chain.insert_due_future_blocks().is_empty(), "not yet");
    assert_eq!(node.chain.provider().head().unwrap().unwrap().0, 110);

    now.store(time, Ordering::SeqCst);
    let outcomes = node.chain.insert_due_future_blocks();
    assert!(
        matches!(
            outcomes.as_slice(),
            [Ok(InsertOutcome::Canonical { number: 111, .. })]
        ),
        "{outcomes:?}"
    );
    assert_eq!(node.chain.future_block_count(), 0);
}

/// What the chief contracts answer at recorded blocks equals the reference node's `tribe_*`
/// answers there: signers, leaders, next-round volunteers and the POC's running miners.
#[test]
fn chief_contract_reads_equal_the_recorded_tribe_status() {
    for name in ["spectrum-devnet", "spectrum-devnet-multi"] {
        let node = devnet_node();
        import(&node, name, u64::MAX);
        let db = node.chain.provider();
        let contracts =
            spectrum_tribe_state::ChiefContracts::new(db.clone(), node.chain.spec().clone());
        let expected = expected(name);
        let mut compared = 0;
        for (number, record) in expected["tribe"].as_object().unwrap() {
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            let spec = node.chain.spec();
            let (Some(chief), Some(next)) = (spec.chief_at(number), spec.chief_at(number + 1))
            else {
                continue;
            };
            if chief != next {
                continue; // the status RPC and the child block would read different contracts
            }
            let header = db.header_by_number(number).unwrap().unwrap();
            let set = spectrum_consensus::SignerSetProvider::signer_set(&contracts, &header, chief)
                .unwrap();
            let non_zero = |list: Vec<Address>| {
                list.into_iter()
                    .filter(|a| !a.is_zero())
                    .collect::<Vec<_>>()
            };
            let addresses = |v: &Value| -> Vec<Address> {
                v.as_array().map_or(Vec::new(), |l| {
                    l.iter()
                        .map(|e| {
                            e.get("address")
                                .unwrap_or(e)
                                .as_str()
                                .unwrap()
                                .parse()
                                .unwrap()
                        })
                        .collect()
                })
            };
            let status = &record["tribe_getStatus"];
            assert_eq!(
                non_zero(set.signers),
                non_zero(addresses(&status["signers"])),
                "{name} signers at {number}"
            );
            assert_eq!(
                set.leaders,
                addresses(&status["leaders"]),
                "{name} leaders at {number}"
            );
            if chief.version == "1.0.0" {
                let volunteers = contracts.volunteers(&header, chief).unwrap();
                assert_eq!(
                    volunteers,
                    addresses(&record["tribe_getVolunteers"]["volunteers"]),
                    "{name} volunteers at {number}"
                );
                if let Some(normal) = record.get("pocLists").and_then(|p| p.get("getNormalList")) {
                    assert_eq!(
                        contracts.normal_list(&header, chief).unwrap(),
                        addresses(normal),
                        "{name} POC at {number}"
                    );
                }
            }
            compared += 1;
        }
        assert!(
            compared >= 8,
            "{name}: only {compared} recorded statuses compared"
        );
    }
}

/// Counts the states Tribe's reads open: one per chief view call that actually runs.
struct CountingStates {
    inner: Arc<dyn ChainReader>,
    opened: std::sync::atomic::AtomicUsize,
}

impl spectrum_storage_api::StateProviderFactory for CountingStates {
    fn latest(
        &self,
    ) -> spectrum_storage_api::ProviderResult<spectrum_storage_api::BoxedSnapshot<'_>> {
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.latest()
    }
    fn by_hash(
        &self,
        hash: &B256,
    ) -> spectrum_storage_api::ProviderResult<spectrum_storage_api::BoxedSnapshot<'_>> {
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.by_hash(hash)
    }
    fn by_number(
        &self,
        number: u64,
    ) -> spectrum_storage_api::ProviderResult<spectrum_storage_api::BoxedSnapshot<'_>> {
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.by_number(number)
    }
}

/// A view answer is read once per state: the signer set read again at the same block, and the
/// volunteer check after execution (which reads `getStatus()` again), run no second EVM call,
/// and answer the same; a new block is a new state and is read afresh.
#[test]
fn chief_views_run_once_per_state() {
    use std::sync::atomic::Ordering;
    let node = devnet_node();
    import(&node, "spectrum-devnet-multi", u64::MAX);
    let db = node.chain.provider();
    let states = Arc::new(CountingStates {
        inner: db.clone(),
        opened: Default::default(),
    });
    let contracts =
        spectrum_tribe_state::ChiefContracts::new(states.clone(), node.chain.spec().clone());
    let spec = node.chain.spec();
    let head = db.head().unwrap().unwrap().0;
    let header = db.header_by_number(head).unwrap().unwrap();
    let chief = spec.chief_at(head + 1).unwrap();
    assert_eq!(
        chief.version, "1.0.0",
        "the multi chain ends on chief 1.0.0"
    );
    let read = |at: &spectrum_primitives::SealedHeader| {
        spectrum_consensus::SignerSetProvider::signer_set(&contracts, at, chief).unwrap()
    };

    let first = read(&header);
    let after_first = states.opened.load(Ordering::SeqCst);
    assert_eq!(
        after_first, 2,
        "getStatus() and takeLeaderList(), one state each"
    );
    assert_eq!(read(&header), first);
    assert_eq!(
        states.opened.load(Ordering::SeqCst),
        after_first,
        "no call ran again"
    );

    contracts
        .expected_volunteer(&header, chief, B256::ZERO)
        .unwrap();
    let new_views = if spec.tribe.poc.is_some() { 2 } else { 0 };
    assert_eq!(
        states.opened.load(Ordering::SeqCst),
        after_first + new_views,
        "getNormalList() and getVolunteers() run, getStatus() is not called twice"
    );

    let parent = db.header_by_number(head - 1).unwrap().unwrap();
    read(&parent);
    assert_eq!(
        states.opened.load(Ordering::SeqCst),
        after_first + new_views + 2,
        "another block's state is read afresh"
    );
}
