//! Framing of request-response messages: a 4-byte big-endian length, then that many bytes.
//!
//! The length is checked against the bound for the direction before anything is read, and the
//! buffer grows only as bytes arrive, so a peer announcing a huge message costs nothing. A
//! message over the bound is an `InvalidData` error, which the service turns into a penalty.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{StreamProtocol, request_response};

/// A request as read from a stream. An oversized request is not an error of the codec but a
/// value, because libp2p does not report a failed request read to the behaviour, and the
/// service must see it to charge the peer that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestFrame {
    /// The request's bytes.
    Bytes(Vec<u8>),
    /// The length prefix announced more than the bound; the body was not read.
    Oversized {
        /// The announced length.
        len: usize,
    },
}

/// The codec: opaque bytes, bounded per direction; typed decoding happens in the service, where
/// a bad message can be charged to the peer that sent it.
#[derive(Debug, Clone, Copy)]
pub struct FramedCodec {
    /// Largest request accepted.
    pub max_request_bytes: usize,
    /// Largest response accepted.
    pub max_response_bytes: usize,
}

async fn read_len<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<usize> {
    let mut prefix = [0u8; 4];
    io.read_exact(&mut prefix).await?;
    usize::try_from(u32::from_be_bytes(prefix))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "frame length"))
}

async fn read_body<T: AsyncRead + Unpin + Send>(io: &mut T, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let limit = u64::try_from(len).unwrap_or(u64::MAX);
    io.take(limit).read_to_end(&mut buf).await?;
    if buf.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "message shorter than its length prefix",
        ));
    }
    Ok(buf)
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let len = read_len(io).await?;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {len} bytes exceeds the limit of {max}"),
        ));
    }
    read_body(io, len).await
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message over 4 GiB"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

impl request_response::Codec for FramedCodec {
    type Protocol = StreamProtocol;
    type Request = RequestFrame;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<RequestFrame>
    where
        T: AsyncRead + Unpin + Send,
    {
        let len = read_len(io).await?;
        if len > self.max_request_bytes {
            return Ok(RequestFrame::Oversized { len });
        }
        read_body(io, len).await.map(RequestFrame::Bytes)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response_bytes).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: RequestFrame,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match req {
            RequestFrame::Bytes(bytes) => write_frame(io, &bytes).await,
            RequestFrame::Oversized { .. } => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an oversized frame is never sent",
            )),
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;

    #[test]
    fn frames_round_trip_and_oversize_is_invalid_data() {
        futures::executor::block_on(async {
            let mut out = Cursor::new(Vec::new());
            write_frame(&mut out, b"hello").await.unwrap();
            let bytes = out.into_inner();
            assert_eq!(&bytes[..4], &[0, 0, 0, 5]);
            let frame = read_frame(&mut Cursor::new(bytes.clone()), 5)
                .await
                .unwrap();
            assert_eq!(frame, b"hello");
            let err = read_frame(&mut Cursor::new(bytes), 4).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            // A prefix announcing more than arrives.
            let err = read_frame(&mut Cursor::new(vec![0, 0, 0, 9, 1]), 100)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        });
    }
}
