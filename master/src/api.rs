//! The master's read-only status API, served beside `/metrics`:
//!
//! - `GET /v1/requests/{id}`: one request's outcome (404 until it is decided);
//! - `GET /v1/transactions/{digest}`: the outcomes of a transaction's requests
//!   (base58 digest, as Sui prints it);
//! - `GET /v1/verification`: how far the log's verification got
//!   ([`VerifyView`]: epoch, last certified checkpoint, the gap if one holds).
//!
//! - `GET /v1/attestation?nonce=HEX`: a new attestation document binding
//!   the enclave key, the cluster and its sealing key, with the caller's
//!   nonce (≤ 512 bytes): [`AttestationView`]; 400 for a bad nonce, 503
//!   when the NSM (or the key store) fails.
//!
//! Outcome answers are [`OutcomeView`] JSON; each outcome carries its
//! receipt, signed with the enclave key (decision 0021), so the answers
//! need no trust in the transport. In dev attestation mode every answer
//! carries the header `X-Daas-Dev-Attestation: 1` ([`dev_header`]).

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, RawQuery, State},
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use daas_domain::outcome::OutcomeView;

use daas_service::verify_status::{VerifyStatus, VerifyView};

use crate::{
    attestation::{AttestError, AttestationService, AttestationView},
    lookup::OutcomeIndex,
    metrics::Metrics,
};

/// The header every answer of a dev-attestation master carries.
pub const DEV_HEADER: &str = "x-daas-dev-attestation";

/// `GET /v1/attestation`, over `service`, counting documents in `metrics`.
pub fn attestation_routes(service: Arc<AttestationService>, metrics: Metrics) -> Router {
    Router::new()
        .route("/v1/attestation", get(attestation))
        .with_state((service, metrics))
}

/// Adds `X-Daas-Dev-Attestation: 1` to every answer of `router`.
pub fn dev_header(router: Router) -> Router {
    router.layer(axum::middleware::map_response(
        |mut r: Response| async move {
            r.headers_mut()
                .insert(DEV_HEADER, HeaderValue::from_static("1"));
            r
        },
    ))
}

/// The `nonce` parameter of a query string (`Ok(None)` when absent or
/// empty); hex, at most one.
fn nonce_of(query: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    let mut found = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "nonce" {
            return Err(format!("unknown parameter {name:?}: only nonce"));
        }
        if found.replace(value).is_some() {
            return Err("nonce given twice".into());
        }
    }
    match found.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(h) => hex::decode(h)
            .map(Some)
            .map_err(|e| format!("the nonce is not hex: {e}")),
    }
}

async fn attestation(
    State((service, metrics)): State<(Arc<AttestationService>, Metrics)>,
    RawQuery(query): RawQuery,
) -> Response {
    let count = |result: &'static str| {
        metrics
            .attestation_documents
            .get_or_create(&vec![("result", result)])
            .inc();
    };
    let bad = |why: String| {
        count("bad_request");
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": why })),
        )
            .into_response()
    };
    let nonce = match nonce_of(query.as_deref()) {
        Ok(n) => n,
        Err(why) => return bad(why),
    };
    match service.attest(nonce).await {
        Ok(view) => {
            count("ok");
            Json::<AttestationView>(view).into_response()
        }
        Err(AttestError::BadNonce(why)) => bad(why),
        Err(e) => {
            count("error");
            tracing::error!(error = %e, "attestation document refused");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "error": e.to_string() })),
            )
                .into_response()
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::nonce_of;

    #[test]
    fn nonces_are_hex_once() {
        assert_eq!(nonce_of(None), Ok(None));
        assert_eq!(nonce_of(Some("nonce=")), Ok(None));
        assert_eq!(nonce_of(Some("nonce=0aff")), Ok(Some(vec![0x0a, 0xff])));
        assert!(nonce_of(Some("nonce=0g")).is_err());
        assert!(nonce_of(Some("nonce=abc")).is_err(), "odd length");
        assert!(nonce_of(Some("nonce=00&nonce=01")).is_err());
        assert!(nonce_of(Some("other=1")).is_err());
        assert!(nonce_of(Some("nonce=%00")).is_err());
    }
}
