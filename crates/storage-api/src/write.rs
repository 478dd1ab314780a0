//! What the import path writes: one block's commit, the genesis, trie node writes.

use alloy_primitives::{
    Address, B256, Bytes, U256,
    map::{AddressMap, HashMap},
};
use spectrum_primitives::{ReceiptWithBloom, SealedBlock, SealedHeader};

use crate::{Account, StateChanges};

/// The two trie tables. Node encodings belong to `spectrum-trie` (the chain crate computes
/// them); storage stores the bytes it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrieTable {
    /// The account trie: nibble path → node.
    Account,
    /// The storage tries: hashed address ‖ path → node.
    Storage,
}

/// One trie node to write (`Some`) or delete (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrieNodeWrite {
    /// The table.
    pub table: TrieTable,
    /// The node's key.
    pub key: Bytes,
    /// The node's bytes, or `None` to delete it.
    pub value: Option<Bytes>,
}

/// Everything one block adds to the database.
#[derive(Debug, Clone)]
pub struct BlockCommit {
    /// The block.
    pub block: SealedBlock,
    /// Its receipts, one per transaction.
    pub receipts: Vec<ReceiptWithBloom>,
    /// Total difficulty up to and including the block.
    pub total_difficulty: U256,
    /// What executing it changed (applied only with `make_canonical_head`).
    pub state: StateChanges,
    /// Trie nodes after it (applied only with `make_canonical_head`).
    pub trie: Vec<TrieNodeWrite>,
    /// Values of the parent state that execution already read: the history entries take the
    /// values the block overwrote from here, and storage reads only the ones missing. Empty
    /// (the default) when the caller has none.
    pub priors: PriorState,
    /// `true`: the block extends the canonical head and becomes it; its state changes are
    /// applied. `false`: a side-chain block, stored as a known block only; it must then carry
    /// no state changes or trie nodes (there is no state of its parent to apply them to).
    pub make_canonical_head: bool,
}

/// Values of the parent state, as read by execution: each account (`None`: none there) and
/// slot (zero: unset) as the state before the block held it, never a value a transaction of
/// the block wrote. Any subset will do: a commit reads from the database the prior values of
/// its changes that are missing here. Storage trusts what is here (a wrong value would become
/// a wrong history entry), so only a reader of the parent state may fill it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriorState {
    /// Accounts by address.
    pub accounts: AddressMap<Option<Account>>,
    /// Slots by (address, slot).
    pub storage: HashMap<(Address, B256), U256>,
}

impl PriorState {
    /// How many accounts and slots it holds.
    pub fn len(&self) -> usize {
        self.accounts.len().saturating_add(self.storage.len())
    }

    /// Holds nothing.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.storage.is_empty()
    }
}

/// The genesis block and the state it starts with.
#[derive(Debug, Clone)]
pub struct GenesisCommit {
    /// The genesis header (number 0).
    pub header: SealedHeader,
    /// The chain's name, stored so that a mismatch can be reported in words.
    pub chain_name: String,
    /// Accounts of the genesis state.
    pub accounts: Vec<(Address, Account)>,
    /// Storage of the genesis state; zero values are skipped.
    pub storage: Vec<(Address, B256, U256)>,
    /// Contract code of the genesis state, by hash.
    pub codes: Vec<(B256, Bytes)>,
    /// Trie nodes of the genesis state root, written in the same batch.
    pub trie: Vec<TrieNodeWrite>,
}

/// What writing the genesis did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenesisStatus {
    /// The database was empty; the genesis is now written.
    Written,
    /// The database already held this genesis; nothing was written.
    AlreadyInitialised,
}
