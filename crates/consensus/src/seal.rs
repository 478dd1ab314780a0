//! The Tribe header seal (tribe.md §2 "Seal", §3 extraData layouts).
//!
//! A sealed header carries a 65-byte recoverable secp256k1 signature `r(32) ‖ s(32) ‖ recid(1)`
//! in the last 65 bytes of its extraData. It signs the *seal hash*: keccak256 of the RLP of the
//! 15 header fields with extraData shortened by those 65 bytes (clique's construction). The
//! signer is the address of the recovered public key, the producer's **node key**, which is not
//! necessarily the coinbase (a node bound to a wallet puts the wallet there). Block 0 has no
//! seal; its signer is written in the genesis extraData.

use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_rlp::Encodable;
use secp256k1::{
    Message, PublicKey, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};
use spectrum_primitives::{Header, public_key_to_address};

/// Length of the seal at the end of extraData (tribe.md §2).
pub const EXTRA_SEAL: usize = 65;

/// Length of the vanity at the start of extraData before SIP100; also the offset of the genesis
/// signer in block 0's extraData (tribe.md §2, §3).
pub const EXTRA_VANITY: usize = 32;

/// Length of an address.
const ADDRESS_LEN: usize = 20;

/// End of the genesis signer in block 0's extraData: `[32, 52)` (tribe.md §3 genesis row).
const GENESIS_SIGNER_END: usize = EXTRA_VANITY + ADDRESS_LEN;

/// Why a header's seal cannot be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// extraData has no room for what the rule reads (the 65-byte seal, or the genesis signer
    /// at `[32, 52)`).
    #[error("extraData of {len} bytes is too short: the rule needs at least {min} bytes")]
    ExtraDataTooShort {
        /// Length of the header's extraData.
        len: usize,
        /// Length the rule needs.
        min: usize,
    },
    /// The seal's last byte is not a recovery id the reference accepts (0 to 3; producers write
    /// 0 or 1).
    #[error("seal recovery id {0} is not in 0..=3")]
    InvalidRecoveryId(u8),
    /// `r` or `s` is zero or not below the curve order, or no public key recovers from the
    /// signature and the seal hash.
    #[error("seal {seal} recovers no public key for seal hash {seal_hash}")]
    Unrecoverable {
        /// The seal hash that was signed.
        seal_hash: B256,
        /// The 65 seal bytes.
        seal: Bytes,
    },
}

/// The header's extraData split into the part covered by the seal hash and the 65-byte seal.
fn split_seal(extra: &[u8]) -> Result<(&[u8], &[u8; EXTRA_SEAL]), SealError> {
    extra
        .split_last_chunk::<EXTRA_SEAL>()
        .ok_or(SealError::ExtraDataTooShort {
            len: extra.len(),
            min: EXTRA_SEAL,
        })
}

/// RLP of the 15 Byzantium header fields with `extra` in place of the header's extraData
/// (tribe.md §2 "Header RLP"). Fields of later Ethereum forks, which Spectrum headers never carry
/// (the decoders refuse them), are not part of it.
fn encode_15_fields_with_extra(header: &Header, extra: &[u8]) -> Vec<u8> {
    let fields: [&dyn Encodable; 15] = [
        &header.parent_hash,
        &header.ommers_hash,
        &header.beneficiary,
        &header.state_root,
        &header.transactions_root,
        &header.receipts_root,
        &header.logs_bloom,
        &header.difficulty,
        &header.number,
        &header.gas_limit,
        &header.gas_used,
        &header.timestamp,
        &extra,
        &header.mix_hash,
        &header.nonce,
    ];
    let payload_length = fields
        .iter()
        .fold(0usize, |sum, field| sum.saturating_add(field.length()));
    let list = alloy_rlp::Header {
        list: true,
        payload_length,
    };
    let mut out = Vec::with_capacity(list.length_with_payload());
    list.encode(&mut out);
    for field in fields {
        field.encode(&mut out);
    }
    out
}

/// The seal hash (tribe.md §2 "sigHash"): keccak256 of the RLP of the 15 header fields with
/// extraData shortened by its last 65 bytes. This is what the block's signer signs.
///
/// Fails with [`SealError::ExtraDataTooShort`] if extraData is shorter than 65 bytes.
pub fn seal_hash(header: &Header) -> Result<B256, SealError> {
    let (unsealed, _) = split_seal(&header.extra_data)?;
    Ok(keccak256(encode_15_fields_with_extra(header, unsealed)))
}

/// The public key that sealed `header` (tribe.md §2 "Signer"): recovered from the 65-byte seal
/// `r ‖ s ‖ recid` in the last 65 bytes of extraData and the [`seal_hash`].
///
/// As in the reference, no low-`s` rule applies and any recovery id 0..=3 is accepted (producers
/// write 0 or 1; 2 and 3 name an `r` above the curve order and practically never recover).
/// The VRF check (tribe.md §4) verifies against this key.
pub fn recover_block_public_key(header: &Header) -> Result<PublicKey, SealError> {
    RECOVERIES.with(|count| count.set(count.get().saturating_add(1)));
    let (unsealed, seal) = split_seal(&header.extra_data)?;
    let (compact, recid) = (&seal[..64], seal[64]);
    let recovery_id =
        RecoveryId::try_from(i32::from(recid)).map_err(|_| SealError::InvalidRecoveryId(recid))?;
    let hash = keccak256(encode_15_fields_with_extra(header, unsealed));
    let unrecoverable = || SealError::Unrecoverable {
        seal_hash: hash,
        seal: Bytes::copy_from_slice(seal),
    };
    let signature =
        RecoverableSignature::from_compact(compact, recovery_id).map_err(|_| unrecoverable())?;
    SECP256K1
        .recover_ecdsa(Message::from_digest(hash.0), &signature)
        .map_err(|_| unrecoverable())
}

