//! Sender recovery over every core, ahead of execution.
//!
//! Recovering a sender (secp256k1 public-key recovery and the transaction's signing hash) costs
//! 30–80 µs, about a quarter of a full block's import on one core. The transactions of a block
//! are independent, so they are recovered in contiguous chunks on scoped threads; the result
//! (the senders, or the first failing index and why) is exactly what one thread would give.

use alloy_primitives::Address;
use spectrum_primitives::{RecoveredBlock, SealedBlock, SignatureError, TransactionSigned};

/// Below this many transactions per thread, starting a thread (~20 µs) costs more than it
/// saves.
const MIN_TXS_PER_THREAD: usize = 8;

/// The cores recovery may use: the machine's available parallelism (1 if unknown).
pub(crate) fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Recovers every sender of `block` on up to `threads` threads (EIP-2 low-`s` enforced); on
/// failure, the lowest failing index and its error, as [`SealedBlock::try_recover`] gives.
pub fn recover_block(
    block: SealedBlock,
    threads: usize,
) -> Result<RecoveredBlock, (usize, SignatureError)> {
    let senders = recover_senders(&block.body.transactions, threads)?;
    Ok(RecoveredBlock { block, senders })
}

/// The senders of `txs`, in order, recovered on up to `threads` threads.
pub fn recover_senders(
    txs: &[TransactionSigned],
    threads: usize,
) -> Result<Vec<Address>, (usize, SignatureError)> {
    let threads = threads.min(txs.len() / MIN_TXS_PER_THREAD).max(1);
    if threads == 1 {
        return recover_range(txs, 0);
    }
    let chunk = txs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut parts = txs.chunks(chunk).enumerate();
        let first = parts.next();
        let others: Vec<_> = parts
            .map(|(i, part)| {
                let offset = i.saturating_mul(chunk);
                (
                    part,
                    offset,
                    scope.spawn(move || recover_range(part, offset)),
                )
            })
            .collect();
        let mut senders = Vec::with_capacity(txs.len());
        if let Some((_, part)) = first {
            senders.extend(recover_range(part, 0)?);
        }
        for (part, offset, handle) in others {
            // A recovery does not panic; if a thread did, its chunk is redone here.
            let recovered = handle
                .join()
                .unwrap_or_else(|_| recover_range(part, offset));
            senders.extend(recovered?);
        }
        Ok(senders)
    })
}

/// The senders of `txs`, whose first index in the block is `offset`.
fn recover_range(
    txs: &[TransactionSigned],
    offset: usize,
) -> Result<Vec<Address>, (usize, SignatureError)> {
    txs.iter()
        .enumerate()
        .map(|(i, tx)| {
            tx.recover_sender()
                .map_err(|e| (offset.saturating_add(i), e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use alloy_primitives::{TxKind, U256};
    use spectrum_primitives::{TxLegacy, sign_transaction};

    fn signed(count: usize) -> Vec<TransactionSigned> {
        (0..count)
            .map(|i| {
                let byte = u8::try_from(i % 200).unwrap() + 1;
                let key = secp256k1::SecretKey::from_byte_array([byte; 32]).unwrap();
                let tx = TxLegacy {
                    chain_id: Some(1),
                    nonce: u64::try_from(i).unwrap(),
                    gas_price: 1,
                    gas_limit: 21_000,
                    to: TxKind::Call(Address::ZERO),
                    value: U256::from(i),
                    input: Default::default(),
                };
                sign_transaction(tx, &key)
            })
            .collect()
    }

    #[test]
    fn parallel_recovery_gives_what_one_thread_gives() {
        let txs = signed(70);
        let one = recover_range(&txs, 0).unwrap();
        for threads in [1, 2, 3, 8, 64] {
            assert_eq!(
                recover_senders(&txs, threads).unwrap(),
                one,
                "{threads} threads"
            );
        }
    }

    #[test]
    fn the_lowest_failing_index_is_reported() {
        let mut txs = signed(70);
        for bad in [65, 40] {
            let sig = *txs[bad].signature();
            let high_s = alloy_primitives::Signature::new(sig.r(), U256::MAX, sig.v());
            txs[bad] = TransactionSigned::from_parts(txs[bad].tx().clone(), high_s);
        }
        for threads in [1, 2, 4] {
            let (index, error) = recover_senders(&txs, threads).unwrap_err();
            assert_eq!(
                (index, error),
                (40, SignatureError::HighS),
                "{threads} threads"
            );
        }
    }
}
