//! [`BlockExecutor`]: one block's transactions on revm, then the block rewards, into receipts
//! and [`StateChanges`].

use std::sync::Arc;

use alloy_consensus::Eip658Value;
use alloy_primitives::{Address, B256, U256};
use revm::{
    context::{BlockEnv, TxEnv},
    context_interface::{
        JournalTr,
        result::{EVMError, InvalidTransaction},
    },
    handler::Handler,
};
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{
    GotExpected, Header, Receipt, ReceiptWithBloom, RecoveredBlock, TransactionSigned, logs_bloom,
    receipts_root,
};
use spectrum_storage_api::{StateChanges, StateProvider};

use crate::{
    EthereumFork, ExecutionError, ExecutionRules, TxError,
    db::BlockState,
    evm::SpectrumEvm,
    handler::{EvmError, SpectrumHandler, TxFlags},
    rewards,
    rules::{BlockRules, ResolvedRules},
};

/// What executing a block produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockExecutionOutput {
    /// One receipt per transaction, in block order.
    pub receipts: Vec<ReceiptWithBloom>,
    /// Gas used by the block (the last receipt's cumulative gas, 0 without transactions).
    pub gas_used: u64,
    /// The state changes, sorted as [`StateChanges`] documents. Storage roots of accounts whose
    /// storage changed are filled in by the state-root step ([`crate::state_root`]).
    pub changes: StateChanges,
}

/// Executes blocks under one set of rules.
#[derive(Debug, Clone)]
pub struct BlockExecutor {
    rules: ResolvedRules,
}

impl BlockExecutor {
    /// An executor for `rules`.
    pub fn new(rules: ExecutionRules) -> Self {
        Self {
            rules: ResolvedRules::new(rules),
        }
    }

    /// Spectrum's rules for the network of `spec`.
    pub fn spectrum(spec: Arc<ChainSpec>) -> Self {
        Self::new(ExecutionRules::Spectrum(spec))
    }

    /// Plain Ethereum rules of `fork` (the consensus test vectors).
    pub fn ethereum(fork: EthereumFork) -> Self {
        Self::new(ExecutionRules::Ethereum(fork))
    }

    /// The rules, resolved per block.
    pub(crate) fn resolved(&self) -> &ResolvedRules {
        &self.rules
    }

    /// The rules.
    pub fn rules(&self) -> &ExecutionRules {
        self.rules.rules()
    }

    /// Executes `block` on `state`, the state after its parent, and returns receipts and
    /// changes. Checks the transactions' validity in the block (senders, nonces, balances,
    /// gas, Spectrum's SIP003 rule); does not compare anything with the header (see
    /// [`verify_receipts`], [`verify_state_root`]).
    ///
    /// `fee_recipient` is the block's beneficiary for fees and the `COINBASE` opcode: the
    /// header's beneficiary under Ethereum rules; on Spectrum the Tribe author, i.e. the
    /// header's coinbase or, when that is zero, the seal signer (chain.md §6; the consensus
    /// crate recovers it). The Tribe block reward goes to the header's coinbase.
    pub fn execute(
        &self,
        block: &RecoveredBlock,
        fee_recipient: Address,
        state: &dyn StateProvider,
    ) -> Result<BlockExecutionOutput, ExecutionError> {
        let header = block.header().header();
        let rules = self.rules.at(header.number)?;
        let transactions = &block.block.body.transactions;
        if block.senders.len() != transactions.len() {
            return Err(ExecutionError::tx(
                0,
                TxError::SenderCount(GotExpected::new(block.senders.len(), transactions.len())),
            ));
        }
        check_transactions(&rules, header.number, transactions)?;
        let mut builder =
            BlockBuilder::with_rules(self.rules().clone(), rules, header, fee_recipient, state);
        for (index, (tx, sender)) in transactions.iter().zip(&block.senders).enumerate() {
            builder.push_at(index, tx, *sender)?;
        }
        builder.finish_with_ommers(&block.block.body.ommers)
    }

    /// An incremental executor for a block being built on `state` (the state after its
    /// parent): transactions are added one by one and an invalid one leaves no trace, so the
    /// block producer can skip it. The same code runs imported blocks ([`Self::execute`]).
    pub fn builder<'a>(
        &self,
        header: &Header,
        fee_recipient: Address,
        state: &'a dyn StateProvider,
    ) -> Result<BlockBuilder<'a>, ExecutionError> {
        let rules = self.rules.at(header.number)?;
        Ok(BlockBuilder::with_rules(
            self.rules().clone(),
            rules,
            header,
            fee_recipient,
            state,
        ))
    }

    /// [`Self::execute`], then [`verify_receipts`] against the block's header.
    pub fn execute_and_verify(
        &self,
        block: &RecoveredBlock,
        fee_recipient: Address,
        state: &dyn StateProvider,
    ) -> Result<BlockExecutionOutput, ExecutionError> {
        let output = self.execute(block, fee_recipient, state)?;
        verify_receipts(block.header().header(), &output)?;
        Ok(output)
    }
}

