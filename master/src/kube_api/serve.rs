//! The API's listener.
//!
//! INTERFACE STUB (issue 17, step 0): plain HTTP only; the TLS listener
//! and its generated serving certificate replace it.

use std::net::SocketAddr;

use axum::Router;
use tokio_util::sync::CancellationToken;

/// Serves `router` on `listen` until `shutdown`; returns the bound address.
pub async fn spawn_plain(
    listen: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
    });
    Ok((bound, task))
}
