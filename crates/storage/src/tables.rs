//! Every column family of the database: its stable on-disk name and the encoding of its keys
//! and values. This list *is* the on-disk layout; changing a name or an encoding requires a new
//! [`CURRENT_SCHEMA_VERSION`](crate::CURRENT_SCHEMA_VERSION).
//!
//! Conventions: numbers are big-endian so that RocksDB's byte order is numeric order (range
//! scans and the one-seek history reads depend on it); `‖` is concatenation; "RLP" is the
//! Ethereum encoding from `spectrum-primitives` / `spectrum-storage-api`.

use std::fmt;

/// A column family. See each variant for its key → value encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `meta`: ASCII name → small value. `schema_version` → u32 BE; `genesis_hash` → 32 bytes;
    /// `chain_name` → UTF-8; `head` → number u64 BE ‖ hash (40 bytes).
    Meta,
    /// `headers`: number u64 BE ‖ hash (40 bytes) → header RLP.
    Headers,
    /// `header_numbers`: block hash (32) → number u64 BE.
    HeaderNumbers,
    /// `bodies`: number u64 BE ‖ hash → `BlockBody` RLP `[transactions, ommers]`.
    Bodies,
    /// `receipts`: number u64 BE ‖ hash → RLP list of `ReceiptWithBloom`.
    Receipts,
    /// `total_difficulty`: number u64 BE ‖ hash → U256 as 32 bytes BE.
    TotalDifficulty,
    /// `canonical`: number u64 BE → block hash (32).
    Canonical,
    /// `tx_lookup`: transaction hash → block number u64 BE ‖ block hash ‖ index u32 BE
    /// (44 bytes). Canonical blocks only.
    TxLookup,
    /// `accounts`: address (20) → `Account` RLP. The state after the head block.
    Accounts,
    /// `storage`: address (20) ‖ slot (32) → value as U256 RLP. Zero values are deleted, never
    /// stored. The state after the head block.
    Storage,
    /// `code`: code hash (32) → raw code bytes.
    Code,
    /// `account_history`: address ‖ number u64 BE → the account *before* block `number`
    /// changed it: empty value = did not exist, else `Account` RLP.
    AccountHistory,
    /// `storage_history`: address ‖ slot ‖ number u64 BE → the value *before* block `number`
    /// changed it, as U256 RLP (zero = unset).
    StorageHistory,
    /// `block_changes`: number u64 BE → RLP `[[address…], [[address, slot]…]]`: what the
    /// canonical block `number` changed, to find its history entries when unwinding.
    BlockChanges,
    /// `account_trie`: nibble path → node bytes (paths and node encodings are `spectrum-trie`'s,
    /// computed by `spectrum-chain`; this crate stores the bytes it is given).
    AccountTrie,
    /// `storage_trie`: hashed address (32) ‖ path → node bytes.
    StorageTrie,
}

impl Table {
    /// Every table, in a fixed order (creation, stats).
    pub const ALL: [Self; 16] = [
        Self::Meta,
        Self::Headers,
        Self::HeaderNumbers,
        Self::Bodies,
        Self::Receipts,
        Self::TotalDifficulty,
        Self::Canonical,
        Self::TxLookup,
        Self::Accounts,
        Self::Storage,
        Self::Code,
        Self::AccountHistory,
        Self::StorageHistory,
        Self::BlockChanges,
        Self::AccountTrie,
        Self::StorageTrie,
    ];

    /// The column family's name on disk. Stable: never rename without a schema version bump.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::Headers => "headers",
            Self::HeaderNumbers => "header_numbers",
            Self::Bodies => "bodies",
            Self::Receipts => "receipts",
            Self::TotalDifficulty => "total_difficulty",
            Self::Canonical => "canonical",
            Self::TxLookup => "tx_lookup",
            Self::Accounts => "accounts",
            Self::Storage => "storage",
            Self::Code => "code",
            Self::AccountHistory => "account_history",
            Self::StorageHistory => "storage_history",
            Self::BlockChanges => "block_changes",
            Self::AccountTrie => "account_trie",
            Self::StorageTrie => "storage_trie",
        }
    }

    /// Whether the table is read mostly by exact key, so a bloom filter saves disk reads. The
    /// history tables are read by seek, which whole-key blooms cannot help.
    pub(crate) const fn point_lookups(self) -> bool {
        !matches!(self, Self::AccountHistory | Self::StorageHistory)
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Keys of the [`Table::Meta`] table.
pub(crate) mod meta {
    /// u32 BE: the schema version the database was written with.
    pub(crate) const SCHEMA_VERSION: &[u8] = b"schema_version";
    /// 32 bytes: the genesis block hash.
    pub(crate) const GENESIS_HASH: &[u8] = b"genesis_hash";
    /// UTF-8: the chain's name, for error messages.
    pub(crate) const CHAIN_NAME: &[u8] = b"chain_name";
    /// number u64 BE ‖ hash: the canonical head; the plain state is the state after it.
    pub(crate) const HEAD: &[u8] = b"head";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique() {
        let names: HashSet<_> = Table::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names.len(), Table::ALL.len());
        assert!(
            !names.contains("default"),
            "RocksDB's own column family is not ours"
        );
    }
}
