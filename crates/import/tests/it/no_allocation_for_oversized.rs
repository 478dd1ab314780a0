//! A length prefix above the limit is refused from the header alone: nothing near the claimed
//! size is ever allocated. Its own test binary, because it installs a global allocator that
//! records the largest allocation, and other tests would disturb the record.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    io::Cursor,
    sync::atomic::{AtomicUsize, Ordering},
};

use spectrum_import::{ChainFileError, ChainFileReader};
use spectrum_primitives::Limits;

/// The system allocator, noting the largest single request.
struct Recording;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Recording = Recording;

#[test]
fn oversized_block_is_refused_without_allocating_it() {
    let max = Limits::DEFAULT.max_block_bytes;
    // A list header claiming exactly one byte over the limit, and the claimed bytes really there
    // (zeros), so that only the length check stands between the reader and a 16 MiB buffer.
    let payload = max - 3;
    let mut bytes = vec![
        0xfa,
        (payload >> 16) as u8,
        (payload >> 8) as u8,
        payload as u8,
    ];
    bytes.resize(max + 1, 0);
    let mut reader = ChainFileReader::new(Cursor::new(bytes)).unwrap();

    LARGEST.store(0, Ordering::Relaxed);
    let result = reader.next();
    let largest = LARGEST.load(Ordering::Relaxed);

    match result {
        Some(Err(ChainFileError::TooLarge {
            index: 0,
            offset: 0,
            len,
            max: m,
        })) => {
            assert_eq!(len, max as u64 + 1);
            assert_eq!(m, max);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // The reader's own buffers (a BufReader of 8 KiB, the header bytes) are all it allocated.
    assert!(
        largest < 64 * 1024,
        "largest allocation while reading: {largest} bytes"
    );
}
