//! A [`SignerSetProvider`] built from a reference chain's recorded `tribe_*` answers
//! (expected.json), and the shared fixtures of the validation tests.
//!
//! `expected.json`'s `tribe[N]` holds what the reference node answered for block N's hash: the
//! state **after** N, i.e. the signer set in force for N + 1. devnet-multi records every block
//! 57..=412 plus 3, 4 and 56; devnet-A records 3, 4, 56, 57, 60, 62, 63, 64, 100, 150, 220.
//!
//! - A parent with a record of the child's chief version: that record.
//! - A parent without a record (the gaps above): the records just before and just after it,
//!   if both exist, have the child's chief version and hold the same set. The gaps are where
//!   the READMEs show one unchanged list (blocks 5..=55 of both chains: `[A]`; devnet-A's later
//!   gaps: A alone in slot 0, A sealing every block, no volunteer ever listed).
//! - The first block of chief 1.0.0 (devnet 63, parent 62, whose record is chief 0.0.7's): the
//!   1.0.0 contract on the last 0.0.7 state holds its constructor list
//!   `[leaderList[0], 0, …, 0]` of `signerLimit` entries (tribe.md §9); leaders and
//!   signerLimit come from the first 1.0.0 record (block 63: its update at slot 3 cannot change
//!   slot 0, and the test checks the constructed list equals that record's).

use std::{
    collections::BTreeMap,
    sync::{Arc, OnceLock},
};

use serde_json::Value;
use spectrum_chainspec::{ChainSpec, ChiefEntry};
use spectrum_consensus::{
    CHIEF_100_VERSION, FixedClock, ProviderError, SignerSet, SignerSetProvider, TribeValidator,
};
use spectrum_primitives::{Address, B256, Block, SealedBlock, SealedHeader};

use super::{DEVNET_A, DEVNET_MULTI, load_blocks, read_testdata};

/// One recorded `tribe[N]` entry: the state after block N.
#[derive(Debug, Clone)]
pub struct Record {
    /// Block N's hash.
    pub hash: B256,
    /// The chief version that answered (that of block N).
    pub version: String,
    /// Signers (with placeholders from 1.0.0) and leaders.
    pub set: SignerSet,
    /// `getStatus().signerLimit`.
    pub signer_limit: u64,
    /// POC `getNormalList()` at N (devnet-multi from 57 only).
    pub normal_list: Option<Vec<Address>>,
    /// Chief `getVolunteers().volunteerList` at N.
    pub volunteers: Vec<Address>,
}

fn address(v: &Value) -> Address {
    v.as_str()
        .unwrap_or_else(|| panic!("address expected, got {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("bad address {v}: {e}"))
}

fn addresses(v: &Value) -> Vec<Address> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(address).collect(),
        other => panic!("address list expected, got {other}"),
    }
}

