//! The TokenReview webhook (`authentication.k8s.io/v1`) a real API server
//! calls with the bearer tokens it is given: `POST /v1/tokenreview`.
//!
//! INTERFACE STUB (issue 17, step 0): not answered yet.

use std::sync::Arc;

use axum::Router;

use super::KubeApi;

/// `POST /v1/tokenreview`.
pub fn routes(api: Arc<KubeApi>) -> Router {
    Router::new().with_state(api)
}
