//! geth's chain file format: RLP-encoded blocks `[header, transactions, uncles]` written one after
//! another with nothing in between, optionally gzip-compressed as a whole.
//!
//! This is what `geth export` / `smc export` write and `geth import` reads (go-ethereum 1.8
//! `cmd/utils/cmd.go`, `ImportChain` / `ExportChain`). geth decides on gzip by the file name's
//! `.gz` suffix; we accept that and also the gzip magic bytes `1f 8b`, so a renamed file still
//! reads. No RLP block can start with `1f` (a block is a list, so its first byte is ≥ `0xc0`),
//! so sniffing the magic never misreads a plain file.
//!
//! Reading is streaming: one block is in memory at a time, and its size is checked against
//! [`Limits::max_block_bytes`] from the RLP list header alone, before the block's bytes are read
//! or any buffer for them is allocated. Offsets in errors count bytes of the *uncompressed*
//! stream, since that is the only position that identifies a block in a gzip file.

use std::{
    fs::File,
    io::{self, BufReader, BufWriter, Read, Write},
    path::{Path, PathBuf},
};

use alloy_rlp::Encodable;
use flate2::{Compression, read::MultiGzDecoder, write::GzEncoder};
use spectrum_primitives::{Block, DecodeError, Limits};

/// The first two bytes of every gzip member (RFC 1952 §2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// RLP: first byte of a list whose payload length follows as 1..=8 big-endian bytes.
const LONG_LIST_OFFSET: u8 = 0xf7;
/// RLP: first byte of a list whose payload (0..=55 bytes) length is in the byte itself.
const SHORT_LIST_OFFSET: u8 = 0xc0;

/// What the decode errors of this module say they were decoding, as primitives' decoders do.
const WHAT: &str = "block";

/// Why a chain file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ChainFileError {
    /// The file could not be opened for reading.
    #[error("cannot open chain file {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file could not be created for writing.
    #[error("cannot create chain file {}: {source}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Reading failed (an OS error, or a corrupt gzip stream).
    #[error("reading block {index} at byte {offset} of the chain file: {source}")]
    Io {
        /// 0-based position of the block in the file.
        index: u64,
        /// Offset of the block's first byte in the uncompressed stream.
        offset: u64,
        /// The error.
        source: io::Error,
    },
    /// The file ends inside a block.
    #[error(
        "block {index} at byte {offset} of the chain file is truncated: the file ends inside it"
    )]
    Truncated {
        /// 0-based position of the block in the file.
        index: u64,
        /// Offset of the block's first byte in the uncompressed stream.
        offset: u64,
    },
    /// The block's bytes are not a valid Spectrum block.
    #[error("block {index} at byte {offset} of the chain file: {source}")]
    Decode {
        /// 0-based position of the block in the file.
        index: u64,
        /// Offset of the block's first byte in the uncompressed stream.
        offset: u64,
        /// Why it does not decode.
        source: DecodeError,
    },
    /// The block's RLP header announces more bytes than any block may have.
    #[error(
        "block {index} at byte {offset} of the chain file is {len} bytes long, above the limit of {max} bytes"
    )]
    TooLarge {
        /// 0-based position of the block in the file.
        index: u64,
        /// Offset of the block's first byte in the uncompressed stream.
        offset: u64,
        /// Its length, RLP header included (saturated at `u64::MAX`).
        len: u64,
        /// The limit.
        max: usize,
    },
    /// Writing failed.
    #[error("writing block {index} to chain file {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// 0-based position of the block being written (the block count when finishing).
        index: u64,
        /// The OS error.
        source: io::Error,
    },
}

/// Reads a chain file one block at a time.
///
/// An iterator of `Result<Block, ChainFileError>`: it ends (`None`) at a clean end of file
/// between two blocks, and after the first error, since the position in the stream is no
/// longer known to be at a block boundary.
pub struct ChainFileReader {
    /// The uncompressed byte stream, buffered (the reader takes it in 1- and ≤8-byte pieces).
    reader: Box<dyn Read + Send>,
    limits: Limits,
    gzip: bool,
    /// Index of the next block.
    index: u64,
    /// Uncompressed offset of the next block.
    offset: u64,
    /// Bytes of the current block, reused so a long file does not allocate per block.
    buf: Vec<u8>,
    /// Set after the end of the file or an error.
    done: bool,
}

