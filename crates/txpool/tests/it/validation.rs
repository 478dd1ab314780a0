//! Validation on entry: each rule with the message a wallet shows, at its boundary.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use alloy_primitives::{Address, Signature, TxKind, U256};
use common::*;
use spectrum_chainspec::ChainSpec;
use spectrum_primitives::TransactionSigned;
use spectrum_txpool::{
    CHIEF_UPDATE_SELECTOR, PoolConfig, PoolError, TxOrigin, TxPool, intrinsic_gas,
};

#[test]
fn a_valid_transfer_is_pending_announced_and_then_already_known() {
    let f = fixture();
    let k = f.funded(1);
    let mut events = f.pool.subscribe_pending();
    let tx = transfer(&k, 0, 2 * GWEI);
    let hash = f.add(tx.clone()).unwrap();
    assert_eq!(hash, tx.hash());
    assert_eq!(f.pool.status().pending, 1);
    let pooled = f.pool.get(&hash).unwrap();
    assert_eq!(pooled.sender, address(&k));
    assert_eq!(pooled.encoded_len, alloy_rlp::encode(&tx).len());
    assert_eq!(events.try_recv().unwrap(), hash);
    assert_eq!(f.refusal(tx.clone()), "already known");
    assert_eq!(
        f.pool
            .add_raw(&alloy_rlp::encode(&tx), TxOrigin::External)
            .unwrap_err()
            .to_string(),
        "already known"
    );
    assert_consistent(&f.pool);
}

#[test]
fn the_size_limit_is_inclusive() {
    let k = key(1);
    let tx = tx_with(&k, 0, |t| {
        t.input = vec![0u8; 1000].into();
        t.gas_limit = 30_000;
    });
    let len = alloy_rlp::encode(&tx).len();
    let f = fixture_with(|c| c.max_tx_size = len);
    f.state.set(address(&k), 0, coins(1));
    f.add(tx).unwrap();
    let f = fixture_with(|c| c.max_tx_size = len - 1);
    f.state.set(address(&k), 0, coins(1));
    let again = tx_with(&k, 0, |t| {
        t.input = vec![0u8; 1000].into();
        t.gas_limit = 30_000;
    });
    assert_eq!(f.refusal(again.clone()), "oversized data");
    let raw = alloy_rlp::encode(&again);
    assert!(matches!(
        f.pool.add_raw(&raw, TxOrigin::External),
        Err(PoolError::Oversized)
    ));
}

#[test]
fn transactions_over_128_kib_are_oversized() {
    let f = fixture();
    assert_eq!(f.pool.config().max_tx_size, 128 * 1024);
    let k = f.funded(1);
    let big = tx_with(&k, 0, |t| {
        t.input = vec![0u8; 128 * 1024].into();
        t.gas_limit = 30_000_000;
    });
    assert_eq!(f.refusal(big.clone()), "oversized data");
    let raw = alloy_rlp::encode(&big);
    assert_eq!(
        f.pool
            .add_raw(&raw, TxOrigin::Local)
            .unwrap_err()
            .to_string(),
        "oversized data"
    );
    // Bytes beyond the limit are refused before decoding, whatever they are.
    assert_eq!(
        f.pool
            .add_raw(&vec![0xc0; 200 * 1024], TxOrigin::External)
            .unwrap_err()
            .to_string(),
        "oversized data"
    );
}

#[test]
fn a_signature_that_recovers_no_sender_is_an_invalid_sender() {
    let f = fixture();
    let k = f.funded(1);
    let good = transfer(&k, 0, 2 * GWEI);
    let sig = good.signature();
    // The same signature with s mirrored above n/2: valid ECDSA, refused by EIP-2.
    let n = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let high_s = Signature::new(sig.r(), n - sig.s(), !sig.v());
    let forged = TransactionSigned::from_parts(good.tx().clone(), high_s);
    assert_eq!(f.refusal(forged), "invalid sender");
    let zero_r = Signature::new(U256::ZERO, sig.s(), sig.v());
    let forged = TransactionSigned::from_parts(good.tx().clone(), zero_r);
    assert_eq!(f.refusal(forged), "invalid sender");
    assert_eq!(f.held(), 0);
}

#[test]
fn a_wrong_chain_id_is_an_invalid_sender() {
    let f = fixture();
    let k = f.funded(1);
    assert_eq!(
        f.refusal(tx_with(&k, 0, |t| t.chain_id = Some(20180430))),
        "invalid sender"
    );
}

