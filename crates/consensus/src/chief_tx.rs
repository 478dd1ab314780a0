//! The chief-update transaction (tribe.md §8, §8.1; errata E2) and the other body rules of
//! tribe.md §14 step 2.
//!
//! Structural rules ([`validate_chief_tx`]) need only the block and its senders. The two rules
//! that need execution are split off as pure comparisons the caller feeds: the receipt status
//! ([`validate_chief_tx_receipt`]) and the volunteer argument against `takeMiner(P)`
//! ([`validate_chief_volunteer`], with [`take_miner`] computing it from the lists read at the
//! parent state).

use alloy_primitives::{Address, B256, TxKind, U256};
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::{SealedBlock, TransactionSigned};

use crate::{
    authority::CHIEF_NUMBER,
    error::TribeError,
    seal::recover_block_signer,
    signers::{CHIEF_100_VERSION, is_chief_100},
};

/// Selector of `update(address)`, keccak256("update(address)")[0..4] (tribe.md §8).
pub const CHIEF_UPDATE_SELECTOR: [u8; 4] = [0x1c, 0x1b, 0x87, 0x72];

/// Whether `to` counts as a chief address for the chief-update detection of block `number`
/// (tribe.md §8, the reference's `IsChiefAddressOnBlock`): from SIP100 only the chief 1.0.0
/// address; before it any chief address the network lists (of any era).
pub fn is_chief_address_on_block(spec: &ChainSpec, number: u64, to: &Address) -> bool {
    if *to == Address::ZERO {
        return false;
    }
    spec.tribe
        .chiefs
        .iter()
        .filter(|c| !spec.is_sip100(number) || c.version == CHIEF_100_VERSION)
        .any(|c| c.address == *to)
}

/// The chief-update predicate, defined once (tribe.md §8, chain.md §6): `tx` calls an address
/// `is_chief` accepts with data starting with [`CHIEF_UPDATE_SELECTOR`]. Which addresses count
/// is the caller's: the block rules take the chiefs of the block's era
/// ([`is_chief_update`]), execution any chief of the network under SIP001, the pool any chief
/// of the network.
pub fn is_chief_update_call(
    tx: &TransactionSigned,
    is_chief: impl FnOnce(&Address) -> bool,
) -> bool {
    let TxKind::Call(to) = tx.tx().to else {
        return false;
    };
    is_chief(&to) && tx.tx().input.starts_with(&CHIEF_UPDATE_SELECTOR)
}

/// Whether `tx` is a chief update in block `number` (tribe.md §8 "Detection"): a call to a chief
/// address ([`is_chief_address_on_block`]) whose data starts with [`CHIEF_UPDATE_SELECTOR`].
pub fn is_chief_update(spec: &ChainSpec, number: u64, tx: &TransactionSigned) -> bool {
    is_chief_update_call(tx, |to| is_chief_address_on_block(spec, number, to))
}

/// The volunteer argument of a chief update (tribe.md §8): the address in `data[4..]` as the
/// reference reads it (`HexToAddress`: the last 20 bytes, left-padded with zeros if shorter).
pub fn chief_tx_volunteer(data: &[u8]) -> Address {
    let args = data.get(CHIEF_UPDATE_SELECTOR.len()..).unwrap_or_default();
    let mut out = [0u8; 20];
    let take = args.len().min(out.len());
    let (_, tail) = args.split_at(args.len().saturating_sub(take));
    let start = out.len().saturating_sub(take);
    if let Some(slot) = out.get_mut(start..) {
        slot.copy_from_slice(tail);
    }
    Address::from(out)
}

/// The structural chief-update rules (tribe.md §8 "Block rules"; from block 4, N > 3): the
/// transaction list is not empty; the transaction at index 0 is a chief update; no other index
/// holds one; its sender (`senders[0]`, recovered by the caller with the EIP-155 signer of the
/// chain) is the block's signer (recovered from the seal).
///
/// Detection follows the reference ([`is_chief_update`]): before SIP100 an update sent to any
/// listed chief address counts, from SIP100 only one sent to chief 1.0.0.
pub fn validate_chief_tx(
    block: &SealedBlock,
    senders: &[Address],
    spec: &ChainSpec,
) -> Result<(), TribeError> {
    validate_chief_tx_signed_by(block, senders, spec, None)
}

