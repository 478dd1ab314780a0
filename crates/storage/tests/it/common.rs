//! Builders for chains, blocks and state used by every test.

use std::path::Path;

use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U256};
use secp256k1::SecretKey;
use spectrum_primitives::{
    BlockBody, Header, Receipt, ReceiptWithBloom, SealedBlock, SealedHeader, TransactionSigned,
    TxKind, TxLegacy, receipts_root, sign_transaction, transactions_root,
};
use spectrum_storage::{BlockCommit, Database, GenesisCommit, TrieNodeWrite};
use spectrum_storage_api::{Account, StateChanges};
use tempfile::TempDir;

/// A fresh database in its own temporary directory (kept alive by the `TempDir`).
pub fn temp_db() -> (TempDir, Database) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::open(dir.path()).expect("open fresh database");
    (dir, db)
}

pub fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

pub fn slot(n: u8) -> B256 {
    B256::repeat_byte(n)
}

pub fn account(nonce: u64, balance: u64) -> Account {
    Account {
        nonce,
        balance: U256::from(balance),
        ..Account::default()
    }
}

/// A genesis header; `extra` distinguishes chains.
pub fn genesis_header(extra: &'static [u8]) -> SealedHeader {
    SealedHeader::seal(Header {
        difficulty: U256::from(1),
        gas_limit: 8_000_000,
        extra_data: Bytes::from_static(extra),
        ..Header::default()
    })
}

pub fn genesis(
    chain_name: &str,
    extra: &'static [u8],
    accounts: Vec<(Address, Account)>,
) -> GenesisCommit {
    GenesisCommit {
        header: genesis_header(extra),
        chain_name: chain_name.to_owned(),
        accounts,
        storage: vec![(addr(0xc0), slot(1), U256::from(77))],
        codes: vec![(B256::repeat_byte(0xcc), Bytes::from_static(&[0x60, 0x00]))],
        trie: vec![TrieNodeWrite {
            table: spectrum_storage::TrieTable::Account,
            key: Bytes::from_static(&[]),
            value: Some(Bytes::from_static(b"genesis root node")),
        }],
    }
}

/// A legacy transaction signed by key `signer` (any non-zero byte).
pub fn signed_tx(signer: u8, nonce: u64) -> TransactionSigned {
    let key = SecretKey::from_byte_array([signer; 32]).expect("valid key");
    let tx = TxLegacy {
        chain_id: Some(20180430),
        nonce,
        gas_price: 18_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(addr(0xee)),
        value: U256::from(nonce + 1),
        input: Bytes::new(),
    };
    sign_transaction(tx, &key)
}

/// The child of `parent` with `txs`, and one receipt with a log per transaction.
pub fn child(
    parent: &SealedHeader,
    txs: Vec<TransactionSigned>,
) -> (SealedBlock, Vec<ReceiptWithBloom>) {
    let receipts: Vec<ReceiptWithBloom> = txs
        .iter()
        .enumerate()
        .map(|(i, tx)| ReceiptWithBloom {
            receipt: Receipt {
                status: (i % 2 == 0).into(),
                cumulative_gas_used: 21_000 * (i as u64 + 1),
                logs: vec![Log::new_unchecked(
                    addr(0xee),
                    vec![tx.hash()],
                    Bytes::from(vec![i as u8; 3]),
                )],
            },
            logs_bloom: Bloom::repeat_byte(i as u8 + 1),
        })
        .collect();
    let header = Header {
        parent_hash: parent.hash(),
        number: parent.number + 1,
        difficulty: U256::from(2),
        gas_limit: 8_000_000,
        gas_used: 21_000 * txs.len() as u64,
        timestamp: parent.timestamp + 14,
        transactions_root: transactions_root(&txs),
        receipts_root: receipts_root(&receipts),
        ..Header::default()
    };
    let block = SealedBlock {
        header: SealedHeader::seal(header),
        body: BlockBody {
            transactions: txs,
            ommers: vec![],
        },
    };
    (block, receipts)
}

/// A canonical commit of `block` with `state` and no trie nodes.
pub fn canonical(
    block: SealedBlock,
    receipts: Vec<ReceiptWithBloom>,
    total_difficulty: u64,
    state: StateChanges,
) -> BlockCommit {
    BlockCommit {
        block,
        receipts,
        total_difficulty: U256::from(total_difficulty),
        state,
        trie: vec![],
        priors: Default::default(),
        make_canonical_head: true,
    }
}

/// Commits an empty child of the head with `state`; returns its header.
pub fn commit_state(db: &Database, state: StateChanges) -> SealedHeader {
    let (_, head_hash) = db.head().unwrap().expect("initialised");
    let parent = db.header(&head_hash).unwrap().expect("head header");
    let (block, receipts) = child(&parent, vec![]);
    let header = block.header.clone();
    db.commit_block(&canonical(block, receipts, header.number + 1, state))
        .unwrap();
    header
}

/// Writes `value` at `key` of column family `cf` with RocksDB directly, bypassing the crate
/// (the database must be closed).
pub fn raw_put(path: &Path, cf: &str, key: &[u8], value: &[u8]) {
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), path).unwrap();
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), path, names).unwrap();
    db.put_cf(db.cf_handle(cf).unwrap(), key, value).unwrap();
}