thread_local! {
    /// Seal recoveries made on this thread: counted so that tests can hold import to one
    /// recovery per block (a recovery costs about 50 µs; a thread-local costs nothing).
    static RECOVERIES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many seals [`recover_block_public_key`] has recovered on the calling thread so far.
pub fn seal_recoveries_on_this_thread() -> u64 {
    RECOVERIES.with(std::cell::Cell::get)
}

/// The address that sealed `header` (tribe.md §2 "Signer"): the last 20 bytes of keccak256 of
/// the public key [`recover_block_public_key`] returns.
///
/// For block 0, which has no seal, use [`genesis_signer`] (or [`block_signer`], which chooses).
pub fn recover_block_signer(header: &Header) -> Result<Address, SealError> {
    recover_block_public_key(header).map(|public| public_key_to_address(&public))
}

/// The signer of block 0 (tribe.md §2 "Block 0", §3 genesis row): not a seal but the address at
/// `extraData[32..52]` of the genesis header.
pub fn genesis_signer(genesis: &Header) -> Result<Address, SealError> {
    genesis
        .extra_data
        .get(EXTRA_VANITY..GENESIS_SIGNER_END)
        .map(Address::from_slice)
        .ok_or(SealError::ExtraDataTooShort {
            len: genesis.extra_data.len(),
            min: GENESIS_SIGNER_END,
        })
}

/// The signer of any block (tribe.md §2): [`genesis_signer`] for block 0, the recovered seal
/// ([`recover_block_signer`]) for every other block, as the reference's `ecrecover` does.
pub fn block_signer(header: &Header) -> Result<Address, SealError> {
    if header.number == 0 {
        genesis_signer(header)
    } else {
        recover_block_signer(header)
    }
}

/// Seals `header` with `key` (tribe.md §2 "Signature"): signs the [`seal_hash`] (RFC 6979
/// deterministic nonce, low `s`) and writes `r ‖ s ‖ recid` over the last 65 bytes of extraData.
///
/// The header must already have room for the seal (producers lay out extraData as 97 or 226
/// bytes with the last 65 zero, tribe.md §3); whatever those 65 bytes held is overwritten, so
/// sealing a sealed header re-seals it. Fails with [`SealError::ExtraDataTooShort`] if
/// extraData is shorter than 65 bytes.
pub fn sign_header(mut header: Header, key: &SecretKey) -> Result<Header, SealError> {
    let hash = seal_hash(&header)?;
    let (recovery_id, compact) = SECP256K1
        .sign_ecdsa_recoverable(Message::from_digest(hash.0), key)
        .serialize_compact();
    let recid: u8 = match recovery_id {
        RecoveryId::Zero => 0,
        RecoveryId::One => 1,
        RecoveryId::Two => 2,
        RecoveryId::Three => 3,
    };
    let mut extra = header.extra_data.to_vec();
    let len = extra.len();
    let (_, slot) =
        extra
            .split_last_chunk_mut::<EXTRA_SEAL>()
            .ok_or(SealError::ExtraDataTooShort {
                len,
                min: EXTRA_SEAL,
            })?;
    slot[..64].copy_from_slice(&compact);
    slot[64] = recid;
    header.extra_data = extra.into();
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    fn header_with_extra(extra: Vec<u8>) -> Header {
        Header {
            number: 7,
            difficulty: U256::from(3),
            gas_limit: 40_000_000,
            timestamp: 1_700_000_000,
            extra_data: extra.into(),
            ..Header::default()
        }
    }

    #[test]
    fn fifteen_field_encoding_matches_alloy_header_encoding() {
        let header = header_with_extra(vec![7u8; 97]);
        let ours = encode_15_fields_with_extra(&header, &header.extra_data);
        assert_eq!(keccak256(&ours), header.hash_slow());
    }

    #[test]
    fn seal_hash_is_hash_of_header_without_seal() {
        let mut extra = vec![1u8; 32];
        extra.extend([9u8; 65]);
        let header = header_with_extra(extra);
        let trimmed = header_with_extra(vec![1u8; 32]);
        assert_eq!(seal_hash(&header).unwrap(), trimmed.hash_slow());
    }

    #[test]
    fn short_extra_data_is_refused() {
        let header = header_with_extra(vec![0u8; 64]);
        assert_eq!(
            seal_hash(&header),
            Err(SealError::ExtraDataTooShort { len: 64, min: 65 })
        );
        assert_eq!(
            genesis_signer(&header_with_extra(vec![0u8; 51])),
            Err(SealError::ExtraDataTooShort { len: 51, min: 52 })
        );
    }

    #[test]
    fn recovery_id_above_three_is_refused() {
        let mut extra = vec![0u8; 97];
        extra[96] = 4;
        assert_eq!(
            recover_block_signer(&header_with_extra(extra)),
            Err(SealError::InvalidRecoveryId(4))
        );
    }

    #[test]
    fn zero_signature_is_unrecoverable() {
        let header = header_with_extra(vec![0u8; 97]);
        let err = recover_block_signer(&header).unwrap_err();
        assert!(matches!(err, SealError::Unrecoverable { .. }), "{err}");
    }
}
