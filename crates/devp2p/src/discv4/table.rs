//! The Kademlia table: 256 buckets by log distance of keccak256(id), 16 nodes each.

use alloy_primitives::{B256, keccak256};

use crate::{crypto::PeerId, enode::NodeRecord};

/// Nodes per bucket (reference: `bucketSize`).
pub const BUCKET_SIZE: usize = 16;

/// The routing table.
pub struct Table {
    local_hash: B256,
    buckets: Vec<Vec<(B256, NodeRecord)>>,
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
        }
    }

    /// Adds or refreshes a node (a refreshed node moves to the front of its bucket). A full
    /// bucket keeps its old, proven entries and drops the newcomer (Kademlia's preference).
    /// Returns whether the node is in the table afterwards.
    pub fn add(&mut self, node: NodeRecord) -> bool {
        let hash = keccak256(node.id);
        let distance = log_distance(&self.local_hash, &hash);
        let Some(bucket) = distance
            .checked_sub(1)
            .and_then(|i| self.buckets.get_mut(i))
        else {
            return false; // ourselves
        };
        if let Some(pos) = bucket.iter().position(|(_, n)| n.id == node.id) {
            bucket.remove(pos);
        } else if bucket.len() >= BUCKET_SIZE {
            return false;
        }
        bucket.insert(0, (hash, node));
        true
    }

    /// Removes a node.
    pub fn remove(&mut self, id: &PeerId) {
        for bucket in &mut self.buckets {
            bucket.retain(|(_, n)| n.id != *id);
        }
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
}
