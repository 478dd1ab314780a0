//! History entries written from the prior values import recorded (issue 16, item 3) are the
//! bytes a commit reading them from RocksDB writes, on the reference multi-signer chain and on
//! a generated chain (transfers, ERC20 balances written several times per block, contract
//! storage). Here rather than in `spectrum-chain`'s tests because the generator lives in this
//! crate; both chains go through the real `Blockchain::insert_block` into RocksDB.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use alloy_primitives::{B256, U256};
use spectrum_bench::{ChainConfig, GeneratedChain};
use spectrum_chain::{
    BlockValidator, Blockchain, ExecutionChecksOnly, InsertOutcome, TribeBlockValidator,
    genesis_commit,
};
use spectrum_chainspec::ChainSpec;
use spectrum_import::ChainFileReader;
use spectrum_primitives::{BlockBody, ReceiptWithBloom, SealedBlock, SealedHeader};
use spectrum_storage::{Database, Table};
use spectrum_storage_api::{
    BlockCommit, BlockReader, BlockWriter, BoxedSnapshot, ChainInfo, ChainStore, GenesisCommit,
    GenesisStatus, HeadTd, HeaderProvider, ProviderResult, ReceiptProvider, StateChanges,
    StateProviderFactory, TrieNodeWrite, TxLocation,
};

/// The database, with every commit's priors dropped on the way in: storage reads them all,
/// as before import carried them.
#[derive(Debug)]
struct PriorsDropped(Arc<Database>);

impl HeaderProvider for PriorsDropped {
    fn header(&self, hash: &B256) -> ProviderResult<Option<SealedHeader>> {
        HeaderProvider::header(&*self.0, hash)
    }
    fn header_by_number(&self, number: u64) -> ProviderResult<Option<SealedHeader>> {
        HeaderProvider::header_by_number(&*self.0, number)
    }
    fn block_number(&self, hash: &B256) -> ProviderResult<Option<u64>> {
        HeaderProvider::block_number(&*self.0, hash)
    }
}

impl BlockReader for PriorsDropped {
    fn body(&self, hash: &B256) -> ProviderResult<Option<BlockBody>> {
        BlockReader::body(&*self.0, hash)
    }
    fn block(&self, hash: &B256) -> ProviderResult<Option<SealedBlock>> {
        BlockReader::block(&*self.0, hash)
    }
    fn tx_location(&self, tx_hash: &B256) -> ProviderResult<Option<TxLocation>> {
        BlockReader::tx_location(&*self.0, tx_hash)
    }
}

impl ReceiptProvider for PriorsDropped {
    fn receipts(&self, hash: &B256) -> ProviderResult<Option<Vec<ReceiptWithBloom>>> {
        ReceiptProvider::receipts(&*self.0, hash)
    }
}

impl ChainInfo for PriorsDropped {
    fn head(&self) -> ProviderResult<Option<(u64, B256)>> {
        ChainInfo::head(&*self.0)
    }
    fn genesis_hash(&self) -> ProviderResult<Option<B256>> {
        ChainInfo::genesis_hash(&*self.0)
    }
    fn canonical_hash(&self, number: u64) -> ProviderResult<Option<B256>> {
        ChainInfo::canonical_hash(&*self.0, number)
    }
    fn total_difficulty(&self, hash: &B256) -> ProviderResult<Option<U256>> {
        ChainInfo::total_difficulty(&*self.0, hash)
    }
    fn head_total_difficulty(&self) -> ProviderResult<Option<HeadTd>> {
        ChainInfo::head_total_difficulty(&*self.0)
    }
}

impl StateProviderFactory for PriorsDropped {
    fn latest(&self) -> ProviderResult<BoxedSnapshot<'_>> {
        StateProviderFactory::latest(&*self.0)
    }
    fn by_hash(&self, hash: &B256) -> ProviderResult<BoxedSnapshot<'_>> {
        StateProviderFactory::by_hash(&*self.0, hash)
    }
    fn by_number(&self, number: u64) -> ProviderResult<BoxedSnapshot<'_>> {
        StateProviderFactory::by_number(&*self.0, number)
    }
}

impl BlockWriter for PriorsDropped {
    fn init_genesis(&self, genesis: GenesisCommit) -> ProviderResult<GenesisStatus> {
        BlockWriter::init_genesis(&*self.0, genesis)
    }
    fn commit_block(&self, commit: &BlockCommit) -> ProviderResult<()> {
        let mut commit = commit.clone();
        commit.priors = Default::default();
        BlockWriter::commit_block(&*self.0, &commit)
    }
    fn unwind_changes(&self, number: u64) -> ProviderResult<StateChanges> {
        BlockWriter::unwind_changes(&*self.0, number)
    }
    fn unwind_to_with_trie(&self, number: u64, trie: &[TrieNodeWrite]) -> ProviderResult<()> {
        BlockWriter::unwind_to_with_trie(&*self.0, number, trie)
    }
    fn sync_wal(&self) -> ProviderResult<()> {
        BlockWriter::sync_wal(&*self.0)
    }
}

type Validator = fn(Arc<dyn ChainStore>, &Arc<ChainSpec>) -> Arc<dyn BlockValidator>;

