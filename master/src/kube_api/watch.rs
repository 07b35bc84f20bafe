//! Watches: newline-delimited JSON events over a chunked response, from an
//! etcd watch of the target's prefix.
//!
//! INTERFACE STUB (issue 17, step 0): answers 501 until it lands.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};

use super::{Caller, KubeApi, ListQuery, Status, Target, authz::Visible};

/// The watch `caller` asked for on `target` (already authorised: `visible`).
pub async fn serve(
    _api: Arc<KubeApi>,
    _caller: Caller,
    _target: Target,
    _visible: Visible,
    _query: ListQuery,
) -> Response {
    let mut s = Status::internal("watch is not built yet");
    s.code = 501;
    s.into_response()
}
