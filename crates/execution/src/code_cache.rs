//! Analysed contract code shared by every block and call of the process.
//!
//! revm analyses a contract's code (its jump destinations) before running it. Code is a
//! function of its hash, so an analysis never goes stale; without this cache every block, and
//! every chief view call, re-read and re-analysed the same contracts (the chief contract's
//! analysis alone was about 8% of importing the reference devnet chain). Bounded by the bytes
//! of code held, oldest dropped first.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, OnceLock},
};

use alloy_primitives::{B256, Bytes};
use revm::bytecode::Bytecode;

/// Code held at most (the code itself; its jump tables add an eighth): Spectrum's contracts
/// are at most 24 KiB each (EIP-170), so this holds well over a thousand.
pub const CODE_CACHE_BYTES: usize = 32 << 20;

#[derive(Default)]
struct Codes {
    analysed: HashMap<B256, Bytecode>,
    order: VecDeque<(B256, usize)>,
    bytes: usize,
}

fn codes() -> &'static Mutex<Codes> {
    static CODES: OnceLock<Mutex<Codes>> = OnceLock::new();
    CODES.get_or_init(Default::default)
}

/// The analysed code of hash `hash`, if held.
pub(crate) fn get(hash: &B256) -> Option<Bytecode> {
    codes().lock().ok()?.analysed.get(hash).cloned()
}

/// Analyses `raw` (whose hash is `hash`), remembers it, and returns it.
pub(crate) fn analyse(hash: B256, raw: Bytes) -> Bytecode {
    let len = raw.len();
    let code = Bytecode::new_legacy(raw);
    // A poisoned lock only loses the cache, never correctness.
    if let Ok(mut codes) = codes().lock() {
        codes.insert(hash, &code, len, CODE_CACHE_BYTES);
    }
    code
}

impl Codes {
    /// Remembers `code` (`len` bytes), dropping the oldest beyond `max` bytes.
    fn insert(&mut self, hash: B256, code: &Bytecode, len: usize, max: usize) {
        if self.analysed.insert(hash, code.clone()).is_some() {
            return;
        }
        self.order.push_back((hash, len));
        self.bytes = self.bytes.saturating_add(len);
        while self.bytes > max {
            let Some((oldest, size)) = self.order.pop_front() else {
                break;
            };
            self.analysed.remove(&oldest);
            self.bytes = self.bytes.saturating_sub(size);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn analysed_code_is_served_by_hash() {
        let raw = Bytes::from_static(&[0x60, 0x03, 0x56, 0x5b, 0x00]); // PUSH1 3 JUMP JUMPDEST STOP
        let hash = alloy_primitives::keccak256(&raw);
        let code = analyse(hash, raw.clone());
        assert_eq!(get(&hash), Some(code.clone()));
        assert_eq!(code, Bytecode::new_legacy(raw));
    }

    #[test]
    fn the_oldest_code_goes_beyond_the_bound() {
        let mut codes = Codes::default();
        let code = |byte: u8| Bytecode::new_legacy(Bytes::from(vec![byte; 10]));
        for byte in 1..=3u8 {
            codes.insert(B256::repeat_byte(byte), &code(byte), 10, 25);
        }
        assert_eq!(codes.bytes, 20);
        assert!(!codes.analysed.contains_key(&B256::repeat_byte(1)));
        assert!(codes.analysed.contains_key(&B256::repeat_byte(2)));
        assert!(codes.analysed.contains_key(&B256::repeat_byte(3)));
    }
}
