//! The state a block executes on: the parent state (a [`StateProvider`]) under an overlay of
//! what the block's earlier transactions changed. revm reads it through [`Database`]; each
//! transaction's result is committed into the overlay; at the end the overlay becomes the
//! block's [`StateChanges`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alloy_primitives::{Address, B256, Bytes, U256};
use revm::{
    Database, DatabaseRef,
    bytecode::Bytecode,
    database_interface::DBErrorMarker,
    primitives::AddressMap,
    state::{Account as EvmAccount, AccountInfo},
};
use spectrum_primitives::{EMPTY_ROOT_HASH, KECCAK_EMPTY};
use spectrum_storage_api::{Account, StateChanges, StateError, StateProvider};

use crate::ExecutionError;

/// A database failure as revm sees it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    /// The state provider failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The state lists code it does not have.
    #[error("code {0} missing from the state")]
    MissingCode(B256),
}

impl DBErrorMarker for DbError {}

impl From<DbError> for ExecutionError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::State(e) => Self::State(e),
            DbError::MissingCode(hash) => Self::MissingCode(hash),
        }
    }
}

/// An account as the overlay holds it: no storage root (that is computed after the block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AccountState {
    nonce: u64,
    balance: U256,
    code_hash: B256,
}

impl AccountState {
    fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code_hash == KECCAK_EMPTY
    }

    fn info(&self) -> AccountInfo {
        AccountInfo {
            balance: self.balance,
            nonce: self.nonce,
            code_hash: self.code_hash,
            // `None`: revm asks `code_by_hash` when it needs the code.
            code: (self.code_hash == KECCAK_EMPTY).then(Bytecode::default),
            ..Default::default()
        }
    }
}

impl From<Account> for AccountState {
    fn from(a: Account) -> Self {
        Self {
            nonce: a.nonce,
            balance: a.balance,
            code_hash: a.code_hash,
        }
    }
}

/// The parent state plus the block's changes so far.
pub(crate) struct BlockState<'a> {
    base: &'a dyn StateProvider,
    /// Accounts written (`Some`) or deleted (`None`) by the block so far.
    accounts: HashMap<Address, Option<AccountState>>,
    /// Accounts whose storage in `base` no longer counts (self-destructed, deleted or re-created).
    wiped: BTreeSet<Address>,
    /// Slots written by the block so far (zero = cleared).
    storage: HashMap<Address, HashMap<U256, U256>>,
    /// Code deployed by the block.
    codes: HashMap<B256, Bytecode>,
    /// Code read from `base`, analysed once.
    code_cache: HashMap<B256, Bytecode>,
}

impl<'a> BlockState<'a> {
    pub(crate) fn new(base: &'a dyn StateProvider) -> Self {
        Self {
            base,
            accounts: HashMap::new(),
            wiped: BTreeSet::new(),
            storage: HashMap::new(),
            codes: HashMap::new(),
            code_cache: HashMap::new(),
        }
    }

    fn account(&self, address: &Address) -> Result<Option<AccountState>, StateError> {
        match self.accounts.get(address) {
            Some(account) => Ok(*account),
            None => Ok(self.base.account(address)?.map(AccountState::from)),
        }
    }

    fn delete(&mut self, address: Address) {
        self.accounts.insert(address, None);
        self.storage.remove(&address);
        self.wiped.insert(address);
    }

    /// Applies one transaction's result (revm's journal output) with EIP-158/161 semantics:
    /// touched empty accounts and self-destructed accounts are deleted with their storage.
    pub(crate) fn commit(&mut self, changes: AddressMap<EvmAccount>) {
        for (address, account) in changes {
            if !account.is_touched() {
                continue;
            }
            if account.is_selfdestructed() || account.is_empty() {
                self.delete(address);
                continue;
            }
            if account.is_created() {
                // A new contract starts with empty storage, whatever was there before.
                self.storage.remove(&address);
                self.wiped.insert(address);
                if let Some(code) = &account.info.code
                    && !code.is_empty()
                {
                    self.codes.insert(account.info.code_hash, code.clone());
                }
            }
            self.accounts.insert(
                address,
                Some(AccountState {
                    nonce: account.info.nonce,
                    balance: account.info.balance,
                    code_hash: account.info.code_hash,
                }),
            );
            let slots = self.storage.entry(address).or_default();
            for (slot, value) in account.storage {
                if value.is_changed() {
                    slots.insert(slot, value.present_value);
                }
            }
        }
    }

    /// Credits `amount` to `address` outside the EVM (block rewards). Like geth's
    /// `AddBalance`, it touches the account: an account left empty is deleted (EIP-161).
    pub(crate) fn add_balance(
        &mut self,
        address: Address,
        amount: U256,
    ) -> Result<(), ExecutionError> {
        let mut account = self.account(&address)?.unwrap_or(AccountState {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK_EMPTY,
        });
        account.balance = account
            .balance
            .checked_add(amount)
            .ok_or(ExecutionError::Overflow("block reward"))?;
        self.put_touched(address, account);
        Ok(())
    }

