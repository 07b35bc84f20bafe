//! A request's path and query, parsed: which Kubernetes endpoint, which
//! kind, namespace and name. Every byte is the caller's: anything not
//! understood is a typed error (404 or 400), never a panic.

use daas_domain::kinds::{KINDS, KindInfo, NameRule, Scope};

use super::{ListQuery, Status, Target};

/// `events` (core v1): served read-only so `kubectl describe` can list them.
pub static EVENTS: KindInfo = KindInfo {
    kind: "Event",
    api_version: "v1",
    plural: "events",
    etcd_resource: "events",
    namespaced: true,
    name_rule: NameRule::Subdomain,
    scope: Scope::Tenant,
};

/// `events.k8s.io/v1` Events: the same objects under their newer group.
pub static EVENTS_V1: KindInfo = KindInfo {
    api_version: "events.k8s.io/v1",
    ..EVENTS
};

/// Every kind the API serves: the managed kinds, then events.
pub fn served_kinds() -> impl Iterator<Item = &'static KindInfo> {
    KINDS.iter().chain([&EVENTS, &EVENTS_V1])
}

/// The kind of `plural` in `group_version` (`v1`, `apps/v1`, …).
pub fn kind_of(group_version: &str, plural: &str) -> Option<&'static KindInfo> {
    served_kinds().find(|k| k.api_version == group_version && k.plural == plural)
}

/// What a path asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/version`.
    Version,
    /// `/api`.
    Api,
    /// `/apis`.
    Apis,
    /// `/api/v1` or `/apis/G/V`: the resources of one group version.
    Resources(String),
    /// `/openapi/v2`.
    OpenApiV2,
    /// `/openapi/v3` and below.
    OpenApiV3,
    /// `/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
    SelfSubjectAccessReview,
    /// An object or a collection.
    Object(Target),
}

const AUTHZ_GV: &str = "authorization.k8s.io/v1";

/// Parses `path` (already percent-decoded segments are not expected:
/// Kubernetes names never need escaping, so a `%` is refused).
pub fn endpoint(path: &str) -> Result<Endpoint, Status> {
    if path.contains('%') || path.len() > 1024 {
        return Err(Status::no_route(&printable(path)));
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let (gv, rest) = match segments.as_slice() {
        ["version"] => return Ok(Endpoint::Version),
        ["api"] => return Ok(Endpoint::Api),
        ["apis"] => return Ok(Endpoint::Apis),
        ["openapi", "v2"] => return Ok(Endpoint::OpenApiV2),
        ["openapi", "v3", ..] => return Ok(Endpoint::OpenApiV3),
        ["api", "v1", rest @ ..] => ("v1".to_owned(), rest),
        ["apis", g, v, rest @ ..] => (format!("{g}/{v}"), rest),
        _ => return Err(Status::no_route(&printable(path))),
    };
    if rest.is_empty() {
        return Ok(Endpoint::Resources(gv));
    }
    if gv == AUTHZ_GV && rest == ["selfsubjectaccessreviews"] {
        return Ok(Endpoint::SelfSubjectAccessReview);
    }
    object(&gv, rest)
        .map(Endpoint::Object)
        .ok_or_else(|| Status::no_route(&printable(path)))
}

/// `[res]`, `[res, name]`, `[namespaces, ns, res]`, `[namespaces, ns, res, name]`.
fn object(gv: &str, rest: &[&str]) -> Option<Target> {
    let target = |plural: &str, namespace: Option<&str>, name: Option<&str>| {
        let info = kind_of(gv, plural)?;
        if namespace.is_some() && !info.namespaced {
            return None;
        }
        // Names and namespaces are at most 253 printable characters.
        let bad = |s: &&str| s.is_empty() || s.len() > 253 || s.chars().any(char::is_control);
        if rest.iter().any(bad) {
            return None;
        }
        Some(Target {
            info,
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned),
        })
    };
    match rest {
        [plural] => target(plural, None, None),
        ["namespaces", ns, plural] => target(plural, Some(ns), None),
        ["namespaces", ns, plural, name] => target(plural, Some(ns), Some(name)),
        [plural, name] => target(plural, None, Some(name)).filter(|t| !t.info.namespaced),
        _ => None,
    }
}

/// `text` with control characters escaped, for messages.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(char::escape_debug)
        .take(256)
        .collect()
}

