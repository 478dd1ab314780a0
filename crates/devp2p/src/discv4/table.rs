//! The Kademlia table: 256 buckets by log distance of keccak256(id), 16 nodes each, and up to
//! 10 replacements per bucket (nodes that bonded while it was full), as the reference's
//! `bucketSize`/`maxReplacements`. Revalidation (`super::Discv4::revalidate`) pings the
//! least recently seen node of a bucket and, if it is gone, puts the newest replacement in.

use alloy_primitives::{B256, keccak256};

use crate::{crypto::PeerId, enode::NodeRecord};

/// Nodes per bucket (reference: `bucketSize`).
pub const BUCKET_SIZE: usize = 16;
/// Replacements kept per bucket (reference: `maxReplacements`).
pub const MAX_REPLACEMENTS: usize = 10;

type Bucket = Vec<(B256, NodeRecord)>;

/// The routing table.
pub struct Table {
    local_hash: B256,
    /// Most recently seen first.
    buckets: Vec<Bucket>,
    /// Per bucket, newest first.
    replacements: Vec<Bucket>,
}

/// Log distance: the bit length of `a xor b` (0 when equal).
pub fn log_distance(a: &B256, b: &B256) -> usize {
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        let d = x ^ y;
        if d != 0 {
            return (32 - i) * 8 - d.leading_zeros() as usize;
        }
    }
    0
}

fn xor(a: &B256, b: &B256) -> B256 {
    B256::from(std::array::from_fn::<u8, 32, _>(|i| a[i] ^ b[i]))
}

impl Table {
    /// An empty table around `local`.
    pub fn new(local: &PeerId) -> Self {
        Self {
            local_hash: keccak256(local),
            buckets: vec![Vec::new(); 256],
            replacements: vec![Vec::new(); 256],
        }
    }

    fn bucket_index(&self, hash: &B256) -> Option<usize> {
        log_distance(&self.local_hash, hash).checked_sub(1)
    }

    /// Adds or refreshes a node (a refreshed node moves to the front of its bucket). A full
    /// bucket keeps its old, proven entries and keeps the newcomer as a replacement
    /// (Kademlia's preference; revalidation swaps it in when an old entry is gone). Returns
    /// whether the node is in the table afterwards.
    pub fn add(&mut self, node: NodeRecord) -> bool {
        let hash = keccak256(node.id);
        let Some(index) = self.bucket_index(&hash) else {
            return false; // ourselves
        };
        let (Some(bucket), Some(spare)) = (
            self.buckets.get_mut(index),
            self.replacements.get_mut(index),
        ) else {
            return false;
        };
        if let Some(pos) = bucket.iter().position(|(_, n)| n.id == node.id) {
            bucket.remove(pos);
        } else if bucket.len() >= BUCKET_SIZE {
            spare.retain(|(_, n)| n.id != node.id);
            spare.insert(0, (hash, node));
            spare.truncate(MAX_REPLACEMENTS);
            return false;
        }
        bucket.insert(0, (hash, node));
        true
    }

    /// Removes a node (from its bucket and the replacements).
    pub fn remove(&mut self, id: &PeerId) {
        for bucket in self.buckets.iter_mut().chain(self.replacements.iter_mut()) {
            bucket.retain(|(_, n)| n.id != *id);
        }
    }

    /// The least recently seen node of the `pick`-th non-empty bucket (modulo their count):
    /// the one revalidation pings.
    pub fn revalidation_candidate(&self, pick: usize) -> Option<NodeRecord> {
        let filled: Vec<&Bucket> = self.buckets.iter().filter(|b| !b.is_empty()).collect();
        let bucket = filled.get(pick.checked_rem(filled.len())?)?;
        bucket.last().map(|(_, n)| *n)
    }

    /// `dead` did not answer revalidation: it leaves its bucket, and the newest replacement of
    /// that bucket (if any) takes its place at the end. Returns the replacement.
    pub fn replace(&mut self, dead: &PeerId) -> Option<NodeRecord> {
        let index = self.bucket_index(&keccak256(dead))?;
        let bucket = self.buckets.get_mut(index)?;
        let before = bucket.len();
        bucket.retain(|(_, n)| n.id != *dead);
        if bucket.len() == before {
            return None;
        }
        let spare = self.replacements.get_mut(index)?;
        if spare.is_empty() {
            return None;
        }
        let (hash, node) = spare.remove(0);
        bucket.push((hash, node));
        Some(node)
    }

