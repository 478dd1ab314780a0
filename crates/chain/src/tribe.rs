//! Tribe wired to the chain: the signer set read from the chief contracts by read-only calls on
//! the parent's state (tribe.md §5), the volunteer check of §8.1, and the adapter that makes
//! `spectrum-consensus`'s `TribeValidator` the chain's [`BlockValidator`].

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes};
use spectrum_chainspec::{ChainSpec, ChiefEntry};
use spectrum_consensus::{
    ProviderError, SignerSet, SignerSetProvider, TribeValidator, is_chief_100, take_miner,
    validate_chief_tx_receipt, validate_chief_volunteer,
};
use spectrum_execution::BlockExecutor;
use spectrum_primitives::{ReceiptWithBloom, SealedBlock, SealedHeader};
use spectrum_storage::Database;
use spectrum_storage_api::StateProvider;

use crate::BlockValidator;

/// `getStatus()` of every chief version.
const GET_STATUS: [u8; 4] = [0x4e, 0x69, 0xd5, 0x60];
/// ChiefBase `takeLeaderList()`.
const TAKE_LEADER_LIST: [u8; 4] = [0xf0, 0xd5, 0x58, 0x17];
/// Chief 1.0.0 `getVolunteers()`: (address[] volunteerList, uint[] weightList, uint length).
const GET_VOLUNTEERS: [u8; 4] = [0xd7, 0xca, 0x4a, 0x1c];
/// POC `getNormalList()`.
const GET_NORMAL_LIST: [u8; 4] = [0x51, 0x39, 0x3c, 0xe3];
/// No list a chief contract returns is longer than this; longer answers are refused.
const MAX_LIST_LEN: usize = 4096;

/// Reads signer sets and staking lists from the chief contracts with read-only calls.
pub struct ChiefContracts {
    db: Arc<Database>,
    spec: Arc<ChainSpec>,
    executor: BlockExecutor,
}

impl ChiefContracts {
    /// Reads through `db` under `spec`'s rules.
    pub fn new(db: Arc<Database>, spec: Arc<ChainSpec>) -> Self {
        let executor = BlockExecutor::spectrum(spec.clone());
        Self { db, spec, executor }
    }

    /// Calls `selector` on `to` at `parent`'s state and decodes the address list in head word
    /// `word` of the answer.
    fn address_list(
        &self,
        parent: &SealedHeader,
        to: Address,
        call: (&str, [u8; 4]),
        word: usize,
        version: &str,
    ) -> Result<Vec<Address>, ProviderError> {
        let failed = |reason: String| ProviderError::CallFailed {
            version: version.to_owned(),
            address: to,
            call: call.0.to_owned(),
            number: parent.number,
            reason,
        };
        let outcome = self.with_state(parent, |state| {
            self.executor
                .call(
                    parent.header(),
                    state,
                    Address::ZERO,
                    to,
                    Bytes::copy_from_slice(&call.1),
                )
                .map_err(|e| failed(e.to_string()))
        })?;
        if !outcome.success {
            return Err(failed("the call reverted".to_owned()));
        }
        decode_address_array(&outcome.output, word).map_err(|e| failed(e.to_owned()))
    }

    /// Runs `f` on the state after `parent`: the head's plain state, or the history of a
    /// canonical block. A side-chain parent has no state (its branch is validated when it is
    /// executed, on top of its then-canonical parent).
    fn with_state<T>(
        &self,
        parent: &SealedHeader,
        f: impl FnOnce(&dyn StateProvider) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let missing = || ProviderError::MissingState {
            number: parent.number,
            hash: parent.hash(),
        };
        let head = self.db.head().map_err(|_| missing())?;
        if head.map(|(_, hash)| hash) == Some(parent.hash()) {
            return f(&self.db.latest_state());
        }
        match self.db.canonical_hash(parent.number) {
            Ok(Some(hash)) if hash == parent.hash() => {
                let state = self.db.state_at(parent.number).map_err(|_| missing())?;
                f(&state)
            }
            _ => Err(missing()),
        }
    }

    /// Chief 1.0.0 `getVolunteers().volunteerList` at `parent`'s state: next round's signers.
    pub fn volunteers(
        &self,
        parent: &SealedHeader,
        chief: &ChiefEntry,
    ) -> Result<Vec<Address>, ProviderError> {
        self.address_list(
            parent,
            chief.address,
            ("getVolunteers()", GET_VOLUNTEERS),
            0,
            &chief.version,
        )
    }

    /// POC `getNormalList()` at `parent`'s state: staked, running miners.
    pub fn normal_list(
        &self,
        parent: &SealedHeader,
        chief: &ChiefEntry,
    ) -> Result<Vec<Address>, ProviderError> {
        match self.spec.tribe.poc {
            Some(poc) => self.address_list(
                parent,
                poc,
                ("getNormalList()", GET_NORMAL_LIST),
                0,
                &chief.version,
            ),
            None => Ok(Vec::new()),
        }
    }

