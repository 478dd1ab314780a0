//! Strict decoding of JSON-RPC parameters: `0x` quantities without leading zeros, 20-byte
//! addresses, 32-byte hashes, even-length data, block tags and EIP-1898 block objects, call
//! objects and log filters. A bad parameter is an invalid-params error (-32602) naming its
//! position and what is wrong. Every decoder is bounded: lists have a maximum length and hex
//! strings a maximum number of digits, so no input makes one allocate without limit.

use alloy_primitives::{Address, B256, Bytes, U256};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{Map, Value};

pub use crate::error::invalid_param as invalid;

/// Most parameters any method here takes: more is refused before decoding.
const MAX_PARAMS: usize = 8;
/// Most addresses in one log filter.
pub const MAX_FILTER_ADDRESSES: usize = 1024;
/// Most alternatives for one topic position.
pub const MAX_TOPIC_ALTERNATIVES: usize = 1024;

/// The positional parameters as JSON values (an absent list is empty). `null` stands for an
/// omitted optional parameter, as in geth.
pub fn positional(params: &Params<'_>) -> Result<Vec<Value>, ErrorObjectOwned> {
    let Some(text) = params.as_str() else {
        return Ok(Vec::new());
    };
    let text = text.trim_start();
    if text.starts_with('{') {
        return Err(invalid(0, "parameters must be an array"));
    }
    let values: Vec<Value> = serde_json::from_str(text)
        .map_err(|e| invalid(0, format!("parameters are not a JSON array: {e}")))?;
    if values.len() > MAX_PARAMS {
        return Err(invalid(MAX_PARAMS, "too many arguments"));
    }
    Ok(values)
}

/// Parameter `index`, which must be present and not null.
pub fn required(values: &[Value], index: usize) -> Result<&Value, ErrorObjectOwned> {
    match values.get(index) {
        None | Some(Value::Null) => Err(invalid(index, "missing value for required argument")),
        Some(value) => Ok(value),
    }
}

/// Parameter `index` if present and not null.
pub fn optional(values: &[Value], index: usize) -> Option<&Value> {
    values.get(index).filter(|v| !v.is_null())
}

/// Refuses parameters past the `count` a method takes.
pub fn at_most(values: &[Value], count: usize) -> Result<(), ErrorObjectOwned> {
    if values.len() > count {
        return Err(invalid(
            count,
            format!("too many arguments, want at most {count}"),
        ));
    }
    Ok(())
}

fn hex_str(value: &Value, index: usize) -> Result<&str, ErrorObjectOwned> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(index, "expected a 0x-prefixed hex string"))?;
    text.strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| invalid(index, "hex string without 0x prefix"))
}

/// A quantity: `0x` then hex digits without leading zeros (`0x0` for zero), at most 256 bits.
pub fn quantity(value: &Value, index: usize) -> Result<U256, ErrorObjectOwned> {
    let digits = hex_str(value, index)?;
    if digits.is_empty() {
        return Err(invalid(index, "hex string \"0x\""));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(invalid(index, "hex number with leading zero digits"));
    }
    if digits.len() > 64 {
        return Err(invalid(index, "hex number > 256 bits"));
    }
    U256::from_str_radix(digits, 16).map_err(|_| invalid(index, "invalid hex number"))
}

/// A quantity that fits 64 bits.
pub fn quantity_u64(value: &Value, index: usize) -> Result<u64, ErrorObjectOwned> {
    u64::try_from(quantity(value, index)?).map_err(|_| invalid(index, "hex number > 64 bits"))
}

fn fixed<const N: usize>(
    value: &Value,
    index: usize,
    name: &str,
) -> Result<[u8; N], ErrorObjectOwned> {
    let digits = hex_str(value, index)?;
    if digits.len() != N * 2 {
        return Err(invalid(index, format!("{name} must be {N} bytes")));
    }
    let mut out = [0u8; N];
    alloy_primitives::hex::decode_to_slice(digits, &mut out)
        .map_err(|_| invalid(index, format!("invalid hex {name}")))?;
    Ok(out)
}

/// A 20-byte address (any letter case: checksums are not enforced, as in geth).
pub fn address(value: &Value, index: usize) -> Result<Address, ErrorObjectOwned> {
    fixed::<20>(value, index, "address").map(Address::from)
}