impl std::fmt::Debug for ChainFileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainFileReader")
            .field("limits", &self.limits)
            .field("gzip", &self.gzip)
            .field("index", &self.index)
            .field("offset", &self.offset)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ChainFileReader {
    /// Opens `path`. It is read as gzip if its name ends in `.gz` (geth's rule) or it starts
    /// with the gzip magic bytes, and as plain RLP otherwise.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ChainFileError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| ChainFileError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let gz_suffix = path.extension().is_some_and(|ext| ext == "gz");
        Self::from_stream(file, gz_suffix)
    }

    /// Reads a chain file from any byte stream (a pipe, an in-memory buffer), gzip-compressed or
    /// not, as told by its first two bytes.
    pub fn new(reader: impl Read + Send + 'static) -> Result<Self, ChainFileError> {
        Self::from_stream(reader, false)
    }

    fn from_stream(
        mut raw: impl Read + Send + 'static,
        force_gzip: bool,
    ) -> Result<Self, ChainFileError> {
        // Peek at the first two bytes and put them back in front of the stream, so that this
        // works on pipes as well as files. `read_to_end` on `take` retries short reads.
        let mut head = Vec::with_capacity(GZIP_MAGIC.len());
        (&mut raw)
            .take(GZIP_MAGIC.len() as u64)
            .read_to_end(&mut head)
            .map_err(|source| ChainFileError::Io {
                index: 0,
                offset: 0,
                source,
            })?;
        let gzip = force_gzip || head == GZIP_MAGIC;
        let raw = io::Cursor::new(head).chain(raw);
        let reader: Box<dyn Read + Send> = if gzip {
            // Multi-member, like Go's gzip.Reader: `cat a.gz b.gz` is one valid chain file.
            Box::new(BufReader::new(MultiGzDecoder::new(raw)))
        } else {
            Box::new(BufReader::new(raw))
        };
        Ok(Self {
            reader,
            limits: Limits::DEFAULT,
            gzip,
            index: 0,
            offset: 0,
            buf: Vec::new(),
            done: false,
        })
    }

    /// Replaces the default size bounds (only `max_block_bytes` matters here; the block decoder
    /// applies the rest).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether the file is read as gzip.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// How many blocks have been read so far.
    pub fn blocks_read(&self) -> u64 {
        self.index
    }

    /// How many (uncompressed) bytes of the stream have been consumed by the blocks read so far.
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// Appends up to `n` bytes from the stream to `self.buf`; returns how many came (fewer only
    /// at the end of the stream).
    fn read_into_buf(&mut self, n: u64) -> Result<u64, ChainFileError> {
        match (&mut self.reader).take(n).read_to_end(&mut self.buf) {
            Ok(got) => Ok(got as u64),
            // flate2 reports a gzip stream cut short as UnexpectedEof: that is a truncated file.
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
                Err(ChainFileError::Truncated {
                    index: self.index,
                    offset: self.offset,
                })
            }
            Err(source) => Err(ChainFileError::Io {
                index: self.index,
                offset: self.offset,
                source,
            }),
        }
    }

    fn decode_error(&self, source: alloy_rlp::Error) -> ChainFileError {
        ChainFileError::Decode {
            index: self.index,
            offset: self.offset,
            source: DecodeError::Rlp { what: WHAT, source },
        }
    }

    fn truncated(&self) -> ChainFileError {
        ChainFileError::Truncated {
            index: self.index,
            offset: self.offset,
        }
    }

    /// Reads the next block: `Ok(None)` at a clean end of file.
    fn read_block(&mut self) -> Result<Option<Block>, ChainFileError> {
        self.buf.clear();
        if self.read_into_buf(1)? == 0 {
            return Ok(None);
        }
        let Some(&first) = self.buf.first() else {
            return Ok(None);
        };

        // The RLP list header: 1 byte, or 1 + 1..=8 bytes of big-endian payload length. The
        // canonical-form checks mirror alloy-rlp's `Header::decode` (and report its errors), so
        // a header refused here is one `Block::decode_bounded` would refuse as well.
        // (The subtractions cannot wrap: each match arm guarantees `first` ≥ what is subtracted.)
        let payload_len: u64 = match first {
            SHORT_LIST_OFFSET..=LONG_LIST_OFFSET => {
                u64::from(first.wrapping_sub(SHORT_LIST_OFFSET))
            }
            0xf8..=0xff => {
                let len_of_len = u64::from(first.wrapping_sub(LONG_LIST_OFFSET));
                if self.read_into_buf(len_of_len)? < len_of_len {
                    return Err(self.truncated());
                }
                let len_bytes = self.buf.get(1..).unwrap_or_default();
                if len_bytes.first() == Some(&0) {
                    return Err(self.decode_error(alloy_rlp::Error::LeadingZero));
                }
                let len = len_bytes
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                if len < 56 {
                    return Err(self.decode_error(alloy_rlp::Error::NonCanonicalSize));
                }
                len
            }
            // A string where a block (a list) must be.
            _ => return Err(self.decode_error(alloy_rlp::Error::UnexpectedString)),
        };

        let header_len = self.buf.len() as u64;
        let len = header_len.saturating_add(payload_len);
        let max = self.limits.max_block_bytes;
        if usize::try_from(len).map_or(true, |len| len > max) {
            return Err(ChainFileError::TooLarge {
                index: self.index,
                offset: self.offset,
                len,
                max,
            });
        }
        // Bounded by the check above; reserved up front so the read does not re-grow the buffer.
        self.buf
            .reserve(usize::try_from(payload_len).unwrap_or_default());
        if self.read_into_buf(payload_len)? < payload_len {
            return Err(self.truncated());
        }

        let block = Block::decode_bounded(&self.buf, &self.limits).map_err(|source| {
            ChainFileError::Decode {
                index: self.index,
                offset: self.offset,
                source,
            }
        })?;
        self.index = self.index.saturating_add(1);
        self.offset = self.offset.saturating_add(len);
        Ok(Some(block))
    }
}

