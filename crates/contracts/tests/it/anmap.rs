//! Our Anmap behaves as the reference's Anmap 0.0.1: both run side by side in one EVM (ours as
//! `tribe_genesis_alloc` installs it, the reference's code copied from `spectrum-devnet-multi`),
//! the same calls from the same wallets, and every outcome and every `bindInfo` answer compared.
//! The one difference is pinned apart: a signature that recovers no address binds the zero
//! node on the reference and is refused by ours.

use alloy_primitives::{Address, B256, Bytes, TxKind};
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    context::TxEnv,
    context_interface::result::{ExecutionResult, Output},
    database::{CacheDB, EmptyDB},
    state::{AccountInfo, Bytecode},
};
use spectrum_contracts::{
    ANMAP_ADDRESS,
    abi::{self, AnmapCall, deposit_signature},
};

use crate::twin::{self, Actor, REF_ANMAP, reference_contracts, reference_params};

/// What a call did: success and its output (return data, or revert data).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    success: bool,
    output: Bytes,
}

/// One in-memory EVM holding both contracts.
struct Both {
    db: CacheDB<EmptyDB>,
}

impl Both {
    fn new() -> Self {
        let mut db = CacheDB::new(EmptyDB::default());
        let ours = spectrum_contracts::tribe_genesis_alloc(&reference_params())
            .unwrap()
            .into_iter()
            .find(|(address, _)| *address == ANMAP_ADDRESS)
            .expect("Anmap in the genesis allocation")
            .1;
        assert!(ours.storage.is_empty(), "nothing bound at genesis");
        for (address, code) in [
            (ANMAP_ADDRESS, ours.code),
            (REF_ANMAP, reference_contracts().anmap.code.clone()),
        ] {
            db.insert_account_info(
                address,
                AccountInfo {
                    nonce: 1,
                    ..Default::default()
                }
                .with_code(Bytecode::new_raw(code)),
            );
        }
        Self { db }
    }

    fn run(&mut self, from: Address, to: Address, data: Bytes) -> Outcome {
        let db = std::mem::replace(&mut self.db, CacheDB::new(EmptyDB::default()));
        let mut evm = Context::mainnet()
            .with_db(db)
            .modify_cfg_chained(|cfg| {
                cfg.spec = revm::primitives::hardfork::SpecId::BYZANTIUM;
                cfg.disable_nonce_check = true;
            })
            .build_mainnet();
        let tx = TxEnv::builder()
            .caller(from)
            .kind(TxKind::Call(to))
            .data(data)
            .gas_limit(1_000_000)
            .gas_price(0)
            .build()
            .unwrap();
        let result = evm.transact_commit(tx).unwrap();
        self.db = evm.ctx.journaled_state.database;
        match result {
            ExecutionResult::Success {
                output: Output::Call(output),
                ..
            } => Outcome {
                success: true,
                output,
            },
            ExecutionResult::Revert { output, .. } => Outcome {
                success: false,
                output,
            },
            other => panic!("{other:?}"),
        }
    }

    /// The same call on both; both must succeed or both fail. Returns our outcome.
    fn both(&mut self, what: &str, from: Address, data: Bytes) -> Outcome {
        let ours = self.run(from, ANMAP_ADDRESS, data.clone());
        let reference = self.run(from, REF_ANMAP, data);
        assert_eq!(
            ours.success, reference.success,
            "{what}: {ours:?} vs {reference:?}"
        );
        if ours.success {
            assert_eq!(ours.output, reference.output, "{what}: answers differ");
        } else {
            assert!(reference.output.is_empty(), "the reference gives no reason");
        }
        ours
    }

    /// `bindInfo(addr)` on both, compared, decoded.
    fn bind_info(&mut self, addr: &Actor) -> (Address, Vec<Address>) {
        let ours = self.both(
            &format!("bindInfo({})", addr.name),
            Address::ZERO,
            abi::anmap_bind_info(addr.address),
        );
        abi::decode_bind_info(&ours.output).unwrap()
    }

