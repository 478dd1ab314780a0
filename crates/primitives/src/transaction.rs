//! Legacy transactions: the only kind Spectrum has.

pub use alloy_consensus::TxLegacy;
use alloy_consensus::{SignableTransaction, Signed, transaction::RlpEcdsaDecodableTx};
use alloy_primitives::{Address, B256, Signature, U256, keccak256};
use alloy_rlp::{Decodable, Encodable};
use secp256k1::{
    Message, PublicKey, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};

use crate::decode::{DecodeError, Limits, decode_exact};

/// Half the secp256k1 group order: EIP-2 (Homestead) refuses transaction signatures with a
/// larger `s`, so each signature has one valid form.
const SECP256K1N_HALF: U256 = U256::from_be_slice(&[
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// Why a transaction's sender cannot be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// `s` above half the curve order (EIP-2).
    #[error("signature s value is too high (EIP-2)")]
    HighS,
    /// `r` or `s` zero or not below the curve order, or no public key recovers.
    #[error("invalid signature: no sender can be recovered")]
    Unrecoverable,
}

/// A signed legacy transaction, its hash cached.
///
/// `chain_id` of the inner [`TxLegacy`] is `Some` for EIP-155 transactions (`v` = 2·id + 35/36)
/// and `None` for unprotected ones (`v` = 27/28), which Spectrum refuses in blocks from SIP003.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSigned(Signed<TxLegacy>);

impl TransactionSigned {
    /// Wraps an already signed transaction.
    pub fn new(signed: Signed<TxLegacy>) -> Self {
        Self(signed)
    }

    /// A transaction from its fields and signature; the hash is computed on first use.
    pub fn from_parts(tx: TxLegacy, signature: Signature) -> Self {
        Self(Signed::new_unhashed(tx, signature))
    }

    /// Decodes one transaction as sent by a wallet or peer (`eth_sendRawTransaction`): legacy
    /// RLP only, at most `limits.max_tx_bytes`, nothing trailing. A leading byte below 0x80 is
    /// an EIP-2718 type byte and gets [`DecodeError::TypedTransaction`].
    pub fn decode_raw(bytes: &[u8], limits: &Limits) -> Result<Self, DecodeError> {
        if let Some(&first) = bytes.first()
            && first < 0x80
        {
            return Err(DecodeError::TypedTransaction(first));
        }
        decode_exact("transaction", bytes, limits.max_tx_bytes)
    }

    /// The transaction's fields.
    pub fn tx(&self) -> &TxLegacy {
        self.0.tx()
    }

    /// Its signature.
    pub fn signature(&self) -> &Signature {
        self.0.signature()
    }

    /// The transaction hash: keccak256 of its RLP.
    pub fn hash(&self) -> B256 {
        *self.0.hash()
    }

    /// The hash that was signed (EIP-155 form when the transaction has a chain id).
    pub fn signature_hash(&self) -> B256 {
        self.0.signature_hash()
    }

    /// Whether the transaction is EIP-155 replay-protected.
    pub fn is_protected(&self) -> bool {
        self.tx().chain_id.is_some()
    }

    /// The inner alloy type.
    pub fn inner(&self) -> &Signed<TxLegacy> {
        &self.0
    }

    /// Recovers the sender, enforcing EIP-2's low-`s` rule.
    pub fn recover_sender(&self) -> Result<Address, SignatureError> {
        let sig = self.signature();
        if sig.s() > SECP256K1N_HALF {
            return Err(SignatureError::HighS);
        }
        recover_signer_unchecked(sig, self.signature_hash())
    }

    /// Recovers the sender and pairs it with the transaction.
    pub fn try_into_recovered(self) -> Result<RecoveredTx, SignatureError> {
        let sender = self.recover_sender()?;
        Ok(RecoveredTx { tx: self, sender })
    }
}

/// Recovers the address that signed `hash`, accepting any `s` (header seals use this too).
pub fn recover_signer_unchecked(sig: &Signature, hash: B256) -> Result<Address, SignatureError> {
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&sig.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&sig.s().to_be_bytes::<32>());
    let recid = if sig.v() {
        RecoveryId::One
    } else {
        RecoveryId::Zero
    };
    let recoverable = RecoverableSignature::from_compact(&compact, recid)
        .map_err(|_| SignatureError::Unrecoverable)?;
    let public = SECP256K1
        .recover_ecdsa(Message::from_digest(hash.0), &recoverable)
        .map_err(|_| SignatureError::Unrecoverable)?;
    Ok(public_key_to_address(&public))
}

