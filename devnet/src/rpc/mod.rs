//! The gRPC API (`sui.rpc.v2`), served with the generated `sui-rpc` server
//! traits, over native gRPC (HTTP/2) and grpc-web (HTTP/1.1 or HTTP/2, the
//! official TypeScript SDK's default transport) on the same port, with CORS
//! open to any origin so a browser page can call it (decision 0018).
//! Every response carries the metadata headers a real full node sends
//! (`x-sui-chain-id`, `x-sui-chain`, `x-sui-checkpoint-height`, `x-sui-epoch`,
//! `x-sui-timestamp-ms`, `x-sui-lowest-available-checkpoint`).

pub mod balances;
pub mod checkpoints;
pub mod events;
pub mod execution;
pub mod follow;
pub mod ledger;
pub mod objects;

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use sui_rpc::proto::sui::rpc::v2::{
    ledger_service_server::LedgerServiceServer, state_service_server::StateServiceServer,
    subscription_service_server::SubscriptionServiceServer,
    transaction_execution_service_server::TransactionExecutionServiceServer,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::node::Node;

/// The services, sharing one node.
#[derive(Clone)]
pub struct Rpc {
    node: Arc<Node>,
    /// Ends open subscriptions, so a graceful shutdown does not wait on them.
    shutdown: CancellationToken,
}

impl Rpc {
    /// Services over `node`; subscriptions end when `shutdown` is cancelled.
    pub fn new(node: Arc<Node>, shutdown: CancellationToken) -> Self {
        Self { node, shutdown }
    }
}

/// Parses a required address field of a request (short forms like `0x2` allowed).
pub(crate) fn address(
    s: Option<&str>,
    what: &str,
) -> Result<sui_sdk_types::Address, tonic::Status> {
    let s = s.ok_or_else(|| tonic::Status::invalid_argument(format!("{what} is required")))?;
    let a: daas_domain::Address = s
        .parse()
        .map_err(|e| tonic::Status::invalid_argument(format!("{what}: {e}")))?;
    Ok(sui_sdk_types::Address::new(a.0))
}

/// Serves the API on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    node: Arc<Node>,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error> {
    let rpc = Rpc::new(node.clone(), shutdown.clone());
    tonic::transport::Server::builder()
        // grpc-web clients (browsers, Node's fetch) speak HTTP/1.1.
        .accept_http1(true)
        .layer(cors())
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(HeadersLayer { node })
        .add_service(LedgerServiceServer::new(rpc.clone()).max_decoding_message_size(16 << 20))
        .add_service(SubscriptionServiceServer::new(rpc.clone()))
        .add_service(
            TransactionExecutionServiceServer::new(rpc.clone()).max_decoding_message_size(16 << 20),
        )
        .add_service(StateServiceServer::new(rpc))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown.cancelled_owned(),
        )
        .await
}

/// CORS for browser pages on any origin: a dev chain on loopback holds no
/// secrets and takes no cookies, and a page's origin (a dev server on another
/// port) is not known in advance. Exposes the gRPC status and the node's
/// `x-sui-*` headers to the page.
fn cors() -> tower_http::cors::CorsLayer {
    use tower_http::cors::{Any, CorsLayer};
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([http::Method::POST, http::Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers(Any)
        .max_age(std::time::Duration::from_secs(24 * 60 * 60))
}

/// Adds the node's metadata headers to every response.
#[derive(Clone)]
struct HeadersLayer {
    node: Arc<Node>,
}

impl<S> tower::Layer<S> for HeadersLayer {
    type Service = Headers<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Headers {
            inner,
            node: self.node.clone(),
        }
    }
}

#[derive(Clone)]
struct Headers<S> {
    inner: S,
    node: Arc<Node>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Headers<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let fut = self.inner.call(req);
        let node = self.node.clone();
        Box::pin(async move {
            let mut res = fut.await?;
            let lowest = node.config().lowest_available_checkpoint;
            let values = node.read(|c| {
                [
                    ("x-sui-chain-id", c.chain_id().to_string()),
                    ("x-sui-chain", "localnet".to_owned()),
                    ("x-sui-checkpoint-height", c.checkpoint_height().to_string()),
                    ("x-sui-epoch", c.epoch().to_string()),
                    (
                        "x-sui-timestamp-ms",
                        c.tip().summary.timestamp_ms.to_string(),
                    ),
                    ("x-sui-lowest-available-checkpoint", lowest.to_string()),
                ]
            });
            for (name, value) in values {
                if let Ok(v) = http::HeaderValue::from_str(&value) {
                    res.headers_mut().insert(name, v);
                }
            }
            Ok(res)
        })
    }
}
