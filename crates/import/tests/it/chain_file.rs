//! Chain files: the reference node's export reads back block for block, our writer reproduces it
//! byte for byte (plain) or losslessly (gzip), and damaged files fail at the right block.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{Cursor, Write},
    path::{Path, PathBuf},
};

use alloy_rlp::Encodable;
use spectrum_import::{ChainFileError, ChainFileReader, ChainFileWriter};
use spectrum_primitives::{
    Block, BlockBody, Bytes, DecodeError, Header, Limits, TransactionSigned, hex,
};

/// geth's `export` of devnet-A, blocks 0..=220 (see its README).
const DEVNET_CHAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/spectrum-devnet/chain.rlp"
);
const DEVNET_BLOCKS: u64 = 221;

/// The reference file, or a failure that says it is missing (never a silent pass).
fn devnet_chain() -> &'static Path {
    let path = Path::new(DEVNET_CHAIN);
    assert!(
        path.is_file(),
        "reference chain file {DEVNET_CHAIN} is missing: these tests need the shared test data \
         (/work/shared/testdata/spectrum-devnet, see its README)"
    );
    path
}

fn devnet_bytes() -> Vec<u8> {
    std::fs::read(devnet_chain()).unwrap()
}

fn devnet_blocks() -> Vec<Block> {
    ChainFileReader::open(devnet_chain())
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Offset of every block in the plain file, and the offset of the end.
fn offsets(blocks: &[Block]) -> Vec<u64> {
    let mut offsets = vec![0u64];
    for block in blocks {
        offsets.push(offsets.last().unwrap() + block.length() as u64);
    }
    offsets
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn write_chain(path: &Path, blocks: &[Block], gzip: bool) {
    let mut writer = ChainFileWriter::create(path, gzip).unwrap();
    for block in blocks {
        writer.write_block(block).unwrap();
    }
    assert_eq!(writer.blocks_written(), blocks.len() as u64);
    assert_eq!(writer.finish().unwrap(), blocks.len() as u64);
}

fn read_chain(path: &Path) -> Vec<Block> {
    ChainFileReader::open(path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// A few small blocks that need no reference data: empty ones, one with a long extraData (a
/// multi-byte RLP length) and one with EIP-155's example transaction.
fn synthetic_blocks() -> Vec<Block> {
    let tx = TransactionSigned::decode_raw(
        &hex!(
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        ),
        &Limits::DEFAULT,
    )
    .unwrap();
    (0..4u64)
        .map(|number| Block {
            header: Header {
                number,
                gas_limit: 40_000_000,
                extra_data: Bytes::from(vec![0xab; 97 * number as usize]),
                ..Default::default()
            },
            body: BlockBody {
                transactions: if number == 3 {
                    vec![tx.clone(), tx.clone()]
                } else {
                    vec![]
                },
                ommers: vec![],
            },
        })
        .collect()
}

#[test]
fn reads_devnet_chain_block_by_block() {
    let mut reader = ChainFileReader::open(devnet_chain()).unwrap();
    assert!(!reader.is_gzip());
    let mut count = 0u64;
    for (i, block) in reader.by_ref().enumerate() {
        let block = block.unwrap_or_else(|e| panic!("block {i}: {e}"));
        assert_eq!(
            block.header.number, i as u64,
            "blocks are in order from genesis"
        );
        count += 1;
    }
    assert_eq!(count, DEVNET_BLOCKS);
    assert_eq!(reader.blocks_read(), DEVNET_BLOCKS);
    assert!(reader.next().is_none(), "the iterator stays finished");
}

#[test]
fn plain_write_reproduces_the_reference_file_exactly() {
    let blocks = devnet_blocks();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.rlp");
    write_chain(&path, &blocks, false);
    assert!(
        std::fs::read(&path).unwrap() == devnet_bytes(),
        "byte-identical to smc's export"
    );
}

#[test]
fn gzip_round_trip_of_the_reference_chain() {
    let blocks = devnet_blocks();
    let dir = tempfile::tempdir().unwrap();
    // No `.gz` suffix: the reader must recognise the file by its magic bytes alone.
    let path = dir.path().join("chain.rlp.compressed");
    write_chain(&path, &blocks, true);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes[..2], [0x1f, 0x8b]);
    assert!(bytes.len() < devnet_bytes().len(), "it is compressed");
    let reader = ChainFileReader::open(&path).unwrap();
    assert!(reader.is_gzip());
    let back = reader.collect::<Result<Vec<_>, _>>().unwrap();
    assert!(back == blocks);
}

#[test]
fn synthetic_round_trip_plain_and_gzip() {
    let blocks = synthetic_blocks();
    let dir = tempfile::tempdir().unwrap();
    for (name, gzip) in [("plain.rlp", false), ("packed.rlp.gz", true)] {
        let path = dir.path().join(name);
        write_chain(&path, &blocks, gzip);
        assert_eq!(
            ChainFileReader::open(&path).unwrap().is_gzip(),
            gzip,
            "{name}"
        );
        assert!(read_chain(&path) == blocks, "{name}");
    }
}

#[test]
fn empty_files_hold_no_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_file(dir.path(), "empty.rlp", &[]);
    assert!(read_chain(&empty).is_empty());
    let gz = dir.path().join("empty.gz");
    write_chain(&gz, &[], true);
    assert!(read_chain(&gz).is_empty());
}

#[test]
fn gz_suffix_alone_selects_gzip() {
    // geth's rule: a `.gz` name means gzip. A plain file so named fails as bad gzip, not as RLP.
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "chain.rlp.gz", &devnet_bytes());
    let mut reader = ChainFileReader::open(&path).unwrap();
    assert!(reader.is_gzip());
    match reader.next() {
        Some(Err(ChainFileError::Io {
            index: 0,
            offset: 0,
            ..
        })) => {}
        other => panic!("expected an I/O error from the gzip decoder, got {other:?}"),
    }
    assert!(reader.next().is_none());
}

#[test]
fn concatenated_gzip_members_read_as_one_chain() {
    // Go's gzip.Reader is multi-member, so `cat a.gz b.gz > c.gz` is a valid geth chain file.
    let blocks = synthetic_blocks();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.gz"), dir.path().join("b.gz"));
    write_chain(&a, &blocks[..2], true);
    write_chain(&b, &blocks[2..], true);
    let mut joined = std::fs::read(&a).unwrap();
    joined.extend(std::fs::read(&b).unwrap());
    let path = write_file(dir.path(), "joined.gz", &joined);
    assert!(read_chain(&path) == blocks);
}

#[test]
fn reads_from_any_stream() {
    let blocks = synthetic_blocks();
    let mut bytes = Vec::new();
    for block in &blocks {
        block.encode(&mut bytes);
    }
    let reader = ChainFileReader::new(Cursor::new(bytes.clone())).unwrap();
    assert!(!reader.is_gzip());
    assert!(reader.collect::<Result<Vec<_>, _>>().unwrap() == blocks);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).unwrap();
    let reader = ChainFileReader::new(Cursor::new(gz.finish().unwrap())).unwrap();
    assert!(reader.is_gzip());
    assert!(reader.collect::<Result<Vec<_>, _>>().unwrap() == blocks);
}

