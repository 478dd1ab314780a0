//! The dev methods' parameters. Hardhat scripts pass numbers as JSON numbers
//! (`send("evm_increaseTime", [3600])`), viem and ethers as hex quantities: both are taken.

use serde_json::Value;

use crate::{error::ApiResult, params::invalid};

/// A non-negative integer as a JSON number or a `0x` hex string (leading zeros allowed).
pub(super) fn number(value: &Value, index: usize) -> ApiResult<u64> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| invalid(index, "expected a non-negative integer below 2^64")),
        Value::String(text) => {
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .ok_or_else(|| invalid(index, "expected a number or a 0x-prefixed hex string"))?;
            if digits.is_empty() {
                return Err(invalid(index, "hex string \"0x\""));
            }
            u64::from_str_radix(digits, 16)
                .map_err(|_| invalid(index, "invalid hex number, or above 2^64"))
        }
        _ => Err(invalid(
            index,
            "expected a number or a 0x-prefixed hex string",
        )),
    }
}

/// Parameter `index` as a number; it must be there.
pub(super) fn required_number(values: &[Value], index: usize) -> ApiResult<u64> {
    number(crate::params::required(values, index)?, index)
}

/// Parameter `index` as a number, if given.
pub(super) fn optional_number(values: &[Value], index: usize) -> ApiResult<Option<u64>> {
    crate::params::optional(values, index)
        .map(|v| number(v, index))
        .transpose()
}

/// `evm_mine`'s one parameter: nothing, a timestamp, or anvil's `{timestamp, blocks}`.
/// Returns (blocks, timestamp).
pub(super) fn mine_options(value: Option<&Value>) -> ApiResult<(u64, Option<u64>)> {
    match value {
        None | Some(Value::Null) => Ok((1, None)),
        Some(Value::Object(options)) => {
            if let Some(key) = options
                .keys()
                .find(|k| !matches!(k.as_str(), "timestamp" | "blocks"))
            {
                return Err(invalid(0, format!("unknown field {key:?}")));
            }
            let field = |name: &str| {
                options
                    .get(name)
                    .filter(|v| !v.is_null())
                    .map(|v| number(v, 0))
                    .transpose()
            };
            Ok((field("blocks")?.unwrap_or(1), field("timestamp")?))
        }
        Some(other) => Ok((1, Some(number(other, 0)?))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_come_as_json_numbers_or_hex() {
        assert_eq!(number(&json!(3600), 0).unwrap(), 3600);
        assert_eq!(number(&json!("0xe10"), 0).unwrap(), 3600);
        assert_eq!(number(&json!("0x0e10"), 0).unwrap(), 3600);
        for bad in [
            json!(-1),
            json!(1.5),
            json!("3600"),
            json!("0x"),
            json!(true),
        ] {
            assert!(number(&bad, 0).is_err(), "{bad}");
        }
        assert_eq!(mine_options(None).unwrap(), (1, None));
        assert_eq!(mine_options(Some(&json!("0x10"))).unwrap(), (1, Some(16)));
        assert_eq!(
            mine_options(Some(&json!({"timestamp": 99, "blocks": "0x3"}))).unwrap(),
            (3, Some(99))
        );
        let (_, message, _) = {
            let e = mine_options(Some(&json!({"time": 1}))).unwrap_err();
            (e.code(), e.message().to_owned(), ())
        };
        assert_eq!(message, "invalid argument 0: unknown field \"time\"");
    }
}
