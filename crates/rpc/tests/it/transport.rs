//! CORS on the HTTP server, the Origin check of WebSocket handshakes, namespaces per transport.

use serde_json::json;

use crate::harness::{Node, post_raw, raw_request};

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn cors_and_websocket_origins() {
    let node = Node::devnet(3, |config| {
        config.http_cors = vec!["https://wallet.example".to_owned()];
        config.ws_origins = vec!["https://wallet.example".to_owned()];
        config.http_apis = vec![spectrum_rpc::Namespace::Eth];
    });
    let preflight = |origin: &str| {
        raw_request(
            node.http,
            &format!(
                "OPTIONS / HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
            ),
        )
    };
    let (status, headers, _) = preflight("https://wallet.example");
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://wallet.example")
    );
    let (status, _, _) = preflight("https://evil.example");
    assert_eq!(status, 403);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).to_string();
    let (status, text) = post_raw(node.http, &body, &[("Origin", "https://wallet.example")]);
    assert_eq!(status, 200);
    assert!(text.contains("0x4"));
    // HTTP serves only eth here; WebSocket all namespaces.
    let net = json!({"jsonrpc": "2.0", "id": 1, "method": "net_version"}).to_string();
    assert!(post_raw(node.http, &net, &[]).1.contains("-32601"));
    let handshake = |origin: Option<&str>| {
        use std::io::{BufRead, BufReader, Write};
        let origin = origin
            .map(|o| format!("Origin: {o}\r\n"))
            .unwrap_or_default();
        let mut stream = std::net::TcpStream::connect(node.ws).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n"
        )
        .unwrap();
        let mut status_line = String::new();
        BufReader::new(stream).read_line(&mut status_line).unwrap();
        status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0)
    };
    assert_eq!(handshake(Some("https://evil.example")), 403);
    assert_eq!(handshake(Some("https://wallet.example")), 101);
    assert_eq!(handshake(None), 101);
}