#[test]
fn truncated_file_yields_complete_blocks_then_truncated() {
    let blocks = devnet_blocks();
    let offs = offsets(&blocks);
    let bytes = devnet_bytes();
    let dir = tempfile::tempdir().unwrap();
    // Cut inside a block's payload, inside its multi-byte length header, and right after its
    // first byte: each time the blocks before it come out whole and then `Truncated` names it.
    for (k, cut_at) in [
        (100usize, offs[100] + (offs[101] - offs[100]) / 2),
        (150, offs[150] + 2),
        (220, offs[220] + 1),
        (0, 1),
    ] {
        let path = write_file(
            dir.path(),
            &format!("cut-{k}-{cut_at}.rlp"),
            &bytes[..cut_at as usize],
        );
        let results: Vec<_> = ChainFileReader::open(&path).unwrap().collect();
        assert_eq!(results.len(), k + 1, "cut at byte {cut_at}");
        for (i, r) in results[..k].iter().enumerate() {
            assert!(r.as_ref().is_ok_and(|b| b.header.number == i as u64));
        }
        match &results[k] {
            Err(ChainFileError::Truncated { index, offset }) => {
                assert_eq!((*index, *offset), (k as u64, offs[k]));
            }
            other => panic!("cut at byte {cut_at}: expected Truncated at block {k}, got {other:?}"),
        }
    }
}

