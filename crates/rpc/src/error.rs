//! The one place where failures become JSON-RPC error objects, with the codes and words geth
//! uses so that wallets and libraries recognise them.

use alloy_primitives::Bytes;
use jsonrpsee::types::{
    ErrorObjectOwned,
    error::{INTERNAL_ERROR_CODE, INVALID_PARAMS_CODE},
};

/// geth's code for errors that are not JSON-RPC's own (pool rejections, missing state).
pub const SERVER_ERROR_CODE: i32 = -32000;
/// geth's code for a reverted call (`eth_call`, `eth_estimateGas`): with the revert data.
pub const REVERT_CODE: i32 = 3;
/// EIP-1474's "limit exceeded" (log ranges, result counts, filters).
pub const LIMIT_EXCEEDED_CODE: i32 = -32005;

/// What a method returns on failure.
pub type ApiResult<T> = Result<T, ErrorObjectOwned>;

/// An invalid-params error naming parameter `index` (0-based) and what is wrong.
pub fn invalid_param(index: usize, what: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        INVALID_PARAMS_CODE,
        format!("invalid argument {index}: {what}"),
        None::<()>,
    )
}

/// A -32000 error with `message` (geth's words).
pub fn server_error(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(SERVER_ERROR_CODE, message.into(), None::<()>)
}

/// A failure of the node itself (a database error): -32603.
pub fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(INTERNAL_ERROR_CODE, error.to_string(), None::<()>)
}

/// A configured limit was hit.
pub fn limit_exceeded(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(LIMIT_EXCEEDED_CODE, message.into(), None::<()>)
}

/// geth's revert error: code 3, `execution reverted[: reason]`, the revert data as `data`.
pub fn reverted(output: &Bytes) -> ErrorObjectOwned {
    let message = match revert_reason(output) {
        Some(reason) => format!("execution reverted: {reason}"),
        None => "execution reverted".to_owned(),
    };
    ErrorObjectOwned::owned(REVERT_CODE, message, Some(output.to_string()))
}

/// `Error(string)` selector.
const ERROR_SELECTOR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
/// `Panic(uint256)` selector (Solidity 0.8).
const PANIC_SELECTOR: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];
/// Longest reason shown (a contract could return megabytes).
const MAX_REASON_BYTES: usize = 1024;

/// The reason a revert carries: Solidity's `Error(string)` or `Panic(uint256)`, bounded.
pub fn revert_reason(output: &[u8]) -> Option<String> {
    let (selector, body) = (output.get(..4)?, output.get(4..)?);
    if selector == PANIC_SELECTOR {
        let code = body.get(..32)?;
        let code = alloy_primitives::U256::from_be_slice(code);
        return Some(format!("panic: {}", panic_meaning(code)));
    }
    if selector != ERROR_SELECTOR {
        return None;
    }
    let word = |at: usize| -> Option<usize> {
        let bytes = body.get(at..at.checked_add(32)?)?;
        if bytes.iter().take(24).any(|b| *b != 0) {
            return None;
        }
        let mut n = [0u8; 8];
        n.copy_from_slice(bytes.get(24..)?);
        usize::try_from(u64::from_be_bytes(n)).ok()
    };
    let offset = word(0)?;
    let len = word(offset)?;
    let start = offset.checked_add(32)?;
    let text = body.get(start..start.checked_add(len.min(MAX_REASON_BYTES))?)?;
    Some(String::from_utf8_lossy(text).into_owned())
}

fn panic_meaning(code: alloy_primitives::U256) -> String {
    let text = match u64::try_from(code).unwrap_or(u64::MAX) {
        0x01 => "assert(false)",
        0x11 => "arithmetic underflow or overflow",
        0x12 => "division or modulo by zero",
        0x21 => "enum overflow",
        0x22 => "invalid encoded storage byte array accessed",
        0x31 => "out-of-bounds array access; popping on an empty array",
        0x32 => "out-of-bounds access of an array or bytesN",
        0x41 => "out of memory",
        0x51 => "uninitialized function",
        _ => return format!("unknown panic code: {code:#x}"),
    };
    format!("{text} ({code:#x})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn error_string_is_decoded() {
        // Error("nope")
        let data = hex::decode(
            "08c379a0\
             0000000000000000000000000000000000000000000000000000000000000020\
             0000000000000000000000000000000000000000000000000000000000000004\
             6e6f706500000000000000000000000000000000000000000000000000000000",
        )
        .unwrap();
        assert_eq!(revert_reason(&data).as_deref(), Some("nope"));
        let error = reverted(&Bytes::from(data.clone()));
        assert_eq!(error.code(), 3);
        assert_eq!(error.message(), "execution reverted: nope");
        assert_eq!(
            error.data().map(|d| d.get().to_owned()),
            Some(format!("\"0x{}\"", hex::encode(&data)))
        );
    }

    #[test]
    fn truncated_or_foreign_data_has_no_reason() {
        assert_eq!(revert_reason(&[]), None);
        assert_eq!(revert_reason(&[0x08, 0xc3, 0x79, 0xa0, 0, 0]), None);
        assert_eq!(revert_reason(&[1, 2, 3, 4, 5]), None);
        let huge_len = hex::decode(
            "08c379a0\
             0000000000000000000000000000000000000000000000000000000000000020\
             00000000000000000000000000000000000000000000000000000000ffffffff",
        )
        .unwrap();
        assert_eq!(revert_reason(&huge_len), None);
        assert_eq!(reverted(&Bytes::new()).message(), "execution reverted");
    }

    #[test]
    fn panic_codes_are_named() {
        let mut data = PANIC_SELECTOR.to_vec();
        data.extend([0u8; 31]);
        data.push(0x12);
        assert_eq!(
            revert_reason(&data).as_deref(),
            Some("panic: division or modulo by zero (0x12)")
        );
    }
}