/// A 32-byte hash.
pub fn hash(value: &Value, index: usize) -> Result<B256, ErrorObjectOwned> {
    fixed::<32>(value, index, "hash").map(B256::from)
}

/// Bytes: even-length hex. Its size is bounded by the request body limit.
pub fn data(value: &Value, index: usize) -> Result<Bytes, ErrorObjectOwned> {
    let digits = hex_str(value, index)?;
    if digits.len() % 2 != 0 {
        return Err(invalid(index, "hex string of odd length"));
    }
    alloy_primitives::hex::decode(digits)
        .map(Bytes::from)
        .map_err(|_| invalid(index, "invalid hex data"))
}

/// A storage slot for `eth_getStorageAt`: 1 to 64 hex digits, left-padded to 32 bytes (geth
/// takes `0x0` as well as a full hash).
pub fn storage_slot(value: &Value, index: usize) -> Result<B256, ErrorObjectOwned> {
    let digits = hex_str(value, index)?;
    if digits.is_empty() || digits.len() > 64 {
        return Err(invalid(index, "storage slot must be 1 to 32 bytes of hex"));
    }
    U256::from_str_radix(digits, 16)
        .map(B256::from)
        .map_err(|_| invalid(index, "invalid hex storage slot"))
}

/// A JSON boolean.
pub fn boolean(value: &Value, index: usize) -> Result<bool, ErrorObjectOwned> {
    value
        .as_bool()
        .ok_or_else(|| invalid(index, "expected a boolean"))
}

/// Which block a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    /// The head (`latest`, and `safe`/`finalized`: a Tribe block is final once sealed here).
    Latest,
    /// `pending`: the head (we build no pending block), plus the pool for nonces.
    Pending,
    /// Block 0.
    Earliest,
    /// A canonical number.
    Number(u64),
    /// A block by hash; `require_canonical` as EIP-1898 says.
    Hash {
        /// The hash.
        hash: B256,
        /// Refuse a non-canonical block.
        require_canonical: bool,
    },
}

/// A block parameter: a tag, a quantity, or an EIP-1898 object; absent or null means `latest`.
pub fn block_id(value: Option<&Value>, index: usize) -> Result<BlockId, ErrorObjectOwned> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(BlockId::Latest);
    };
    match value {
        Value::String(tag) => block_tag(tag, value, index),
        Value::Object(object) => block_object(object, index),
        _ => Err(invalid(index, "expected a block number, tag or object")),
    }
}

fn block_tag(tag: &str, value: &Value, index: usize) -> Result<BlockId, ErrorObjectOwned> {
    match tag {
        "latest" | "safe" | "finalized" => Ok(BlockId::Latest),
        "pending" => Ok(BlockId::Pending),
        "earliest" => Ok(BlockId::Earliest),
        _ => quantity_u64(value, index).map(BlockId::Number),
    }
}

fn block_object(object: &Map<String, Value>, index: usize) -> Result<BlockId, ErrorObjectOwned> {
    let known = ["blockNumber", "blockHash", "requireCanonical"];
    if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(invalid(
            index,
            format!("unknown field {unknown:?} in block object"),
        ));
    }
    match (object.get("blockNumber"), object.get("blockHash")) {
        (Some(number), None) => {
            if object.contains_key("requireCanonical") {
                return Err(invalid(index, "requireCanonical goes with blockHash"));
            }
            match number {
                Value::String(tag) => block_tag(tag, number, index),
                _ => Err(invalid(index, "blockNumber must be a hex string or tag")),
            }
        }
        (None, Some(hash_value)) => {
            let require_canonical = match object.get("requireCanonical") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(invalid(index, "requireCanonical must be a bool")),
            };
            Ok(BlockId::Hash {
                hash: hash(hash_value, index)?,
                require_canonical,
            })
        }
        _ => Err(invalid(
            index,
            "block object needs exactly one of blockNumber or blockHash",
        )),
    }
}

/// A block by number only (no hash): `eth_getBlockByNumber` and friends.
pub fn block_number_param(value: &Value, index: usize) -> Result<BlockId, ErrorObjectOwned> {
    match value {
        Value::String(tag) => block_tag(tag, value, index),
        _ => Err(invalid(index, "expected a block number (hex) or tag")),
    }
}

