//! The `/metrics` exporter: a minimal HTTP/1.1 server on its own port. It answers
//! `GET /metrics` with the registry and closes each connection; requests are read up to a
//! small bound with a deadline, and connections are capped, so that a flood of scrapes or
//! slow clients costs the node a few tasks, not its import.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Semaphore,
    task::JoinHandle,
};

/// Longest request head read.
const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// A client that sends no full request head within this is dropped.
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 64;

/// The exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Binding the address failed.
    #[error("cannot listen for metrics on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The running exporter.
#[derive(Debug)]
pub struct MetricsServer {
    /// The bound address (port 0 binds an ephemeral one).
    pub addr: SocketAddr,
    /// The accept loop (abort to stop).
    pub task: JoinHandle<()>,
}

/// Binds `addr` and serves `/metrics` on the current tokio runtime.
pub async fn serve(addr: SocketAddr) -> Result<MetricsServer, ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let task = tokio::spawn(accept_loop(listener));
    Ok(MetricsServer { addr, task })
}

async fn accept_loop(listener: TcpListener) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(READ_DEADLINE, answer(stream)).await;
                    drop(permit);
                });
            }
            Err(error) => tracing::debug!(%error, "metrics accept failed"),
        }
    }
}

async fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let head = read_head(&mut stream).await?;
    let response = respond(&head);
    stream.write_all(&response).await?;
    stream.shutdown().await
}

/// Reads until the end of the request head (or the bound).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_BYTES {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(head)
}

/// The full response to a request head.
fn respond(head: &[u8]) -> Vec<u8> {
    let line = head
        .split(|b| *b == b'\n')
        .next()
        .map(|l| String::from_utf8_lossy(l).trim().to_owned())
        .unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    match (method, path) {
        ("GET", "/metrics") => {
            crate::process::sample();
            http_response(
                "200 OK",
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                &crate::get().encode(),
            )
        }
        ("GET", _) => http_response("404 Not Found", "text/plain", "try /metrics\n"),
        _ => http_response("405 Method Not Allowed", "text/plain", "GET only\n"),
    }
}

fn http_response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_metrics_is_served() {
        let ok = String::from_utf8(respond(b"GET /metrics HTTP/1.1\r\n\r\n")).unwrap();
        assert!(ok.starts_with("HTTP/1.1 200 OK"), "{ok}");
        assert!(ok.contains("spectrum_chain_head_number"), "{ok}");
        let missing = String::from_utf8(respond(b"GET / HTTP/1.1\r\n\r\n")).unwrap();
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        let post = String::from_utf8(respond(b"POST /metrics HTTP/1.1\r\n\r\n")).unwrap();
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    }
}
