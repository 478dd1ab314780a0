//! The status page: `GET /` with `Accept: text/html` on the HTTP JSON-RPC port answers an
//! HTML page an operator can leave open (JSON-RPC stays on `POST`). It shows the head and its
//! age, sync progress, peers, the signers and leaders with each one's last sealed block in the
//! recent window and the stand-in (out-of-turn) blocks there, this node's validator and role,
//! the pool, the version and uptime. It refreshes itself with `<meta http-equiv="refresh">`:
//! no script, nothing loaded from outside the binary. The page is built on a blocking thread
//! (it reads the database) at most once a second, whatever the number of requests (a flood of
//! page loads waits for one render and shares it), behind the same `Host` guard as JSON-RPC.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, U256};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use jsonrpsee::server::HttpBody;
use tower::{Layer, Service};

use crate::api::Api;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Blocks of the recent window shown per signer.
const WINDOW: u64 = 64;
/// Seconds between the page's refreshes.
const REFRESH_SECS: u32 = 5;

/// The layer (see module doc); `None` serves no page (the WebSocket server).
#[derive(Clone)]
pub(crate) struct StatusPageLayer(Option<Arc<Page>>);

pub(crate) struct Page {
    api: Arc<Api>,
    started: Instant,
    /// The last render and when it was made; held while rendering so that renders never run
    /// in parallel.
    cache: tokio::sync::Mutex<Option<(Instant, Arc<str>)>>,
}

/// A render is reused this long.
const CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

impl Page {
    /// The page, rendered at most once per [`CACHE_FOR`].
    async fn html(self: Arc<Self>) -> Arc<str> {
        let mut cache = self.cache.lock().await;
        if let Some((at, html)) = &*cache
            && at.elapsed() < CACHE_FOR
        {
            return html.clone();
        }
        let page = self.clone();
        let html: Arc<str> = tokio::task::spawn_blocking(move || page.render())
            .await
            .unwrap_or_else(|e| format!("<p>status page failed: {}</p>", escape(&e.to_string())))
            .into();
        *cache = Some((Instant::now(), html.clone()));
        html
    }
}

impl StatusPageLayer {
    pub(crate) fn new(api: Option<Arc<Api>>) -> Self {
        Self(api.map(|api| {
            Arc::new(Page {
                api,
                started: Instant::now(),
                cache: tokio::sync::Mutex::new(None),
            })
        }))
    }
}

impl<S> Layer<S> for StatusPageLayer {
    type Service = StatusPageService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StatusPageService {
            inner,
            page: self.0.clone(),
        }
    }
}

/// The service the layer wraps around the server.
#[derive(Clone)]
pub(crate) struct StatusPageService<S> {
    inner: S,
    page: Option<Arc<Page>>,
}