/// The Ethereum address of a public key: the last 20 bytes of keccak256 of its 64-byte form.
pub fn public_key_to_address(public: &PublicKey) -> Address {
    let uncompressed = public.serialize_uncompressed();
    Address::from_slice(&keccak256(&uncompressed[1..])[12..])
}

/// Signs `tx` with `key` (EIP-155 if `tx.chain_id` is set). Used by block production, the dev
/// chain and tests.
pub fn sign_transaction(tx: TxLegacy, key: &SecretKey) -> TransactionSigned {
    let hash = tx.signature_hash();
    let (recid, compact) = SECP256K1
        .sign_ecdsa_recoverable(Message::from_digest(hash.0), key)
        .serialize_compact();
    let r = U256::from_be_slice(&compact[..32]);
    let s = U256::from_be_slice(&compact[32..]);
    let signature = Signature::new(r, s, i32::from(recid) == 1);
    TransactionSigned::from_parts(tx, signature)
}

impl Encodable for TransactionSigned {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        self.0.rlp_encode(out);
    }

    fn length(&self) -> usize {
        self.0.rlp_encoded_length()
    }
}

impl Decodable for TransactionSigned {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        if buf.first().is_some_and(|&b| b < 0xc0) {
            return Err(alloy_rlp::Error::Custom(
                "typed transactions are not supported",
            ));
        }
        TxLegacy::rlp_decode_signed(buf).map(Self)
    }
}

/// A transaction with its recovered sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredTx {
    /// The signed transaction.
    pub tx: TransactionSigned,
    /// Its sender, recovered from the signature.
    pub sender: Address,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{TxKind, address, hex};

    #[test]
    fn eip155_example_transaction_hash_and_sender() {
        // The example of EIP-155 itself: nonce 9, 20 gwei, 21000 gas, 1 ether, chain id 1,
        // signed by private key 0x4646...46.
        let raw = hex!(
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        );
        let tx = TransactionSigned::decode_raw(&raw, &Limits::DEFAULT).unwrap();
        assert_eq!(tx.tx().chain_id, Some(1));
        assert_eq!(tx.tx().nonce, 9);
        assert_eq!(
            tx.tx().to,
            TxKind::Call(address!("3535353535353535353535353535353535353535"))
        );
        assert_eq!(
            tx.recover_sender().unwrap(),
            address!("9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
        );
        assert_eq!(tx.hash(), keccak256(raw));
        let mut out = Vec::new();
        tx.encode(&mut out);
        assert_eq!(out, raw);
    }

    #[test]
    fn sign_then_recover_round_trips() {
        let key = SecretKey::from_byte_array([0x46; 32]).unwrap();
        let tx = TxLegacy {
            chain_id: Some(20180430),
            nonce: 3,
            gas_price: 18_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(7)),
            value: U256::from(5u64),
            input: Default::default(),
        };
        let signed = sign_transaction(tx, &key);
        let expected = public_key_to_address(&PublicKey::from_secret_key(SECP256K1, &key));
        assert_eq!(signed.recover_sender().unwrap(), expected);
        let mut out = Vec::new();
        signed.encode(&mut out);
        let back = TransactionSigned::decode_raw(&out, &Limits::DEFAULT).unwrap();
        assert_eq!(back, signed);
        assert!(back.is_protected());
    }

    #[test]
    fn typed_transaction_is_refused() {
        let err = TransactionSigned::decode_raw(&[0x02, 0xc0], &Limits::DEFAULT).unwrap_err();
        assert_eq!(err, DecodeError::TypedTransaction(2));
    }

    #[test]
    fn high_s_is_refused() {
        let key = SecretKey::from_byte_array([0x11; 32]).unwrap();
        let tx = TxLegacy {
            chain_id: Some(4),
            gas_limit: 21_000,
            ..Default::default()
        };
        let signed = sign_transaction(tx, &key);
        let sig = signed.signature();
        // The secp256k1 order n; (r, n - s) is the same signature's high-s twin.
        let n = U256::from_be_slice(&hex!(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"
        ));
        let twin = Signature::new(sig.r(), n - sig.s(), !sig.v());
        let flipped = TransactionSigned::from_parts(signed.tx().clone(), twin);
        assert_eq!(flipped.recover_sender(), Err(SignatureError::HighS));
    }
}
