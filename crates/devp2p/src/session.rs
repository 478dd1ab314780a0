//! One devp2p connection: RLPx handshake, Hello, eth Status, then typed eth messages.
//!
//! [`connect`]/[`accept`] stop after Hello with a [`P2pSession`]; [`P2pSession::exchange_status`]
//! turns it into an [`EthSession`]. A session splits into a [`SessionReader`] and a
//! [`SessionWriter`] for use from two tasks (the frame MACs of the directions are independent).

use std::time::Duration;

use secp256k1::SecretKey;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use crate::{
    crypto::{PeerId, peer_id_of},
    error::{P2pError, RlpxError, SessionError, StatusError},
    eth::{ETH62, ETH63, EthMessage, Status, message_count},
    frame::{Egress, HEADER_LEN, Ingress, codec},
    handshake,
    p2p::{
        self, BASE_PROTOCOL_LENGTH, BASE_PROTOCOL_VERSION, Capability, DISCONNECT,
        DisconnectReason, HELLO, Hello, MAX_HELLO_SIZE, PING, PONG,
    },
};

/// Encryption handshake and protocol handshake (Hello, Status) each (reference: 5 s).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for the next frame of an established session (reference: 30 s).
pub const FRAME_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// TCP connect timeout (reference: 15 s).
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(15);
/// Interval between our Pings (reference: 15 s), well inside the peer's read timeout.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);

/// Our side of every connection.
#[derive(Clone)]
pub struct LocalNode {
    /// The node key (the same secp256k1 key that signs blocks).
    pub secret_key: SecretKey,
    /// Client name in Hello.
    pub client_name: String,
    /// TCP port we listen on (0: none), announced in Hello.
    pub listen_port: u16,
}

impl LocalNode {
    /// A node with our client name, `spectrum-rs/<version>`.
    pub fn new(secret_key: SecretKey, listen_port: u16) -> Self {
        Self {
            secret_key,
            client_name: format!("spectrum-rs/v{}", env!("CARGO_PKG_VERSION")),
            listen_port,
        }
    }

    /// Our node id.
    pub fn id(&self) -> PeerId {
        peer_id_of(&self.secret_key)
    }

    fn hello(&self) -> Hello {
        Hello {
            version: BASE_PROTOCOL_VERSION,
            client: self.client_name.clone(),
            capabilities: [ETH63, ETH62]
                .map(|v| Capability {
                    name: "eth".into(),
                    version: u64::from(v),
                })
                .to_vec(),
            listen_port: u64::from(self.listen_port),
            id: self.id(),
        }
    }
}

/// A base-protocol or eth message as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// An eth message.
    Eth(EthMessage),
    /// The peer pinged (answer with [`SessionWriter::pong`]).
    Ping,
    /// The peer answered our ping.
    Pong,
}

/// The reading half of a session.
pub struct SessionReader<S> {
    io: ReadHalf<S>,
    ingress: Ingress,
    snappy: bool,
    eth_version: u8,
}

/// The writing half of a session.
pub struct SessionWriter<S> {
    io: WriteHalf<S>,
    egress: Egress,
    snappy: bool,
}

impl<S: AsyncRead + AsyncWrite> SessionReader<S> {
    /// Reads one frame (no timeout): message code and decompressed payload.
    pub async fn read_raw(&mut self) -> Result<(u64, Vec<u8>), RlpxError> {
        let mut header = [0u8; HEADER_LEN];
        self.io.read_exact(&mut header).await?;
        let (need, size) = self.ingress.decode_header(&header)?;
        let mut body = vec![0u8; need];
        self.io.read_exact(&mut body).await?;
        let (code, payload) = self.ingress.decode_body(&mut body, size)?;
        let payload = if self.snappy {
            p2p::decompress(&payload)?
        } else {
            payload
        };
        Ok((code, payload))
    }

    /// The next message, within [`FRAME_READ_TIMEOUT`]. A Disconnect ends the session as
    /// [`P2pError::Disconnected`].
    pub async fn next(&mut self) -> Result<Incoming, SessionError> {
        let (code, payload) = tokio::time::timeout(FRAME_READ_TIMEOUT, self.read_raw())
            .await
            .map_err(|_| RlpxError::Timeout("frame read"))??;
        self.interpret(code, &payload)
    }

