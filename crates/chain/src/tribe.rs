//! Tribe wired to the chain: the signer set read from the chief contracts by read-only calls on
//! the parent's state (tribe.md §5), the volunteer check of §8.1, and the adapter that makes
//! `spectrum-consensus`'s `TribeValidator` the chain's [`BlockValidator`].

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_chainspec::{ChainSpec, ChiefEntry};
use spectrum_consensus::{
    ProviderError, SignerSet, SignerSetProvider, TribeError, TribeValidator, is_chief_100,
    take_miner, validate_chief_tx_receipt, validate_chief_volunteer,
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
/// Chief `getEpoch()`.
const GET_EPOCH: [u8; 4] = [0x75, 0x79, 0x91, 0xa8];
/// Chief `getSignerLimit()`.
const GET_SIGNER_LIMIT: [u8; 4] = [0xeb, 0x5c, 0x00, 0x11];
/// ChiefBase `takeLeaderLimit()`.
const TAKE_LEADER_LIMIT: [u8; 4] = [0x40, 0xe2, 0xf9, 0x91];
/// POC `getAll()`: (address[] miners, uint[] amounts, uint[] blocks, address[] owners, uint[]
/// blackStatus).
const POC_GET_ALL: [u8; 4] = [0x53, 0xed, 0x51, 0x43];
/// Anmap `bindInfo(address)`: (address from, address[] nodeids).
const ANMAP_BIND_INFO: [u8; 4] = [0x8d, 0x04, 0xcd, 0x30];

/// A chief contract's `getStatus()` and limits at one block, as `tribe_getStatus` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChiefStatus {
    /// The chief version governing the block.
    pub version: String,
    /// `signerList` in contract order (1.0.0: with zero-address placeholders).
    pub signers: Vec<Address>,
    /// `scoreList`, one per signer (zero where the contract has fewer).
    pub scores: Vec<U256>,
    /// `blackList` (0.0.3 on; empty before).
    pub black_list: Vec<Address>,
    /// The contract's `number`: the block of its last update.
    pub number: U256,
    /// `getEpoch()`, if the contract has it.
    pub epoch: Option<U256>,
    /// `getSignerLimit()`, if the contract has it.
    pub signer_limit: Option<U256>,
    /// ChiefBase leaders (chief 1.0.0 only).
    pub leaders: Option<Vec<Address>>,
    /// ChiefBase `takeLeaderLimit()` (chief 1.0.0 only).
    pub leader_limit: Option<U256>,
}

/// POC `getAll()`: every staked miner with its stake (`tribe_pocGetStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PocStatus {
    /// Miners (stopped ones first).
    pub miners: Vec<Address>,
    /// Their deposits in wei.
    pub amounts: Vec<U256>,
    /// Their stop blocks (0 while running).
    pub blocks: Vec<U256>,
    /// Who deposited for each.
    pub owners: Vec<Address>,
    /// 1 if blacklisted.
    pub black_status: Vec<U256>,
}

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
        let output = self.raw_call(parent, to, (call.0, &call.1), version)?;
        decode_address_array(&output, word).map_err(|e| ProviderError::CallFailed {
            version: version.to_owned(),
            address: to,
            call: call.0.to_owned(),
            number: parent.number,
            reason: e.to_owned(),
        })
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

/// Read methods for the `tribe_*` JSON-RPC calls: each reads the state after block `at`.
impl ChiefContracts {
    /// Calls `selector` on `to` at the state after `at`; the raw answer of a successful call.
    fn raw_call(
        &self,
        at: &SealedHeader,
        to: Address,
        call: (&str, &[u8]),
        version: &str,
    ) -> Result<Bytes, ProviderError> {
        let failed = |reason: String| ProviderError::CallFailed {
            version: version.to_owned(),
            address: to,
            call: call.0.to_owned(),
            number: at.number,
            reason,
        };
        let outcome = self.with_state(at, |state| {
            self.executor
                .call(
                    at.header(),
                    state,
                    Address::ZERO,
                    to,
                    Bytes::copy_from_slice(call.1),
                )
                .map_err(|e| failed(e.to_string()))
        })?;
        if !outcome.success {
            return Err(failed("the call reverted".to_owned()));
        }
        Ok(outcome.output)
    }

