//! Blocks from the near future (tribe.md §2: the reference queues blocks up to 30 s ahead of the
//! local clock instead of rejecting them). They wait here, in memory, until their time.

use std::{collections::BTreeMap, sync::Mutex};

use spectrum_primitives::SealedBlock;

/// How far ahead of the local clock a block may be and still be held rather than refused.
pub const MAX_FUTURE_SECS: u64 = 30;

/// At most this many blocks wait at once; more are refused (a peer cannot fill memory).
const MAX_HELD: usize = 256;

/// At most this many bytes of blocks wait at once: 256 blocks at the 10 MiB message bound
/// would pin 2.5 GiB. 32 MiB holds the 30 s window of any honest network (a block every few
/// seconds) with room to spare, and a full queue only means a block is fetched again later.
const MAX_HELD_BYTES: usize = 32 * 1024 * 1024;

/// Blocks held until their timestamp, by timestamp.
#[derive(Default)]
pub(crate) struct FutureBlocks {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    blocks: BTreeMap<(u64, alloy_primitives::B256), SealedBlock>,
    /// Sum of [`held_size`] over `blocks`.
    bytes: usize,
}

/// Memory a held block accounts for: its body's RLP and its header (fixed fields plus
/// extraData, which the header decoder bounds).
fn held_size(block: &SealedBlock) -> usize {
    use alloy_rlp::Encodable;
    block
        .body
        .length()
        .saturating_add(block.header.extra_data.len())
        .saturating_add(1024)
}

impl FutureBlocks {
    /// Holds `block`; `false` if the queue is full, by count or by bytes.
    pub(crate) fn hold(&self, block: SealedBlock) -> bool {
        let Ok(mut held) = self.held.lock() else {
            return false;
        };
        let size = held_size(&block);
        let bytes = held.bytes.saturating_add(size);
        if held.blocks.len() >= MAX_HELD || bytes > MAX_HELD_BYTES {
            return false;
        }
        let key = (block.header.timestamp, block.hash());
        if held.blocks.insert(key, block).is_none() {
            held.bytes = bytes;
        }
        true
    }

    /// Takes every held block whose time has come, oldest first.
    pub(crate) fn take_due(&self, now: u64) -> Vec<SealedBlock> {
        let Ok(mut held) = self.held.lock() else {
            return Vec::new();
        };
        let later = held
            .blocks
            .split_off(&(now.saturating_add(1), alloy_primitives::B256::ZERO));
        let due: Vec<SealedBlock> = std::mem::replace(&mut held.blocks, later)
            .into_values()
            .collect();
        let freed = due.iter().map(held_size).fold(0, usize::saturating_add);
        held.bytes = held.bytes.saturating_sub(freed);
        due
    }

    /// How many blocks wait.
    pub(crate) fn len(&self) -> usize {
        self.held.lock().map_or(0, |h| h.blocks.len())
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Bytes, Signature, TxKind, U256};
    use spectrum_primitives::{BlockBody, Header, SealedHeader, TransactionSigned, TxLegacy};

    use super::*;

    /// A block at `time` whose one transaction carries `data_len` bytes of calldata.
    fn block(time: u64, data_len: usize) -> SealedBlock {
        let header = Header {
            timestamp: time,
            ..Default::default()
        };
        let tx = TransactionSigned::from_parts(
            TxLegacy {
                chain_id: Some(1),
                nonce: 0,
                gas_price: 1,
                gas_limit: 21_000,
                to: TxKind::Create,
                value: U256::ZERO,
                input: Bytes::from(vec![0u8; data_len]),
            },
            Signature::new(U256::from(1), U256::from(1), false),
        );
        SealedBlock {
            header: SealedHeader::seal(header),
            body: BlockBody {
                transactions: vec![tx],
                ommers: vec![],
            },
        }
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_and_frees_what_it_releases() {
        let queue = FutureBlocks::default();
        // Three 9 MiB blocks fit in 32 MiB; the fourth does not, though 4 < MAX_HELD.
        for time in 1..=3 {
            assert!(queue.hold(block(time, 9 << 20)), "block {time} fits");
        }
        assert!(
            !queue.hold(block(4, 9 << 20)),
            "36 MiB is over the byte bound"
        );
        assert_eq!(queue.len(), 3);
        // Releasing the first two frees their bytes: a big block fits again.
        assert_eq!(queue.take_due(2).len(), 2);
        assert!(queue.hold(block(5, 9 << 20)));
        assert_eq!(queue.len(), 2);
    }
}
