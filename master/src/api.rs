//! The master's read-only status API, served beside `/metrics`:
//!
//! - `GET /v1/requests/{id}`: one request's outcome (404 until it is decided);
//! - `GET /v1/transactions/{digest}`: the outcomes of a transaction's requests
//!   (base58 digest, as Sui prints it);
//! - `GET /v1/verification`: how far the log's verification got
//!   ([`VerifyView`]: epoch, last certified checkpoint, the gap if one holds).
//!
//! Outcome answers are [`OutcomeView`] JSON. Inside an enclave these answers would be
//! signed with the enclave key; for now they are plain (see docs/decisions/0008).

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use daas_domain::outcome::OutcomeView;

use daas_service::verify_status::{VerifyStatus, VerifyView};

use crate::lookup::OutcomeIndex;

/// The routes, over `index` and the verifier's `status`.
pub fn routes(index: Arc<OutcomeIndex>, status: VerifyStatus) -> Router {
    let verification = Router::new()
        .route("/v1/verification", get(verification))
        .with_state(status);
    Router::new()
        .route("/v1/requests/{id}", get(request))
        .route("/v1/transactions/{digest}", get(transaction))
        .with_state(index)
        .merge(verification)
}

async fn verification(State(status): State<VerifyStatus>) -> Json<VerifyView> {
    Json(status.view())
}

fn not_found(what: String) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": what })),
    )
        .into_response()
}

async fn request(State(index): State<Arc<OutcomeIndex>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": format!("{id:?} is not a request id") })),
        )
            .into_response();
    };
    match index.by_request(id) {
        Some(o) => Json(OutcomeView::from(&o)).into_response(),
        None => not_found(format!("no outcome for request {id} yet")),
    }
}

async fn transaction(
    State(index): State<Arc<OutcomeIndex>>,
    Path(digest): Path<String>,
) -> Response {
    let decoded = bs58::decode(&digest).into_vec().ok();
    let Some(d) = decoded.and_then(|d| <[u8; 32]>::try_from(d).ok()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": format!("{digest:?} is not a base58 transaction digest") })),
        )
            .into_response();
    };
    let found: Vec<OutcomeView> = index
        .by_transaction(&d)
        .iter()
        .map(OutcomeView::from)
        .collect();
    if found.is_empty() {
        return not_found(format!("no outcome for transaction {digest} yet"));
    }
    Json(found).into_response()
}
