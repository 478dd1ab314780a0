//! `spectrum-bench produce`: the time to build and seal a full block on the `dev` chain (the
//! producer: chief update, pool transactions, execution, state root, VRF, seal), and, side by
//! side, the time to import that same block (full validation, execution, commit).

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_consensus::TxLegacy;
use alloy_primitives::{Address, TxKind, U256, hex};
use secp256k1::SecretKey;
use spectrum_chain::{Blockchain, InsertOutcome, TribeBlockValidator, genesis_commit};
use spectrum_chainspec::{ChainSpec, dev};
use spectrum_primitives::sign_transaction;
use spectrum_producer::{BlockProducer, BuildRequest, Candidate};
use spectrum_storage::Database;

use crate::BenchError;

/// One full block built and imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProduceMeasurement {
    /// Transactions in the block, the chief update included.
    pub txs: usize,
    /// Gas the block used.
    pub gas: u64,
    /// Building, executing and sealing it.
    pub build: Duration,
    /// Importing it (`Blockchain::insert_block`: validation, execution, roots, commit).
    pub insert: Duration,
}

fn key(hex_key: &str) -> Result<SecretKey, BenchError> {
    let bytes: [u8; 32] = hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| BenchError::Config("a dev key is not 32 bytes of hex".into()))?;
    SecretKey::from_byte_array(bytes).map_err(|e| BenchError::Config(e.to_string()))
}

/// Transfers from the ten dev accounts, enough to fill a block of `gas_limit`, signed before
/// any clock starts.
fn transfers(gas_limit: u64) -> Result<Vec<Candidate>, BenchError> {
    let per_block = usize::try_from(gas_limit / 21_000).unwrap_or(usize::MAX);
    let keys = dev::DEV_ACCOUNTS
        .iter()
        .map(|(_, k)| key(k))
        .collect::<Result<Vec<_>, _>>()?;
    let mut candidates = Vec::with_capacity(per_block);
    for i in 0..per_block {
        let sender = i % keys.len();
        let nonce = u64::try_from(i / keys.len()).unwrap_or(u64::MAX);
        let tx = TxLegacy {
            chain_id: Some(1337),
            nonce,
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(Address::with_last_byte(u8::try_from(i % 200).unwrap_or(0))),
            value: U256::from(1u64),
            input: Default::default(),
        };
        candidates.push(
            Candidate::recover(sign_transaction(tx, &keys[sender]))
                .ok_or_else(|| BenchError::Config("a signed transfer does not recover".into()))?,
        );
    }
    Ok(candidates)
}

/// Builds and imports one full block on a fresh `dev` chain in `dir`, `rounds` times.
pub fn measure_full_block(
    dir: &Path,
    rounds: usize,
) -> Result<Vec<ProduceMeasurement>, BenchError> {
    let spec = Arc::new(ChainSpec::dev());
    let validator_key = key(dev::DEV_VALIDATOR_KEY)?;
    let gas_limit = spec.genesis_header().gas_limit;
    let mut results = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let candidates = transfers(gas_limit)?;
        let open = |name: &str| -> Result<Arc<Database>, BenchError> {
            let db = Arc::new(
                Database::open(&dir.join(format!("{name}-{round}")))
                    .map_err(|e| BenchError::Config(e.to_string()))?,
            );
            db.init_genesis(genesis_commit(&spec).map_err(|e| BenchError::Config(e.to_string()))?)
                .map_err(|e| BenchError::Config(e.to_string()))?;
            Ok(db)
        };
        // The builder's database and a second one that imports the block.
        let producer_db = open("producer")?;
        let importer_db = open("importer")?;
        let producer = BlockProducer::new(producer_db.clone(), spec.clone());
        let genesis = spec.genesis_header().hash();

        let started = Instant::now();
        let built = producer
            .build(BuildRequest {
                parent: genesis,
                key: &validator_key,
                coinbase: None,
                timestamp: None,
                transactions: candidates,
            })
            .map_err(|e| BenchError::Config(format!("building: {e}")))?;
        let build = started.elapsed();

        let validator = Arc::new(TribeBlockValidator::new(importer_db.clone(), spec.clone()));
        let chain = Blockchain::new(importer_db, spec.clone(), validator);
        let block = built.block;
        let txs = block.body.transactions.len();
        let started = Instant::now();
        let outcome = chain
            .insert_block(block)
            .map_err(|e| BenchError::Config(format!("importing our block: {e}")))?;
        let insert = started.elapsed();
        let InsertOutcome::Canonical { gas_used, .. } = outcome else {
            return Err(BenchError::Config(format!(
                "our block was not canonical: {outcome:?}"
            )));
        };
        results.push(ProduceMeasurement {
            txs,
            gas: gas_used,
            build,
            insert,
        });
    }
    Ok(results)
}
