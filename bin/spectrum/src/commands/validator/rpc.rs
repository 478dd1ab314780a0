//! A small blocking JSON-RPC client over plain HTTP/1.1 (one connection per call), enough to
//! talk to our own node's `--http` endpoint without pulling an HTTP stack into the binary.
//! Answers are bounded in size; a node that does not answer in time is an error, not a hang.

use std::{
    io::{Read, Write},
    net::{TcpStream, ToSocketAddrs},
    time::Duration,
};

use eyre::{WrapErr, bail, eyre};
use serde_json::{Value, json};

/// The largest answer read (a `tribe_pocGetStatus` of thousands of stakers fits many times).
const MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;
/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A node's JSON-RPC endpoint, `http://host:port[/path]`.
#[derive(Debug, Clone)]
pub struct Rpc {
    host_port: String,
    path: String,
}

/// A JSON-RPC error answer: code, message and the optional `data` (revert bytes for code 3).
#[derive(Debug, Clone)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<String>,
}

impl Rpc {
    /// Parses `http://host:port[/path]` (https is not spoken: use a local node or a tunnel).
    pub fn new(url: &str) -> eyre::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| eyre!("--rpc {url}: only http:// URLs are supported"))?;
        let (host_port, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        if host_port.is_empty() {
            bail!("--rpc {url}: no host");
        }
        let host_port = if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:80")
        };
        Ok(Rpc {
            host_port,
            path: path.to_owned(),
        })
    }

    /// Calls `method`: `Ok(Ok(result))`, `Ok(Err(error))` for a JSON-RPC error answer, `Err` if
    /// the node could not be reached or answered nonsense.
    pub fn call_raw(&self, method: &str, params: Value) -> eyre::Result<Result<Value, RpcError>> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let answer = self
            .post(&body.to_string())
            .wrap_err_with(|| format!("{method} on http://{}", self.host_port))?;
        if let Some(error) = answer.get("error") {
            return Ok(Err(RpcError {
                code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                data: error.get("data").and_then(Value::as_str).map(str::to_owned),
            }));
        }
        Ok(Ok(answer.get("result").cloned().unwrap_or(Value::Null)))
    }

    /// Calls `method`; a JSON-RPC error answer is an error.
    pub fn call(&self, method: &str, params: Value) -> eyre::Result<Value> {
        self.call_raw(method, params)?
            .map_err(|e| eyre!("{method}: {} (code {})", e.message, e.code))
    }

    fn post(&self, body: &str) -> eyre::Result<Value> {
        let addr = self
            .host_port
            .to_socket_addrs()
            .wrap_err("cannot resolve the host")?
            .next()
            .ok_or_else(|| eyre!("the host has no address"))?;
        let mut stream = TcpStream::connect_timeout(&addr, CALL_TIMEOUT)
            .wrap_err("cannot connect (is the node running with --http?)")?;
        stream.set_read_timeout(Some(CALL_TIMEOUT))?;
        stream.set_write_timeout(Some(CALL_TIMEOUT))?;
        write!(
            stream,
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.host_port,
            body.len(),
        )?;
        let mut response = Vec::new();
        stream
            .take(MAX_RESPONSE_BYTES)
            .read_to_end(&mut response)
            .wrap_err("reading the answer")?;
        parse_http_json(&response)
    }
}

/// The JSON body of an HTTP/1.1 answer (`Content-Length` or read-to-close; not chunked).
fn parse_http_json(response: &[u8]) -> eyre::Result<Value> {
    let text = std::str::from_utf8(response).wrap_err("the answer is not UTF-8")?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| eyre!("not an HTTP answer"))?;
    let status = head.lines().next().unwrap_or_default();
    if head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    }) {
        bail!("chunked HTTP answers are not supported");
    }
    serde_json::from_str(body).wrap_err_with(|| format!("{status}: not a JSON-RPC answer: {body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_to_host_port_and_path() {
        let rpc = Rpc::new("http://127.0.0.1:8545").unwrap();
        assert_eq!(
            (rpc.host_port.as_str(), rpc.path.as_str()),
            ("127.0.0.1:8545", "/")
        );
        let rpc = Rpc::new("http://node/rpc").unwrap();
        assert_eq!(
            (rpc.host_port.as_str(), rpc.path.as_str()),
            ("node:80", "/rpc")
        );
        assert!(Rpc::new("https://node").is_err());
        assert!(Rpc::new("http:///x").is_err());
    }

    #[test]
    fn http_answers_parse_and_nonsense_is_an_error() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 30\r\n\r\n{\"jsonrpc\":\"2.0\",\"result\":1}";
        assert_eq!(parse_http_json(ok).unwrap()["result"], json!(1));
        assert!(parse_http_json(b"garbage").is_err());
        assert!(parse_http_json(b"HTTP/1.1 403 Forbidden\r\n\r\nHost denied").is_err());
    }
}