/// An `eth_call` / `eth_estimateGas` transaction object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallArgs {
    /// Sender (zero address if absent).
    pub from: Option<Address>,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Gas limit.
    pub gas: Option<u64>,
    /// Gas price (`gasPrice`, or `maxFeePerGas` from EIP-1559-minded clients).
    pub gas_price: Option<U256>,
    /// Value sent.
    pub value: U256,
    /// Call data (`data` or `input`).
    pub data: Bytes,
}

/// Decodes a call object. Unknown fields are ignored, as geth does; known ones are strict.
pub fn call_args(value: &Value, index: usize) -> Result<CallArgs, ErrorObjectOwned> {
    let object = value
        .as_object()
        .ok_or_else(|| invalid(index, "expected a transaction call object"))?;
    let field = |name: &str| object.get(name).filter(|v| !v.is_null());
    let named = |e: ErrorObjectOwned, name: &str| {
        invalid(
            index,
            format!("field {name:?}: {}", strip_prefix(e.message())),
        )
    };
    let get_address = |name: &str| {
        field(name)
            .map(|v| address(v, index).map_err(|e| named(e, name)))
            .transpose()
    };
    let get_quantity = |name: &str| {
        field(name)
            .map(|v| quantity(v, index).map_err(|e| named(e, name)))
            .transpose()
    };
    let get_data = |name: &str| {
        field(name)
            .map(|v| data(v, index).map_err(|e| named(e, name)))
            .transpose()
    };
    let gas = field("gas")
        .map(|v| quantity_u64(v, index).map_err(|e| named(e, "gas")))
        .transpose()?;
    let input = get_data("input")?;
    let data_field = get_data("data")?;
    let data = match (input, data_field) {
        (Some(a), Some(b)) if a != b => {
            return Err(invalid(
                index,
                "both \"data\" and \"input\" are set and not equal",
            ));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => Bytes::new(),
    };
    if let Some(kind) = field("type") {
        let kind = quantity_u64(kind, index).map_err(|e| named(e, "type"))?;
        if kind != 0 {
            return Err(invalid(index, "transaction type not supported"));
        }
    }
    get_quantity("nonce")?;
    let gas_price = match get_quantity("gasPrice")? {
        Some(price) => Some(price),
        None => get_quantity("maxFeePerGas")?,
    };
    get_quantity("maxPriorityFeePerGas")?;
    Ok(CallArgs {
        from: get_address("from")?,
        to: get_address("to")?,
        gas,
        gas_price,
        value: get_quantity("value")?.unwrap_or_default(),
        data,
    })
}

/// `invalid argument N: what` → `what`, to nest a field error.
fn strip_prefix(message: &str) -> &str {
    message.split_once(": ").map_or(message, |(_, rest)| rest)
}

/// A log filter: `eth_getLogs`, `eth_newFilter`, the `logs` subscription.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogFilter {
    /// First block (default latest).
    pub from_block: Option<BlockId>,
    /// Last block (default latest).
    pub to_block: Option<BlockId>,
    /// One block by hash (excludes from/to).
    pub block_hash: Option<B256>,
    /// Emitting contracts (empty: any).
    pub addresses: Vec<Address>,
    /// Per position, the accepted topics (empty: any).
    pub topics: Vec<Vec<B256>>,
}