    fn interpret(&self, code: u64, payload: &[u8]) -> Result<Incoming, SessionError> {
        match code {
            PING => Ok(Incoming::Ping),
            PONG => Ok(Incoming::Pong),
            DISCONNECT => {
                Err(P2pError::Disconnected(DisconnectReason::decode_payload(payload)?).into())
            }
            c if c >= BASE_PROTOCOL_LENGTH
                && c - BASE_PROTOCOL_LENGTH < message_count(self.eth_version) =>
            {
                let eth = EthMessage::decode(self.eth_version, c - BASE_PROTOCOL_LENGTH, payload)?;
                Ok(Incoming::Eth(eth))
            }
            c => Err(P2pError::UnknownMessageCode(c).into()),
        }
    }
}

impl<S: AsyncRead + AsyncWrite> SessionWriter<S> {
    /// Writes one message (compressed if Snappy is on).
    pub async fn write_raw(&mut self, code: u64, payload: &[u8]) -> Result<(), RlpxError> {
        let frame = if self.snappy {
            self.egress.encode(code, &p2p::compress(payload)?)?
        } else {
            self.egress.encode(code, payload)?
        };
        self.io.write_all(&frame).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// Sends an eth message.
    pub async fn send(&mut self, message: &EthMessage) -> Result<(), RlpxError> {
        self.write_raw(
            BASE_PROTOCOL_LENGTH + message.code(),
            &message.encode_payload(),
        )
        .await
    }

    /// Sends Ping.
    pub async fn ping(&mut self) -> Result<(), RlpxError> {
        self.write_raw(PING, &[0xc0]).await
    }

    /// Sends Pong.
    pub async fn pong(&mut self) -> Result<(), RlpxError> {
        self.write_raw(PONG, &[0xc0]).await
    }

    /// Sends Disconnect (best effort, bounded by the handshake timeout) and closes the socket.
    pub async fn disconnect(&mut self, reason: DisconnectReason) {
        let send = async {
            self.write_raw(DISCONNECT, &reason.encode_payload()).await?;
            self.io.shutdown().await?;
            Ok::<_, RlpxError>(())
        };
        let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, send).await;
    }
}

/// A session after Hello, before Status.
pub struct P2pSession<S> {
    /// Reading half.
    pub reader: SessionReader<S>,
    /// Writing half.
    pub writer: SessionWriter<S>,
    /// The peer's Hello.
    pub hello: Hello,
    /// The eth version both sides speak (the highest shared).
    pub eth_version: u8,
}

/// What we know of an established peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Its node id.
    pub id: PeerId,
    /// Its Hello (client name, capabilities, listen port).
    pub hello: Hello,
    /// Its Status.
    pub status: Status,
    /// The negotiated eth version.
    pub eth_version: u8,
}

/// A session after Status: exchanges typed eth messages.
pub struct EthSession<S> {
    /// Reading half.
    pub reader: SessionReader<S>,
    /// Writing half.
    pub writer: SessionWriter<S>,
    /// The peer.
    pub info: PeerInfo,
}

async fn within<T>(
    what: &'static str,
    f: impl Future<Output = Result<T, SessionError>>,
) -> Result<T, SessionError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, f)
        .await
        .map_err(|_| RlpxError::Timeout(what))?
}

/// Dials as initiator over `stream`: encryption handshake with `remote_id`, then Hello.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    local: &LocalNode,
    remote_id: PeerId,
) -> Result<P2pSession<S>, SessionError> {
    let secrets = within("auth/ack", async {
        Ok(handshake::initiate(&mut stream, &local.secret_key, remote_id).await?)
    })
    .await?;
    exchange_hello(stream, local, secrets).await
}

/// Answers as responder over `stream`: encryption handshake (either auth format), then Hello.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    local: &LocalNode,
) -> Result<P2pSession<S>, SessionError> {
    let secrets = within("auth/ack", async {
        Ok(handshake::respond(&mut stream, &local.secret_key).await?)
    })
    .await?;
    exchange_hello(stream, local, secrets).await
}

/// The highest eth version both announce.
fn shared_eth_version(caps: &[Capability]) -> Option<u8> {
    caps.iter()
        .filter(|c| c.name == "eth")
        .filter_map(|c| u8::try_from(c.version).ok())
        .filter(|v| *v == ETH63 || *v == ETH62)
        .max()
}

