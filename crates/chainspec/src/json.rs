//! Number encodings in genesis files: geth accepts a quantity as a `0x` hex string, a decimal
//! string or a JSON number; balances may reach 2^256 - 1 and no further.

use alloy_primitives::U256;
use serde::{Deserialize, Deserializer, de::Error};

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Number(u64),
    Text(String),
}

fn parse_u256(text: &str) -> Result<U256, String> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(format!(
            "`{text}` is not a {} number",
            if radix == 16 { "hex" } else { "decimal" }
        ));
    }
    U256::from_str_radix(digits, radix as u64)
        .map_err(|_| format!("`{text}` does not fit in 256 bits"))
}

/// A 256-bit quantity (balances, storage values, difficulty).
pub(crate) fn u256<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
    match Raw::deserialize(d)? {
        Raw::Number(n) => Ok(U256::from(n)),
        Raw::Text(t) => parse_u256(&t).map_err(D::Error::custom),
    }
}

/// A 64-bit quantity (nonce, gas limit, timestamp).
pub(crate) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let value = match Raw::deserialize(d)? {
        Raw::Number(n) => return Ok(n),
        Raw::Text(t) => parse_u256(&t).map_err(D::Error::custom)?,
    };
    u64::try_from(value).map_err(|_| D::Error::custom(format!("{value} does not fit in 64 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_decimal_and_refuses_overflow() {
        assert_eq!(parse_u256("0x10"), Ok(U256::from(16)));
        assert_eq!(parse_u256("10"), Ok(U256::from(10)));
        assert!(parse_u256("0x").is_err());
        assert!(parse_u256("12a").is_err());
        let max = format!("0x{}", "f".repeat(64));
        assert_eq!(parse_u256(&max), Ok(U256::MAX));
        let over = format!("0x1{}", "0".repeat(64));
        assert!(parse_u256(&over).unwrap_err().contains("256 bits"));
    }
}
