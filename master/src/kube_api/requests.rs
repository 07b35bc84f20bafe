//! The Kubernetes paths: one handler that authenticates, parses the path
//! ([`paths`]), authorises ([`authz`]) and answers: discovery, get, list
//! (as a Table when asked), watch ([`watch`]), openapi,
//! SelfSubjectAccessReview, and 405 for every write.

use std::{sync::Arc, time::Instant};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, Uri, header},
    response::{IntoResponse, Response},
};
use daas_domain::roles::Verb;
use serde_json::json;

use super::{
    KubeApi, Status, Target, access_review, authn, authz, discovery, objects,
    paths::{self, Endpoint},
    table, watch,
};

/// Every Kubernetes path of the API.
pub fn routes(api: Arc<KubeApi>) -> Router {
    Router::new().fallback(handle).with_state(api)
}

/// The text of every 405.
pub const READ_ONLY: &str = "this API is read-only: write with `daas apply -f FILE` \
(each write is a Sui transaction signed by your key)";

async fn handle(
    State(api): State<Arc<KubeApi>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let (verb, resource, response) = answer(&api, &method, &uri, &headers, &body).await;
    api.metrics
        .requests
        .get_or_create(&vec![
            ("verb", verb.to_owned()),
            ("resource", resource),
            ("code", response.status().as_u16().to_string()),
        ])
        .inc();
    api.metrics
        .request_seconds
        .get_or_create(&vec![("verb", verb)])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// (metric verb, resource, answer).
async fn answer(
    api: &Arc<KubeApi>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (&'static str, String, Response) {
    let caller = match authn::authenticate(api, headers) {
        Ok(c) => c,
        Err(s) => return ("unauthenticated", "-".into(), s.into_response()),
    };
    let endpoint = match paths::endpoint(uri.path()) {
        Ok(e) => e,
        Err(s) => return ("unknown", "-".into(), s.into_response()),
    };
    let discovery = |v: Option<serde_json::Value>| {
        let r = match v {
            Some(v) => Json(v).into_response(),
            None => Status::no_route(uri.path()).into_response(),
        };
        ("discovery", "-".to_owned(), r)
    };
    match (method, endpoint) {
        (&Method::POST, Endpoint::SelfSubjectAccessReview) => {
            let r = match api
                .authority()
                .and_then(|access| access_review::review(&access, &caller, body))
            {
                Ok(v) => (axum::http::StatusCode::CREATED, Json(v)).into_response(),
                Err(s) => s.into_response(),
            };
            ("review", "selfsubjectaccessreviews".into(), r)
        }
        (&Method::GET, Endpoint::Version) => discovery(Some(discovery::version())),
        (&Method::GET, Endpoint::Api) => discovery(Some(discovery::api())),
        (&Method::GET, Endpoint::Apis) => discovery(Some(discovery::apis())),
        (&Method::GET, Endpoint::Resources(gv)) => discovery(discovery::resources(&gv)),
        (&Method::GET, Endpoint::OpenApiV2) => ("discovery", "-".into(), openapi_v2()),
        (&Method::GET, Endpoint::OpenApiV3) => (
            "discovery",
            "-".into(),
            Json(json!({"paths": {}})).into_response(),
        ),
        (&Method::GET, Endpoint::Object(target)) => {
            let resource = target.info.plural.to_owned();
            let (verb, r) = read(api, caller, target, uri, headers).await;
            (verb, resource, r)
        }
        (_, Endpoint::Object(target)) => (
            "write",
            target.info.plural.to_owned(),
            Status::method_not_allowed(READ_ONLY).into_response(),
        ),
        _ => (
            "write",
            "-".into(),
            Status::method_not_allowed(READ_ONLY).into_response(),
        ),
    }
}

/// `/openapi/v2`: an empty protobuf document, which kubectl accepts for
/// its client-side validation (no schema is served).
fn openapi_v2() -> Response {
    let mut r = Vec::<u8>::new().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/com.github.proto-openapi.spec.v2@v1.0+protobuf"),
    );
    r
}

/// A get, list or watch of `target`.
async fn read(
    api: &Arc<KubeApi>,
    caller: super::Caller,
    target: Target,
    uri: &Uri,
    headers: &HeaderMap,
) -> (&'static str, Response) {
    let query = match paths::list_query(uri.query()) {
        Ok(q) => q,
        Err(s) => return ("list", s.into_response()),
    };
    let verb = match (&target.name, query.watch) {
        (_, true) => Verb::Watch,
        (Some(_), false) => Verb::Get,
        (None, false) => Verb::List,
    };
    let visible = match api
        .authority()
        .and_then(|access| authz::visible(&access, &caller, verb, &target))
    {
        Ok(v) => v,
        Err(s) => return (verb.as_str(), s.into_response()),
    };
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let as_table = table::wants_table(accept);
    let include = table::Include::parse(include_object(uri.query()).as_deref());
    let now_s = (api.clock)() / 1000;
    match verb {
        Verb::Watch => {
            let table = as_table.then_some(include);
            let r = watch::serve(api.clone(), caller, target, visible, query, table).await;
            ("watch", r)
        }
        Verb::Get => {
            let r = match objects::get(api, &target).await {
                Ok(o) if as_table => {
                    let rv = o["metadata"]["resourceVersion"]
                        .as_str()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_default();
                    Json(table::table(target.info.kind, &[o], rv, include, now_s)).into_response()
                }
                Ok(o) => Json(o).into_response(),
                Err(s) => s.into_response(),
            };
            ("get", r)
        }
        _ => {
            let r = match objects::list(api, &target, &visible, &query).await {
                Ok(l) if as_table => {
                    let mut t =
                        table::table(target.info.kind, &l.items, l.revision, include, now_s);
                    if let Some(next) = l.next {
                        t["metadata"]["continue"] = json!(next);
                    }
                    Json(t).into_response()
                }
                Ok(l) => Json(objects::list_object(&target, l)).into_response(),
                Err(s) => s.into_response(),
            };
            ("list", r)
        }
    }
}

/// The `includeObject` parameter.
fn include_object(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "includeObject")
        .map(|(_, v)| v.into_owned())
}