/// Decodes a log filter object.
pub fn log_filter(value: &Value, index: usize) -> Result<LogFilter, ErrorObjectOwned> {
    let object = value
        .as_object()
        .ok_or_else(|| invalid(index, "expected a filter object"))?;
    let field = |name: &str| object.get(name).filter(|v| !v.is_null());
    let block = |name: &str| {
        field(name)
            .map(|v| block_number_param(v, index))
            .transpose()
    };
    let mut filter = LogFilter {
        from_block: block("fromBlock")?,
        to_block: block("toBlock")?,
        block_hash: field("blockHash").map(|v| hash(v, index)).transpose()?,
        ..Default::default()
    };
    if filter.block_hash.is_some() && (filter.from_block.is_some() || filter.to_block.is_some()) {
        return Err(invalid(
            index,
            "blockHash cannot be combined with fromBlock/toBlock",
        ));
    }
    filter.addresses = match field("address") {
        None => Vec::new(),
        Some(Value::Array(items)) => {
            if items.len() > MAX_FILTER_ADDRESSES {
                return Err(invalid(index, "too many addresses in filter"));
            }
            items
                .iter()
                .map(|v| address(v, index))
                .collect::<Result<_, _>>()?
        }
        Some(single) => vec![address(single, index)?],
    };
    filter.topics = match field("topics") {
        None => Vec::new(),
        Some(Value::Array(positions)) => topics(positions, index)?,
        Some(_) => return Err(invalid(index, "topics must be an array")),
    };
    Ok(filter)
}