    /// The chief's `getStatus()`, epoch and limits, and (1.0.0) ChiefBase's leaders, at the
    /// state after `at`, read from the chief that governs `at` (tribe.md §5 lists each
    /// version's layout).
    pub fn status(&self, at: &SealedHeader) -> Result<ChiefStatus, ProviderError> {
        let chief = self
            .spec
            .chief_at(at.number)
            .ok_or(ProviderError::CallFailed {
                version: String::new(),
                address: Address::ZERO,
                call: "getStatus()".to_owned(),
                number: at.number,
                reason: "no chief contract governs this block".to_owned(),
            })?;
        let version = chief.version.as_str();
        let answer = self.raw_call(at, chief.address, ("getStatus()", &GET_STATUS), version)?;
        let bad = |reason: &str| ProviderError::CallFailed {
            version: version.to_owned(),
            address: chief.address,
            call: "getStatus()".to_owned(),
            number: at.number,
            reason: reason.to_owned(),
        };
        // Head-word positions of (signerList, blackList, scoreList, number) per version.
        let (signers_at, black_at, scores_at, number_at) = match version {
            "0.0.2" => (1, None, 2, 4),
            "0.0.3" | "0.0.4" | "0.0.5" => (1, Some(2), 3, 5),
            _ => (0, Some(1), 2, 5),
        };
        let signers = decode_address_array(&answer, signers_at).map_err(bad)?;
        let black_list = match black_at {
            Some(word) => decode_address_array(&answer, word).map_err(bad)?,
            None => Vec::new(),
        };
        let mut scores = decode_uint_array(&answer, scores_at).map_err(bad)?;
        scores.resize(signers.len(), U256::ZERO);
        let number = read_uint_word(&answer, number_at).map_err(bad)?;
        let uint = |to: Address, call: (&str, &[u8])| {
            self.raw_call(at, to, call, version)
                .ok()
                .and_then(|answer| read_uint_word(&answer, 0).ok())
        };
        let epoch = uint(chief.address, ("getEpoch()", &GET_EPOCH));
        let signer_limit = uint(chief.address, ("getSignerLimit()", &GET_SIGNER_LIMIT));
        let (leaders, leader_limit) = match (is_chief_100(chief), self.spec.tribe.chief_base) {
            (true, Some(base)) => (
                Some(self.address_list(
                    at,
                    base,
                    ("takeLeaderList()", TAKE_LEADER_LIST),
                    0,
                    version,
                )?),
                uint(base, ("takeLeaderLimit()", &TAKE_LEADER_LIMIT)),
            ),
            _ => (None, None),
        };
        Ok(ChiefStatus {
            version: chief.version.clone(),
            signers,
            scores,
            black_list,
            number,
            epoch,
            signer_limit,
            leaders,
            leader_limit,
        })
    }

    /// The chief's `getVolunteers()` at the state after `at`: volunteers and their weights;
    /// empty for a chief without the call (before 0.0.6).
    pub fn volunteers_with_weights(
        &self,
        at: &SealedHeader,
    ) -> Result<(Vec<Address>, Vec<U256>), ProviderError> {
        let Some(chief) = self.spec.chief_at(at.number) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let Ok(answer) = self.raw_call(
            at,
            chief.address,
            ("getVolunteers()", &GET_VOLUNTEERS),
            &chief.version,
        ) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let bad = |reason: &str| ProviderError::CallFailed {
            version: chief.version.clone(),
            address: chief.address,
            call: "getVolunteers()".to_owned(),
            number: at.number,
            reason: reason.to_owned(),
        };
        let volunteers = decode_address_array(&answer, 0).map_err(bad)?;
        let mut weights = decode_uint_array(&answer, 1).map_err(bad)?;
        weights.resize(volunteers.len(), U256::ZERO);
        Ok((volunteers, weights))
    }

