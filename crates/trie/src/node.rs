//! Trie nodes and their stored form.
//!
//! **Stored form = the node's own canonical Ethereum RLP**, the exact bytes that are hashed:
//! - leaf: `[hex_prefix(rest_of_key, leaf), value]`,
//! - extension: `[hex_prefix(key, extension), child_ref]`,
//! - branch: `[child_ref_0, ..., child_ref_15, ""]` (absent child = `""`; the value slot is
//!   always empty because secure-trie keys all have 64 nibbles),
//!
//! where `child_ref` is the RLP string of keccak256(child RLP), or the child's RLP itself inline
//! when that is shorter than 32 bytes. A branch therefore already caches its children's hashes:
//! it is re-hashed from its stored bytes plus the new references of the children that changed,
//! without loading the others. Storing plain RLP also means a stored node can be served as is
//! (proofs, snap sync's trie-node requests), as geth's path-based scheme does.
//!
//! Every node, inline or not, is stored at its own path: the parent embeds an inline child's RLP
//! and the child's own entry holds the same bytes. One rule for all nodes keeps updates simple;
//! inline nodes are rare with 32-byte keys, so the duplication costs nothing measurable.

use alloy_primitives::keccak256;
use alloy_rlp::{EMPTY_STRING_CODE, Encodable, Header};
use alloy_trie::{
    EMPTY_ROOT_HASH, Nibbles,
    nodes::{ExtensionNodeRef, LeafNodeRef, RlpNode},
};

use crate::{
    TrieError,
    path::{self, MAX_PATH_NIBBLES},
};

/// A branch's 16 child references, `None` where it has no child.
pub(crate) type Children = [Option<RlpNode>; 16];

/// A leaf: the rest of its key after its path, and the value (RLP of an account or slot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leaf {
    pub(crate) suffix: Nibbles,
    pub(crate) value: Vec<u8>,
}

/// An extension: a shared run of nibbles, then its child, which is always a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extension {
    pub(crate) key: Nibbles,
    pub(crate) child: RlpNode,
}

/// A decoded node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Leaf(Leaf),
    Extension(Extension),
    // Boxed: 16 references are ~550 bytes, far bigger than the other variants.
    Branch(Box<Children>),
}

/// RLP of a leaf.
pub(crate) fn encode_leaf(leaf: &Leaf) -> Vec<u8> {
    let node = LeafNodeRef::new(&leaf.suffix, &leaf.value);
    let mut out = Vec::with_capacity(node.length());
    node.encode(&mut out);
    out
}

/// RLP of an extension.
pub(crate) fn encode_extension(ext: &Extension) -> Vec<u8> {
    let node = ExtensionNodeRef::new(&ext.key, &ext.child);
    let mut out = Vec::with_capacity(node.length());
    node.encode(&mut out);
    out
}

/// RLP of a branch (empty value slot).
pub(crate) fn encode_branch(children: &Children) -> Vec<u8> {
    // One byte per absent child and one for the empty value; present children are already RLP.
    let payload_length: usize = 1 + children
        .iter()
        .map(|c| c.as_ref().map_or(1, |c| c.len()))
        .sum::<usize>();
    let mut out = Vec::with_capacity(payload_length + 3);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    for child in children {
        match child {
            Some(child) => out.extend_from_slice(child),
            None => out.push(EMPTY_STRING_CODE),
        }
    }
    out.push(EMPTY_STRING_CODE);
    out
}

/// How a parent refers to a node with RLP `rlp`: its hash, or itself when under 32 bytes.
pub(crate) fn reference(rlp: &[u8]) -> RlpNode {
    RlpNode::from_rlp(rlp)
}

/// The trie's root hash from the root node's reference: the root is always hashed, even when
/// its RLP is short enough to be inline elsewhere.
pub(crate) fn root_hash(root: Option<&RlpNode>) -> alloy_primitives::B256 {
    match root {
        None => EMPTY_ROOT_HASH,
        Some(r) => r.as_hash().unwrap_or_else(|| keccak256(r.as_slice())),
    }
}

/// One RLP item: whether it is a list, its payload, and its whole encoding.
struct Item<'a> {
    list: bool,
    payload: &'a [u8],
    raw: &'a [u8],
}

impl Item<'_> {
    const EMPTY: Self = Item {
        list: false,
        payload: &[],
        raw: &[],
    };
}