#[test]
fn eip155_is_required_from_sip003_counted_at_the_next_block() {
    let mut spec = ChainSpec::dev();
    spec.tribe.sip003_block = 5;
    let unprotected = |k| tx_with(k, 0, |t| t.chain_id = None);
    // Head 3: the next block (4) is before SIP003.
    let f = fixture_on(spec.clone(), 3, |_| {});
    let k = f.funded(1);
    f.add(unprotected(&k)).unwrap();
    // Head 4: the next block (5) is the first under SIP003.
    let f = fixture_on(spec, 4, |_| {});
    let k = f.funded(1);
    assert_eq!(
        f.refusal(unprotected(&k)),
        "only replay-protected (EIP-155) transactions allowed over RPC"
    );
    f.add(transfer(&k, 0, 2 * GWEI)).unwrap();
}

#[test]
fn typed_transactions_are_not_supported() {
    let f = fixture();
    for raw in [&[0x01, 0xc0][..], &[0x02, 0xc0], &[0x7f, 0xc1, 0x80]] {
        assert_eq!(
            f.pool
                .add_raw(raw, TxOrigin::External)
                .unwrap_err()
                .to_string(),
            "transaction type not supported"
        );
    }
}

#[test]
fn garbage_is_a_decode_error_never_a_panic() {
    let f = fixture();
    let k = f.funded(1);
    let raw = alloy_rlp::encode(transfer(&k, 0, 2 * GWEI));
    assert!(matches!(
        f.pool.add_raw(&[], TxOrigin::External),
        Err(PoolError::Decode(_))
    ));
    // Every truncation, and every single-byte corruption, is refused with a typed error
    // (a corrupted field may still decode: then the signature no longer matches).
    for cut in 0..raw.len() {
        assert!(
            f.pool.add_raw(&raw[..cut], TxOrigin::External).is_err(),
            "cut {cut}"
        );
    }
    for at in 0..raw.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = raw.clone();
            bad[at] ^= flip;
            // A corruption that still decodes changes what was signed, so it recovers
            // another, unfunded, sender: refused all the same.
            if let Ok(hash) = f.pool.add_raw(&bad, TxOrigin::External) {
                panic!("corrupted byte {at} admitted as {hash}");
            }
        }
    }
    let mut trailing = raw.clone();
    trailing.push(0x80);
    assert!(matches!(
        f.pool.add_raw(&trailing, TxOrigin::External),
        Err(PoolError::Decode(_))
    ));
    assert_eq!(f.held(), 0);
    f.pool.add_raw(&raw, TxOrigin::External).unwrap();
}

#[test]
fn chief_update_transactions_from_outside_are_refused() {
    let f = fixture();
    let k = f.funded(1);
    let spec = ChainSpec::dev();
    let chief = spec.tribe.chiefs[0].address;
    assert_eq!(CHIEF_UPDATE_SELECTOR, [0x1c, 0x1b, 0x87, 0x72]);
    let call = |nonce, to, selector: [u8; 4]| {
        let mut data = selector.to_vec();
        data.extend_from_slice(&[0u8; 32]);
        tx_with(&k, nonce, |t| {
            t.to = TxKind::Call(to);
            t.input = data.into();
            t.gas_limit = 100_000;
        })
    };
    assert_eq!(
        f.refusal(call(0, chief, CHIEF_UPDATE_SELECTOR)),
        "chief-update transactions are made by the block's signer only"
    );
    // Another function of the chief, or the selector sent elsewhere, are ordinary calls.
    f.add(call(0, chief, [0xde, 0xad, 0xbe, 0xef])).unwrap();
    f.add(call(1, Address::repeat_byte(7), CHIEF_UPDATE_SELECTOR))
        .unwrap();
}

#[test]
fn a_nonce_below_the_account_s_is_too_low() {
    let f = fixture();
    let k = key(1);
    f.state.set(address(&k), 5, coins(1));
    assert_eq!(f.refusal(transfer(&k, 4, 2 * GWEI)), "nonce too low");
    assert_eq!(f.refusal(transfer(&k, 0, 2 * GWEI)), "nonce too low");
    f.add(transfer(&k, 5, 2 * GWEI)).unwrap();
}

#[test]
fn funds_must_cover_gas_times_price_plus_value_exactly() {
    let f = fixture();
    let k = key(1);
    let value = U256::from(1_000u64);
    let cost = U256::from(21_000u64) * U256::from(2 * GWEI) + value;
    f.state.set(address(&k), 0, cost - U256::from(1u64));
    let tx = |nonce| tx_with(&k, nonce, |t| t.value = value);
    assert_eq!(
        f.refusal(tx(0)),
        "insufficient funds for gas * price + value"
    );
    f.state.set(address(&k), 0, cost);
    f.add(tx(0)).unwrap();
    // An unknown account has nothing.
    let stranger = key(2);
    assert_eq!(
        f.refusal(transfer(&stranger, 0, 2 * GWEI)),
        "insufficient funds for gas * price + value"
    );
}

