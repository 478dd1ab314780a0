//! The chief, ChiefBase, POC and Anmap views of the `tribe_*` JSON-RPC calls, each read at the
//! state after block `at`.

use alloy_primitives::{Address, U256};
use spectrum_consensus::{ProviderError, is_chief_100};
use spectrum_contracts::abi::{
    GET_EPOCH, GET_SIGNER_LIMIT, GET_STATUS, GET_VOLUNTEERS, POC_GET_ALL, TAKE_LEADER_LIMIT,
    TAKE_LEADER_LIST, anmap_bind_info, decode_address_array, decode_bind_info, decode_uint_array,
    read_uint_word,
};
use spectrum_primitives::SealedHeader;

use crate::ChiefContracts;

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

/// A validator's place in a [`ChiefStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidatorRole {
    /// In ChiefBase's leader list (chief 1.0.0).
    Leader,
    /// In the signer list and not a leader.
    Signer,
    /// Neither: it seals nothing.
    None,
}

impl ValidatorRole {
    /// Its metric label.
    pub fn name(self) -> &'static str {
        match self {
            Self::Leader => "leader",
            Self::Signer => "signer",
            Self::None => "none",
        }
    }
}

impl ChiefStatus {
    /// `who`'s role: leaders first (a leader may also sit in the signer list).
    pub fn role_of(&self, who: Address) -> ValidatorRole {
        if self.leaders.as_ref().is_some_and(|l| l.contains(&who)) {
            ValidatorRole::Leader
        } else if self.signers.contains(&who) {
            ValidatorRole::Signer
        } else {
            ValidatorRole::None
        }
    }
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

/// Read methods for the `tribe_*` JSON-RPC calls.
impl ChiefContracts {
    /// The chief's `getStatus()`, epoch and limits, and (1.0.0) ChiefBase's leaders, at the
    /// state after `at`, read from the chief that governs `at` (tribe.md §5 lists each
    /// version's layout).
    pub fn status(&self, at: &SealedHeader) -> Result<ChiefStatus, ProviderError> {
        let chief = self
            .spec()
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
        let (leaders, leader_limit) = match (is_chief_100(chief), self.spec().tribe.chief_base) {
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
        let Some(chief) = self.spec().chief_at(at.number) else {
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
        let Some(poc) = self.spec().tribe.poc else {
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
            .spec()
            .tribe
            .anmap
            .iter()
            .rev()
            .find(|entry| entry.start_block <= at.number)
        else {
            return Ok(None);
        };
        let data = anmap_bind_info(addr);
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
        decode_bind_info(&answer).map(Some).map_err(bad)
    }
}