#[test]
fn cut_at_a_block_boundary_is_a_clean_end() {
    let blocks = devnet_blocks();
    let offs = offsets(&blocks);
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "first-50.rlp",
        &devnet_bytes()[..offs[50] as usize],
    );
    let back = read_chain(&path);
    assert_eq!(back.len(), 50);
    assert!(back[..] == blocks[..50]);
}

#[test]
fn truncated_gzip_file_fails_without_panicking() {
    let blocks = devnet_blocks();
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.gz");
    write_chain(&full, &blocks, true);
    let bytes = std::fs::read(&full).unwrap();
    let path = write_file(dir.path(), "cut.gz", &bytes[..bytes.len() / 2]);
    let results: Vec<_> = ChainFileReader::open(&path).unwrap().collect();
    let (last, good) = results.split_last().unwrap();
    assert!(!good.is_empty() && good.len() < blocks.len());
    for (i, r) in good.iter().enumerate() {
        assert!(r.as_ref().is_ok_and(|b| *b == blocks[i]));
    }
    match last {
        Err(ChainFileError::Truncated { index, .. }) => assert_eq!(*index, good.len() as u64),
        other => panic!(
            "expected Truncated after {} blocks, got {other:?}",
            good.len()
        ),
    }
}

#[test]
fn corrupted_byte_yields_decode_error_at_its_block() {
    let blocks = devnet_blocks();
    let offs = offsets(&blocks);
    let mut bytes = devnet_bytes();
    // Block 120 = [block list header][header list header][0xa0 parentHash ...]. The header's
    // own list header is 3 bytes (f9 xx xx): make parentHash's string prefix a list prefix.
    let k = 120usize;
    let start = offs[k] as usize;
    let block_header_len = 1 + usize::from(bytes[start] - 0xf7);
    let header_start = start + block_header_len;
    let parent_hash_at = header_start + 1 + usize::from(bytes[header_start] - 0xf7);
    assert_eq!(
        bytes[parent_hash_at], 0xa0,
        "test assumes the parent hash follows"
    );
    bytes[parent_hash_at] = 0xe0;

    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "corrupt.rlp", &bytes);
    let results: Vec<_> = ChainFileReader::open(&path).unwrap().collect();
    assert_eq!(results.len(), k + 1, "reading stops at the bad block");
    assert!(results[..k].iter().all(Result::is_ok));
    match &results[k] {
        Err(
            err @ ChainFileError::Decode {
                index,
                offset,
                source,
            },
        ) => {
            assert_eq!((*index, *offset), (k as u64, offs[k]));
            assert!(
                matches!(source, DecodeError::Rlp { what: "block", .. }),
                "{source:?}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains("block 120") && msg.contains(&offs[k].to_string()),
                "{msg}"
            );
        }
        other => panic!("expected Decode at block {k}, got {other:?}"),
    }
}