    /// `function(node)` sent by `wallet`, with `node`'s signature over `signed_for`.
    fn send(
        &mut self,
        function: AnmapCall,
        node: &Actor,
        wallet: &Actor,
        signed_for: &Actor,
    ) -> Outcome {
        let signature = deposit_signature(&node.key, signed_for.address);
        self.both(
            &format!("{function:?}({}) from {}", node.name, wallet.name),
            wallet.address,
            abi::anmap_call(function, node.address, signature),
        )
    }
}

/// The reason in our revert data (`Error(string)`).
fn reason(outcome: &Outcome) -> String {
    assert!(!outcome.success);
    let len = usize::try_from(twin::word(&outcome.output[4..], 1)).unwrap();
    String::from_utf8(outcome.output[4 + 64..4 + 64 + len].to_vec()).unwrap()
}

#[test]
fn our_anmap_binds_answers_and_unbinds_as_the_reference() {
    let mut t = Both::new();
    let (a, c, d) = (twin::a(), twin::c(), twin::d());
    let (user1, user2) = (twin::user1(), twin::user2());
    use AnmapCall::{Bind, UnbindBySig};

    // Unbound: a node answers as a wallet without nodes.
    assert_eq!(t.bind_info(&c), (c.address, vec![]));

    // C binds to user2; the answers for the node and for the wallet.
    assert!(t.send(Bind, &c, &user2, &user2).success);
    assert_eq!(t.bind_info(&c), (user2.address, vec![c.address]));
    assert_eq!(t.bind_info(&user2), (user2.address, vec![c.address]));

    // One wallet per node: C cannot be bound again, to any wallet.
    let again = t.send(Bind, &c, &user1, &user1);
    assert_eq!(reason(&again), "Anmap: node already bound");
    // The node key must have signed the sender: a signature for another wallet fails.
    let stolen = t.send(Bind, &d, &user1, &user2);
    assert_eq!(reason(&stolen), "Anmap: bad signature");

    // Several nodes per wallet, in binding order.
    assert!(t.send(Bind, &d, &user2, &user2).success);
    assert!(t.send(Bind, &a, &user2, &user2).success);
    assert_eq!(
        t.bind_info(&user2),
        (user2.address, vec![c.address, d.address, a.address])
    );

    // Unbinding one keeps the others in order.
    assert!(t.send(UnbindBySig, &d, &user2, &user2).success);
    assert_eq!(
        t.bind_info(&user2),
        (user2.address, vec![c.address, a.address])
    );
    assert_eq!(t.bind_info(&d), (d.address, vec![]));
    let twice = t.send(UnbindBySig, &d, &user2, &user2);
    assert_eq!(reason(&twice), "Anmap: node not bound");

    // Whoever holds the node key's signature over its own address unbinds (the node operator
    // decides), as on the reference.
    assert!(t.send(UnbindBySig, &c, &user1, &user1).success);
    assert_eq!(t.bind_info(&c), (c.address, vec![]));
    assert_eq!(t.bind_info(&user2), (user2.address, vec![a.address]));
    assert!(t.send(UnbindBySig, &a, &user2, &user2).success);
    assert_eq!(t.bind_info(&user2), (user2.address, vec![]));

    // A node can be bound again after an unbind, to another wallet.
    assert!(t.send(Bind, &c, &user1, &user1).success);
    assert_eq!(t.bind_info(&c), (user1.address, vec![c.address]));
}

#[test]
fn a_signature_that_recovers_nothing_binds_no_zero_node() {
    let mut t = Both::new();
    let user1 = twin::user1();
    // v = 29 makes ecrecover return nothing; nodePub = 0 then "matches" on the reference.
    let data = abi::anmap_call(
        AnmapCall::Bind,
        Address::ZERO,
        (B256::repeat_byte(1), B256::repeat_byte(2), 29),
    );
    let reference = t.run(user1.address, REF_ANMAP, data.clone());
    assert!(reference.success, "the reference binds the zero node");
    let ours = t.run(user1.address, ANMAP_ADDRESS, data);
    assert_eq!(reason(&ours), "Anmap: bad signature");
    let info = t.run(
        Address::ZERO,
        ANMAP_ADDRESS,
        abi::anmap_bind_info(user1.address),
    );
    assert_eq!(
        abi::decode_bind_info(&info.output).unwrap(),
        (user1.address, vec![])
    );
}
