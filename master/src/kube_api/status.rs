//! Kubernetes `Status` answers (`meta/v1`): every refusal of the API is
//! one, so kubectl prints its message and exits non-zero.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// A failure `Status` (code, reason, message, details).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// HTTP code (401, 403, 404, …).
    pub code: u16,
    /// Kubernetes' `StatusReason` (`Unauthorized`, `Forbidden`, …).
    pub reason: &'static str,
    /// What the user reads.
    pub message: String,
    /// `details.kind` (resource) and `details.name`, when about one object.
    pub details: Option<(String, String)>,
}

impl Status {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Status {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400 `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 401 `Unauthorized` (a missing or refused token).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "Unauthorized", message)
    }

    /// 403 `Forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    /// 404 `NotFound` for `name` of `resource` (kube's text:
    /// `configmaps "x" not found`).
    pub fn not_found(resource: &str, name: &str) -> Self {
        Status {
            details: Some((resource.to_owned(), name.to_owned())),
            ..Self::new(404, "NotFound", format!("{resource} {name:?} not found"))
        }
    }

    /// 404 for a path that names no resource.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }

    /// 410 `Expired` (a compacted resourceVersion).
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 500 `InternalError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// 503 `ServiceUnavailable` (etcd unreachable).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// The `Status` object, as kube-apiserver writes it.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some((kind, name)) = &self.details {
            v["details"] = json!({ "name": name, "kind": kind });
        }
        v
    }
}

impl IntoResponse for Status {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, Json(self.to_json())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_kubes_shape() {
        let v = Status::not_found("configmaps", "web").to_json();
        assert_eq!(v["kind"], "Status");
        assert_eq!(v["status"], "Failure");
        assert_eq!(v["code"], 404);
        assert_eq!(v["reason"], "NotFound");
        assert_eq!(v["message"], "configmaps \"web\" not found");
        assert_eq!(v["details"]["kind"], "configmaps");
        assert_eq!(Status::unauthorized("x").into_response().status(), 401);
        assert_eq!(Status::gone("x").to_json()["reason"], "Expired");
    }
}
