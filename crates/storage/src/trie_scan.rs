//! Listing a storage trie's nodes, for deleting the whole trie of a self-destructed account.

use alloy_primitives::B256;

use crate::{Database, StorageError, Table, reader::Reader};

impl Database {
    /// The keys (hashed address ‖ path) of every stored node of the storage trie of the
    /// account whose hashed address is `hashed_address`, in key order.
    pub fn storage_trie_keys(&self, hashed_address: &B256) -> Result<Vec<Vec<u8>>, StorageError> {
        let mut keys = Vec::new();
        Reader::latest(self).for_each_in_prefix(
            Table::StorageTrie,
            hashed_address.as_slice(),
            |key, _| {
                keys.push(key.to_vec());
                Ok(())
            },
        )?;
        Ok(keys)
    }
}