    /// Whether the table holds `id`.
    pub fn contains(&self, id: &PeerId) -> bool {
        self.buckets.iter().flatten().any(|(_, n)| n.id == *id)
    }

    /// The `count` nodes closest to `target`.
    pub fn closest(&self, target: &PeerId, count: usize) -> Vec<NodeRecord> {
        let target = keccak256(target);
        let mut all: Vec<_> = self
            .buckets
            .iter()
            .flatten()
            .map(|(h, n)| (xor(h, &target), *n))
            .collect();
        all.sort_by_key(|(d, _)| *d);
        all.into_iter().take(count).map(|(_, n)| n).collect()
    }

    /// Every node.
    pub fn nodes(&self) -> Vec<NodeRecord> {
        self.buckets.iter().flatten().map(|(_, n)| *n).collect()
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{peer_id_of, random_secret_key};
    use std::net::{IpAddr, Ipv4Addr};

    fn node(id: PeerId) -> NodeRecord {
        NodeRecord {
            id,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tcp_port: 1,
            udp_port: 1,
        }
    }

    #[test]
    fn log_distance_counts_bits() {
        let a = B256::ZERO;
        let mut b = B256::ZERO;
        assert_eq!(log_distance(&a, &b), 0);
        b[31] = 1;
        assert_eq!(log_distance(&a, &b), 1);
        b[0] = 0x80;
        assert_eq!(log_distance(&a, &b), 256);
    }

    #[test]
    fn buckets_cap_at_sixteen_and_closest_sorts() {
        let local = peer_id_of(&random_secret_key());
        let mut table = Table::new(&local);
        assert!(!table.add(node(local)));
        let ids: Vec<PeerId> = (0..200).map(|_| peer_id_of(&random_secret_key())).collect();
        for id in &ids {
            table.add(node(*id));
        }
        // Half of random ids fall in the farthest bucket: capped at 16.
        let far = table.buckets[255].len();
        assert_eq!(far, BUCKET_SIZE);
        assert!(table.len() < 200);
        let target = ids[0];
        if table.contains(&target) {
            assert_eq!(table.closest(&target, 1)[0].id, target);
        }
        let closest = table.closest(&local, 5);
        let th = keccak256(local);
        let d: Vec<B256> = closest.iter().map(|n| xor(&keccak256(n.id), &th)).collect();
        assert!(d.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_full_bucket_keeps_replacements_and_revalidation_swaps_the_newest_in() {
        let local = peer_id_of(&random_secret_key());
        let mut table = Table::new(&local);
        // Fill the farthest bucket (half of random ids land there) and overflow it.
        let mut far = Vec::new();
        while far.len() < BUCKET_SIZE + 3 {
            let id = peer_id_of(&random_secret_key());
            if log_distance(&keccak256(local), &keccak256(id)) == 256 {
                far.push(id);
            }
        }
        for id in &far {
            table.add(node(*id));
        }
        assert_eq!(table.buckets[255].len(), BUCKET_SIZE);
        assert_eq!(table.replacements[255].len(), 3);
        // The oldest entry is the candidate (only one bucket is filled).
        let oldest = table.revalidation_candidate(7).unwrap();
        assert_eq!(oldest.id, far[0]);
        // Gone: the newest replacement takes its place.
        assert_eq!(
            table.replace(&far[0]).map(|n| n.id),
            Some(far[BUCKET_SIZE + 2])
        );
        assert!(!table.contains(&far[0]));
        assert!(table.contains(&far[BUCKET_SIZE + 2]));
        assert_eq!(table.buckets[255].len(), BUCKET_SIZE);
        assert_eq!(table.replacements[255].len(), 2);
        // A node not in its bucket is not replaced.
        assert_eq!(table.replace(&far[0]), None);
        assert_eq!(Table::new(&local).revalidation_candidate(0), None);
    }
}
