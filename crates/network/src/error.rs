//! Errors of the network crate.

use crate::messages::MessageError;

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The node key is not a valid secp256k1 secret key.
    #[error("invalid node key: {0}")]
    InvalidNodeKey(String),
    /// A behaviour or the transport could not be built.
    #[error("network setup: {0}")]
    Setup(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// Why a request to a peer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The network service has stopped.
    #[error("network service stopped")]
    ServiceStopped,
    /// The peer is not connected (or has not completed the handshake).
    #[error("peer not connected")]
    NotConnected,
    /// No response in time.
    #[error("request timed out")]
    Timeout,
    /// The connection closed before the response.
    #[error("connection closed")]
    ConnectionClosed,
    /// The peer does not speak our protocol (another chain).
    #[error("peer does not support the protocol")]
    UnsupportedProtocol,
    /// The request asks for more than the limits allow; it was not sent.
    #[error("request over the limits: {0}")]
    OverLimit(String),
    /// Stream failure (including a response over the size bound).
    #[error("stream error: {0}")]
    Io(String),
    /// The response does not decode or does not answer the request; the peer was penalised.
    #[error("bad response: {0}")]
    BadResponse(String),
}

impl From<MessageError> for RequestError {
    fn from(error: MessageError) -> Self {
        Self::BadResponse(error.to_string())
    }
}
