//! Core kinds beyond pods, as `core/validation` and
//! `networking/validation` check them: Secret and ConfigMap keys and
//! base64, Secret types' required keys, Service ports and types, Ingress
//! hosts and paths.

use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{Map, Value};

use super::{Checked, array, invalid, join, meta, names, one_of, opt_int, opt_str, text_rule};

/// Go's `base64.StdEncoding` as `encoding/json` decodes `[]byte`: padded,
/// trailing bits not checked, CR/LF ignored.
fn decode_base64(s: &str) -> bool {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    engine.decode(cleaned).is_ok()
}

fn keyed<'a>(
    object: &'a Value,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, super::Invalid> {
    let map = meta::string_map(object.get(field), field)?;
    for k in map.iter().flat_map(|m| m.keys()) {
        names::config_map_key(k).map_err(|r| invalid(format!("{field}[{k}]"), r))?;
    }
    Ok(map)
}

/// Every value of the map at `field` must be base64.
fn base64_values(map: Option<&Map<String, Value>>, field: &str) -> Checked {
    match map
        .into_iter()
        .flatten()
        .find(|(_, v)| !decode_base64(v.as_str().unwrap_or_default()))
    {
        Some((k, _)) => Err(invalid(format!("{field}[{k}]"), "is not valid base64")),
        None => Ok(()),
    }
}

/// A Secret: keys valid, `data` base64, the type's required keys present.
pub fn validate_secret(object: &Value) -> Checked {
    let data = keyed(object, "data")?;
    let string_data = keyed(object, "stringData")?;
    base64_values(data, "data")?;
    let has = |k: &str| {
        data.is_some_and(|m| m.contains_key(k)) || string_data.is_some_and(|m| m.contains_key(k))
    };
    let ty = opt_str(object, "", "type")?.unwrap_or("Opaque");
    let required: &[&str] = match ty {
        "kubernetes.io/dockerconfigjson" => &[".dockerconfigjson"],
        "kubernetes.io/dockercfg" => &[".dockercfg"],
        "kubernetes.io/tls" => &["tls.crt", "tls.key"],
        "kubernetes.io/ssh-auth" => &["ssh-privatekey"],
        _ => &[],
    };
    if let Some(k) = required.iter().find(|k| !has(k)) {
        return Err(invalid(
            format!("data[{k}]"),
            format!("required for type {ty}"),
        ));
    }
    if ty == "kubernetes.io/service-account-token" {
        let sa = object
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("kubernetes.io/service-account.name"));
        if sa.and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(invalid(
                "metadata.annotations[kubernetes.io/service-account.name]",
                "required value",
            ));
        }
    }
    Ok(())
}

/// A ConfigMap: keys valid, `binaryData` base64, no key in both maps.
pub fn validate_config_map(object: &Value) -> Checked {
    let data = keyed(object, "data")?;
    let binary = keyed(object, "binaryData")?;
    base64_values(binary, "binaryData")?;
    for k in binary.into_iter().flat_map(|m| m.keys()) {
        if data.is_some_and(|d| d.contains_key(k)) {
            return Err(invalid(
                format!("data[{k}]"),
                "duplicate of key present in binaryData",
            ));
        }
    }
    Ok(())
}

/// A Service: type, ports (number, name, protocol, target), selector.
pub fn validate_service(object: &Value) -> Checked {
    let spec = object
        .get("spec")
        .ok_or_else(|| invalid("spec", "required value"))?;
    one_of(
        spec,
        "spec",
        "type",
        &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
    )?;
    one_of(spec, "spec", "sessionAffinity", &["None", "ClientIP"])?;
    let ty = opt_str(spec, "spec", "type")?.unwrap_or("ClusterIP");
    let headless = opt_str(spec, "spec", "clusterIP")? == Some("None");
    if ty == "ExternalName" {
        let name = opt_str(spec, "spec", "externalName")?.unwrap_or_default();
        text_rule(
            "spec.externalName",
            name.trim_end_matches('.'),
            names::dns1123_subdomain,
        )?;
    }
    meta::labels(spec.get("selector"), "spec.selector")?;
    let ports = array(spec, "spec", "ports")?;
    if ports.is_empty() && ty != "ExternalName" && !headless {
        return Err(invalid("spec.ports", "required value"));
    }
    let mut seen = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let at = format!("spec.ports[{i}]");
        let name = opt_str(p, &at, "name")?.unwrap_or_default();
        if ports.len() > 1 && name.is_empty() {
            return Err(invalid(
                join(&at, "name"),
                "required when there is more than one port",
            ));
        }
        if !name.is_empty() {
            text_rule(join(&at, "name"), name, names::dns1123_label)?;
        }
        if !seen.insert(name.to_owned()) {
            return Err(invalid(
                join(&at, "name"),
                format!("duplicate value {name:?}"),
            ));
        }
        let port =
            opt_int(p, &at, "port")?.ok_or_else(|| invalid(join(&at, "port"), "required value"))?;
        names::port_number(port).map_err(|r| invalid(join(&at, "port"), r))?;
        one_of(p, &at, "protocol", &["TCP", "UDP", "SCTP"])?;
        target_port(p.get("targetPort"), &join(&at, "targetPort"))?;
        if let Some(n) = opt_int(p, &at, "nodePort")? {
            names::port_number(n).map_err(|r| invalid(join(&at, "nodePort"), r))?;
        }
    }
    Ok(())
}

/// An int-or-string port: a number 1-65535 or a port name.
fn target_port(v: Option<&Value>, at: &str) -> Checked {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) => text_rule(at, s, names::port_name),
        Some(n) => match n.as_i64() {
            Some(n) => names::port_number(n).map_err(|r| invalid(at, r)),
            None => Err(invalid(at, "must be an integer or a port name")),
        },
    }
}

/// An Ingress: hosts (DNS subdomains, `*.` wildcard allowed), paths start
/// with `/`, a known pathType, each backend a service with a port.
pub fn validate_ingress(object: &Value) -> Checked {
    let spec = object
        .get("spec")
        .ok_or_else(|| invalid("spec", "required value"))?;
    for (i, rule) in array(spec, "spec", "rules")?.iter().enumerate() {
        let at = format!("spec.rules[{i}]");
        if let Some(host) = opt_str(rule, &at, "host")? {
            let bare = host.strip_prefix("*.").unwrap_or(host);
            text_rule(join(&at, "host"), bare, names::dns1123_subdomain)?;
        }
        let paths = rule
            .get("http")
            .map(|h| array(h, &join(&at, "http"), "paths"))
            .transpose()?;
        for (j, p) in paths.unwrap_or_default().iter().enumerate() {
            let pat = format!("{at}.http.paths[{j}]");
            let path = opt_str(p, &pat, "path")?.unwrap_or_default();
            let ty = opt_str(p, &pat, "pathType")?
                .ok_or_else(|| invalid(join(&pat, "pathType"), "required value"))?;
            if !matches!(ty, "Exact" | "Prefix" | "ImplementationSpecific") {
                return Err(invalid(
                    join(&pat, "pathType"),
                    format!("unsupported value {ty:?}"),
                ));
            }
            if ty != "ImplementationSpecific" && !path.starts_with('/') {
                return Err(invalid(join(&pat, "path"), "must be an absolute path"));
            }
            if p.get("backend").is_none() {
                return Err(invalid(join(&pat, "backend"), "required value"));
            }
        }
    }
    Ok(())
}
