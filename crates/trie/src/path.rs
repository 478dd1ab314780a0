//! Nibble paths and their byte encoding as database keys.
//!
//! A node's path is the sequence of nibbles from the root to where the node starts: the root is
//! at the empty path, the child `n` of a branch at path `p` is at `p ++ [n]`, the child of an
//! extension with key `k` at path `p` is at `p ++ k`, and a leaf at path `p` holds the rest of
//! its key. Keys are 32-byte hashes, so a path has at most 64 nibbles.
//!
//! **Encoding: one byte per nibble** (each byte `0x00..=0x0f`, the root is the empty string), the
//! same as geth's path-based scheme. Unique because the length is the byte count, and it keeps
//! the database's byte order equal to a depth-first walk of the trie with every node's subtree
//! directly after it, so "every node under path P" is a prefix range: deleting a subtrie, or a
//! whole storage trie under its account prefix, is one range delete.

use alloy_trie::Nibbles;

use crate::TrieError;

/// The longest path: a leaf at depth 64 holds an empty rest-of-key.
pub const MAX_PATH_NIBBLES: usize = 64;

/// Encodes a nibble path as a database key (one byte per nibble, see the module doc).
pub fn encode_path(path: &Nibbles) -> Vec<u8> {
    path.to_vec()
}

/// Decodes a database key written by [`encode_path`].
///
/// # Errors
///
/// [`TrieError::InvalidPath`] if it is longer than 64 bytes or a byte is not a nibble.
pub fn decode_path(bytes: &[u8]) -> Result<Nibbles, TrieError> {
    let invalid = |reason| TrieError::InvalidPath {
        path: alloy_primitives::hex::encode_prefixed(bytes),
        reason,
    };
    if bytes.len() > MAX_PATH_NIBBLES {
        return Err(invalid("longer than 64 nibbles"));
    }
    if bytes.iter().any(|&b| b > 0x0f) {
        return Err(invalid("a byte is not a nibble (0x00..=0x0f)"));
    }
    // Checked above: at most 64 bytes, each a nibble.
    Ok(Nibbles::from_nibbles_unchecked(bytes))
}

/// Shows a path for errors: its nibbles in hex inside brackets, `[]` for the root.
pub(crate) fn fmt_path(path: &Nibbles) -> String {
    fmt_encoded_path(&path.to_vec())
}

/// Like [`fmt_path`] from the encoded form; bytes that are not nibbles show as `0x..` hex so a
/// bad key is still visible in the error.
pub(crate) fn fmt_encoded_path(bytes: &[u8]) -> String {
    if bytes.iter().all(|&b| b <= 0x0f) {
        let nibbles: String = bytes
            .iter()
            .map(|&b| char::from_digit(u32::from(b), 16).unwrap_or('?'))
            .collect();
        format!("[{nibbles}]")
    } else {
        alloy_primitives::hex::encode_prefixed(bytes)
    }
}

/// `a ++ b`, or `None` past 64 nibbles, where `Nibbles` would panic. Used wherever one of the
/// lengths comes from stored bytes.
pub(crate) fn join(a: &Nibbles, b: &Nibbles) -> Option<Nibbles> {
    (a.len() + b.len() <= MAX_PATH_NIBBLES).then(|| a.join(b))
}

/// `path ++ [nibble]`, or `None` past 64 nibbles.
pub(crate) fn child(path: &Nibbles, nibble: u8) -> Option<Nibbles> {
    if path.len() >= MAX_PATH_NIBBLES || nibble > 0x0f {
        return None;
    }
    let mut child = *path;
    child.push_unchecked(nibble);
    Some(child)
}

/// `path[start..end]`, or `None` when out of range, where `Nibbles::slice` would panic.
pub(crate) fn slice(path: &Nibbles, start: usize, end: usize) -> Option<Nibbles> {
    (start <= end && end <= path.len()).then(|| path.slice(start..end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_is_one_byte_per_nibble() {
        let path = Nibbles::from_nibbles([0x0, 0xa, 0xf, 0x3]);
        let bytes = encode_path(&path);
        assert_eq!(bytes, vec![0x0, 0xa, 0xf, 0x3]);
        assert_eq!(decode_path(&bytes).unwrap(), path);
        assert_eq!(encode_path(&Nibbles::new()), Vec::<u8>::new());
        assert_eq!(decode_path(&[]).unwrap(), Nibbles::new());
    }

    #[test]
    fn paths_that_differ_only_in_leading_zeros_or_length_stay_distinct() {
        // Packed nibbles without a length would confuse these three.
        let a = encode_path(&Nibbles::from_nibbles([0x1]));
        let b = encode_path(&Nibbles::from_nibbles([0x1, 0x0]));
        let c = encode_path(&Nibbles::from_nibbles([0x0, 0x1]));
        assert!(a != b && b != c && a != c);
        // Byte order is depth-first order: a node sorts before its subtree.
        assert!(a < b);
    }

    #[test]
    fn bad_encodings_are_errors() {
        assert!(matches!(
            decode_path(&[0x10]),
            Err(TrieError::InvalidPath { .. })
        ));
        assert!(matches!(
            decode_path(&[0u8; 65]),
            Err(TrieError::InvalidPath { .. })
        ));
        assert!(decode_path(&[0u8; 64]).is_ok());
    }

    #[test]
    fn checked_helpers_refuse_overflow() {
        let full = Nibbles::unpack([0u8; 32]);
        assert!(child(&full, 1).is_none());
        assert!(join(&full, &Nibbles::from_nibbles([1])).is_none());
        assert!(slice(&full, 3, 65).is_none());
        assert!(slice(&full, 4, 3).is_none());
        assert_eq!(fmt_path(&Nibbles::from_nibbles([0xa, 0x0])), "[a0]");
        assert_eq!(fmt_encoded_path(&[0x10]), "0x10");
    }
}