fn next_item<'a>(buf: &mut &'a [u8]) -> Result<Item<'a>, String> {
    let start = *buf;
    let header = Header::decode(buf).map_err(|e| format!("bad RLP: {e}"))?;
    let (payload, rest) = buf
        .split_at_checked(header.payload_length)
        .ok_or("bad RLP: input too short")?;
    *buf = rest;
    let raw = start
        .get(..start.len() - rest.len())
        .ok_or("bad RLP: item bounds")?;
    Ok(Item {
        list: header.list,
        payload,
        raw,
    })
}

/// Decodes the stored bytes of the node at `path`, checking everything an update relies on so
/// that bad bytes become [`TrieError::Corrupt`] instead of a panic later.
pub(crate) fn decode_node(path: &Nibbles, bytes: &[u8]) -> Result<Node, TrieError> {
    decode_at(path, bytes).map_err(|reason| TrieError::Corrupt {
        path: path::fmt_path(path),
        reason,
    })
}

fn decode_at(path: &Nibbles, mut bytes: &[u8]) -> Result<Node, String> {
    let outer = next_item(&mut bytes)?;
    if !bytes.is_empty() {
        return Err("trailing bytes after the node".into());
    }
    if !outer.list {
        return Err("not an RLP list".into());
    }
    // At most 17 items; kept on the stack because every touched node is decoded.
    let mut payload = outer.payload;
    let mut items: [Item<'_>; 17] = std::array::from_fn(|_| Item::EMPTY);
    let mut count = 0;
    while !payload.is_empty() {
        let slot = items.get_mut(count).ok_or("more than 17 items")?;
        *slot = next_item(&mut payload)?;
        count += 1;
    }
    match items.get(..count).unwrap_or_default() {
        [key, value] => decode_short(path, key, value),
        [children @ .., value] if children.len() == 16 => decode_branch(path, children, value),
        _ => Err(format!(
            "{count} items: neither a branch nor a leaf/extension"
        )),
    }
}

fn decode_branch(path: &Nibbles, items: &[Item<'_>], value: &Item<'_>) -> Result<Node, String> {
    if path.len() >= MAX_PATH_NIBBLES {
        return Err("branch at depth 64".into());
    }
    if value.raw != [EMPTY_STRING_CODE] {
        return Err("branch with a value (secure-trie branches have none)".into());
    }
    let mut children: Box<Children> = Box::default();
    let mut count = 0;
    for (slot, item) in children.iter_mut().zip(items) {
        if item.raw != [EMPTY_STRING_CODE] {
            *slot = Some(child_ref(item)?);
            count += 1;
        }
    }
    if count < 2 {
        // A canonical trie folds such a branch into its parent; the updater's collapse logic
        // assumes untouched branches have at least two children.
        return Err(format!("branch with {count} children"));
    }
    Ok(Node::Branch(children))
}

fn decode_short(path: &Nibbles, key: &Item<'_>, value: &Item<'_>) -> Result<Node, String> {
    if key.list {
        return Err("leaf/extension key is a list".into());
    }
    let (is_leaf, nibbles) = decode_hex_prefix(key.payload)?;
    if is_leaf {
        if path.len() + nibbles.len() != MAX_PATH_NIBBLES {
            return Err(format!(
                "leaf with {} key nibbles at depth {}: keys have 64",
                nibbles.len(),
                path.len()
            ));
        }
        if value.list || value.payload.is_empty() {
            return Err("leaf value is not a non-empty string".into());
        }
        Ok(Node::Leaf(Leaf {
            suffix: nibbles,
            value: value.payload.to_vec(),
        }))
    } else {
        if nibbles.is_empty() || path.len() + nibbles.len() >= MAX_PATH_NIBBLES {
            return Err(format!(
                "extension with {} key nibbles at depth {}",
                nibbles.len(),
                path.len()
            ));
        }
        Ok(Node::Extension(Extension {
            key: nibbles,
            child: child_ref(value)?,
        }))
    }
}

/// Hex-prefix (compact) decoding: flag nibble 0/1 = extension even/odd, 2/3 = leaf even/odd.
fn decode_hex_prefix(encoded: &[u8]) -> Result<(bool, Nibbles), String> {
    let (&first, rest) = encoded.split_first().ok_or("empty hex-prefix key")?;
    let flag = first >> 4;
    let is_leaf = flag & 0x2 != 0;
    let odd = flag & 0x1 != 0;
    if flag > 3 || (!odd && first & 0x0f != 0) {
        return Err(format!("bad hex-prefix flag byte {first:#04x}"));
    }
    if rest.len() * 2 + usize::from(odd) > MAX_PATH_NIBBLES {
        return Err("key longer than 64 nibbles".into());
    }
    let rest = Nibbles::unpack(rest);
    let nibbles = if odd {
        path::join(&Nibbles::from_nibbles_unchecked([first & 0x0f]), &rest)
            .ok_or("key longer than 64 nibbles")?
    } else {
        rest
    };
    Ok((is_leaf, nibbles))
}

/// A child reference: an RLP string of a 32-byte hash, or an inline node (an RLP list) shorter
/// than 32 bytes.
fn child_ref(item: &Item<'_>) -> Result<RlpNode, String> {
    let is_hash = !item.list && item.payload.len() == 32;
    let is_inline = item.list && item.raw.len() < 32;
    if !(is_hash || is_inline) {
        return Err("child reference is neither a hash nor an inline node".into());
    }
    RlpNode::from_raw(item.raw).ok_or_else(|| "child reference too long".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{B256, hex};
    use alloy_rlp::Decodable;
    use alloy_trie::nodes::TrieNode;

    fn leaf_at(depth: usize, value: &[u8]) -> (Nibbles, Leaf) {
        let key = Nibbles::unpack(B256::repeat_byte(0xab));
        (
            key.slice(..depth),
            Leaf {
                suffix: key.slice(depth..),
                value: value.to_vec(),
            },
        )
    }

    #[test]
    fn leaf_round_trips_and_matches_alloy() {
        let (path, leaf) = leaf_at(3, &[0x01]);
        let rlp = encode_leaf(&leaf);
        let alloy = alloy_rlp::encode(TrieNode::Leaf(alloy_trie::nodes::LeafNode::new(
            leaf.suffix,
            leaf.value.clone(),
        )));
        assert_eq!(rlp, alloy);
        assert_eq!(decode_node(&path, &rlp).unwrap(), Node::Leaf(leaf));
    }

    #[test]
    fn branch_round_trips_with_hash_and_inline_children() {
        let (_, deep) = leaf_at(62, &[0x05]);
        let inline = reference(&encode_leaf(&deep));
        assert!(
            !inline.is_hash(),
            "a 2-nibble leaf with a 1-byte value is inline"
        );
        let mut children: Box<Children> = Box::default();
        children[0] = Some(RlpNode::word_rlp(&B256::repeat_byte(7)));
        children[9] = Some(inline);
        let rlp = encode_branch(&children);
        let path = Nibbles::from_nibbles([1, 2]);
        assert_eq!(
            decode_node(&path, &rlp).unwrap(),
            Node::Branch(children.clone())
        );
        let alloy = TrieNode::decode(&mut rlp.as_slice()).unwrap();
        assert_eq!(alloy_rlp::encode(alloy), rlp);
    }

    #[test]
    fn extension_round_trips() {
        let ext = Extension {
            key: Nibbles::from_nibbles([0xa, 0xb, 0xc]),
            child: RlpNode::word_rlp(&B256::repeat_byte(1)),
        };
        let rlp = encode_extension(&ext);
        assert_eq!(
            decode_node(&Nibbles::new(), &rlp).unwrap(),
            Node::Extension(ext)
        );
    }

    #[test]
    fn bad_bytes_are_corrupt_not_panics() {
        let (path, leaf) = leaf_at(3, &[0x01]);
        let good = encode_leaf(&leaf);
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x80],
            vec![0xc0],
            hex!("f90211").to_vec(),
            [good.clone(), vec![0]].concat(),
            good[..good.len() - 1].to_vec(),
        ];
        // A branch with one child, and one with a value.
        let mut one: Box<Children> = Box::default();
        one[3] = Some(RlpNode::word_rlp(&B256::ZERO));
        cases.push(encode_branch(&one));
        let mut two = one.clone();
        two[4] = Some(RlpNode::word_rlp(&B256::ZERO));
        let mut valued = encode_branch(&two);
        *valued.last_mut().unwrap() = 0x01;
        cases.push(valued);
        for bytes in cases {
            assert!(
                matches!(decode_node(&path, &bytes), Err(TrieError::Corrupt { .. })),
                "{}",
                hex::encode(&bytes)
            );
        }
        // A well-formed leaf at the wrong depth.
        assert!(matches!(
            decode_node(&Nibbles::from_nibbles([1]), &good),
            Err(TrieError::Corrupt { .. })
        ));
    }
}