    /// POC `getAll()` at the state after `at`; `None` on a network without POC.
    pub fn poc_status(&self, at: &SealedHeader) -> Result<Option<PocStatus>, ProviderError> {
        let Some(poc) = self.spec.tribe.poc else {
            return Ok(None);
        };
        let answer = self.raw_call(at, poc, ("getAll()", &POC_GET_ALL), "poc")?;
        let bad = |reason: &str| ProviderError::CallFailed {
            version: "poc".to_owned(),
            address: poc,
            call: "getAll()".to_owned(),
            number: at.number,
            reason: reason.to_owned(),
        };
        Ok(Some(PocStatus {
            miners: decode_address_array(&answer, 0).map_err(bad)?,
            amounts: decode_uint_array(&answer, 1).map_err(bad)?,
            blocks: decode_uint_array(&answer, 2).map_err(bad)?,
            owners: decode_address_array(&answer, 3).map_err(bad)?,
            black_status: decode_uint_array(&answer, 4).map_err(bad)?,
        }))
    }

    /// Anmap `bindInfo(addr)` at the state after `at`: the wallet `addr` is bound to and its
    /// node ids; `None` on a network without Anmap at that block.
    pub fn bind_info(
        &self,
        at: &SealedHeader,
        addr: Address,
    ) -> Result<Option<(Address, Vec<Address>)>, ProviderError> {
        let Some(anmap) = self
            .spec
            .tribe
            .anmap
            .iter()
            .rev()
            .find(|entry| entry.start_block <= at.number)
        else {
            return Ok(None);
        };
        let mut data = ANMAP_BIND_INFO.to_vec();
        data.extend_from_slice(&[0u8; 12]);
        data.extend_from_slice(addr.as_slice());
        let answer = self.raw_call(
            at,
            anmap.address,
            ("bindInfo(address)", &data),
            &anmap.version,
        )?;
        let bad = |reason: &str| ProviderError::CallFailed {
            version: anmap.version.clone(),
            address: anmap.address,
            call: "bindInfo(address)".to_owned(),
            number: at.number,
            reason: reason.to_owned(),
        };
        let from = answer
            .get(12..32)
            .map(Address::from_slice)
            .ok_or_else(|| bad("answer too short"))?;
        let nodeids = decode_address_array(&answer, 1).map_err(bad)?;
        Ok(Some((from, nodeids)))
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

/// Reads head word `word` of `data` as a uint256.
fn read_uint_word(data: &[u8], word: usize) -> Result<U256, &'static str> {
    let at = word.checked_mul(32).ok_or("offset overflow")?;
    let bytes = data
        .get(at..at.checked_add(32).ok_or("offset overflow")?)
        .ok_or("answer too short")?;
    Ok(U256::from_be_slice(bytes))
}

/// A list of `len` words after the length word at `offset` must lie inside the answer. This is
/// the only bound on its length: the answer's size is bounded by the gas of the call, as in the
/// reference, which has no list-length limit (a chain with 4,097 POC stakers is valid). So
/// nothing is allocated for a length the answer does not hold.
fn check_list_fits(data: &[u8], offset: usize, len: usize) -> Result<(), &'static str> {
    let end = len
        .checked_add(1)
        .and_then(|words| words.checked_mul(32))
        .and_then(|bytes| bytes.checked_add(offset))
        .ok_or("list length overflows")?;
    if end > data.len() {
        return Err("answer too short for its list length");
    }
    Ok(())
}