impl Iterator for ChainFileReader {
    type Item = Result<Block, ChainFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.read_block().transpose();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

impl std::iter::FusedIterator for ChainFileReader {}

/// Where the encoded blocks go.
enum Output {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Output {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Self::Plain(w) => w,
            Self::Gzip(w) => w,
        }
    }
}

/// Writes blocks to a chain file that geth (and [`ChainFileReader`]) can read.
///
/// Call [`finish`](Self::finish): dropping the writer without it may lose buffered blocks and
/// never reports a write error.
pub struct ChainFileWriter {
    path: PathBuf,
    out: Output,
    limits: Limits,
    /// Blocks written so far.
    index: u64,
    /// Uncompressed bytes written so far: the offset the next block will have.
    offset: u64,
    /// Reused encoding buffer.
    buf: Vec<u8>,
}

impl std::fmt::Debug for ChainFileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainFileWriter")
            .field("path", &self.path)
            .field("gzip", &matches!(self.out, Output::Gzip(_)))
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl ChainFileWriter {
    /// Creates (or truncates) `path`; `gzip` compresses the whole file.
    pub fn create(path: impl AsRef<Path>, gzip: bool) -> Result<Self, ChainFileError> {
        let path = path.as_ref().to_path_buf();
        let file = match File::create(&path) {
            Ok(file) => file,
            Err(source) => return Err(ChainFileError::Create { path, source }),
        };
        let file = BufWriter::new(file);
        let out = if gzip {
            Output::Gzip(GzEncoder::new(file, Compression::default()))
        } else {
            Output::Plain(file)
        };
        Ok(Self {
            path,
            out,
            limits: Limits::DEFAULT,
            index: 0,
            offset: 0,
            buf: Vec::new(),
        })
    }

    /// Replaces the default size bounds: a block above `max_block_bytes` is refused, because no
    /// reader with the same bounds could read it back.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How many blocks have been written.
    pub fn blocks_written(&self) -> u64 {
        self.index
    }

    /// Appends one block.
    pub fn write_block(&mut self, block: &Block) -> Result<(), ChainFileError> {
        self.buf.clear();
        block.encode(&mut self.buf);
        let max = self.limits.max_block_bytes;
        if self.buf.len() > max {
            return Err(ChainFileError::TooLarge {
                index: self.index,
                offset: self.offset,
                len: self.buf.len() as u64,
                max,
            });
        }
        if let Err(source) = self.out.writer().write_all(&self.buf) {
            return Err(ChainFileError::Write {
                path: self.path.clone(),
                index: self.index,
                source,
            });
        }
        self.index = self.index.saturating_add(1);
        self.offset = self.offset.saturating_add(self.buf.len() as u64);
        Ok(())
    }

    /// Completes the gzip stream, flushes and syncs the file; returns the number of blocks.
    pub fn finish(self) -> Result<u64, ChainFileError> {
        let Self {
            path, out, index, ..
        } = self;
        let result = (|| {
            let file = match out {
                Output::Plain(w) => w,
                Output::Gzip(w) => w.finish()?,
            };
            let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
            // Surfaces a full disk or a failed write-back now rather than as a corrupt file later.
            file.sync_all()
        })();
        result.map_err(|source| ChainFileError::Write {
            path,
            index,
            source,
        })?;
        Ok(index)
    }
}