impl Record {
    fn parse(entry: &Value) -> Self {
        let status = &entry["tribe_getStatus"];
        Self {
            hash: entry["hash"].as_str().unwrap().parse().unwrap(),
            version: status["version"].as_str().unwrap().to_owned(),
            set: SignerSet {
                signers: status["signers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| address(&s["address"]))
                    .collect(),
                leaders: addresses(&status["leaders"]),
            },
            signer_limit: status["signerLimit"].as_u64().unwrap(),
            normal_list: entry
                .get("pocLists")
                .map(|p| addresses(&p["getNormalList"])),
            volunteers: entry["tribe_getVolunteers"]["volunteers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| address(&v["address"]))
                .collect(),
        }
    }
}

/// Signer sets from a reference chain's `tribe_*` records.
#[derive(Debug)]
pub struct RecordedSigners {
    chain: &'static str,
    records: BTreeMap<u64, Record>,
}

impl RecordedSigners {
    /// Reads `expected["tribe"]`.
    pub fn from_expected(chain: &'static str, expected: &Value) -> Self {
        let records = expected["tribe"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(key, entry)| Some((key.parse::<u64>().ok()?, Record::parse(entry))))
            .collect();
        Self { chain, records }
    }

    /// The record of block `number`, if any.
    pub fn record(&self, number: u64) -> Option<&Record> {
        self.records.get(&number)
    }

    fn missing(&self, parent: &SealedHeader, why: &str) -> ProviderError {
        ProviderError::CallFailed {
            version: String::new(),
            address: Address::ZERO,
            call: format!("recorded tribe_* of {}", self.chain),
            number: parent.number,
            reason: why.to_owned(),
        }
    }

    /// Chief 1.0.0's constructor list on the last state before its era (tribe.md §9).
    fn chief_100_constructor_set(&self, parent: &SealedHeader) -> Result<SignerSet, ProviderError> {
        let (_, first) = self
            .records
            .range(parent.number + 1..)
            .find(|(_, r)| r.version == CHIEF_100_VERSION)
            .ok_or_else(|| self.missing(parent, "no chief 1.0.0 record"))?;
        let leader = *first
            .set
            .leaders
            .first()
            .ok_or_else(|| self.missing(parent, "no leaders"))?;
        let mut signers = vec![Address::ZERO; first.signer_limit as usize];
        signers[0] = leader;
        Ok(SignerSet {
            signers,
            leaders: first.set.leaders.clone(),
        })
    }
}

impl SignerSetProvider for RecordedSigners {
    fn signer_set(
        &self,
        parent: &SealedHeader,
        chief: &ChiefEntry,
    ) -> Result<SignerSet, ProviderError> {
        let number = parent.number;
        if let Some(record) = self.records.get(&number) {
            if record.hash != parent.hash() {
                return Err(ProviderError::MissingState {
                    number,
                    hash: parent.hash(),
                });
            }
            if record.version == chief.version {
                return Ok(record.set.clone());
            }
            if chief.version == CHIEF_100_VERSION {
                return self.chief_100_constructor_set(parent);
            }
            return Err(self.missing(parent, "recorded chief version differs"));
        }
        let before = self.records.range(..number).next_back().map(|(_, r)| r);
        let after = self.records.range(number + 1..).next().map(|(_, r)| r);
        match (before, after) {
            (Some(b), Some(a))
                if b.version == chief.version && a.version == chief.version && b.set == a.set =>
            {
                Ok(b.set.clone())
            }
            _ => Err(self.missing(parent, "no record and no equal records around it")),
        }
    }
}

/// A reference chain with everything the validation tests need.
pub struct Fixture {
    /// DEVNET_A or DEVNET_MULTI.
    pub name: &'static str,
    /// The devnet spec.
    pub spec: Arc<ChainSpec>,
    /// Every block, sealed.
    pub blocks: Vec<SealedBlock>,
    /// expected.json.
    pub expected: Value,
    /// The recorded signer sets.
    pub provider: Arc<RecordedSigners>,
}

impl Fixture {
    fn load(name: &'static str) -> Self {
        let expected: Value =
            serde_json::from_slice(&read_testdata(name, "expected.json")).unwrap();
        let blocks: Vec<SealedBlock> = load_blocks(name)
            .into_iter()
            .map(Block::seal_slow)
            .collect();
        for block in &blocks {
            let hash: B256 = expected["blocks"][block.number() as usize]["hash"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(block.hash(), hash, "{name}: block {}", block.number());
        }
        let provider = Arc::new(RecordedSigners::from_expected(name, &expected));
        Self {
            name,
            spec: Arc::new(ChainSpec::devnet()),
            blocks,
            expected,
            provider,
        }
    }

    /// The time of the last block: "now" for the future-block rule.
    pub fn head_time(&self) -> u64 {
        self.blocks.last().unwrap().header.timestamp
    }

    /// A validator with the recorded signer sets and a clock stopped at the head's time.
    pub fn validator(&self) -> TribeValidator {
        self.validator_at(self.head_time())
    }

    /// A validator with the recorded signer sets and a clock stopped at `now`.
    pub fn validator_at(&self, now: u64) -> TribeValidator {
        TribeValidator::new(
            self.spec.clone(),
            self.provider.clone(),
            Arc::new(FixedClock(now)),
        )
    }

    /// Block `number`.
    pub fn block(&self, number: u64) -> &SealedBlock {
        &self.blocks[number as usize]
    }

    /// Header of block `number`.
    pub fn header(&self, number: u64) -> &SealedHeader {
        &self.blocks[number as usize].header
    }

    /// The recovered senders of block `number`'s transactions.
    pub fn senders(&self, number: u64) -> Vec<Address> {
        senders_of(self.block(number))
    }

    /// Whether the receipt of transaction `index` of block `number` has status 1.
    pub fn receipt_succeeded(&self, number: u64, index: usize) -> Option<bool> {
        let receipt = &self.expected["blocks"][number as usize]["transactions"][index]["receipt"];
        receipt["status"].as_u64().map(|s| s == 1)
    }
}

/// The recovered senders of `block`'s transactions.
pub fn senders_of(block: &SealedBlock) -> Vec<Address> {
    block
        .body
        .transactions
        .iter()
        .map(|tx| tx.recover_sender().unwrap())
        .collect()
}

/// devnet-A, loaded once.
pub fn devnet_a() -> &'static Fixture {
    static CELL: OnceLock<Fixture> = OnceLock::new();
    CELL.get_or_init(|| Fixture::load(DEVNET_A))
}

/// devnet-multi, loaded once.
pub fn devnet_multi() -> &'static Fixture {
    static CELL: OnceLock<Fixture> = OnceLock::new();
    CELL.get_or_init(|| Fixture::load(DEVNET_MULTI))
}
