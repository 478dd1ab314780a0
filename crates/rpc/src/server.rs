//! Starting and stopping the HTTP and WebSocket servers.

use std::{net::SocketAddr, sync::Arc};

use jsonrpsee::{
    core::traits::IdProvider,
    server::{BatchRequestConfig, Server, ServerConfig, ServerHandle},
    types::SubscriptionId,
};
use tokio::task::JoinHandle;

use crate::{
    Namespace, RpcConfig, RpcContext, RpcError,
    api::{self, Api},
    filters::{self, IdSource},
    http::{AllowedHosts, AllowedOrigins, OriginLayer},
};

/// The running servers.
pub struct RpcHandle {
    http: Option<(SocketAddr, ServerHandle)>,
    ws: Option<(SocketAddr, ServerHandle)>,
    upkeep: JoinHandle<()>,
}

impl RpcHandle {
    /// The bound HTTP address (port 0 binds an ephemeral one).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|(a, _)| *a)
    }

    /// The bound WebSocket address.
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        self.ws.as_ref().map(|(a, _)| *a)
    }

    /// Stops both servers and waits until they have.
    pub async fn stop(self) {
        for (_, handle) in self.http.into_iter().chain(self.ws) {
            let _ = handle.stop();
            handle.stopped().await;
        }
        self.upkeep.abort();
    }
}

/// Subscription ids as geth writes them: `0x` and 32 hex digits.
#[derive(Debug)]
struct HexIds(IdSource);

impl IdProvider for HexIds {
    fn next_id(&self) -> SubscriptionId<'static> {
        SubscriptionId::Str(self.0.next().into())
    }
}

fn server_config(config: &RpcConfig, ws: bool) -> ServerConfig {
    let limits = &config.limits;
    let builder = ServerConfig::builder()
        .max_request_body_size(limits.max_request_bytes)
        .max_response_body_size(limits.max_response_bytes)
        .max_connections(limits.max_connections)
        .set_batch_request_config(BatchRequestConfig::Limit(limits.max_batch_len))
        .set_id_provider(HexIds(IdSource::new()));
    if ws {
        builder
            .ws_only()
            .max_subscriptions_per_connection(limits.max_subscriptions_per_connection)
            .set_message_buffer_capacity(limits.ws_message_buffer)
            .build()
    } else {
        builder.http_only().build()
    }
}

async fn serve(
    api: &Arc<Api>,
    config: &RpcConfig,
    addr: SocketAddr,
    ws: bool,
) -> Result<(SocketAddr, ServerHandle), RpcError> {
    let namespaces: &[Namespace] = if ws {
        &config.ws_apis
    } else {
        &config.http_apis
    };
    let module =
        api::module(api.clone(), namespaces).map_err(|e| RpcError::Register(e.to_string()))?;
    let layer = if ws {
        OriginLayer::ws_origins(AllowedOrigins::new(config.ws_origins.iter().cloned()))
    } else {
        OriginLayer::http(
            AllowedOrigins::new(config.http_cors.iter().cloned()),
            AllowedHosts::new(config.http_vhosts.iter().cloned()),
        )
    };
    let server = Server::builder()
        .set_config(server_config(config, ws))
        .set_http_middleware(tower::ServiceBuilder::new().layer(layer).layer(
            crate::status_page::StatusPageLayer::new((!ws).then(|| api.clone())),
        ))
        .set_rpc_middleware(
            jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new()
                .layer_fn(crate::metered::Metered),
        )
        .build(addr)
        .await
        .map_err(|source| RpcError::Bind { addr, source })?;
    let bound = server
        .local_addr()
        .map_err(|source| RpcError::Bind { addr, source })?;
    Ok((bound, server.start(module)))
}

/// Starts the configured servers over `ctx` (on the current tokio runtime).
pub async fn start(config: RpcConfig, ctx: RpcContext) -> Result<RpcHandle, RpcError> {
    let mut api = Api::new(ctx, config.limits.clone());
    api.dev = crate::dev::DevSigners::new(&config.dev_signers);
    let api = Arc::new(api);
    let http = match config.http {
        Some(addr) => Some(serve(&api, &config, addr, false).await?),
        None => None,
    };
    let ws = match config.ws {
        Some(addr) => Some(serve(&api, &config, addr, true).await?),
        None => None,
    };
    let upkeep = tokio::spawn(filters::upkeep(api));
    Ok(RpcHandle { http, ws, upkeep })
}
