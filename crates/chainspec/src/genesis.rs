//! Genesis files: parsing, the genesis allocation, and the genesis header and state root.

use std::{collections::BTreeMap, path::Path};

use alloy_primitives::{Address, B64, B256, Bloom, Bytes, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount};
use serde::Deserialize;
use spectrum_primitives::{EMPTY_OMMER_ROOT_HASH, Header, KECCAK_EMPTY, SealedHeader};

use crate::{
    ChainSpec, ChainSpecError, SpecFieldError,
    alloc_rlp::decode_alloc_rlp,
    spec::{EthereumForks, TribeParams},
};

/// Genesis files larger than this are refused before parsing.
const MAX_GENESIS_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Length of a Tribe genesis `extraData`: 32 bytes vanity, the 20-byte genesis signer, a
/// 65-byte seal placeholder (chain.md §2).
pub const GENESIS_EXTRA_DATA_LEN: usize = 32 + 20 + 65;

/// An account in the genesis allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// Balance in wei.
    #[serde(deserialize_with = "crate::json::u256")]
    pub balance: U256,
    /// Nonce.
    #[serde(default, deserialize_with = "crate::json::u64")]
    pub nonce: u64,
    /// Contract code.
    #[serde(default)]
    pub code: Bytes,
    /// Storage slots (zero values are not stored).
    #[serde(default)]
    pub storage: BTreeMap<B256, B256>,
}

impl GenesisAccount {
    /// A plain account holding `balance`.
    pub fn with_balance(balance: U256) -> Self {
        Self {
            balance,
            ..Default::default()
        }
    }

    /// The non-zero storage slots as numbers.
    pub fn storage_slots(&self) -> impl Iterator<Item = (B256, U256)> + '_ {
        self.storage
            .iter()
            .map(|(k, v)| (*k, U256::from_be_bytes(v.0)))
            .filter(|(_, v)| !v.is_zero())
    }

    /// The account's storage root.
    pub fn storage_root(&self) -> B256 {
        alloy_trie::root::storage_root_unhashed(self.storage_slots())
    }

    /// The account as the state trie holds it.
    pub fn trie_account(&self) -> TrieAccount {
        TrieAccount {
            nonce: self.nonce,
            balance: self.balance,
            storage_root: self.storage_root(),
            code_hash: if self.code.is_empty() {
                KECCAK_EMPTY
            } else {
                keccak256(&self.code)
            },
        }
    }
}

/// The genesis block's header fields and allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// Header nonce.
    pub nonce: u64,
    /// Header timestamp.
    pub timestamp: u64,
    /// Header extraData; on Tribe chains bytes 32..52 name the genesis signer.
    pub extra_data: Bytes,
    /// Header gas limit.
    pub gas_limit: u64,
    /// Header difficulty.
    pub difficulty: U256,
    /// Header mixDigest.
    pub mix_hash: B256,
    /// Header coinbase.
    pub coinbase: Address,
    /// The allocation: `allocRlp` and `alloc` of the file, merged.
    pub alloc: BTreeMap<Address, GenesisAccount>,
}

impl Genesis {
    /// The state root of the allocation: the secure Merkle-Patricia trie of the accounts.
    pub fn state_root(&self) -> B256 {
        if self.alloc.is_empty() {
            return EMPTY_ROOT_HASH;
        }
        alloy_trie::root::state_root_unhashed(
            self.alloc
                .iter()
                .map(|(address, account)| (*address, account.trie_account())),
        )
    }

    /// The genesis header over a given state root.
    pub fn header_with_state_root(&self, state_root: B256) -> Header {
        Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: self.coinbase,
            state_root,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Bloom::ZERO,
            difficulty: self.difficulty,
            number: 0,
            gas_limit: self.gas_limit,
            gas_used: 0,
            timestamp: self.timestamp,
            extra_data: self.extra_data.clone(),
            mix_hash: self.mix_hash,
            nonce: B64::from(self.nonce),
            ..Default::default()
        }
    }

    /// The genesis header, hashed.
    pub fn sealed_header(&self) -> SealedHeader {
        SealedHeader::seal(self.header_with_state_root(self.state_root()))
    }

    /// The genesis signer named in `extraData[32..52]` (tribe.md §1).
    pub fn signer(&self) -> Option<Address> {
        self.extra_data.get(32..52).map(Address::from_slice)
    }
}

/// The file's `config` object.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigFile {
    chain_id: u64,
    network_id: u64,
    homestead_block: Option<u64>,
    #[serde(rename = "eip150Block")]
    eip150_block: Option<u64>,
    #[serde(rename = "eip155Block")]
    eip155_block: Option<u64>,
    #[serde(rename = "eip158Block")]
    eip158_block: Option<u64>,
    byzantium_block: Option<u64>,
    tribe: TribeParams,
}

