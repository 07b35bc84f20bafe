//! The Prometheus endpoint: `GET /metrics` in the text exposition format.
//!
//! Each service registers its own metrics in a [`Registry`] and hands it here;
//! this module owns the HTTP listener and nothing else.

use std::sync::Arc;

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use prometheus_client::{encoding::text::encode, registry::Registry};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `registry` on `listener` until `shutdown` is cancelled, beside a
/// service's own read-only routes (`api`; an empty `Router` for none).
pub async fn serve_metrics(
    listener: TcpListener,
    registry: Arc<Registry>,
    api: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(registry)
        .merge(api);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// Binds `addr` and serves `registry` there in a task until `shutdown`.
pub async fn spawn_metrics(
    addr: std::net::SocketAddr,
    registry: Registry,
    shutdown: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    spawn_http(addr, registry, Router::new(), shutdown).await
}

/// Binds `addr` and serves `registry` and `api` there in a task until `shutdown`.
pub async fn spawn_http(
    addr: std::net::SocketAddr,
    registry: Registry,
    api: Router,
    shutdown: CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("binding metrics on {addr}: {e}")))?;
    Ok(tokio::spawn(serve_metrics(
        listener,
        Arc::new(registry),
        api,
        shutdown,
    )))
}

/// How long a consumer may sit still with records waiting before it is unhealthy.
pub const STALL_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Every 5 s until `shutdown`, sets `lag` to `end() - next`: how far a
/// consumer trails its log; and reports the `stall` problem on `health` while
/// `next` has not moved for [`STALL_AFTER`] with lag above zero. `end` blocks
/// (a broker round trip), so it runs on the blocking pool; a failed sample
/// leaves the gauge as it was.
pub async fn track_lag<F>(
    end: F,
    next: prometheus_client::metrics::gauge::Gauge,
    lag: prometheus_client::metrics::gauge::Gauge,
    health: crate::health::Health,
    shutdown: CancellationToken,
) where
    F: Fn() -> Option<i64> + Send + Sync + 'static,
{
    let end = Arc::new(end);
    let period = std::time::Duration::from_secs(5);
    let mut tick = tokio::time::interval(period);
    let mut stall = crate::health::StallDetector::new(STALL_AFTER);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let end = end.clone();
        if let Ok(Some(e)) = tokio::task::spawn_blocking(move || end()).await {
            let position = next.get();
            lag.set(e - position);
            crate::health::watch_progress(&health, &mut stall, position, e - position, period);
        }
    }
}

async fn render(State(registry): State<Arc<Registry>>) -> impl IntoResponse {
    let mut body = String::new();
    // Encoding into a String cannot fail except on a fmt error, which would be a bug in a metric type.
    if let Err(e) = encode(&mut body, &registry) {
        body = format!("# encoding failed: {e}\n");
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::counter::Counter;

    #[tokio::test]
    async fn serves_registered_counters() {
        let mut registry = Registry::default();
        let counter: Counter = Counter::default();
        registry.register("events_in", "Events read", counter.clone());
        counter.inc_by(3);

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(serve_metrics(
            listener,
            Arc::new(registry),
            Router::new(),
            shutdown.clone(),
        ));

        let body = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .expect("get")
            .text()
            .await
            .expect("body");
        assert!(body.contains("events_in_total 3"), "{body}");

        shutdown.cancel();
        server.await.expect("join").expect("serve");
    }
}
