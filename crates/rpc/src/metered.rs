//! JSON-RPC metrics: an RPC middleware counting calls and errors and timing each call by
//! method (`spectrum_rpc_*` in spectrum-metrics). Calls inside a batch are counted as one
//! `batch` call: jsonrpsee hands the batch to the middleware whole.

use std::time::Instant;

use jsonrpsee::server::middleware::rpc::{Batch, MethodResponse, Notification, RpcServiceT};
use jsonrpsee::types::Request;

/// Wraps the RPC service `S`.
#[derive(Debug, Clone)]
pub(crate) struct Metered<S>(pub(crate) S);

impl<S> RpcServiceT for Metered<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse> + Send + Sync + Clone + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        let inner = self.0.clone();
        let method = request.method_name().to_owned();
        async move {
            let started = Instant::now();
            let response = inner.call(request).await;
            spectrum_metrics::rpc_call(&method, response.is_error(), started.elapsed());
            response
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        let inner = self.0.clone();
        async move {
            let started = Instant::now();
            let response = inner.batch(batch).await;
            spectrum_metrics::rpc_call("batch", false, started.elapsed());
            response
        }
    }

    fn notification<'a>(
        &self,
        notification: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.0.notification(notification)
    }
}