/// [`validate_chief_tx`] with the block's seal signer already recovered (`signer`), so the
/// seal is not recovered again; with `None` it is recovered here when the rule needs it.
pub fn validate_chief_tx_signed_by(
    block: &SealedBlock,
    senders: &[Address],
    spec: &ChainSpec,
    signer: Option<Address>,
) -> Result<(), TribeError> {
    let number = block.number();
    if number <= CHIEF_NUMBER {
        return Ok(());
    }
    let txs = &block.body.transactions;
    if senders.len() != txs.len() {
        return Err(TribeError::SendersLength {
            senders: senders.len(),
            transactions: txs.len(),
        });
    }
    if txs.is_empty() {
        return Err(TribeError::NoTransactions);
    }
    let mut first: Option<Address> = None;
    for (index, (tx, sender)) in txs.iter().zip(senders).enumerate() {
        if !is_chief_update(spec, number, tx) {
            continue;
        }
        if index != 0 {
            return Err(if first.is_some() {
                TribeError::DuplicateChiefTx { index }
            } else {
                TribeError::ChiefTxNotFirst { index }
            });
        }
        let signer = match signer {
            Some(signer) => signer,
            None => recover_block_signer(&block.header)?,
        };
        if *sender != signer {
            return Err(TribeError::ChiefTxSender {
                sender: *sender,
                signer,
            });
        }
        first = Some(*sender);
    }
    if first.is_none() {
        return Err(TribeError::MissingChiefTx);
    }
    Ok(())
}

/// The receipt rule of the chief update (tribe.md §8, §14 step 5): from SIP100 the first
/// receipt must exist and have status 1. `first_receipt_succeeded` is `receipts[0].status`
/// after execution, `None` when there is no receipt.
pub fn validate_chief_tx_receipt(
    spec: &ChainSpec,
    number: u64,
    first_receipt_succeeded: Option<bool>,
) -> Result<(), TribeError> {
    if spec.is_sip100(number) && first_receipt_succeeded != Some(true) {
        return Err(TribeError::ChiefTxFailed);
    }
    Ok(())
}

/// The volunteer rule of the chief update (tribe.md §8, §8.1): from SIP100, when the parent is
/// itself governed by chief 1.0.0 (so not at the first SIP100 block), the update's volunteer
/// argument must equal `expected_volunteer` = `takeMiner(P)` ([`take_miner`] over the lists read
/// at the parent state with this block's VRF output `extraData[0..32]`).
///
/// Expects [`validate_chief_tx`] to have passed (the update at index 0); a block without
/// transactions gets [`TribeError::NoTransactions`].
pub fn validate_chief_volunteer(
    block: &SealedBlock,
    spec: &ChainSpec,
    expected_volunteer: Address,
) -> Result<(), TribeError> {
    let number = block.number();
    if number <= CHIEF_NUMBER || !spec.is_sip100(number) {
        return Ok(());
    }
    let parent_chief_100 = number
        .checked_sub(1)
        .and_then(|p| spec.chief_at(p))
        .is_some_and(is_chief_100);
    if !parent_chief_100 {
        return Ok(());
    }
    let tx = block
        .body
        .transactions
        .first()
        .ok_or(TribeError::NoTransactions)?;
    let got = chief_tx_volunteer(&tx.tx().input);
    if got != expected_volunteer {
        return Err(TribeError::WrongVolunteer {
            expected: expected_volunteer,
            got,
        });
    }
    Ok(())
}