fn wants_page<B>(request: &Request<B>) -> bool {
    request.method() == Method::GET
        && request.uri().path() == "/"
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

impl<S, B> Service<Request<B>> for StatusPageService<S>
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
        match &self.page {
            Some(page) if wants_page(&request) => {
                let page = page.clone();
                Box::pin(async move {
                    let html = page.html().await;
                    let mut response = Response::new(HttpBody::from(html.to_string()));
                    let headers = response.headers_mut();
                    headers.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    );
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    *response.status_mut() = StatusCode::OK;
                    Ok(response)
                })
            }
            _ => {
                let future = self.inner.call(request);
                Box::pin(async move { future.await.map_err(Into::into) })
            }
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn duration(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// One signer's row: its last sealed block in the window and how many it sealed there.
#[derive(Default)]
struct Sealed {
    last: Option<u64>,
    count: u64,
}

impl Page {
    fn render(&self) -> String {
        let api = &self.api;
        let ctx = &api.ctx;
        let mut body = String::new();
        let head = api
            .head()
            .ok()
            .and_then(|(n, _)| ctx.db.header_by_number(n).ok().flatten());
        let (number, age) = head.as_ref().map_or((0, 0), |h| {
            (h.number, now_secs().saturating_sub(h.timestamp))
        });
        let health = if age <= 60 { "ok" } else { "stale" };
        let _ = write!(
            body,
            "<section><h2>Chain</h2><dl><dt>Chain</dt><dd>{} (id {})</dd><dt>Head</dt><dd id=\"head\">#{number}</dd>\
             <dt>Head age</dt><dd id=\"age\" class=\"{health}\">{}</dd>",
            escape(&ctx.spec.name),
            ctx.spec.chain_id,
            duration(age)
        );
        match ctx.network.syncing() {
            Some(p) => {
                let left = p.highest_block.saturating_sub(p.current_block);
                let _ = write!(
                    body,
                    "<dt>Sync</dt><dd id=\"sync\">syncing: #{} of #{}, {left} blocks to go</dd>",
                    p.current_block, p.highest_block
                );
            }
            None => body.push_str("<dt>Sync</dt><dd id=\"sync\">in step</dd>"),
        }
        let status = ctx.pool.status();
        let _ = write!(
            body,
            "<dt>Peers</dt><dd id=\"peers\">{}</dd><dt>Pool</dt><dd id=\"pool\">{} pending, {} queued</dd></dl></section>",
            ctx.network.peer_count(),
            status.pending,
            status.queued
        );
        if let Some(head) = &head {
            self.render_validators(&mut body, head);
        }
        let _ = write!(
            body,
            "<footer>{} · up {} · refreshes every {REFRESH_SECS} s</footer>",
            escape(&ctx.client_version),
            duration(self.started.elapsed().as_secs())
        );
        page(&format!("Spectrum node #{number}"), &body)
    }

    fn render_validators(&self, body: &mut String, head: &spectrum_primitives::SealedHeader) {
        let api = &self.api;
        let Ok(status) = api.chief.status(head) else {
            body.push_str("<section><h2>Validators</h2><p>the chief contract cannot be read at the head</p></section>");
            return;
        };
        let (sealed, stand_ins) = self.recent_seals(head.number);
        let leaders = status.leaders.clone().unwrap_or_default();
        let mut everyone: Vec<(Address, &'static str)> = Vec::new();
        for a in &leaders {
            everyone.push((*a, "leader"));
        }
        for a in status.signers.iter().filter(|a| **a != Address::ZERO) {
            if !leaders.contains(a) {
                everyone.push((*a, "signer"));
            }
        }
        let ours = api.ctx.validator;
        let role = match ours.map(|a| status.role_of(a)) {
            Some(spectrum_tribe_state::ValidatorRole::Leader) => "leader",
            Some(spectrum_tribe_state::ValidatorRole::Signer) => "signer",
            Some(spectrum_tribe_state::ValidatorRole::None) => {
                "not in the signer set: seals nothing"
            }
            None => "not a validator",
        };
        let _ = write!(
            body,
            "<section><h2>Validators</h2><p>This node: <span id=\"role\">{}</span>{}</p>\
             <p>Last {WINDOW} blocks: <span id=\"standins\">{stand_ins}</span> sealed out of turn (a slot missed by its in-turn signer)</p>\
             <table id=\"validators\"><tr><th>address</th><th>role</th><th>last sealed</th><th>sealed in window</th></tr>",
            role,
            ours.map_or_else(String::new, |a| format!(" ({})", a.to_checksum(None)))
        );
        for (address, kind) in everyone {
            let s = sealed.get(&address);
            let last = s
                .and_then(|s| s.last)
                .map_or_else(|| "-".to_owned(), |n| format!("#{n}"));
            let count = s.map_or(0, |s| s.count);
            let mine = if Some(address) == ours {
                " class=\"ours\""
            } else {
                ""
            };
            let _ = write!(
                body,
                "<tr{mine}><td>{}</td><td>{kind}</td><td>{last}</td><td>{count}</td></tr>",
                address.to_checksum(None)
            );
        }
        body.push_str("</table></section>");
    }

    /// Who sealed each of the last [`WINDOW`] blocks, and how many were stand-ins (the
    /// in-turn block has the highest difficulty of the window's era).
    fn recent_seals(&self, head: u64) -> (BTreeMap<Address, Sealed>, u64) {
        let mut sealed: BTreeMap<Address, Sealed> = BTreeMap::new();
        let mut difficulties = Vec::new();
        for number in (head.saturating_sub(WINDOW.saturating_sub(1))..=head).rev() {
            if number == 0 {
                continue;
            }
            let Ok(Some(header)) = self.api.ctx.db.header_by_number(number) else {
                continue;
            };
            difficulties.push(header.difficulty);
            if let Ok(signer) = spectrum_consensus::block_signer(&header) {
                let entry = sealed.entry(signer).or_default();
                entry.last = Some(entry.last.unwrap_or(number).max(number));
                entry.count = entry.count.saturating_add(1);
            }
        }
        let top = difficulties.iter().max().copied().unwrap_or(U256::ZERO);
        let stand_ins = difficulties.iter().filter(|d| **d < top).count() as u64;
        (sealed, stand_ins)
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;background:#fafafa;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}dl{display:grid;grid-template-columns:10em auto;gap:.3em}\
dt{color:#666}dd{margin:0;font-weight:600}.ok{color:#1a7f37}.stale{color:#c62828}\
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left;font-family:monospace}\
tr.ours{background:#e8f0fe}footer{margin-top:2em;color:#666;font-size:.9em}";
