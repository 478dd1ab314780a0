//! Incremental root computation: apply a batch of leaf changes to a stored trie, touching only
//! the nodes on the changed keys' paths.
//!
//! The walk is top-down over the sorted changes: at each node the changes are split by the next
//! nibble, each touched child is updated recursively, and the node is re-encoded from its stored
//! child references plus the new references of the touched children. A subtree's new shape comes
//! back as a [`Pending`] value instead of being written at once, because deletes can make a
//! branch collapse and pull a leaf or extension up to a shorter path; the parent decides where
//! the node finally lives. Branches never move (their path is fixed by the key set), so they are
//! written as soon as they are re-encoded.

use std::collections::BTreeMap;

use alloy_primitives::B256;
use alloy_trie::{Nibbles, nodes::RlpNode};

use crate::{
    NodeStore, TrieError,
    node::{
        Children, Extension, Leaf, Node, decode_node, encode_branch, encode_extension, encode_leaf,
        reference, root_hash,
    },
    path::{self, MAX_PATH_NIBBLES, encode_path, fmt_path},
};

/// The outcome of [`update_trie`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrieUpdate {
    /// The trie's new root hash ([`EMPTY_ROOT_HASH`](alloy_trie::EMPTY_ROOT_HASH) when empty).
    pub root: B256,
    /// Node writes, sorted by encoded path: `Some(bytes)` puts a node, `None` deletes the node
    /// at that path. Only real changes: a path whose bytes stay the same is not listed.
    pub writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// Applies `changes` (hashed key → new leaf value, `None` = delete) to the trie in `store` and
/// returns the new root and the node writes that bring the store to the new trie.
///
/// Changes may come in any order. When a key appears more than once, the last occurrence wins.
/// Deleting a key that is not in the trie does nothing. Only nodes on the changed keys' paths
/// are read, plus, when a delete leaves a branch with a single child, that child (to learn
/// whether it merges into its parent).
///
/// # Errors
///
/// [`TrieError::EmptyValue`] for a `Some(empty)` value; [`TrieError::Corrupt`] or
/// [`TrieError::MissingNode`] when the stored nodes are not a valid trie; [`TrieError::Store`]
/// when the store fails. On error no write is returned, so the store is left as it was.
pub fn update_trie<I>(store: &dyn NodeStore, changes: I) -> Result<TrieUpdate, TrieError>
where
    I: IntoIterator<Item = (B256, Option<Vec<u8>>)>,
{
    let changes = prepare(changes)?;
    let mut updater = Updater {
        store,
        writes: BTreeMap::new(),
    };
    let root_path = Nibbles::new();
    let root = updater.take(&root_path)?;
    let pending = updater.update_subtree(&root_path, root, &changes)?;
    let root_ref = updater.commit(&root_path, pending);
    // `Nibbles` order is the encoded paths' byte order, so the writes come out sorted.
    let writes = updater
        .writes
        .into_iter()
        .filter(|(_, write)| write.old != write.new)
        .map(|(path, write)| (encode_path(&path), write.new))
        .collect();
    Ok(TrieUpdate {
        root: root_hash(root_ref.as_ref()),
        writes,
    })
}

/// One key's change, the key unpacked to its 64 nibbles.
struct Change {
    key: Nibbles,
    value: Option<Vec<u8>>,
}

/// Sorts by key and keeps the last change of each key: the walk needs each subtree's changes
/// to be one contiguous run.
fn prepare<I>(changes: I) -> Result<Vec<Change>, TrieError>
where
    I: IntoIterator<Item = (B256, Option<Vec<u8>>)>,
{
    let mut changes: Vec<(B256, Option<Vec<u8>>)> = changes.into_iter().collect();
    if let Some((key, _)) = changes
        .iter()
        .find(|(_, v)| v.as_ref().is_some_and(Vec::is_empty))
    {
        return Err(TrieError::EmptyValue { key: *key });
    }
    // Stable, so equal keys keep their input order and the last one is the caller's last.
    changes.sort_by_key(|(key, _)| *key);
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    let mut previous: Option<B256> = None;
    for (key, value) in changes {
        match out.last_mut() {
            Some(last) if previous == Some(key) => last.value = value,
            _ => out.push(Change {
                key: Nibbles::unpack(key),
                value,
            }),
        }
        previous = Some(key);
    }
    Ok(out)
}

/// A subtree's new shape, before a parent gives it its final place.
enum Pending {
    Empty,
    /// Not written yet: a parent may still prepend nibbles and move it up.
    Leaf(Leaf),
    /// Not written yet, same reason. Its child branch is already in place.
    Extension(Extension),
    /// Already written at its path (branches never move); this is its reference.
    Branch(RlpNode),
}

