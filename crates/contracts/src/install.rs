//! Running the constructors in revm and turning the deployed accounts into genesis entries.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use revm::{
    Context, ExecuteCommitEvm, MainBuilder, MainContext,
    context::TxEnv,
    context_interface::result::{ExecutionResult, Output},
    database::{CacheDB, EmptyDB},
    state::AccountInfo,
};
use spectrum_chainspec::GenesisAccount;

use crate::{
    ANMAP_ADDRESS, ANMAP_CREATION_HEX, CHIEF_ADDRESS, CHIEF_BASE_ADDRESS, CHIEF_BASE_CREATION_HEX,
    CHIEF_CREATION_HEX, POC_ADDRESS, POC_CREATION_HEX, TribeGenesisParams,
    abi::{encode_with_address_array, word_address, word_u256},
};

/// Why the contracts could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum ContractsError {
    /// The parameters cannot make a working chain.
    #[error("invalid Tribe parameters: {0}")]
    Params(&'static str),
    /// A committed artefact is not hex.
    #[error("contracts/out/{0}.bin is not hex creation code")]
    Artefact(&'static str),
    /// A constructor failed.
    #[error("the {contract} constructor failed: {reason}")]
    Constructor {
        /// Which contract.
        contract: &'static str,
        /// What revm said.
        reason: String,
    },
}

/// The genesis allocation entries (address → code and storage) of ChiefBase, POC, the chief
/// and Anmap for `params`, at [`CHIEF_BASE_ADDRESS`], [`POC_ADDRESS`], [`CHIEF_ADDRESS`] and
/// [`ANMAP_ADDRESS`] (Anmap takes no parameters; a chain spec lists it under `anmap` from
/// block 0 for producers to follow bindings).
pub fn tribe_genesis_alloc(
    params: &TribeGenesisParams,
) -> Result<Vec<(Address, GenesisAccount)>, ContractsError> {
    check(params)?;
    let first_leader = *params
        .leaders
        .first()
        .ok_or(ContractsError::Params("no leader"))?;
    let base_args = encode_with_address_array(
        &[
            word_u256(U256::from(params.epoch)),
            word_u256(U256::from(params.signer_limit)),
            word_address(params.owner),
            word_address(CHIEF_ADDRESS),
            word_address(POC_ADDRESS),
        ],
        &params.leaders,
    );
    let poc_args = [
        word_address(CHIEF_BASE_ADDRESS),
        word_u256(params.min_deposit),
        word_u256(U256::from(params.withdraw_wait)),
        word_u256(U256::from(params.deposit_halving)),
    ]
    .concat();
    let chief_args = [
        word_address(CHIEF_BASE_ADDRESS),
        word_address(first_leader),
        word_u256(U256::from(params.signer_limit)),
    ]
    .concat();
    let mut deployer = Deployer::default();
    Ok(vec![
        deployer.deploy(
            "ChiefBase",
            CHIEF_BASE_CREATION_HEX,
            &base_args,
            CHIEF_BASE_ADDRESS,
        )?,
        deployer.deploy("Poc", POC_CREATION_HEX, &poc_args, POC_ADDRESS)?,
        deployer.deploy("Chief", CHIEF_CREATION_HEX, &chief_args, CHIEF_ADDRESS)?,
        deployer.deploy("Anmap", ANMAP_CREATION_HEX, &[], ANMAP_ADDRESS)?,
    ])
}

fn check(params: &TribeGenesisParams) -> Result<(), ContractsError> {
    if params.leaders.is_empty() || params.leaders.len() > 5 {
        return Err(ContractsError::Params("1 to 5 leaders"));
    }
    if params.leaders.contains(&Address::ZERO) {
        return Err(ContractsError::Params("a leader is the zero address"));
    }
    if params.signer_limit == 0 || params.signer_limit > 64 {
        return Err(ContractsError::Params("signer limit must be 1 to 64"));
    }
    if params.epoch == 0 || params.deposit_halving == 0 {
        return Err(ContractsError::Params(
            "epoch and deposit halving must be positive",
        ));
    }
    Ok(())
}

/// Deploys creation code with revm into an in-memory state and reads back what the
/// constructor left.
#[derive(Default)]
struct Deployer {
    nonce: u64,
}

/// The account that runs the constructors; it exists only in this throw-away state.
const DEPLOYER: Address = Address::repeat_byte(0xde);

impl Deployer {
    fn deploy(
        &mut self,
        contract: &'static str,
        creation_hex: &str,
        args: &[u8],
        at: Address,
    ) -> Result<(Address, GenesisAccount), ContractsError> {
        let mut code =
            hex::decode(creation_hex.trim()).map_err(|_| ContractsError::Artefact(contract))?;
        code.extend_from_slice(args);
        let failed = |reason: String| ContractsError::Constructor { contract, reason };
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(
            DEPLOYER,
            AccountInfo {
                nonce: self.nonce,
                ..Default::default()
            },
        );
        let mut evm = Context::mainnet()
            .with_db(db)
            .modify_cfg_chained(|cfg| {
                cfg.spec = revm::primitives::hardfork::SpecId::BYZANTIUM;
                cfg.limit_contract_code_size = Some(usize::MAX);
            })
            .build_mainnet();
        let tx = TxEnv::builder()
            .caller(DEPLOYER)
            .kind(TxKind::Create)
            .data(Bytes::from(code))
            .gas_limit(30_000_000)
            .gas_price(0)
            .nonce(self.nonce)
            .build()
            .map_err(|e| failed(format!("{e:?}")))?;
        let result = evm.transact_commit(tx).map_err(|e| failed(e.to_string()))?;
        self.nonce += 1;
        let created = match result {
            ExecutionResult::Success {
                output: Output::Create(_, Some(address)),
                ..
            } => address,
            other => return Err(failed(format!("{other:?}"))),
        };
        let account = evm
            .ctx
            .journaled_state
            .database
            .cache
            .accounts
            .get(&created)
            .ok_or_else(|| failed("no account created".into()))?;
        let runtime = account
            .info
            .code
            .as_ref()
            .map(|c| c.original_bytes())
            .unwrap_or_default();
        let storage: BTreeMap<B256, B256> = account
            .storage
            .iter()
            .filter(|(_, value)| !value.is_zero())
            .map(|(slot, value)| (B256::from(*slot), B256::from(*value)))
            .collect();
        Ok((
            at,
            GenesisAccount {
                balance: U256::ZERO,
                nonce: 1,
                code: runtime,
                storage,
            },
        ))
    }
}