/// Decodes the ABI `uint256[]` whose offset is in head word `word` of `data`, bounded.
fn decode_uint_array(data: &[u8], word: usize) -> Result<Vec<U256>, &'static str> {
    // An address array and a uint array share the layout: decode as words, then widen.
    let small = |v: U256| usize::try_from(v).map_err(|_| "offset or length too large");
    let offset = small(read_uint_word(data, word)?)?;
    if offset % 32 != 0 {
        return Err("unaligned offset");
    }
    let base = offset / 32;
    let len = small(read_uint_word(data, base)?)?;
    check_list_fits(data, offset, len)?;
    (0..len)
        .map(|i| read_uint_word(data, base.saturating_add(1).saturating_add(i)))
        .collect()
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
    check_list_fits(data, offset, len)?;
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

    /// The same rules reading the time from `clock` (the node's one clock).
    pub fn with_clock(mut self, clock: Arc<dyn spectrum_consensus::Clock>) -> Self {
        self.tribe = self.tribe.with_clock(clock);
        self
    }
}

impl BlockValidator for TribeBlockValidator {
    fn validate_side_header(
        &self,
        header: &SealedHeader,
        parent: &SealedHeader,
    ) -> Result<(), TribeError> {
        // The signer set is read at the parent's state: the head's, or the history of a
        // canonical block (`ChiefContracts::with_state`).
        self.tribe.validate_header(header, parent)
    }

    fn validate_header_without_state(
        &self,
        header: &SealedHeader,
        parent: &SealedHeader,
    ) -> Result<(), TribeError> {
        self.tribe.validate_header_without_state(header, parent)
    }

    fn validate_block(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        senders: &[Address],
    ) -> Result<(), TribeError> {
        self.tribe
            .validate_block_pre_execution(block, parent, senders)
    }

    fn validate_after_execution(
        &self,
        block: &SealedBlock,
        parent: &SealedHeader,
        receipts: &[ReceiptWithBloom],
    ) -> Result<(), TribeError> {
        let number = block.number();
        let first_ok = receipts.first().map(|r| r.receipt.status.coerce_status());
        validate_chief_tx_receipt(&self.spec, number, first_ok)?;
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
        let expected = self.contracts.expected_volunteer(parent, chief, vrfn)?;
        validate_chief_volunteer(block, &self.spec, expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ABI answer whose head word 0 points at an `address[]` of `len` distinct addresses.
    fn address_list_answer(len: usize) -> Vec<u8> {
        let word = |v: usize| U256::from(v).to_be_bytes::<32>();
        let mut answer = word(32).to_vec();
        answer.extend_from_slice(&word(len));
        for i in 0..len {
            answer.extend_from_slice(&word(i + 1));
        }
        answer
    }

    /// Item 4 of the safety issue: 4,097 POC stakers made every honest block "invalid" through
    /// a list-length limit the reference lacks (the old decoder refused any list over 4,096).
    #[test]
    fn lists_longer_than_4096_decode() {
        let answer = address_list_answer(4097);
        let list = decode_address_array(&answer, 0).unwrap();
        assert_eq!(list.len(), 4097);
        assert_eq!(
            list[4096],
            Address::left_padding_from(&4097u64.to_be_bytes())
        );
        assert_eq!(decode_uint_array(&answer, 0).unwrap().len(), 4097);
    }

    /// A length the answer does not hold is refused before anything is allocated for it.
    #[test]
    fn a_length_beyond_the_answer_is_refused() {
        let mut answer = address_list_answer(3);
        answer[32..64].copy_from_slice(&U256::from(1u64 << 40).to_be_bytes::<32>());
        assert_eq!(
            decode_address_array(&answer, 0),
            Err("answer too short for its list length")
        );
        assert_eq!(
            decode_uint_array(&answer, 0),
            Err("answer too short for its list length")
        );
        answer.truncate(64 + 2 * 32);
        answer[32..64].copy_from_slice(&U256::from(3u8).to_be_bytes::<32>());
        assert_eq!(
            decode_address_array(&answer, 0),
            Err("answer too short for its list length")
        );
    }
}