async fn exchange_hello<S: AsyncRead + AsyncWrite>(
    stream: S,
    local: &LocalNode,
    secrets: handshake::Secrets,
) -> Result<P2pSession<S>, SessionError> {
    let remote_id = secrets.remote_id;
    let (egress, ingress) = codec(secrets);
    let (io_r, io_w) = tokio::io::split(stream);
    let mut reader = SessionReader {
        io: io_r,
        ingress,
        snappy: false,
        eth_version: ETH63,
    };
    let mut writer = SessionWriter {
        io: io_w,
        egress,
        snappy: false,
    };
    let hello = match within(
        "hello",
        read_hello(&mut reader, &mut writer, local, remote_id),
    )
    .await
    {
        Ok(hello) => hello,
        Err(e) => {
            if !matches!(e, SessionError::P2p(P2pError::Disconnected(_))) {
                writer.disconnect(e.disconnect_reason()).await;
            }
            return Err(e);
        }
    };
    // EIP-706: compress from here on when both sides speak v5.
    let snappy = hello.version >= BASE_PROTOCOL_VERSION;
    reader.snappy = snappy;
    writer.snappy = snappy;
    let Some(eth_version) = shared_eth_version(&hello.capabilities) else {
        let offered = hello
            .capabilities
            .iter()
            .map(|c| (c.name.clone(), c.version))
            .collect();
        writer.disconnect(DisconnectReason::UselessPeer).await;
        return Err(P2pError::NoSharedCapability(offered).into());
    };
    reader.eth_version = eth_version;
    Ok(P2pSession {
        reader,
        writer,
        hello,
        eth_version,
    })
}

async fn read_hello<S: AsyncRead + AsyncWrite>(
    reader: &mut SessionReader<S>,
    writer: &mut SessionWriter<S>,
    local: &LocalNode,
    remote_id: PeerId,
) -> Result<Hello, SessionError> {
    writer
        .write_raw(HELLO, &alloy_rlp::encode(local.hello()))
        .await?;
    let (code, payload) = reader.read_raw().await?;
    match code {
        HELLO if payload.len() > MAX_HELLO_SIZE => {
            Err(P2pError::HelloTooLarge(payload.len()).into())
        }
        HELLO => {
            let hello: Hello =
                alloy_rlp::Decodable::decode(&mut &payload[..]).map_err(|source| {
                    P2pError::Decode {
                        what: "Hello",
                        source,
                    }
                })?;
            if hello.id != remote_id {
                return Err(P2pError::UnexpectedIdentity.into());
            }
            if hello.id == local.id() {
                return Err(P2pError::ConnectedToSelf.into());
            }
            Ok(hello)
        }
        DISCONNECT => {
            // Before Hello nothing is compressed; some peers compress anyway: try both.
            let reason = DisconnectReason::decode_payload(&payload).or_else(|_| {
                p2p::decompress(&payload)
                    .map_err(P2pError::from)
                    .and_then(|p| DisconnectReason::decode_payload(&p))
            })?;
            Err(P2pError::Disconnected(reason).into())
        }
        other => Err(P2pError::ExpectedHello(other).into()),
    }
}

