//! The reference node's compact genesis allocation: an RLP list of `[address, balance]` pairs,
//! the address written as a big-endian integer (leading zero bytes dropped), balances as RLP
//! integers (chain.md §2.1). Decoded as data, with bounds.

use alloy_primitives::{Address, U256};
use alloy_rlp::{Decodable, Header};

/// Allocations longer than this are refused (the public networks' are under 200 bytes).
const MAX_ALLOC_RLP_BYTES: usize = 16 * 1024 * 1024;

/// Decodes an RLP allocation into `(address, balance)` pairs, refusing trailing bytes,
/// over-long addresses and balances over 256 bits.
pub fn decode_alloc_rlp(bytes: &[u8]) -> Result<Vec<(Address, U256)>, String> {
    if bytes.len() > MAX_ALLOC_RLP_BYTES {
        return Err(format!(
            "{} bytes exceeds the limit of {MAX_ALLOC_RLP_BYTES}",
            bytes.len()
        ));
    }
    let mut buf = bytes;
    let list = Header::decode(&mut buf).map_err(|e| match e {
        alloy_rlp::Error::InputTooShort => "outer list: truncated input".to_owned(),
        e => format!("outer list: {e}"),
    })?;
    if !list.list {
        return Err("expected a list of [address, balance] pairs".into());
    }
    if list.payload_length != buf.len() {
        return Err(format!(
            "outer list says {} bytes but {} follow (truncated or trailing data)",
            list.payload_length,
            buf.len()
        ));
    }
    let mut out = Vec::new();
    while !buf.is_empty() {
        let index = out.len();
        out.push(decode_entry(&mut buf).map_err(|e| format!("entry {index}: {e}"))?);
    }
    Ok(out)
}

fn decode_entry(buf: &mut &[u8]) -> Result<(Address, U256), String> {
    let pair = Header::decode(buf).map_err(|e| e.to_string())?;
    if !pair.list {
        return Err("expected a [address, balance] list".into());
    }
    if pair.payload_length > buf.len() {
        return Err("truncated".into());
    }
    let (mut item, rest) = buf.split_at(pair.payload_length);
    let address_bytes =
        Header::decode_bytes(&mut item, false).map_err(|e| format!("address: {e}"))?;
    if address_bytes.len() > 20 {
        return Err(format!(
            "address of {} bytes is longer than 20",
            address_bytes.len()
        ));
    }
    let mut address = [0u8; 20];
    address[20 - address_bytes.len()..].copy_from_slice(address_bytes);
    let balance = U256::decode(&mut item).map_err(|e| format!("balance: {e}"))?;
    if !item.is_empty() {
        return Err(format!("{} extra bytes after the balance", item.len()));
    }
    *buf = rest;
    Ok((Address::from(address), balance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, hex};

    const DEVNET: &[u8] = &hex!(
        "f846e294bf1736a65f8beadd71b321be585fd883503fdeaa8c1027e72f1f12813088000000e294d3b38478f7edb9bb55270ee5389706dc9ca6d98f8c1027e72f1f12813088000000"
    );

    #[test]
    fn decodes_devnet_alloc() {
        let alloc = decode_alloc_rlp(DEVNET).unwrap();
        let five_billion = U256::from(5_000_000_000u64) * U256::from(10u64).pow(U256::from(18));
        assert_eq!(
            alloc,
            vec![
                (
                    address!("bf1736a65f8beadd71b321be585fd883503fdeaa"),
                    five_billion
                ),
                (
                    address!("d3b38478f7edb9bb55270ee5389706dc9ca6d98f"),
                    five_billion
                ),
            ]
        );
    }

    #[test]
    fn short_address_is_left_padded() {
        // [[0x01, 7]]
        let alloc = decode_alloc_rlp(&hex!("c3c20107")).unwrap();
        assert_eq!(
            alloc,
            vec![(
                address!("0000000000000000000000000000000000000001"),
                U256::from(7)
            )]
        );
    }

    #[test]
    fn truncated_and_overlong_inputs_are_errors() {
        for cut in 1..DEVNET.len() {
            assert!(decode_alloc_rlp(&DEVNET[..cut]).is_err(), "cut at {cut}");
        }
        let mut trailing = DEVNET.to_vec();
        trailing.push(0);
        assert!(decode_alloc_rlp(&trailing).is_err());
        // 21-byte address
        let long = hex!("d8d7950102030405060708090a0b0c0d0e0f101112131415");
        let mut bad = long.to_vec();
        bad[1] = 0xd6; // inner list of 22 bytes: 21-byte address + missing balance
        assert!(decode_alloc_rlp(&bad).is_err());
        // balance of 33 bytes
        let mut over = vec![0xf8, 0x38, 0xf7, 0x94];
        over.extend([0x11; 20]);
        over.push(0xa1);
        over.extend([0xff; 33]);
        assert!(decode_alloc_rlp(&over).unwrap_err().contains("balance"));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed.to_be_bytes()[0]
                })
                .collect();
            let _ = decode_alloc_rlp(&bytes);
        }
    }
}