/// A branch child before the changes under it are applied.
#[derive(Default)]
enum Slot {
    #[default]
    Absent,
    /// A stored node at the child path, known only by its reference until loaded.
    Stored(RlpNode),
    /// The rest of a leaf or extension that a split moved one level down; not stored at the
    /// child path, so written there only if it stays.
    MovedLeaf(Leaf),
    MovedExtension(Extension),
}

/// A stored node's write: `old` as read, `new` as it will be (`None` = deleted).
#[derive(Default)]
struct Write {
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
}

struct Updater<'s> {
    store: &'s dyn NodeStore,
    /// By path. Every node read for updating is first scheduled for deletion; writing
    /// a node at the same path replaces that, and unchanged entries are dropped at the end.
    writes: BTreeMap<Nibbles, Write>,
}

impl Updater<'_> {
    /// Reads the node at `path` with its raw bytes.
    fn read(&self, path: &Nibbles) -> Result<Option<(Node, Vec<u8>)>, TrieError> {
        let Some(bytes) = self.store.get(&encode_path(path))? else {
            return Ok(None);
        };
        Ok(Some((decode_node(path, &bytes)?, bytes)))
    }

    /// Reads a node that a parent references.
    fn read_required(&self, path: &Nibbles) -> Result<(Node, Vec<u8>), TrieError> {
        self.read(path)?.ok_or_else(|| TrieError::MissingNode {
            path: fmt_path(path),
        })
    }

    /// Reads the node at `path` to rebuild it: it is deleted unless rebuilt at the same path.
    fn take(&mut self, path: &Nibbles) -> Result<Option<Node>, TrieError> {
        let Some((node, bytes)) = self.read(path)? else {
            return Ok(None);
        };
        self.schedule_delete(path, bytes);
        Ok(Some(node))
    }

    fn take_required(&mut self, path: &Nibbles) -> Result<Node, TrieError> {
        self.take(path)?.ok_or_else(|| TrieError::MissingNode {
            path: fmt_path(path),
        })
    }

    fn schedule_delete(&mut self, path: &Nibbles, old: Vec<u8>) {
        // `new` is left alone: a node already rebuilt at this path stays.
        self.writes.entry(*path).or_default().old = Some(old);
    }

    fn put(&mut self, path: &Nibbles, node: Vec<u8>) {
        self.writes.entry(*path).or_default().new = Some(node);
    }

    /// Writes a pending leaf or extension at `path` and returns the reference its parent holds.
    fn commit(&mut self, path: &Nibbles, pending: Pending) -> Option<RlpNode> {
        let rlp = match pending {
            Pending::Empty => return None,
            Pending::Branch(reference) => return Some(reference),
            Pending::Leaf(leaf) => encode_leaf(&leaf),
            Pending::Extension(ext) => encode_extension(&ext),
        };
        let reference = reference(&rlp);
        self.put(path, rlp);
        Some(reference)
    }

    /// The new shape of the subtree at `path`, which held `existing` (already scheduled for
    /// deletion if it was stored). Every change's key starts with `path`.
    fn update_subtree(
        &mut self,
        path: &Nibbles,
        existing: Option<Node>,
        changes: &[Change],
    ) -> Result<Pending, TrieError> {
        match existing {
            None => self.build_new(path, changes),
            Some(Node::Leaf(leaf)) => self.update_leaf(path, leaf, changes),
            Some(Node::Extension(ext)) => self.update_extension(path, ext, changes),
            Some(Node::Branch(children)) => {
                self.update_branch(path, stored_slots(*children), changes)
            }
        }
    }

    /// An empty subtree receiving `changes`: deletes are no-ops, inserts build a new subtree.
    fn build_new(&mut self, path: &Nibbles, changes: &[Change]) -> Result<Pending, TrieError> {
        let mut inserts = changes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.value.as_ref().map(|value| (i, &c.key, value)));
        let Some((first_index, first_key, first_value)) = inserts.next() else {
            return Ok(Pending::Empty);
        };
        let Some((last_index, last_key, _)) = inserts.next_back() else {
            let suffix = slice(first_key, path.len(), MAX_PATH_NIBBLES)?;
            return Ok(Pending::Leaf(Leaf {
                suffix,
                value: first_value.clone(),
            }));
        };
        // Sorted keys: all changes between the first and last insert share their common
        // prefix, where the new branch goes; deletes outside that range are of absent keys.
        let depth = first_key.common_prefix_length(last_key);
        let branch_path = slice(first_key, 0, depth)?;
        let inside = changes.get(first_index..=last_index).unwrap_or_default();
        let branch = self.update_branch(&branch_path, empty_slots(), inside)?;
        prepend(path, slice(first_key, path.len(), depth)?, branch)
    }

    fn update_leaf(
        &mut self,
        path: &Nibbles,
        leaf: Leaf,
        changes: &[Change],
    ) -> Result<Pending, TrieError> {
        let leaf_key = join(path, &leaf.suffix)?;
        let depth = min_common_prefix(changes, &leaf_key);
        if depth == leaf_key.len() {
            // Every change is for this very key (so, deduplicated, there is one).
            return Ok(match changes.last() {
                None => Pending::Leaf(leaf),
                Some(Change { value: None, .. }) => Pending::Empty,
                Some(Change {
                    value: Some(value), ..
                }) => Pending::Leaf(Leaf {
                    suffix: leaf.suffix,
                    value: value.clone(),
                }),
            });
        }
        // Other keys diverge at `depth`: a branch goes there, with the leaf's rest under it.
        let nibble = nibble_at(&leaf_key, depth)?;
        let mut slots = empty_slots();
        *at(&mut slots, nibble) = Slot::MovedLeaf(Leaf {
            suffix: slice(&leaf_key, depth + 1, leaf_key.len())?,
            value: leaf.value,
        });
        let branch = self.update_branch(&slice(&leaf_key, 0, depth)?, slots, changes)?;
        prepend(path, slice(&leaf_key, path.len(), depth)?, branch)
    }

    fn update_extension(
        &mut self,
        path: &Nibbles,
        ext: Extension,
        changes: &[Change],
    ) -> Result<Pending, TrieError> {
        let end = join(path, &ext.key)?;
        let depth = min_common_prefix(changes, &end);
        if depth == end.len() {
            // All changes are below the extension's branch.
            let children = match self.take_required(&end)? {
                Node::Branch(children) => children,
                _ => return Err(corrupt(&end, "an extension's child is not a branch")),
            };
            let branch = self.update_branch(&end, stored_slots(*children), changes)?;
            return prepend(path, ext.key, branch);
        }
        // Some key leaves the extension at `depth`: split it with a branch there.
        let nibble = nibble_at(&end, depth)?;
        let rest = if depth + 1 == end.len() {
            // The branch's child is the extension's own child, which stays where it is.
            Slot::Stored(ext.child)
        } else {
            Slot::MovedExtension(Extension {
                key: slice(&end, depth + 1, end.len())?,
                child: ext.child,
            })
        };
        let mut slots = empty_slots();
        *at(&mut slots, nibble) = rest;
        let branch = self.update_branch(&slice(&end, 0, depth)?, slots, changes)?;
        prepend(path, slice(&end, path.len(), depth)?, branch)
    }

    /// Applies `changes` (all under `path`) to a branch at `path` whose children are `slots`.
    fn update_branch(
        &mut self,
        path: &Nibbles,
        mut slots: [Slot; 16],
        changes: &[Change],
    ) -> Result<Pending, TrieError> {
        let depth = path.len();
        let mut results: [Option<Pending>; 16] = std::array::from_fn(|_| None);
        let mut rest = changes;
        while let Some(first) = rest.first() {
            let nibble = nibble_at(&first.key, depth)?;
            // Sorted: the changes under this child are a prefix of `rest`.
            let (group, tail) =
                rest.split_at(rest.partition_point(|c| c.key.get(depth) == Some(nibble)));
            rest = tail;
            let child_path = child(path, nibble)?;
            let existing = match std::mem::take(at(&mut slots, nibble)) {
                Slot::Absent => None,
                Slot::Stored(_) => Some(self.take_required(&child_path)?),
                Slot::MovedLeaf(leaf) => Some(Node::Leaf(leaf)),
                Slot::MovedExtension(ext) => Some(Node::Extension(ext)),
            };
            *at(&mut results, nibble) = Some(self.update_subtree(&child_path, existing, group)?);
        }

        // Each child's final state: touched ones by their result, the others as they were.
        let mut finals: Vec<(u8, Final)> = Vec::with_capacity(16);
        for (nibble, (slot, result)) in (0u8..).zip(slots.into_iter().zip(results)) {
            let final_child = match (result, slot) {
                (Some(Pending::Empty), _) | (None, Slot::Absent) => continue,
                (Some(pending), _) => Final::New(pending),
                (None, Slot::Stored(reference)) => Final::Stored(reference),
                (None, Slot::MovedLeaf(leaf)) => Final::New(Pending::Leaf(leaf)),
                (None, Slot::MovedExtension(ext)) => Final::New(Pending::Extension(ext)),
            };
            finals.push((nibble, final_child));
        }

        if finals.len() < 2 {
            return match finals.pop() {
                None => Ok(Pending::Empty),
                Some((nibble, only)) => self.collapse(path, nibble, only),
            };
        }
        let mut refs: Children = Default::default();
        for (nibble, final_child) in finals {
            *at(&mut refs, nibble) = match final_child {
                Final::Stored(reference) => Some(reference),
                Final::New(pending) => self.commit(&child(path, nibble)?, pending),
            };
        }
        let rlp = encode_branch(&refs);
        let reference = reference(&rlp);
        self.put(path, rlp);
        Ok(Pending::Branch(reference))
    }

    /// A branch at `path` left with one child at `nibble`: it is replaced by that child with
    /// `nibble` prepended (a child branch stays put under a one-nibble extension).
    fn collapse(&mut self, path: &Nibbles, nibble: u8, only: Final) -> Result<Pending, TrieError> {
        let prefix = Nibbles::from_nibbles_unchecked([nibble & 0x0f]);
        let pending = match only {
            Final::New(pending) => pending,
            Final::Stored(reference) => {
                // Untouched, so its kind is unknown: read it.
                let child_path = child(path, nibble)?;
                let (node, bytes) = self.read_required(&child_path)?;
                match node {
                    Node::Branch(_) => Pending::Branch(reference),
                    Node::Leaf(leaf) => {
                        self.schedule_delete(&child_path, bytes);
                        Pending::Leaf(leaf)
                    }
                    Node::Extension(ext) => {
                        self.schedule_delete(&child_path, bytes);
                        Pending::Extension(ext)
                    }
                }
            }
        };
        prepend(path, prefix, pending)
    }
}

