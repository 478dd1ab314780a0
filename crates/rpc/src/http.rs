//! HTTP middleware in front of the servers, the guards against web pages: on the HTTP server the
//! `Host` allow-list (`--http.vhosts`, against DNS rebinding, as geth) and CORS
//! (`--http.corsdomain`); on the WebSocket server the Origin check of handshakes
//! (`--ws.origins`).
//!
//! Unlike geth, which executes a cross-origin request and only leaves out the CORS header (the
//! browser then hides the answer, but a transaction sent is sent), the HTTP server refuses a
//! request from a disallowed `Origin` with 403 before it runs.

use std::{
    future::Future,
    net::IpAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use jsonrpsee::server::HttpBody;
use tower::{Layer, Service};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which browser origins are allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// From the comma-separated flag values (`*` allows every origin).
    pub fn new(origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self(
            origins
                .into_iter()
                .map(|o| o.into().trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .collect(),
        )
    }

    /// Whether `origin` is listed (or `*` is).
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        self.0.iter().any(|o| o == "*" || *o == origin)
    }

    /// Nothing listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Which `Host` names the HTTP server answers to (geth's virtual hosts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// From the comma-separated flag values (`*` allows every name).
    pub fn new(hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self(
            hosts
                .into_iter()
                .map(|h| h.into().trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        )
    }

    /// Whether a request with this `Host` header value is served: no header (not a browser),
    /// an IP address (a rebinding attack needs a name), or a listed name, port ignored.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host.map(str::trim).filter(|h| !h.is_empty()) else {
            return true;
        };
        let name = host_name(host);
        if name.parse::<IpAddr>().is_ok() {
            return true;
        }
        let name = name.to_ascii_lowercase();
        self.0.iter().any(|h| h == "*" || *h == name)
    }
}

/// The name part of a `Host` value: without the port, an IPv6 literal without brackets.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.split_once(':') {
        // One colon: name and port. More: a bare IPv6 address.
        Some((name, port)) if !port.contains(':') => name,
        _ => host,
    }
}

/// What the middleware enforces.
#[derive(Debug, Clone)]
enum Policy {
    /// HTTP server: refuse unknown `Host` names and disallowed origins, answer CORS
    /// pre-flights and tag responses for allowed origins.
    Http {
        cors: AllowedOrigins,
        vhosts: AllowedHosts,
    },
    /// WebSocket server: refuse handshakes from browser origins not listed. Without a list,
    /// only local pages (`localhost`, `127.0.0.1`) may connect, as geth does.
    WsOrigins(AllowedOrigins),
}

/// The layer (see module doc).
#[derive(Debug, Clone)]
pub struct OriginLayer(Arc<Policy>);

impl OriginLayer {
    /// The `Host` allow-list and CORS for the HTTP server.
    pub fn http(cors: AllowedOrigins, vhosts: AllowedHosts) -> Self {
        Self(Arc::new(Policy::Http { cors, vhosts }))
    }

    /// The Origin check for the WebSocket server.
    pub fn ws_origins(origins: AllowedOrigins) -> Self {
        Self(Arc::new(Policy::WsOrigins(origins)))
    }
}

impl<S> Layer<S> for OriginLayer {
    type Service = OriginService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginService {
            inner,
            policy: self.0.clone(),
        }
    }
}

/// The service the layer wraps around the server.
#[derive(Debug, Clone)]
pub struct OriginService<S> {
    inner: S,
    policy: Arc<Policy>,
}

fn is_local_origin(origin: &str) -> bool {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or(origin);
    let host = rest.split(':').next().unwrap_or(rest);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

fn plain(status: StatusCode, text: &'static str) -> Response<HttpBody> {
    let mut response = Response::new(HttpBody::from(text));
    *response.status_mut() = status;
    response
}

fn preflight(origin: &str, request_headers: Option<&HeaderValue>) -> Response<HttpBody> {
    let mut response = plain(StatusCode::OK, "");
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, GET, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        request_headers
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("content-type")),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

impl<S, B> Service<Request<B>> for OriginService<S>
where
    S: Service<Request<B>, Response = Response<HttpBody>>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<HttpBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if let Policy::Http { vhosts, .. } = &*self.policy {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .or_else(|| request.uri().authority().map(|a| a.as_str()));
            if !vhosts.allows(host) {
                // geth's words.
                return Box::pin(async {
                    Ok(plain(StatusCode::FORBIDDEN, "invalid host specified"))
                });
            }
        }
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match (&*self.policy, origin) {
            // Not from a browser page: nothing to check.
            (_, None) => {
                let future = self.inner.call(request);
                Box::pin(async move { future.await.map_err(Into::into) })
            }
            (Policy::WsOrigins(allowed), Some(origin)) => {
                let ok =
                    allowed.allows(&origin) || (allowed.is_empty() && is_local_origin(&origin));
                if !ok {
                    return Box::pin(async {
                        Ok(plain(StatusCode::FORBIDDEN, "origin not allowed"))
                    });
                }
                let future = self.inner.call(request);
                Box::pin(async move { future.await.map_err(Into::into) })
            }
            (Policy::Http { cors, .. }, Some(origin)) => {
                if !cors.allows(&origin) {
                    // Refused before it runs: a page must not even send a transaction.
                    return Box::pin(async {
                        Ok(plain(StatusCode::FORBIDDEN, "origin not allowed"))
                    });
                }
                if request.method() == Method::OPTIONS {
                    let response = preflight(
                        &origin,
                        request
                            .headers()
                            .get(header::ACCESS_CONTROL_REQUEST_HEADERS),
                    );
                    return Box::pin(async move { Ok(response) });
                }
                let future = self.inner.call(request);
                Box::pin(async move {
                    let mut response = future.await.map_err(Into::into)?;
                    if let Ok(value) = HeaderValue::from_str(&origin) {
                        let headers = response.headers_mut();
                        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
                    }
                    Ok(response)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_lists() {
        let list = AllowedOrigins::new(["https://app.example/", " http://a.b "]);
        assert!(list.allows("https://app.example"));
        assert!(list.allows("HTTP://A.B"));
        assert!(!list.allows("https://evil.example"));
        assert!(AllowedOrigins::new(["*"]).allows("https://anything"));
        assert!(AllowedOrigins::new(Vec::<String>::new()).is_empty());
        assert!(is_local_origin("http://localhost:3000"));
        assert!(is_local_origin("http://127.0.0.1"));
        assert!(!is_local_origin("http://localhost.evil.example"));
    }

    #[test]
    fn host_lists() {
        let local = AllowedHosts::new(["localhost"]);
        assert!(local.allows(Some("localhost:8545")));
        assert!(local.allows(Some("LOCALHOST")));
        assert!(local.allows(Some("127.0.0.1:8545")));
        assert!(local.allows(Some("[::1]:8545")));
        assert!(local.allows(Some("::1")));
        assert!(local.allows(Some("10.1.2.3")));
        assert!(local.allows(None));
        assert!(!local.allows(Some("evil.example")));
        assert!(!local.allows(Some("evil.example:8545")));
        assert!(!local.allows(Some("localhost.evil.example")));
        assert!(AllowedHosts::new(["*"]).allows(Some("anything.example")));
        assert!(!AllowedHosts::new(Vec::<String>::new()).allows(Some("localhost")));
    }
}