impl<S: AsyncRead + AsyncWrite> P2pSession<S> {
    /// Sends our Status (at the negotiated version) and checks the peer's. On a mismatch the peer
    /// is sent Disconnect(subprotocol error), as the reference does, and the error names the field.
    pub async fn exchange_status(mut self, ours: &Status) -> Result<EthSession<S>, SessionError> {
        let ours = Status {
            protocol_version: u32::from(self.eth_version),
            ..ours.clone()
        };
        let result = within("status", async {
            self.writer.send(&EthMessage::Status(ours.clone())).await?;
            match self.reader.read_raw().await? {
                (BASE_PROTOCOL_LENGTH, payload) => {
                    match EthMessage::decode(self.eth_version, 0, &payload)? {
                        EthMessage::Status(theirs) => {
                            theirs.validate(&ours)?;
                            Ok(theirs)
                        }
                        _ => Err(StatusError::NoStatus(0).into()),
                    }
                }
                (DISCONNECT, payload) => {
                    Err(P2pError::Disconnected(DisconnectReason::decode_payload(&payload)?).into())
                }
                (code, _) => {
                    Err(StatusError::NoStatus(code.saturating_sub(BASE_PROTOCOL_LENGTH)).into())
                }
            }
        })
        .await;
        match result {
            Ok(status) => Ok(EthSession {
                info: PeerInfo {
                    id: self.hello.id,
                    hello: self.hello,
                    status,
                    eth_version: self.eth_version,
                },
                reader: self.reader,
                writer: self.writer,
            }),
            Err(e) => {
                if !matches!(e, SessionError::P2p(P2pError::Disconnected(_))) {
                    self.writer.disconnect(e.disconnect_reason()).await;
                }
                Err(e)
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite> EthSession<S> {
    /// The next eth message; Pings are answered on the way.
    pub async fn next_message(&mut self) -> Result<EthMessage, SessionError> {
        loop {
            match self.reader.next().await? {
                Incoming::Eth(message) => return Ok(message),
                Incoming::Ping => self.writer.pong().await?,
                Incoming::Pong => {}
            }
        }
    }

    /// Sends an eth message.
    pub async fn send(&mut self, message: &EthMessage) -> Result<(), SessionError> {
        Ok(self.writer.send(message).await?)
    }
}

/// Dials `remote` over TCP (within [`DIAL_TIMEOUT`]) and runs the whole handshake.
pub async fn dial(
    local: &LocalNode,
    remote: &crate::enode::NodeRecord,
    status: &Status,
) -> Result<EthSession<tokio::net::TcpStream>, SessionError> {
    let stream = tokio::time::timeout(
        DIAL_TIMEOUT,
        tokio::net::TcpStream::connect(remote.tcp_addr()),
    )
    .await
    .map_err(|_| RlpxError::Timeout("dial"))?
    .map_err(RlpxError::Io)?;
    let _ = stream.set_nodelay(true);
    connect(stream, local, remote.id)
        .await?
        .exchange_status(status)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random_secret_key;
    use alloy_primitives::{B256, U256};
    use tokio::io::{AsyncWriteExt, duplex};

    fn status(network_id: u64) -> Status {
        Status {
            protocol_version: 63,
            network_id,
            total_difficulty: U256::from(1),
            head: B256::repeat_byte(1),
            genesis: B256::repeat_byte(2),
        }
    }

    #[tokio::test]
    async fn two_sessions_meet_in_memory() {
        let (a, b) = duplex(1 << 20);
        let (ka, kb) = (
            LocalNode::new(random_secret_key(), 1),
            LocalNode::new(random_secret_key(), 2),
        );
        let b_id = kb.id();
        let (ra, rb) = tokio::join!(
            async {
                connect(a, &ka, b_id)
                    .await
                    .unwrap()
                    .exchange_status(&status(1))
                    .await
            },
            async {
                accept(b, &kb)
                    .await
                    .unwrap()
                    .exchange_status(&status(1))
                    .await
            }
        );
        let (mut sa, mut sb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(sa.info.id, b_id);
        assert_eq!(
            sb.info.hello.client,
            format!("spectrum-rs/v{}", env!("CARGO_PKG_VERSION"))
        );
        sa.writer.ping().await.unwrap();
        let msg = EthMessage::GetBlockBodies(vec![B256::repeat_byte(5); 3]);
        sa.send(&msg).await.unwrap();
        // b answers the ping inside next_message and returns the eth message.
        assert_eq!(sb.next_message().await.unwrap(), msg);
        assert_eq!(sa.reader.next().await.unwrap(), Incoming::Pong);
    }

    #[tokio::test]
    async fn network_mismatch_is_refused_with_subprotocol_error() {
        let (a, b) = duplex(1 << 20);
        let (ka, kb) = (
            LocalNode::new(random_secret_key(), 1),
            LocalNode::new(random_secret_key(), 2),
        );
        let b_id = kb.id();
        let (ra, rb) = tokio::join!(
            async {
                connect(a, &ka, b_id)
                    .await
                    .unwrap()
                    .exchange_status(&status(7))
                    .await
            },
            async {
                accept(b, &kb)
                    .await
                    .unwrap()
                    .exchange_status(&status(1))
                    .await
            }
        );
        // Each side reads the other's Status first and refuses it by name.
        assert!(matches!(
            rb,
            Err(SessionError::Status(StatusError::NetworkIdMismatch {
                expected: 1,
                got: 7
            }))
        ));
        assert!(matches!(
            ra,
            Err(SessionError::Status(StatusError::NetworkIdMismatch {
                expected: 7,
                got: 1
            }))
        ));
    }

    #[tokio::test]
    async fn responder_accepts_the_pre_eip8_auth() {
        let (mut a, mut b) = duplex(1 << 16);
        let kb = LocalNode::new(random_secret_key(), 2);
        let ka = random_secret_key();
        let b_pub = crate::crypto::public_key(&kb.id()).unwrap();
        a.write_all(&handshake::legacy_auth(&ka, &b_pub))
            .await
            .unwrap();
        let mut ack = vec![0u8; 97 + crate::crypto::ECIES_OVERHEAD];
        let (secrets, read) = tokio::join!(
            handshake::respond(&mut b, &kb.secret_key),
            a.read_exact(&mut ack)
        );
        assert_eq!(secrets.unwrap().remote_id, peer_id_of(&ka));
        read.unwrap();
        // The legacy ack decrypts with no shared MAC data.
        let plain = crate::crypto::ecies_decrypt(&ka, &ack, &[]).unwrap();
        assert_eq!(plain.len(), 97);
    }

    #[tokio::test]
    async fn initiator_accepts_the_pre_eip8_ack() {
        let (mut a, mut b) = duplex(1 << 16);
        let (ka, kb) = (random_secret_key(), random_secret_key());
        let (ra, rb) = tokio::join!(
            handshake::initiate(&mut a, &ka, peer_id_of(&kb)),
            handshake::respond_as(&mut b, &kb, true)
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(
            (ra.remote_id, rb.remote_id),
            (peer_id_of(&kb), peer_id_of(&ka))
        );
        assert_eq!((ra.aes, ra.mac), (rb.aes, rb.mac));
    }

    #[tokio::test]
    async fn a_silent_peer_times_out_the_handshake() {
        let (a, b) = duplex(1 << 16);
        let kb = LocalNode::new(random_secret_key(), 2);
        let started = tokio::time::Instant::now();
        let r = accept(b, &kb).await;
        assert!(
            matches!(
                r,
                Err(SessionError::P2p(P2pError::Rlpx(RlpxError::Timeout(
                    "auth/ack"
                ))))
            ),
            "{:?}",
            r.err()
        );
        let waited = started.elapsed();
        assert!(
            waited >= HANDSHAKE_TIMEOUT && waited < HANDSHAKE_TIMEOUT * 2,
            "{waited:?}"
        );
        drop(a);
    }

    #[tokio::test]
    async fn garbage_and_truncated_auth_are_typed_errors() {
        let kb = LocalNode::new(random_secret_key(), 2);
        // 400 bytes of garbage: the legacy attempt fails, the EIP-8 size prefix (0x0101 = 257)
        // is too small for an auth.
        let (mut a, b) = duplex(1 << 16);
        a.write_all(&[1u8; 400]).await.unwrap();
        let r = handshake::respond(&mut { b }, &kb.secret_key).await;
        assert!(
            matches!(
                r,
                Err(RlpxError::HandshakeSize {
                    what: "auth",
                    size: 257
                })
            ),
            "{r:?}"
        );
        // A plausible EIP-8 prefix with garbage ciphertext: the ECIES MAC fails.
        let (mut a, b) = duplex(1 << 16);
        let mut junk = vec![0x04u8; 402];
        junk[..2].copy_from_slice(&400u16.to_be_bytes());
        a.write_all(&junk).await.unwrap();
        let r = handshake::respond(&mut { b }, &kb.secret_key).await;
        assert!(
            matches!(r, Err(RlpxError::Ecies { what: "auth", .. })),
            "{r:?}"
        );
        // Truncated: the peer closes after 100 bytes.
        let (mut a, b) = duplex(1 << 16);
        a.write_all(&[0u8; 100]).await.unwrap();
        drop(a);
        let r = handshake::respond(&mut { b }, &kb.secret_key).await;
        assert!(
            matches!(r, Err(RlpxError::Io(ref e)) if e.kind() == std::io::ErrorKind::UnexpectedEof),
            "{r:?}"
        );
    }
}