/// A block's transactions executed one at a time ([`BlockExecutor::builder`]).
pub struct BlockBuilder<'a> {
    execution: ExecutionRules,
    rules: BlockRules,
    header: Header,
    evm: SpectrumEvm<'a>,
    receipts: Vec<ReceiptWithBloom>,
    cumulative: u64,
}

impl<'a> BlockBuilder<'a> {
    fn with_rules(
        execution: ExecutionRules,
        rules: BlockRules,
        header: &Header,
        fee_recipient: Address,
        state: &'a dyn StateProvider,
    ) -> Self {
        let chief = rules.spectrum.as_ref().map(|s| s.chief.clone());
        let evm = SpectrumEvm::new(
            &rules,
            block_env(header, fee_recipient),
            BlockState::new(state),
            chief,
        );
        Self {
            execution,
            rules,
            header: header.clone(),
            evm,
            receipts: Vec::new(),
            cumulative: 0,
        }
    }

    /// Gas used so far.
    pub fn gas_used(&self) -> u64 {
        self.cumulative
    }

    /// Gas still available in the block.
    pub fn gas_left(&self) -> u64 {
        self.header.gas_limit.saturating_sub(self.cumulative)
    }

    /// Executes `tx` from `sender` as the block's next transaction and returns its receipt. If
    /// the transaction is invalid here (nonce, funds, gas, chain id) the error says why and the
    /// block's state is unchanged.
    pub fn push(
        &mut self,
        tx: &TransactionSigned,
        sender: Address,
    ) -> Result<&ReceiptWithBloom, ExecutionError> {
        let index = self.receipts.len();
        check_transactions(&self.rules, self.header.number, std::slice::from_ref(tx)).map_err(
            |e| match e {
                ExecutionError::Transaction { error, .. } => ExecutionError::tx(index, error),
                other => other,
            },
        )?;
        self.push_at(index, tx, sender)
    }

    fn push_at(
        &mut self,
        index: usize,
        tx: &TransactionSigned,
        sender: Address,
    ) -> Result<&ReceiptWithBloom, ExecutionError> {
        let rules = &self.rules;
        let flags = TxFlags {
            chief_update: rules.is_chief_update(tx),
            fee_to_sender: rules.fee_to_sender(tx),
        };
        // chain.md §6: the chief-update transaction buys no gas.
        let gas_limit = if flags.chief_update {
            0
        } else {
            tx.tx().gas_limit
        };
        if rules.gas_pool {
            let available = self.header.gas_limit.checked_sub(self.cumulative).ok_or(
                ExecutionError::GasUsedMismatch(GotExpected::new(
                    self.cumulative,
                    self.header.gas_limit,
                )),
            )?;
            if gas_limit > available {
                return Err(ExecutionError::tx(
                    index,
                    TxError::BlockGasExhausted {
                        gas_limit,
                        available,
                    },
                ));
            }
        }
        let evm = &mut self.evm;
        evm.inner.ctx.tx = tx_env(tx, sender, gas_limit);
        if let Some(meter) = evm.meter.as_mut() {
            meter.reset();
        }
        let result = SpectrumHandler::new(flags).run(evm);
        let changes = evm.inner.ctx.journaled_state.finalize();
        // An invalid transaction is refused before it changes anything: its (empty) journal
        // is dropped with it.
        let result = result.map_err(|e| evm_error(index, e, sender))?;
        evm.state_mut().commit(changes);

        // chain.md §6: the chief-update transaction adds nothing to the block's gas.
        if !flags.chief_update {
            self.cumulative = self
                .cumulative
                .checked_add(result.tx_gas_used())
                .ok_or(ExecutionError::Overflow("block gas used"))?;
        }
        let receipt = Receipt {
            status: Eip658Value::Eip658(result.is_success()),
            cumulative_gas_used: self.cumulative,
            logs: result.into_logs(),
        };
        self.receipts.push(receipt.with_bloom());
        self.receipts
            .last()
            .ok_or(ExecutionError::Overflow("receipts"))
    }

    /// Applies the block rewards and returns receipts and state changes (a block without
    /// ommers: Spectrum has none).
    pub fn finish(self) -> Result<BlockExecutionOutput, ExecutionError> {
        self.finish_with_ommers(&[])
    }

    fn finish_with_ommers(
        mut self,
        ommers: &[Header],
    ) -> Result<BlockExecutionOutput, ExecutionError> {
        BLOCK_EXECUTIONS.with(|count| count.set(count.get().saturating_add(1)));
        match &self.execution {
            ExecutionRules::Ethereum(fork) => {
                rewards::ethash(self.evm.state_mut(), *fork, &self.header, ommers)?
            }
            ExecutionRules::Spectrum(spec) => {
                rewards::tribe(self.evm.state_mut(), spec, &self.header)?
            }
        }
        Ok(BlockExecutionOutput {
            receipts: self.receipts,
            gas_used: self.cumulative,
            changes: self.evm.into_state().into_changes()?,
        })
    }
}