#[test]
fn huge_fields_do_not_overflow() {
    let f = fixture();
    let k = key(1);
    f.state.set(address(&k), 0, U256::MAX);
    // value + gas × price above 2^256: no balance pays it.
    assert_eq!(
        f.refusal(tx_with(&k, 0, |t| {
            t.value = U256::MAX;
            t.gas_price = u128::MAX;
        })),
        "insufficient funds for gas * price + value"
    );
    assert_eq!(
        f.refusal(tx_with(&k, 0, |t| t.gas_limit = u64::MAX)),
        "exceeds block gas limit"
    );
    // The largest price fits: U256 holds gas × price.
    let dear = f.add(transfer(&k, 0, u128::MAX)).unwrap();
    assert!(f.pool.get(&dear).is_some());
    // A replacement bump on the largest price cannot overflow either.
    assert_eq!(
        f.refusal(tx_with(&k, 0, |t| {
            t.gas_price = u128::MAX;
            t.value = U256::from(2u64);
        })),
        "replacement transaction underpriced"
    );
    // The largest nonce waits, queued, without overflowing the run arithmetic.
    f.add(transfer(&k, u64::MAX, 2 * GWEI)).unwrap();
    assert_eq!(f.pool.status().queued, 1);
    assert_consistent(&f.pool);
}

#[test]
fn intrinsic_gas_is_the_floor() {
    let f = fixture();
    let k = f.funded(1);
    // 21,000 + 68 per non-zero byte + 4 per zero byte.
    let data = vec![1u8, 0, 2, 0, 0];
    let needed = 21_000 + 2 * 68 + 3 * 4;
    let with_gas = |nonce, gas| {
        tx_with(&k, nonce, |t| {
            t.input = data.clone().into();
            t.gas_limit = gas;
        })
    };
    assert_eq!(intrinsic_gas(&with_gas(0, needed)), Some(needed));
    assert_eq!(f.refusal(with_gas(0, needed - 1)), "intrinsic gas too low");
    f.add(with_gas(0, needed)).unwrap();
    // A creation pays 53,000.
    let create = |gas| {
        tx_with(&k, 1, |t| {
            t.to = TxKind::Create;
            t.gas_limit = gas;
        })
    };
    assert_eq!(intrinsic_gas(&create(0)), Some(53_000));
    assert_eq!(f.refusal(create(52_999)), "intrinsic gas too low");
    f.add(create(53_000)).unwrap();
}

#[test]
fn gas_above_the_head_s_gas_limit_is_refused() {
    let f = fixture();
    let k = f.funded(1);
    assert_eq!(
        f.refusal(tx_with(&k, 0, |t| t.gas_limit = GAS_LIMIT + 1)),
        "exceeds block gas limit"
    );
    f.add(tx_with(&k, 0, |t| t.gas_limit = GAS_LIMIT)).unwrap();
}

#[test]
fn below_the_minimum_gas_price_is_underpriced() {
    let f = fixture();
    let k = f.funded(1);
    assert_eq!(
        f.refusal(transfer(&k, 0, GWEI - 1)),
        "transaction underpriced"
    );
    f.add(transfer(&k, 0, GWEI)).unwrap();
    // Public chains ask 18 gwei, as the reference node does.
    let mainnet = PoolConfig::for_chain(&ChainSpec::mainnet());
    assert_eq!(mainnet.min_gas_price, U256::from(18 * GWEI));
    let f = fixture_with(|c| c.min_gas_price = U256::from(18 * GWEI));
    let k = f.funded(1);
    assert_eq!(
        f.refusal(transfer(&k, 0, 18 * GWEI - 1)),
        "transaction underpriced"
    );
    f.add(transfer(&k, 0, 18 * GWEI)).unwrap();
}

#[test]
fn geth_s_defaults() {
    let config = PoolConfig::for_chain(&ChainSpec::dev());
    assert_eq!(config.min_gas_price, U256::from(GWEI));
    assert_eq!(config.price_bump_percent, 10);
    assert_eq!(config.max_per_sender, 64);
    assert_eq!((config.max_pending, config.max_queued), (4096, 1024));
    assert_eq!(config.max_tx_size, 128 * 1024);
}