/// A branch child after the changes: kept as stored, or new (and not empty).
enum Final {
    Stored(RlpNode),
    New(Pending),
}

fn empty_slots() -> [Slot; 16] {
    std::array::from_fn(|_| Slot::Absent)
}

fn stored_slots(children: Children) -> [Slot; 16] {
    children.map(|child| child.map_or(Slot::Absent, Slot::Stored))
}

/// The entry of a per-child array for `nibble`. Masked to 4 bits, so it cannot be out of
/// bounds (nibbles from `Nibbles` are always under 16 anyway).
fn at<T>(array: &mut [T; 16], nibble: u8) -> &mut T {
    &mut array[usize::from(nibble & 0x0f)]
}

/// `prefix ++ pending`, for a subtree that moves up by `prefix.len()` nibbles to `at`.
fn prepend(at: &Nibbles, prefix: Nibbles, pending: Pending) -> Result<Pending, TrieError> {
    if prefix.is_empty() {
        return Ok(pending);
    }
    let join = |rest: &Nibbles| {
        path::join(&prefix, rest).ok_or_else(|| corrupt(at, "moved node's key over 64 nibbles"))
    };
    Ok(match pending {
        Pending::Empty => Pending::Empty,
        Pending::Leaf(leaf) => Pending::Leaf(Leaf {
            suffix: join(&leaf.suffix)?,
            value: leaf.value,
        }),
        Pending::Extension(ext) => Pending::Extension(Extension {
            key: join(&ext.key)?,
            child: ext.child,
        }),
        Pending::Branch(child) => Pending::Extension(Extension { key: prefix, child }),
    })
}

