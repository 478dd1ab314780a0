//! A validator restarted from an old copy of its database (the newest commits lost in a crash,
//! as an OS crash can lose RocksDB's unsynced WAL tail) must not seal a second, different block
//! at a height it already signed: its fsync'd seal record in the datadir survives and forbids
//! it. Once its own blocks come back (from peers), it carries on above them.
//!
//! Each "run" is a fresh tokio runtime over a freshly opened database, like a process restart.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{B256, TxKind, U256, hex};
use secp256k1::SecretKey;
use spectrum_chain::{
    Blockchain, InsertOutcome,
    test_utils::{open_store, tribe_chain},
};
use spectrum_chainspec::{ChainSpec, dev};
use spectrum_primitives::{SealedBlock, sign_transaction};
use spectrum_producer::{
    Candidate, LastSealed, ProducerConfig, ProducerService, ProductionMode, SealRecord,
    TransactionSource,
};
use spectrum_storage_api::ChainStore;
use tokio::sync::{broadcast, mpsc};

/// Generous: a block takes about a second on the dev chain (period 1).
const DEADLINE: Duration = Duration::from_secs(60);

/// The pool: fixed transactions (after a restart the pool rarely holds what it held before, so
/// a block sealed again at the same height differs).
struct Pool(Vec<Candidate>);

impl TransactionSource for Pool {
    fn best(&self) -> Vec<Candidate> {
        self.0.clone()
    }
    fn has_pending(&self) -> bool {
        !self.0.is_empty()
    }
    fn remove_invalid(&self, _: &[B256]) {}
}

/// A transfer from the first dev account.
fn transfer() -> Candidate {
    let (_, key) = dev::DEV_ACCOUNTS[0];
    let tx = TxLegacy {
        chain_id: Some(ChainSpec::dev().chain_id),
        nonce: 0,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(dev::DEV_ACCOUNTS[1].0.parse().unwrap()),
        value: U256::from(1u64),
        input: Default::default(),
    };
    Candidate::recover(sign_transaction(tx, &secret(key))).unwrap()
}

/// Log lines of every run, on a channel (the refusal is observable only in the log).
#[derive(Clone)]
struct LogLines(mpsc::UnboundedSender<String>);

impl Write for LogLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(String::from_utf8_lossy(buf).into_owned());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || LogLines(tx.clone()))
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber per test binary");
    rx
}

/// A validator node's files: `db/` and the seal record beside it.
struct DataDir(PathBuf);

impl DataDir {
    fn db(&self) -> PathBuf {
        self.0.join("db")
    }
    fn record(&self) -> PathBuf {
        self.0.join("last-sealed")
    }
}

/// One run of the validator: the database opened, the producer service running.
struct Run {
    runtime: tokio::runtime::Runtime,
    chain: Arc<Blockchain>,
    store: Arc<dyn ChainStore>,
    produced: mpsc::Receiver<SealedBlock>,
    _new_transactions: broadcast::Sender<B256>,
}