/// A genesis file as written.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GenesisFile {
    #[serde(rename = "_comment", default)]
    _comment: Option<String>,
    name: String,
    config: ConfigFile,
    #[serde(deserialize_with = "crate::json::u64")]
    nonce: u64,
    #[serde(deserialize_with = "crate::json::u64")]
    timestamp: u64,
    extra_data: Bytes,
    #[serde(deserialize_with = "crate::json::u64")]
    gas_limit: u64,
    #[serde(deserialize_with = "crate::json::u256")]
    difficulty: U256,
    mix_hash: B256,
    coinbase: Address,
    /// The reference node's RLP-encoded allocation `[[address, balance], ...]`, as hex.
    #[serde(default)]
    alloc_rlp: Option<Bytes>,
    #[serde(default)]
    alloc: BTreeMap<Address, GenesisAccount>,
}

impl ChainSpec {
    /// Parses a genesis file's text; `origin` names it in errors (a path or a network name).
    pub fn from_json(origin: &str, text: &str) -> Result<Self, ChainSpecError> {
        let invalid = |error: SpecFieldError| ChainSpecError::Invalid {
            origin: origin.to_owned(),
            error,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let file: GenesisFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = match e.path().to_string() {
                p if p == "." => "(top level)".to_owned(),
                p => p,
            };
            invalid(SpecFieldError::new(field, e.inner().to_string()))
        })?;
        de.end()
            .map_err(|e| invalid(SpecFieldError::new("(end of file)", e.to_string())))?;
        file.into_spec().map_err(invalid)
    }

    /// Reads and parses a genesis file.
    pub fn from_file(path: &Path) -> Result<Self, ChainSpecError> {
        let io = |source| ChainSpecError::Io {
            path: path.to_owned(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_GENESIS_FILE_BYTES {
            return Err(ChainSpecError::Invalid {
                origin: path.display().to_string(),
                error: SpecFieldError::new(
                    "(file)",
                    format!("{len} bytes exceeds the limit of {MAX_GENESIS_FILE_BYTES}"),
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::from_json(&path.display().to_string(), &text)
    }

    /// The genesis header, hashed.
    pub fn genesis_header(&self) -> SealedHeader {
        self.genesis.sealed_header()
    }
}

impl GenesisFile {
    fn into_spec(self) -> Result<ChainSpec, SpecFieldError> {
        let mut alloc = self.alloc;
        if let Some(rlp) = &self.alloc_rlp {
            for (address, balance) in
                decode_alloc_rlp(rlp).map_err(|e| SpecFieldError::new("allocRlp", e))?
            {
                if alloc
                    .insert(address, GenesisAccount::with_balance(balance))
                    .is_some()
                {
                    return Err(SpecFieldError::new(
                        "allocRlp",
                        format!("{address} is also in alloc"),
                    ));
                }
            }
        }
        let spec = ChainSpec {
            name: self.name,
            chain_id: self.config.chain_id,
            network_id: self.config.network_id,
            ethereum: EthereumForks {
                homestead_block: self.config.homestead_block,
                eip150_block: self.config.eip150_block,
                eip155_block: self.config.eip155_block,
                eip158_block: self.config.eip158_block,
                byzantium_block: self.config.byzantium_block,
                ..Default::default()
            },
            tribe: self.config.tribe,
            genesis: Genesis {
                nonce: self.nonce,
                timestamp: self.timestamp,
                extra_data: self.extra_data,
                gas_limit: self.gas_limit,
                difficulty: self.difficulty,
                mix_hash: self.mix_hash,
                coinbase: self.coinbase,
                alloc,
            },
        };
        validate(&spec)?;
        Ok(spec)
    }
}

/// Consistency checks a JSON schema cannot express.
fn validate(spec: &ChainSpec) -> Result<(), SpecFieldError> {
    if spec.chain_id == 0 {
        return Err(SpecFieldError::new("config.chainId", "must not be 0"));
    }
    let len = spec.genesis.extra_data.len();
    if len < GENESIS_EXTRA_DATA_LEN {
        return Err(SpecFieldError::new(
            "extraData",
            format!(
                "{len} bytes; a Tribe genesis needs {GENESIS_EXTRA_DATA_LEN} (32 vanity, 20 signer, 65 seal)"
            ),
        ));
    }
    if spec.genesis.gas_limit < spec.min_gas_limit(0) {
        return Err(SpecFieldError::new(
            "gasLimit",
            format!("below the minimum {}", spec.min_gas_limit(0)),
        ));
    }
    if spec.tribe.block_reward.halving_interval == 0 {
        return Err(SpecFieldError::new(
            "config.tribe.blockReward.halvingInterval",
            "must not be 0",
        ));
    }
    let ascending = |list: &[crate::ChiefEntry], field: &str| {
        list.windows(2).enumerate().try_for_each(|(i, w)| match w {
            [a, b] if a.start_block >= b.start_block => Err(SpecFieldError::new(
                format!("config.tribe.{field}[{}]", i + 1),
                "start blocks must be strictly ascending",
            )),
            _ => Ok(()),
        })
    };
    ascending(&spec.tribe.chiefs, "chiefs")?;
    ascending(&spec.tribe.meshbox, "meshbox")?;
    ascending(&spec.tribe.anmap, "anmap")?;
    Ok(())
}
