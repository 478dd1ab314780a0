//! Writing the genesis block and state, once per database.

use rocksdb::WriteBatch;
use spectrum_primitives::BlockBody;
use spectrum_storage_api::{GenesisCommit, GenesisStatus};

use crate::{
    Database, StorageError, Table,
    codec::encode_head,
    diff::{put_account, put_slot},
    keys::number_key,
    reader::Reader,
    tables::meta,
};

impl Database {
    /// Writes the genesis block and state in one batch, making it the canonical head. On a
    /// database that already has a genesis, succeeds without writing if it is the same block,
    /// and fails with [`StorageError::GenesisMismatch`] (writing nothing) if it is another.
    pub fn init_genesis(&self, genesis: GenesisCommit) -> Result<GenesisStatus, StorageError> {
        let _writer = self.lock_writes();
        let hash = genesis.header.hash();
        let reader = Reader::latest(self);
        if let Some(stored) = reader.genesis_hash()? {
            if stored == hash {
                return Ok(GenesisStatus::AlreadyInitialised);
            }
            return Err(StorageError::GenesisMismatch {
                stored,
                requested: hash,
                stored_chain: reader
                    .chain_name()?
                    .unwrap_or_else(|| "<unnamed>".to_owned()),
                requested_chain: genesis.chain_name,
            });
        }
        let number = genesis.header.number();
        if number != 0 {
            return Err(StorageError::InvalidCommit {
                number,
                reason: "a genesis header must have number 0".to_owned(),
            });
        }

        let mut batch = WriteBatch::default();
        let difficulty = genesis.header.difficulty;
        self.put_block_data(
            &mut batch,
            &genesis.header,
            &BlockBody::default(),
            &[],
            difficulty,
        )?;
        batch.put_cf(self.cf(Table::Canonical)?, number_key(0), hash);

        let accounts_cf = self.cf(Table::Accounts)?;
        for (address, account) in &genesis.accounts {
            put_account(&mut batch, accounts_cf, address, Some(account));
        }
        let storage_cf = self.cf(Table::Storage)?;
        for (address, slot, value) in &genesis.storage {
            put_slot(&mut batch, storage_cf, address, slot, value);
        }
        let code_cf = self.cf(Table::Code)?;
        for (code_hash, code) in &genesis.codes {
            batch.put_cf(code_cf, code_hash, code);
        }
        self.put_trie(&mut batch, &genesis.trie)?;

        let meta_cf = self.cf(Table::Meta)?;
        batch.put_cf(meta_cf, meta::GENESIS_HASH, hash);
        batch.put_cf(meta_cf, meta::CHAIN_NAME, genesis.chain_name.as_bytes());
        batch.put_cf(meta_cf, meta::HEAD, encode_head(0, &hash));
        self.write(
            batch,
            &format!("genesis {hash} of chain {:?}", genesis.chain_name),
        )?;
        tracing::info!(%hash, chain = %genesis.chain_name, "wrote genesis");
        Ok(GenesisStatus::Written)
    }
}