impl Run {
    fn start(datadir: &DataDir, pool: Vec<Candidate>) -> Run {
        let spec = Arc::new(ChainSpec::dev());
        // Writes the genesis only into an empty database.
        let store = open_store(&datadir.db(), &spec);
        let chain = Arc::new(tribe_chain(store.clone(), spec));
        let key = secret(dev::DEV_VALIDATOR_KEY);
        let record = Arc::new(SealRecord::open(&datadir.record()).unwrap());
        let (service, produced) = ProducerService::new(
            chain.clone(),
            Arc::new(Pool(pool)),
            ProducerConfig {
                key,
                coinbase: None,
                mode: ProductionMode::Slots,
                record,
            },
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (new_transactions, pending) = broadcast::channel(1);
        runtime.spawn(service.run(pending));
        Run {
            runtime,
            chain,
            store,
            produced,
            _new_transactions: new_transactions,
        }
    }

    /// The next block the service seals.
    fn next_sealed(&mut self) -> SealedBlock {
        let produced = &mut self.produced;
        self.runtime
            .block_on(async { tokio::time::timeout(DEADLINE, produced.recv()).await })
            .expect("a block in time")
            .expect("the service runs")
    }

    /// Stops the service and closes the database (the runtime's shutdown waits for a build in
    /// progress, and with it every handle on the database).
    fn stop(self) {
        let Run {
            runtime,
            chain,
            store,
            ..
        } = self;
        drop(runtime);
        drop(chain);
        assert_eq!(
            Arc::strong_count(&store),
            1,
            "nothing else holds the database"
        );
        store.sync_wal().unwrap();
    }

    fn head(&self) -> u64 {
        self.chain.provider().head().unwrap().expect("a head").0
    }
}

/// The head of the (closed) database.
fn head_of(datadir: &DataDir) -> u64 {
    let db = open_store(&datadir.db(), &ChainSpec::dev());
    db.head().unwrap().expect("a head").0
}

/// The canonical blocks above `number` in the (closed) database.
fn blocks_above(datadir: &DataDir, number: u64) -> Vec<SealedBlock> {
    let db = open_store(&datadir.db(), &ChainSpec::dev());
    let head = db.head().unwrap().expect("a head").0;
    (number + 1..=head)
        .map(|n| {
            let header = db.header_by_number(n).unwrap().expect("canonical header");
            let body = db.body(&header.hash()).unwrap().expect("its body");
            SealedBlock { header, body }
        })
        .collect()
}

fn secret(hex_key: &str) -> SecretKey {
    let bytes: [u8; 32] = hex::decode(hex_key).unwrap().try_into().unwrap();
    SecretKey::from_byte_array(bytes).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Waits for the log line refusing to seal block `number`; a block sealed meanwhile fails the
/// test (with what it equivocated against).
fn refusal_before_any_block(
    run: &mut Run,
    logs: &mut mpsc::UnboundedReceiver<String>,
    number: u64,
    signed: &[SealedBlock],
) -> String {
    let needle = format!(" number={number} ");
    let produced = &mut run.produced;
    run.runtime.block_on(async {
        let wait = async {
            loop {
                tokio::select! {
                    line = logs.recv() => {
                        let line = line.expect("the log channel stays open");
                        if line.contains("refusing to seal") && line.contains(&needle) {
                            return line;
                        }
                    }
                    block = produced.recv() => {
                        let block = block.expect("the service runs");
                        let earlier = signed.iter().find(|b| b.number() == block.number());
                        panic!(
                            "sealed block {} {} after a restart; at that height it had signed {:?}{}",
                            block.number(),
                            block.hash(),
                            earlier.map(|b| b.hash()),
                            if earlier.is_some_and(|b| b.hash() != block.hash()) {
                                ": EQUIVOCATION"
                            } else {
                                ""
                            }
                        );
                    }
                }
            }
        };
        tokio::time::timeout(DEADLINE, wait)
            .await
            .unwrap_or_else(|_| panic!("no log line {needle:?} in time"))
    })
}

#[test]
fn a_validator_restarted_from_an_old_database_never_seals_a_height_it_signed() {
    let mut logs = capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let datadir = DataDir(dir.path().join("node"));

    // Run 1: a block or more (the dev chain seals back to back); then keep a copy of the
    // database as it is.
    let mut run = Run::start(&datadir, Vec::new());
    run.next_sealed();
    run.stop();
    let old_db = dir.path().join("old-db");
    copy_dir(&datadir.db(), &old_db);
    let old_head = head_of(&datadir);

    // Run 2: at least two more blocks are signed and handed out for gossip (the service may
    // seal more before it stops: the database has them all).
    let mut run = Run::start(&datadir, Vec::new());
    let handed_out = [run.next_sealed(), run.next_sealed()];
    run.stop();
    let signed = blocks_above(&datadir, old_head);
    assert_eq!(signed[..2], handed_out, "run 2 sealed on from the old head");
    let last = signed.last().expect("two blocks at least").clone();

    // The crash: the database loses run 2's blocks; the fsync'd record keeps the last one.
    std::fs::remove_dir_all(datadir.db()).unwrap();
    copy_dir(&old_db, &datadir.db());
    let record = SealRecord::open(&datadir.record()).unwrap();
    assert_eq!(
        record.last(),
        Some(LastSealed {
            number: last.number(),
            hash: last.hash()
        })
    );
    drop(record);

    // Run 3, with a transaction in the pool: at the old head, the next height was signed:
    // refused, never sealed anew (without the record, a different block would be sealed).
    while logs.try_recv().is_ok() {} // the earlier runs' lines
    let mut run = Run::start(&datadir, vec![transfer()]);
    assert_eq!(run.head(), old_head);
    let line = refusal_before_any_block(&mut run, &mut logs, old_head + 1, &signed);
    assert!(
        line.contains(&format!("signed_number={} ", last.number())),
        "{line}"
    );

    // Its own blocks come back (as from a peer): until the last signed one is in, the next
    // height stays forbidden; then it seals on top of the block it signed.
    let (last, earlier) = signed.split_last().expect("two blocks at least");
    for block in earlier {
        let outcome = run.chain.insert_block(block.clone()).unwrap();
        assert!(
            matches!(outcome, InsertOutcome::Canonical { .. }),
            "{outcome:?}"
        );
    }
    if !earlier.is_empty() {
        refusal_before_any_block(&mut run, &mut logs, last.number(), &signed);
    }
    let outcome = run.chain.insert_block(last.clone()).unwrap();
    assert!(
        matches!(outcome, InsertOutcome::Canonical { .. }),
        "{outcome:?}"
    );
    let next = run.next_sealed();
    assert_eq!(next.number(), last.number() + 1);
    assert_eq!(next.header.parent_hash, last.hash());
    assert_eq!(
        next.body.transactions.len(),
        2,
        "chief update + the transfer"
    );
    run.stop();
}

/// A validator started from an old copy of its whole datadir: its record is old too. The blocks
/// signed with its key that it caught up on (here already in its database when production
/// starts) are above that record: the guard finds them, records the highest, refuses to seal,
/// and after a restart finds nothing more to refuse (the record now covers them).
#[test]
fn an_old_copy_of_the_record_is_caught_by_the_blocks_signed_with_our_key() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = DataDir(dir.path().join("validator"));
    let mut run = Run::start(&datadir, Vec::new());
    let first = run.next_sealed();
    let mut last = run.next_sealed();
    while last.number() < first.number() + 2 {
        last = run.next_sealed();
    }
    run.stop();
    // Every block sealed is canonical in the database; the record goes back to the first.
    let head = head_of(&datadir);
    std::fs::write(
        datadir.record(),
        format!("{} {}\n", first.number(), first.hash()),
    )
    .unwrap();

    let spec = Arc::new(ChainSpec::dev());
    let chain = tribe_chain(open_store(&datadir.db(), &spec), spec);
    let signer = spectrum_primitives::public_key_to_address(
        &secret(dev::DEV_VALIDATOR_KEY).public_key(secp256k1::SECP256K1),
    );
    let record = SealRecord::open(&datadir.record()).unwrap();
    let conflict = record
        .scan_canonical(chain.provider().as_ref(), signer)
        .expect("blocks signed with our key above the record");
    assert_eq!(conflict.number, first.number() + 1);
    assert_eq!(record.conflict(), Some(conflict));
    let highest = chain.provider().header_by_number(head).unwrap().unwrap();
    assert_eq!(
        record.last(),
        Some(LastSealed {
            number: head,
            hash: highest.hash()
        }),
        "the record now holds the highest block signed with our key"
    );
    let restarted = SealRecord::open(&datadir.record()).unwrap();
    assert_eq!(
        restarted.scan_canonical(chain.provider().as_ref(), signer),
        None
    );
}