fn topics(positions: &[Value], index: usize) -> Result<Vec<Vec<B256>>, ErrorObjectOwned> {
    if positions.len() > 4 {
        return Err(invalid(index, "more than 4 topic positions"));
    }
    positions
        .iter()
        .map(|position| match position {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => {
                if items.len() > MAX_TOPIC_ALTERNATIVES {
                    return Err(invalid(index, "too many topic alternatives"));
                }
                // A null among the alternatives matches anything, like an absent position.
                if items.iter().any(Value::is_null) {
                    return Ok(Vec::new());
                }
                items.iter().map(|v| hash(v, index)).collect()
            }
            single => Ok(vec![hash(single, index)?]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_are_strict() {
        assert_eq!(quantity(&json!("0x0"), 0).unwrap(), U256::ZERO);
        assert_eq!(quantity(&json!("0x1f"), 0).unwrap(), U256::from(31));
        for bad in [
            json!("0x"),
            json!("0x01"),
            json!("1"),
            json!(1),
            json!("0xg"),
            json!(null),
            json!(format!("0x1{}", "0".repeat(64))),
        ] {
            let error = quantity(&bad, 2).unwrap_err();
            assert_eq!(error.code(), -32602, "{bad}");
            assert!(error.message().starts_with("invalid argument 2: "), "{bad}");
        }
        assert!(quantity_u64(&json!("0x10000000000000000"), 0).is_err());
    }

    #[test]
    fn fixed_sizes_are_checked() {
        assert!(address(&json!(format!("0x{}", "ab".repeat(20))), 0).is_ok());
        assert!(address(&json!(format!("0x{}", "ab".repeat(19))), 0).is_err());
        assert!(address(&json!(format!("0x{}", "ab".repeat(21))), 0).is_err());
        assert!(hash(&json!(format!("0x{}", "00".repeat(32))), 0).is_ok());
        assert!(hash(&json!(format!("0x{}", "00".repeat(20))), 0).is_err());
        assert!(data(&json!("0x123"), 0).is_err());
        assert_eq!(data(&json!("0x"), 0).unwrap(), Bytes::new());
    }

    #[test]
    fn block_parameters() {
        assert_eq!(block_id(None, 1).unwrap(), BlockId::Latest);
        assert_eq!(block_id(Some(&json!(null)), 1).unwrap(), BlockId::Latest);
        assert_eq!(
            block_id(Some(&json!("0x10")), 1).unwrap(),
            BlockId::Number(16)
        );
        assert_eq!(
            block_id(Some(&json!({"blockNumber": "0x2"})), 1).unwrap(),
            BlockId::Number(2)
        );
        let h = format!("0x{}", "11".repeat(32));
        assert_eq!(
            block_id(Some(&json!({"blockHash": h, "requireCanonical": true})), 1).unwrap(),
            BlockId::Hash {
                hash: B256::repeat_byte(0x11),
                require_canonical: true
            }
        );
        for bad in [
            json!(16),
            json!("16"),
            json!({"blockNumber": "0x1", "blockHash": h}),
            json!({"blockNumber": 1}),
            json!({"foo": 1}),
            json!({}),
            json!([1]),
        ] {
            assert_eq!(block_id(Some(&bad), 1).unwrap_err().code(), -32602, "{bad}");
        }
    }

    #[test]
    fn call_objects() {
        let args = call_args(
            &json!({"to": format!("0x{}", "01".repeat(20)), "input": "0xabcd", "gas": "0x5208"}),
            0,
        )
        .unwrap();
        assert_eq!(args.gas, Some(21000));
        assert_eq!(args.data, Bytes::from(vec![0xab, 0xcd]));
        assert!(args.from.is_none());
        let error = call_args(&json!({"gas": 21000}), 0).unwrap_err();
        assert!(error.message().contains("\"gas\""), "{}", error.message());
        assert!(call_args(&json!({"data": "0x01", "input": "0x02"}), 0).is_err());
        assert!(call_args(&json!({"type": "0x2"}), 0).is_err());
        assert!(call_args(&json!("0x"), 0).is_err());
    }

    #[test]
    fn log_filters() {
        let t = format!("0x{}", "22".repeat(32));
        let filter = log_filter(
            &json!({"fromBlock": "0x1", "toBlock": "latest", "topics": [t, null, [t, t]]}),
            0,
        )
        .unwrap();
        assert_eq!(filter.from_block, Some(BlockId::Number(1)));
        assert_eq!(filter.topics.len(), 3);
        assert!(filter.topics[1].is_empty());
        assert_eq!(filter.topics[2].len(), 2);
        assert!(log_filter(&json!({"topics": [t, t, t, t, t]}), 0).is_err());
        assert!(log_filter(&json!({"blockHash": t, "fromBlock": "0x1"}), 0).is_err());
        assert!(log_filter(&json!({"address": "0x12"}), 0).is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                any::<f64>().prop_map(|n| json!(n)),
                "[0-9a-fA-FxX]{0,70}".prop_map(Value::String),
                ".{0,40}".prop_map(Value::String),
                "0x[0-9a-f]{0,66}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::btree_map(
                        prop_oneof![
                            Just("to".to_owned()),
                            Just("from".to_owned()),
                            Just("gas".to_owned()),
                            Just("data".to_owned()),
                            Just("input".to_owned()),
                            Just("value".to_owned()),
                            Just("topics".to_owned()),
                            Just("address".to_owned()),
                            Just("fromBlock".to_owned()),
                            Just("blockHash".to_owned()),
                            Just("blockNumber".to_owned()),
                            Just("requireCanonical".to_owned()),
                            ".{0,8}",
                        ],
                        inner,
                        0..6,
                    )
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn is_invalid_params(error: &ErrorObjectOwned, index: usize) -> bool {
            error.code() == -32602
                && error
                    .message()
                    .starts_with(&format!("invalid argument {index}: "))
        }

        proptest! {
            /// Any JSON in any position: a value or an invalid-params error naming that
            /// position, never a panic.
            #[test]
            fn decoders_never_panic(value in json_value(), index in 0usize..4) {
                macro_rules! check {
                    ($decoded:expr) => {
                        if let Err(error) = $decoded {
                            prop_assert!(is_invalid_params(&error, index), "{}", error.message());
                        }
                    };
                }
                check!(quantity(&value, index));
                check!(quantity_u64(&value, index));
                check!(address(&value, index));
                check!(hash(&value, index));
                check!(data(&value, index));
                check!(storage_slot(&value, index));
                check!(boolean(&value, index));
                check!(block_id(Some(&value), index));
                check!(block_number_param(&value, index));
                check!(call_args(&value, index));
                check!(log_filter(&value, index));
            }

            /// Quantities: the canonical form decodes to its number; leading zeros never do.
            #[test]
            fn quantities_round_trip(limbs in any::<[u64; 4]>()) {
                let n = U256::from_limbs(limbs);
                let canonical = format!("{n:#x}");
                let padded = format!("0x0{n:x}");
                let decimal = n.to_string();
                prop_assert_eq!(quantity(&json!(canonical), 0).unwrap(), n);
                prop_assert!(quantity(&json!(padded), 0).is_err());
                prop_assert!(quantity(&json!(decimal), 0).is_err());
            }

            /// Data: any bytes round-trip through their hex.
            #[test]
            fn data_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
                let text = format!("0x{}", alloy_primitives::hex::encode(&bytes));
                prop_assert_eq!(data(&json!(text), 0).unwrap().to_vec(), bytes);
            }
        }
    }
}
