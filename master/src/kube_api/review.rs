//! The TokenReview webhook (`authentication.k8s.io/v1`) a real API server
//! calls with the bearer tokens it is given (kube-apiserver's
//! `--authentication-token-webhook-config-file`): `POST /v1/tokenreview`.
//!
//! The token is checked as the API checks its own ([`daas_token::verify`])
//! but for the review audience (`--token-review-audience`, default
//! `daas-k3s`). A valid one answers `authenticated: true` with the user
//! `sui:0x…` (uid the same) and its groups from the committed ledger
//! ([`daas_domain::access::Access::groups`]); an invalid one
//! `authenticated: false` with the refusal class in `error`. Both are HTTP
//! 200, kube's contract; a body that is not a TokenReview is a 400. No
//! bearer token is needed to ask: the answer says nothing the token's own
//! bytes do not. `status.audiences` is left out: the webhook does not
//! narrow the asking server's audiences (kube then treats the token as
//! valid for them).

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    response::{IntoResponse, Response},
    routing::post,
};
use daas_domain::Address;
use serde_json::{Value, json};

use super::{KubeApi, Status};

/// The webhook's path.
pub const PATH: &str = "/v1/tokenreview";

/// `POST /v1/tokenreview`.
pub fn routes(api: Arc<KubeApi>) -> Router {
    Router::new().route(PATH, post(review)).with_state(api)
}

/// The longest body read, bytes.
const MAX_BODY: usize = 64 * 1024;

async fn review(State(api): State<Arc<KubeApi>>, body: Bytes) -> Response {
    let count = |result: &'static str| {
        api.metrics
            .token_reviews
            .get_or_create(&vec![("result", result)])
            .inc();
    };
    let request = match parse(&body) {
        Ok(r) => r,
        Err(s) => {
            count("bad_request");
            return s.into_response();
        }
    };
    match answer(&api, &request) {
        Ok((result, v)) => {
            count(result);
            Json(v).into_response()
        }
        Err(s) => s.into_response(),
    }
}

/// The review in `body`, or a 400.
pub fn parse(body: &[u8]) -> Result<Value, Status> {
    if body.len() > MAX_BODY {
        return Err(Status::bad_request(format!(
            "a TokenReview body is at most {MAX_BODY} bytes"
        )));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Status::bad_request(format!("not a TokenReview: {e}")))?;
    let api_version = v["apiVersion"].as_str().unwrap_or_default();
    if v["kind"] != "TokenReview" || api_version != "authentication.k8s.io/v1" {
        return Err(Status::bad_request(
            "not an authentication.k8s.io/v1 TokenReview",
        ));
    }
    if !v["spec"]["token"].is_string() {
        return Err(Status::bad_request("the TokenReview has no spec.token"));
    }
    Ok(v)
}

/// (metric result, the answered review) for `request`; 503 until the
/// ledger is loaded.
pub fn answer(api: &KubeApi, request: &Value) -> Result<(&'static str, Value), Status> {
    let token = request["spec"]["token"].as_str().unwrap_or_default();
    let status = match daas_token::verify(token, &api.review_tokens, (api.clock)()) {
        Ok(v) => {
            let address = Address(v.address.into_inner());
            let groups = api.authority()?.groups(address);
            let name = v.username();
            json!({"authenticated": true, "user": {"username": name, "uid": name, "groups": groups}})
        }
        Err(e) => {
            let out = json!({
                "kind": "TokenReview",
                "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"creationTimestamp": null},
                "spec": {},
                "status": {"authenticated": false, "user": {}, "error": e.to_string()},
            });
            return Ok((e.label(), out));
        }
    };
    Ok((
        "authenticated",
        json!({
            "kind": "TokenReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": {},
            "status": status,
        }),
    ))
}