    /// Debits `min(balance, amount)` from `address` outside the EVM (the foundation burn) and
    /// returns what was taken. A missing account is touched into existence and then deleted
    /// as empty, as geth's `SubBalance` on a fresh state object would.
    pub(crate) fn burn(&mut self, address: Address, amount: U256) -> Result<U256, ExecutionError> {
        let Some(mut account) = self.account(&address)? else {
            return Ok(U256::ZERO);
        };
        let taken = account.balance.min(amount);
        account.balance = account
            .balance
            .checked_sub(taken)
            .ok_or(ExecutionError::Overflow("foundation burn"))?;
        self.put_touched(address, account);
        Ok(taken)
    }

    fn put_touched(&mut self, address: Address, account: AccountState) {
        if account.is_empty() {
            self.delete(address);
        } else {
            self.accounts.insert(address, Some(account));
        }
    }

    /// The block's changes against the parent state, sorted as [`StateChanges`] documents.
    ///
    /// Each written account carries the parent's storage root when its storage did not
    /// change, [`EMPTY_ROOT_HASH`] when it was wiped and nothing was written after, and, for
    /// the others, the parent's root as a placeholder: the state-root step
    /// ([`crate::state_root`]) computes those.
    pub(crate) fn into_changes(self) -> Result<StateChanges, ExecutionError> {
        let mut changes = StateChanges::default();
        let accounts: BTreeMap<Address, Option<AccountState>> = self.accounts.into_iter().collect();
        let mut storage: BTreeMap<Address, BTreeMap<B256, U256>> = BTreeMap::new();
        for (address, slots) in self.storage {
            if slots.is_empty() {
                continue;
            }
            storage.insert(
                address,
                slots
                    .into_iter()
                    .map(|(slot, value)| (B256::from(slot), value))
                    .collect(),
            );
        }

        for (address, account) in accounts {
            let base = self.base.account(&address)?;
            let wiped = self.wiped.contains(&address);
            match account {
                None => {
                    if base.is_some() {
                        changes.accounts.push((address, None));
                        changes.wiped_storage.push(address);
                    }
                }
                Some(account) => {
                    let mut slot_writes = Vec::new();
                    for (slot, value) in storage.get(&address).into_iter().flatten() {
                        let before = if wiped || base.is_none() {
                            U256::ZERO
                        } else {
                            self.base.storage(&address, slot)?
                        };
                        if *value != before {
                            slot_writes.push((address, *slot, *value));
                        }
                    }
                    let storage_root = match base {
                        Some(base) if !wiped => base.storage_root,
                        _ => EMPTY_ROOT_HASH,
                    };
                    let new = Account {
                        nonce: account.nonce,
                        balance: account.balance,
                        storage_root,
                        code_hash: account.code_hash,
                    };
                    let wipe_matters =
                        wiped && base.is_some_and(|b| b.storage_root != EMPTY_ROOT_HASH);
                    if base != Some(new) || !slot_writes.is_empty() || wipe_matters {
                        changes.accounts.push((address, Some(new)));
                    }
                    if wipe_matters {
                        changes.wiped_storage.push(address);
                    }
                    changes.storage.extend(slot_writes);
                }
            }
        }

        let mut codes: Vec<(B256, Bytes)> = self
            .codes
            .into_iter()
            .map(|(hash, code)| (hash, code.original_bytes()))
            .collect();
        codes.sort_unstable_by_key(|(hash, _)| *hash);
        changes.codes = codes;
        Ok(changes)
    }
}

impl Database for BlockState<'_> {
    type Error = DbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, DbError> {
        self.basic_ref(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DbError> {
        let code = self.code_by_hash_ref(code_hash)?;
        // Kept for the block too: the process-wide cache takes a lock per lookup.
        if code_hash != KECCAK_EMPTY && !self.codes.contains_key(&code_hash) {
            self.code_cache
                .entry(code_hash)
                .or_insert_with(|| code.clone());
        }
        Ok(code)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, DbError> {
        self.storage_ref(address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DbError> {
        self.block_hash_ref(number)
    }
}

/// Reads through `&self` (the prestate tracer reads the state before a traced transaction, and
/// `Database` above reads through these); analysed code goes to the process-wide cache only.
impl DatabaseRef for BlockState<'_> {
    type Error = DbError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, DbError> {
        Ok(self.account(&address)?.map(|a| a.info()))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, DbError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        if let Some(code) = self
            .codes
            .get(&code_hash)
            .or(self.code_cache.get(&code_hash))
        {
            return Ok(code.clone());
        }
        if let Some(code) = crate::code_cache::get(&code_hash) {
            return Ok(code);
        }
        let raw = self
            .base
            .code(&code_hash)?
            .ok_or(DbError::MissingCode(code_hash))?;
        Ok(crate::code_cache::analyse(code_hash, raw))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, DbError> {
        if let Some(value) = self.storage.get(&address).and_then(|s| s.get(&index)) {
            return Ok(*value);
        }
        if self.wiped.contains(&address) {
            return Ok(U256::ZERO);
        }
        Ok(self.base.storage(&address, &B256::from(index))?)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, DbError> {
        Ok(self.base.block_hash(number)?.unwrap_or_default())
    }
}