/// The shortest common prefix of `target` with any change's key. Keys are sorted, so the keys
/// sharing `k` nibbles with `target` form one run and the minimum is at an end.
fn min_common_prefix(changes: &[Change], target: &Nibbles) -> usize {
    match (changes.first(), changes.last()) {
        (Some(first), Some(last)) => first
            .key
            .common_prefix_length(target)
            .min(last.key.common_prefix_length(target)),
        _ => target.len(),
    }
}

// The checked forms below fail only if stored nodes disagree with each other in a way the
// per-node checks of `decode_node` cannot see; that is corruption, not a reason to panic.

fn corrupt(path: &Nibbles, reason: &str) -> TrieError {
    TrieError::Corrupt {
        path: fmt_path(path),
        reason: reason.to_owned(),
    }
}

fn join(a: &Nibbles, b: &Nibbles) -> Result<Nibbles, TrieError> {
    path::join(a, b).ok_or_else(|| corrupt(a, "path longer than 64 nibbles"))
}

fn child(path: &Nibbles, nibble: u8) -> Result<Nibbles, TrieError> {
    path::child(path, nibble).ok_or_else(|| corrupt(path, "child path longer than 64 nibbles"))
}

fn slice(path: &Nibbles, start: usize, end: usize) -> Result<Nibbles, TrieError> {
    path::slice(path, start, end).ok_or_else(|| corrupt(path, "path shorter than expected"))
}

fn nibble_at(path: &Nibbles, index: usize) -> Result<u8, TrieError> {
    path.get(index)
        .ok_or_else(|| corrupt(path, "path shorter than expected"))
}
