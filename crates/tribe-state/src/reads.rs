//! The chief contracts read at the state after a block: the consensus reads (signer set,
//! volunteers, the expected volunteer) and the call plumbing the views share.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256};
use spectrum_chainspec::{ChainSpec, ChiefEntry};
use spectrum_consensus::{ProviderError, SignerSet, SignerSetProvider, is_chief_100, take_miner};
use spectrum_contracts::abi::{
    GET_NORMAL_LIST, GET_STATUS, GET_VOLUNTEERS, TAKE_LEADER_LIST, decode_address_array,
};
use spectrum_execution::{BlockExecutor, CallRequest};
use spectrum_primitives::SealedHeader;
use spectrum_storage_api::{StateProvider, StateProviderFactory};

use crate::cache::ViewCache;

/// Gas of every chief, ChiefBase and POC view the engine reads: the reference runs them
/// through its `eth_call` path with 50,000,000 gas whatever the block's gas limit (tribe.md
/// §5). This, not a list length, bounds the work of reading a staking list; with the block's
/// gas limit instead, a list costing more to read than a block holds would stop a chain the
/// reference keeps running.
const CHIEF_VIEW_GAS: u64 = 50_000_000;

/// Reads signer sets and staking lists from the chief contracts with read-only calls.
pub struct ChiefContracts {
    state: Arc<dyn StateProviderFactory>,
    spec: Arc<ChainSpec>,
    executor: BlockExecutor,
    /// Answers already read, per state (the parent's state is read several times per block).
    cache: ViewCache,
}

impl ChiefContracts {
    /// Reads the states `state` opens, under `spec`'s rules.
    pub fn new(state: Arc<dyn StateProviderFactory>, spec: Arc<ChainSpec>) -> Self {
        let executor = BlockExecutor::spectrum(spec.clone());
        Self {
            state,
            spec,
            executor,
            cache: ViewCache::default(),
        }
    }

    /// The chain spec.
    pub(crate) fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// Calls `selector` on `to` at `parent`'s state and decodes the address list in head word
    /// `word` of the answer.
    pub(crate) fn address_list(
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

    /// Runs `f` on the state after `at` (one snapshot: the head's plain state or a canonical
    /// block's history). A side-chain block has no state (its branch is validated when it is
    /// executed, on top of its then-canonical parent).
    fn with_state<T>(
        &self,
        at: &SealedHeader,
        f: impl FnOnce(&dyn StateProvider) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let state = self
            .state
            .by_hash(&at.hash())
            .map_err(|_| ProviderError::MissingState {
                number: at.number,
                hash: at.hash(),
            })?;
        f(&*state)
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

    /// Calls `selector` on `to` at the state after `at`; the raw answer of a successful call.
    pub(crate) fn raw_call(
        &self,
        at: &SealedHeader,
        to: Address,
        call: (&str, &[u8]),
        version: &str,
    ) -> Result<Bytes, ProviderError> {
        let hash = at.hash();
        if let Some(answer) = self.cache.get(hash, to, call.1) {
            return Ok(answer);
        }
        let failed = |reason: String| ProviderError::CallFailed {
            version: version.to_owned(),
            address: to,
            call: call.0.to_owned(),
            number: at.number,
            reason,
        };
        let request = CallRequest {
            from: Address::ZERO,
            to: Some(to),
            gas_limit: CHIEF_VIEW_GAS,
            gas_price: 0,
            value: U256::ZERO,
            data: Bytes::copy_from_slice(call.1),
        };
        let outcome = self.with_state(at, |state| {
            self.executor
                .call_with(at.header(), state, &request)
                .map_err(|e| failed(e.to_string()))
        })?;
        if !outcome.success {
            let reason = match outcome.halt {
                Some(halt) => format!("the call halted: {halt}"),
                None => "the call reverted".to_owned(),
            };
            return Err(failed(reason));
        }
        self.cache.insert(hash, to, call.1, outcome.output.clone());
        Ok(outcome.output)
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
