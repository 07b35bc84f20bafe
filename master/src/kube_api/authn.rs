//! Who is asking: the bearer token of a request, checked ([`daas_token::verify`])
//! for this cluster and the API's audience at the API's clock.

use axum::http::{HeaderMap, header::AUTHORIZATION};
use daas_domain::Address;

use super::{Caller, KubeApi, Status};

/// The caller of a request with `headers`, or a 401 `Status` naming the
/// refusal class (never the token). Counted in
/// `master_kube_api_authentications_total{result}`.
pub fn authenticate(api: &KubeApi, headers: &HeaderMap) -> Result<Caller, Status> {
    let count = |result: &'static str| {
        api.metrics
            .authentications
            .get_or_create(&vec![("result", result)])
            .inc();
    };
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        count("missing");
        return Err(Status::unauthorized(
            "Unauthorized: no bearer token (use `daas kubeconfig` to set up kubectl)",
        ));
    };
    match daas_token::verify(token, &api.api_tokens, (api.clock)()) {
        Ok(v) => {
            count("ok");
            let address = Address(v.address.into_inner());
            let groups = api.authority()?.groups(address);
            Ok(Caller {
                address,
                username: v.username(),
                groups,
            })
        }
        Err(e) => {
            count(e.label());
            Err(Status::unauthorized(format!("Unauthorized: {e}")))
        }
    }
}