/// Parses a list or watch query; unknown parameters are ignored (as kube
/// does), malformed values of known ones are a 400.
pub fn list_query(raw: Option<&str>) -> Result<ListQuery, Status> {
    let mut q = ListQuery::default();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let value = value.into_owned();
        match name.as_ref() {
            "labelSelector" => q.label_selector = Some(value),
            "fieldSelector" => q.field_selector = Some(value),
            "resourceVersion" => q.resource_version = Some(value),
            "continue" => q.continue_token = Some(value).filter(|v| !v.is_empty()),
            "limit" => q.limit = Some(number(&name, &value)?).filter(|l| *l > 0),
            "timeoutSeconds" => q.timeout_seconds = Some(number(&name, &value)?.max(0) as u64),
            "watch" => q.watch = flag(&value),
            "allowWatchBookmarks" => q.allow_watch_bookmarks = flag(&value),
            _ => {}
        }
    }
    Ok(q)
}

fn flag(value: &str) -> bool {
    matches!(value, "true" | "1")
}

fn number(name: &str, value: &str) -> Result<i64, Status> {
    value
        .parse()
        .map_err(|_| Status::bad_request(format!("{name}: {:?} is not a number", printable(value))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        match endpoint(path) {
            Ok(Endpoint::Object(t)) => t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn kube_paths_parse() {
        assert_eq!(endpoint("/version"), Ok(Endpoint::Version));
        assert_eq!(endpoint("/apis/"), Ok(Endpoint::Apis));
        assert_eq!(endpoint("/api/v1"), Ok(Endpoint::Resources("v1".into())));
        assert_eq!(
            endpoint("/apis/apps/v1"),
            Ok(Endpoint::Resources("apps/v1".into()))
        );
        let t = target("/api/v1/namespaces/team-a/configmaps/web");
        assert_eq!(t.info.kind, "ConfigMap");
        assert_eq!(t.namespace.as_deref(), Some("team-a"));
        assert_eq!(t.name.as_deref(), Some("web"));
        assert_eq!(target("/api/v1/configmaps").namespace, None);
        let ns = target("/api/v1/namespaces/team-a");
        assert_eq!(
            (ns.info.kind, ns.name.as_deref()),
            ("Namespace", Some("team-a"))
        );
        assert_eq!(
            target("/apis/apps/v1/namespaces/a/deployments").info.kind,
            "Deployment"
        );
        assert_eq!(
            target("/apis/events.k8s.io/v1/namespaces/a/events")
                .info
                .kind,
            "Event"
        );
        assert_eq!(
            endpoint("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
            Ok(Endpoint::SelfSubjectAccessReview)
        );
    }

    #[test]
    fn anything_else_is_not_found() {
        for p in [
            "/",
            "/api/v2",
            "/api/v1/namespaces/a/pods/p/log",
            "/api/v1/configmaps/x",
            "/apis/apps/v1/pods",
            "/api/v1/namespaces//configmaps",
            "/api/v1/namespaces/a%2fb/configmaps",
            "/api/v1/namespaces/a/namespaces",
            "/api/v1/namespaces/a\0/configmaps",
            "/api/v1/namespaces/a/configmaps/x\u{1b}[2J",
        ] {
            assert_eq!(endpoint(p).expect_err(p).code, 404, "{p}");
        }
    }

    #[test]
    fn hostile_segments_are_not_found() {
        let long = format!("/api/v1/namespaces/a/configmaps/{}", "x".repeat(254));
        assert_eq!(endpoint(&long).expect_err("too long").code, 404);
        let max = format!("/api/v1/namespaces/a/configmaps/{}", "x".repeat(253));
        assert!(endpoint(&max).is_ok());
        assert_eq!(
            endpoint(&"/a".repeat(600)).expect_err("over 1 KiB").code,
            404
        );
        let q = list_query(Some("labelSelector=%00%FF&fieldSelector=a%3D%00"))
            .expect("decoded lossily");
        assert!(q.label_selector.is_some());
    }

    #[test]
    fn queries_parse() {
        let q = list_query(Some(
            "labelSelector=app%3Dweb&limit=500&watch=1&continue=&x=y",
        ))
        .expect("query");
        assert_eq!(q.label_selector.as_deref(), Some("app=web"));
        assert_eq!(q.limit, Some(500));
        assert!(q.watch);
        assert_eq!(q.continue_token, None);
        assert_eq!(list_query(Some("limit=x")).expect_err("bad").code, 400);
    }

    proptest::proptest! {
        #[test]
        fn no_path_or_query_panics(s in "\\PC{0,200}") {
            let _ = endpoint(&s);
            let _ = list_query(Some(&s));
        }
    }
}