#[test]
fn over_long_length_prefix_is_refused_before_reading() {
    let block = &synthetic_blocks()[1];
    let mut first = Vec::new();
    block.encode(&mut first);
    let first_len = first.len() as u64;
    // A block list header claiming 4 GiB, followed by a few bytes only; and one claiming the
    // largest 8-byte length, which would overflow the header-plus-payload sum.
    for (prefix, len) in [
        (vec![0xfb, 0xff, 0xff, 0xff, 0xff], 5 + 0xffff_ffffu64),
        (vec![0xff; 9], u64::MAX),
        // One byte over the default limit.
        (
            {
                let payload = 16 * 1024 * 1024 - 3;
                vec![
                    0xfa,
                    (payload >> 16) as u8,
                    (payload >> 8) as u8,
                    payload as u8,
                ]
            },
            16 * 1024 * 1024 + 1,
        ),
    ] {
        let mut bytes = first.clone();
        bytes.extend(&prefix);
        bytes.extend([0xc0; 16]);
        let mut reader = ChainFileReader::new(Cursor::new(bytes)).unwrap();
        assert!(reader.next().unwrap().unwrap() == *block);
        match reader.next() {
            Some(Err(ChainFileError::TooLarge {
                index: 1,
                offset,
                len: got,
                max,
            })) => {
                assert_eq!(offset, first_len);
                assert_eq!(got, len);
                assert_eq!(max, Limits::DEFAULT.max_block_bytes);
            }
            other => panic!("prefix {prefix:02x?}: expected TooLarge at block 1, got {other:?}"),
        }
        assert!(reader.next().is_none());
    }
}

#[test]
fn smaller_limits_apply_to_reading_and_writing() {
    let limits = Limits {
        max_block_bytes: 600,
        ..Limits::DEFAULT
    };
    // Devnet genesis is 623 bytes (expected.json `size`).
    let mut reader = ChainFileReader::open(devnet_chain())
        .unwrap()
        .with_limits(limits);
    match reader.next() {
        Some(Err(ChainFileError::TooLarge {
            index: 0,
            offset: 0,
            len: 623,
            max: 600,
        })) => {}
        other => panic!("expected TooLarge for genesis, got {other:?}"),
    }
    let genesis = devnet_blocks().swap_remove(0);
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ChainFileWriter::create(dir.path().join("w.rlp"), false)
        .unwrap()
        .with_limits(limits);
    let small = &synthetic_blocks()[0];
    writer.write_block(small).unwrap();
    match writer.write_block(&genesis) {
        Err(ChainFileError::TooLarge {
            index: 1,
            offset,
            len: 623,
            max: 600,
        }) => {
            assert_eq!(offset, small.length() as u64);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn malformed_block_headers_are_decode_errors() {
    let cases: [(&[u8], alloy_rlp::Error); 4] = [
        // A string where a block list must be.
        (&[0x80], alloy_rlp::Error::UnexpectedString),
        (&[0x05], alloy_rlp::Error::UnexpectedString),
        // Long form for a length that fits the short form.
        (
            &[0xf8, 0x05, 0, 0, 0, 0, 0],
            alloy_rlp::Error::NonCanonicalSize,
        ),
        // Length with a leading zero byte.
        (&[0xf9, 0x00, 0x40], alloy_rlp::Error::LeadingZero),
    ];
    for (bytes, want) in cases {
        let mut reader = ChainFileReader::new(Cursor::new(bytes.to_vec())).unwrap();
        match reader.next() {
            Some(Err(ChainFileError::Decode {
                index: 0,
                offset: 0,
                source:
                    DecodeError::Rlp {
                        what: "block",
                        source,
                    },
            })) => assert_eq!(source, want, "{bytes:02x?}"),
            other => panic!("{bytes:02x?}: expected a decode error, got {other:?}"),
        }
    }
    // A well-framed list whose content is not a block.
    let mut reader = ChainFileReader::new(Cursor::new(vec![0xc1, 0xc0])).unwrap();
    assert!(matches!(
        reader.next(),
        Some(Err(ChainFileError::Decode { index: 0, .. }))
    ));
}

#[test]
fn missing_file_and_bad_output_path_are_reported_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-chain.rlp");
    match ChainFileReader::open(&missing) {
        Err(err @ ChainFileError::Open { .. }) => {
            assert!(err.to_string().contains("no-such-chain.rlp"), "{err}");
        }
        other => panic!("expected Open error, got {other:?}"),
    }
    let bad = dir.path().join("no-such-dir").join("out.rlp");
    match ChainFileWriter::create(&bad, false) {
        Err(err @ ChainFileError::Create { .. }) => {
            assert!(err.to_string().contains("out.rlp"), "{err}");
        }
        other => panic!("expected Create error, got {other:?}"),
    }
}
