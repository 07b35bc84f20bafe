//! The Kubernetes paths: discovery, get, list (Table), openapi,
//! SelfSubjectAccessReview, and 405 for writes.
//!
//! INTERFACE STUB (issue 17, step 0): every path answers 404 until the
//! handlers land.

use std::sync::Arc;

use axum::{Router, http::Uri, response::IntoResponse};

use super::{KubeApi, Status};

/// Every Kubernetes path of the API.
pub fn routes(api: Arc<KubeApi>) -> Router {
    Router::new()
        .fallback(|uri: Uri| async move { Status::no_route(uri.path()).into_response() })
        .with_state(api)
}