/// `takeMiner` (tribe.md §8.1): the next-round volunteer picked by the VRF output `vrfn` of the
/// block from `normal_list` (POC `getNormalList()` at P, in contract order), skipping anyone in
/// `excluded` (chief `getVolunteers().volunteerList` ∪ `getStatus().signerList` at P, zero
/// placeholders included). For `k = v0, v0+1, …` with `v0 = uint256(vrfn)`: once
/// `k − v0 ≥ len(nl)` the result is the zero address; otherwise the candidate is
/// `nl[k mod len(nl)]`. An empty list gives the zero address.
pub fn take_miner(vrfn: B256, normal_list: &[Address], excluded: &[Address]) -> Address {
    let len = normal_list.len();
    let Ok(len_u256) = u64::try_from(len).map(U256::from) else {
        return Address::ZERO;
    };
    let Some(start) = U256::from_be_bytes(vrfn.0).checked_rem(len_u256) else {
        return Address::ZERO;
    };
    // start < len, so it fits a usize.
    let start = usize::try_from(start).unwrap_or(0);
    normal_list
        .iter()
        .cycle()
        .skip(start)
        .take(len)
        .find(|candidate| !excluded.contains(candidate))
        .copied()
        .unwrap_or(Address::ZERO)
}

/// The EIP-155 rule (tribe.md §14 step 2, chain.md §8): from SIP003 every transaction of the
/// block must be replay-protected (`v` ∉ {27, 28}).
pub fn validate_transactions_eip155(
    block: &SealedBlock,
    spec: &ChainSpec,
) -> Result<(), TribeError> {
    if !spec.is_sip003(block.number()) {
        return Ok(());
    }
    match block
        .body
        .transactions
        .iter()
        .enumerate()
        .find(|(_, tx)| !tx.is_protected())
    {
        Some((index, tx)) => Err(TribeError::UnprotectedTransaction {
            index,
            hash: tx.hash(),
        }),
        None => Ok(()),
    }
}

/// The no-uncles rule for the body (tribe.md §2, §14 step 2): a Tribe block carries no uncles.
pub fn validate_no_uncles(block: &SealedBlock) -> Result<(), TribeError> {
    let count = block.body.ommers.len();
    if count > 0 {
        return Err(TribeError::UnclesInBody { count });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, keccak256};

    #[test]
    fn selector_is_update_address() {
        assert_eq!(keccak256("update(address)")[..4], CHIEF_UPDATE_SELECTOR[..]);
    }

    #[test]
    fn volunteer_argument_as_the_reference_reads_it() {
        let who = address!("dd5ddf1152878330df60ac9d4a20fdd96dd021bd");
        let mut data = CHIEF_UPDATE_SELECTOR.to_vec();
        data.extend([0u8; 12]);
        data.extend(who.0);
        assert_eq!(chief_tx_volunteer(&data), who);
        // Shorter arguments are left-padded, longer ones give their last 20 bytes.
        assert_eq!(
            chief_tx_volunteer(&[0x1c, 0x1b, 0x87, 0x72, 0xab]),
            Address::with_last_byte(0xab)
        );
        data.push(0x01);
        assert_eq!(chief_tx_volunteer(&data)[19], 0x01);
        assert_eq!(chief_tx_volunteer(&[]), Address::ZERO);
    }

    #[test]
    fn take_miner_walks_from_vrf_index_and_skips_excluded() {
        let a = Address::with_last_byte(1);
        let b = Address::with_last_byte(2);
        let c = Address::with_last_byte(3);
        let nl = [a, b, c];
        let v = |n: u64| B256::from(U256::from(n));
        assert_eq!(take_miner(v(4), &nl, &[]), b);
        assert_eq!(take_miner(v(4), &nl, &[b]), c);
        assert_eq!(take_miner(v(4), &nl, &[b, c]), a);
        assert_eq!(take_miner(v(4), &nl, &[a, b, c]), Address::ZERO);
        assert_eq!(take_miner(v(4), &[], &[]), Address::ZERO);
        // The top of the 256-bit range does not wrap: (2^256 − 1) mod 3 = 0.
        assert_eq!(take_miner(B256::repeat_byte(0xff), &nl, &[]), a);
    }
}