    /// The volunteer the chief-update transaction of the child of `parent` must name (tribe.md
    /// §8.1): `takeMiner` over POC `getNormalList()`, excluding chief `getVolunteers()` and
    /// `getStatus().signerList`, all at `parent`'s state.
    pub fn expected_volunteer(
        &self,
        parent: &SealedHeader,
        chief: &ChiefEntry,
        vrfn: B256,
    ) -> Result<Address, ProviderError> {
        if self.spec.tribe.poc.is_none() {
            return Ok(Address::ZERO);
        }
        let normal = self.normal_list(parent, chief)?;
        let mut excluded = self.volunteers(parent, chief)?;
        excluded.extend(self.address_list(
            parent,
            chief.address,
            ("getStatus()", GET_STATUS),
            0,
            &chief.version,
        )?);
        Ok(take_miner(vrfn, &normal, &excluded))
    }
}

impl SignerSetProvider for ChiefContracts {
    fn signer_set(
        &self,
        parent: &SealedHeader,
        chief: &ChiefEntry,
    ) -> Result<SignerSet, ProviderError> {
        // tribe.md §5: the signer list is the first output of getStatus() from 0.0.6 on, the
        // second before (after volunteerList).
        let word = match chief.version.as_str() {
            "0.0.2" | "0.0.3" | "0.0.4" | "0.0.5" => 1,
            _ => 0,
        };
        let signers = self.address_list(
            parent,
            chief.address,
            ("getStatus()", GET_STATUS),
            word,
            &chief.version,
        )?;
        let leaders = match (is_chief_100(chief), self.spec.tribe.chief_base) {
            (true, Some(base)) => self.address_list(
                parent,
                base,
                ("takeLeaderList()", TAKE_LEADER_LIST),
                0,
                &chief.version,
            )?,
            _ => Vec::new(),
        };
        Ok(SignerSet { signers, leaders })
    }
}

/// Decodes the ABI `address[]` whose offset is in head word `word` of `data`, bounded.
fn decode_address_array(data: &[u8], word: usize) -> Result<Vec<Address>, &'static str> {
    let read_word = |at: usize| -> Result<usize, &'static str> {
        let end = at.checked_add(32).ok_or("offset overflow")?;
        let bytes = data.get(at..end).ok_or("answer too short")?;
        if bytes.iter().take(24).any(|b| *b != 0) {
            return Err("offset or length too large");
        }
        let mut value = [0u8; 8];
        value.copy_from_slice(bytes.get(24..32).ok_or("answer too short")?);
        usize::try_from(u64::from_be_bytes(value)).map_err(|_| "offset too large")
    };
    let offset = read_word(word.checked_mul(32).ok_or("offset overflow")?)?;
    let len = read_word(offset)?;
    if len > MAX_LIST_LEN {
        return Err("list longer than any chief contract returns");
    }
    (0..len)
        .map(|i| {
            let at = offset
                .checked_add(32)
                .and_then(|o| o.checked_add(i.checked_mul(32)?))
                .ok_or("offset overflow")?;
            let item = data
                .get(at..at.checked_add(32).ok_or("offset overflow")?)
                .ok_or("answer too short")?;
            Ok(Address::from_slice(
                item.get(12..32).ok_or("answer too short")?,
            ))
        })
        .collect()
}

/// Tribe's rules as the chain's block validator.
pub struct TribeBlockValidator {
    tribe: TribeValidator,
    contracts: Arc<ChiefContracts>,
    spec: Arc<ChainSpec>,
}

impl TribeBlockValidator {
    /// Tribe over `db` for `spec`, with the system clock.
    pub fn new(db: Arc<Database>, spec: Arc<ChainSpec>) -> Self {
        let contracts = Arc::new(ChiefContracts::new(db, spec.clone()));
        let tribe = TribeValidator::new(
            spec.clone(),
            contracts.clone(),
            Arc::new(spectrum_consensus::SystemClock),
        );
        Self {
            tribe,
            contracts,
            spec,
        }
    }
}

impl BlockValidator for TribeBlockValidator {
    fn validate_block(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        senders: &[Address],
    ) -> Result<(), String> {
        self.tribe
            .validate_block_pre_execution(block, parent, senders)
            .map_err(|e| e.to_string())
    }

    fn validate_after_execution(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        receipts: &[ReceiptWithBloom],
    ) -> Result<(), String> {
        let number = block.number();
        let first_ok = receipts.first().map(|r| r.receipt.status.coerce_status());
        validate_chief_tx_receipt(&self.spec, number, first_ok).map_err(|e| e.to_string())?;
        let Some(chief) = self.spec.chief_at(number) else {
            return Ok(());
        };
        if number <= 3 || !self.spec.is_sip100(number) {
            return Ok(());
        }
        let vrfn = block
            .header
            .extra_data
            .get(..32)
            .map(B256::from_slice)
            .unwrap_or_default();
        let expected = self
            .contracts
            .expected_volunteer(parent, chief, vrfn)
            .map_err(|e| e.to_string())?;
        validate_chief_volunteer(block, &self.spec, expected).map_err(|e| e.to_string())
    }
}