thread_local! {
    /// Blocks executed to the end on this thread (imported or built): counted so that tests
    /// can hold a block we produce to one execution (a thread-local costs nothing).
    static BLOCK_EXECUTIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many blocks have been executed to the end (rewards applied, changes taken) on the
/// calling thread so far, by [`BlockExecutor::execute`] or [`BlockBuilder::finish`].
pub fn block_executions_on_this_thread() -> u64 {
    BLOCK_EXECUTIONS.with(std::cell::Cell::get)
}

/// Checks gas used, logs bloom and receipts root against the header (geth's `ValidateState`
/// order; the state root is [`verify_state_root`]).
pub fn verify_receipts(
    header: &Header,
    output: &BlockExecutionOutput,
) -> Result<(), ExecutionError> {
    if output.gas_used != header.gas_used {
        return Err(ExecutionError::GasUsedMismatch(GotExpected::new(
            output.gas_used,
            header.gas_used,
        )));
    }
    let bloom = logs_bloom(&output.receipts);
    if bloom != header.logs_bloom {
        return Err(ExecutionError::LogsBloomMismatch(Box::new(
            GotExpected::new(bloom, header.logs_bloom),
        )));
    }
    let root = receipts_root(&output.receipts);
    if root != header.receipts_root {
        return Err(ExecutionError::ReceiptsRootMismatch(GotExpected::new(
            root,
            header.receipts_root,
        )));
    }
    Ok(())
}

/// Checks a computed state root against the header's.
pub fn verify_state_root(header: &Header, state_root: B256) -> Result<(), ExecutionError> {
    if state_root == header.state_root {
        Ok(())
    } else {
        Err(ExecutionError::StateRootMismatch(GotExpected::new(
            state_root,
            header.state_root,
        )))
    }
}

/// Transaction rules that need no state: EIP-155 chain id, Spectrum's SIP003.
fn check_transactions(
    rules: &BlockRules,
    number: u64,
    transactions: &[TransactionSigned],
) -> Result<(), ExecutionError> {
    let sip003 = rules.spectrum.as_ref().is_some_and(|s| s.sip003);
    for (index, tx) in transactions.iter().enumerate() {
        match tx.tx().chain_id {
            // chain.md §8: from SIP003 an unprotected transaction makes the block invalid
            // (`ValidateBody`, judged by the block's own number).
            None if sip003 => {
                return Err(ExecutionError::tx(index, TxError::Unprotected { number }));
            }
            Some(id) if id != rules.chain_id => {
                return Err(ExecutionError::tx(
                    index,
                    TxError::ChainId(GotExpected::new(id, rules.chain_id)),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn block_env(header: &Header, fee_recipient: Address) -> BlockEnv {
    BlockEnv {
        number: U256::from(header.number),
        beneficiary: fee_recipient,
        timestamp: U256::from(header.timestamp),
        gas_limit: header.gas_limit,
        basefee: 0,
        difficulty: header.difficulty,
        prevrandao: None,
        blob_excess_gas_and_price: None,
        slot_num: 0,
    }
}

pub(crate) fn tx_env(tx: &TransactionSigned, sender: Address, gas_limit: u64) -> TxEnv {
    let fields = tx.tx();
    TxEnv {
        tx_type: 0,
        caller: sender,
        gas_limit,
        gas_price: fields.gas_price,
        kind: fields.to,
        value: fields.value,
        data: fields.input.clone(),
        nonce: fields.nonce,
        chain_id: fields.chain_id,
        ..Default::default()
    }
}

pub(crate) fn evm_error(index: usize, error: EvmError, sender: Address) -> ExecutionError {
    let tx_error = match error {
        EVMError::Transaction(invalid) => match invalid {
            InvalidTransaction::NonceTooHigh { tx, state }
            | InvalidTransaction::NonceTooLow { tx, state } => {
                TxError::Nonce(GotExpected::new(tx, state))
            }
            InvalidTransaction::LackOfFundForMaxFee { .. } => TxError::InsufficientFunds { sender },
            InvalidTransaction::CallGasCostMoreThanGasLimit {
                gas_limit,
                initial_gas,
            } => TxError::IntrinsicGas {
                gas_limit,
                intrinsic: initial_gas,
            },
            other => TxError::Other(other.to_string()),
        },
        EVMError::Database(db) => return db.into(),
        other => {
            return ExecutionError::Evm {
                index,
                message: other.to_string(),
            };
        }
    };
    ExecutionError::tx(index, tx_error)
}