fn tribe(store: Arc<dyn ChainStore>, spec: &Arc<ChainSpec>) -> Arc<dyn BlockValidator> {
    Arc::new(TribeBlockValidator::new(store, spec.clone()))
}

fn checks_only(_: Arc<dyn ChainStore>, _: &Arc<ChainSpec>) -> Arc<dyn BlockValidator> {
    Arc::new(ExecutionChecksOnly)
}

fn open(dir: &Path, spec: &ChainSpec) -> Arc<Database> {
    let db = Arc::new(Database::open(dir).unwrap());
    db.init_genesis(genesis_commit(spec).unwrap()).unwrap();
    db
}

/// Every table's entries by table name.
type Tables = BTreeMap<&'static str, Vec<(Box<[u8]>, Box<[u8]>)>>;

/// Every entry of every table, read with RocksDB directly (the database must be closed).
fn dump(path: &Path) -> Tables {
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), path).unwrap();
    let db = rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), path, names, false)
        .unwrap();
    Table::ALL
        .iter()
        .map(|table| {
            let cf = db.cf_handle(table.name()).unwrap();
            let entries = db
                .iterator_cf(cf, rocksdb::IteratorMode::Start)
                .map(Result::unwrap)
                .collect();
            (table.name(), entries)
        })
        .collect()
}

/// Both databases hold the same entries in every table, table by table.
fn assert_same_tables(carried: &Path, dropped: &Path) {
    let (carried, dropped) = (dump(carried), dump(dropped));
    for table in Table::ALL {
        let name = table.name();
        assert!(
            carried[name] == dropped[name],
            "table {name}: {} entries with priors carried, {} with priors read",
            carried[name].len(),
            dropped[name].len()
        );
    }
    assert!(carried["account_history"].len() > 100 && !carried["storage_history"].is_empty());
}

/// Imports `blocks` into two databases, one whose commits carry import's priors and one whose
/// commits drop them; then unwinds both to block `unwind_to` (each unwind checks the state
/// root it restores against the header). Both hold the same bytes after each step.
fn import_both_ways(
    spec: Arc<ChainSpec>,
    blocks: &[SealedBlock],
    validator: Validator,
    unwind_to: u64,
) {
    let carried_dir = tempfile::tempdir().unwrap();
    let dropped_dir = tempfile::tempdir().unwrap();
    let chains = || {
        let carried = open(carried_dir.path(), &spec);
        let dropped = open(dropped_dir.path(), &spec);
        let dropped_store: Arc<dyn ChainStore> = Arc::new(PriorsDropped(dropped.clone()));
        let with_priors = Blockchain::new(
            carried.clone(),
            spec.clone(),
            validator(carried.clone(), &spec),
        );
        let without = Blockchain::new(
            dropped_store.clone(),
            spec.clone(),
            validator(dropped_store, &spec),
        );
        (carried, dropped, with_priors, without)
    };

    let (carried, dropped, with_priors, without) = chains();
    let mut imported = 0u64;
    for block in blocks {
        let outcome = with_priors.insert_block(block.clone()).unwrap();
        assert_eq!(without.insert_block(block.clone()).unwrap(), outcome);
        match outcome {
            InsertOutcome::Canonical { .. } => imported += 1,
            InsertOutcome::AlreadyKnown => {}
            other => panic!("block {}: {other:?}", block.number()),
        }
    }
    assert!(imported >= 8, "{imported} blocks imported");
    assert_eq!(
        carried.prior_reads(),
        0,
        "import carried the prior value of every change"
    );
    assert!(
        dropped.prior_reads() > imported,
        "without priors every block reads at least its coinbase: {}",
        dropped.prior_reads()
    );
    drop((carried, dropped, with_priors, without));
    assert_same_tables(carried_dir.path(), dropped_dir.path());

    let (carried, dropped, with_priors, without) = chains();
    with_priors.unwind_to(unwind_to).unwrap();
    without.unwind_to(unwind_to).unwrap();
    assert_eq!(carried.head().unwrap().map(|(n, _)| n), Some(unwind_to));
    drop((carried, dropped, with_priors, without));
    assert_same_tables(carried_dir.path(), dropped_dir.path());
}

#[test]
fn the_multi_signer_chain_writes_the_same_history_from_carried_priors() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/spectrum-devnet-multi/chain.rlp");
    let blocks: Vec<SealedBlock> = ChainFileReader::open(&file)
        .unwrap()
        .map(|block| block.unwrap().seal_slow())
        .collect();
    assert!(blocks.len() > 400);
    import_both_ways(Arc::new(ChainSpec::devnet()), &blocks, tribe, 200);
}

#[test]
fn a_generated_chain_writes_the_same_history_from_carried_priors() {
    let chain = GeneratedChain::generate(ChainConfig {
        blocks: 8,
        txs_per_block: 40,
        senders: 30,
        slots_per_call: 5,
        seed: 11,
    })
    .unwrap();
    assert!(chain.kinds.erc20 > 0 && chain.kinds.storage > 0 && chain.kinds.deploys > 0);
    let middle = (chain.blocks.len() / 2) as u64;
    import_both_ways(chain.spec.clone(), &chain.blocks, checks_only, middle);
}
