//! `Table` answers (`meta.k8s.io/v1`), so `kubectl get` prints the columns
//! people know for the common kinds (and NAME, AGE for the rest).

use serde_json::{Value, json};

/// What each row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (kubectl's default).
    Metadata,
    /// The whole object.
    Object,
}

impl Include {
    /// From the `includeObject` parameter (default Metadata).
    pub fn parse(value: Option<&str>) -> Include {
        match value {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
}

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.split(',').any(|part| part.contains("as=Table")))
}

type Cell = fn(&Value, u64) -> Value;

fn columns(kind: &str) -> Vec<(&'static str, Cell)> {
    let name: (&str, Cell) = ("Name", |o, _| o["metadata"]["name"].clone());
    let age: (&str, Cell) = ("Age", |o, now| json!(age(o, now)));
    let middle: Vec<(&'static str, Cell)> = match kind {
        "Pod" => vec![
            ("Ready", |o, _| json!(pod_ready(o))),
            ("Status", |o, _| {
                json!(o["status"]["phase"].as_str().unwrap_or("Pending"))
            }),
            ("Restarts", |o, _| json!(restarts(o))),
        ],
        "Service" => vec![
            ("Type", |o, _| {
                json!(o["spec"]["type"].as_str().unwrap_or("ClusterIP"))
            }),
            ("Cluster-IP", |o, _| {
                json!(o["spec"]["clusterIP"].as_str().unwrap_or("<none>"))
            }),
            ("External-IP", |_, _| json!("<none>")),
            ("Port(s)", |o, _| json!(ports(o))),
        ],
        "ConfigMap" => vec![("Data", |o, _| {
            json!(count(&o["data"]) + count(&o["binaryData"]))
        })],
        "Secret" => vec![
            ("Type", |o, _| json!(o["type"].as_str().unwrap_or("Opaque"))),
            ("Data", |o, _| json!(count(&o["data"]))),
        ],
        "Deployment" => vec![
            ("Ready", |o, _| {
                json!(format!(
                    "{}/{}",
                    int(&o["status"]["readyReplicas"]),
                    replicas(o)
                ))
            }),
            ("Up-to-date", |o, _| {
                json!(int(&o["status"]["updatedReplicas"]))
            }),
            ("Available", |o, _| {
                json!(int(&o["status"]["availableReplicas"]))
            }),
        ],
        "Namespace" => vec![("Status", |o, _| {
            json!(o["status"]["phase"].as_str().unwrap_or("Active"))
        })],
        _ => vec![],
    };
    std::iter::once(name).chain(middle).chain([age]).collect()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn count(v: &Value) -> usize {
    v.as_object().map_or(0, |m| m.len())
}

fn replicas(o: &Value) -> i64 {
    o["spec"]["replicas"].as_i64().unwrap_or(1)
}

fn pod_ready(o: &Value) -> String {
    let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
    let ready = o["status"]["containerStatuses"]
        .as_array()
        .map_or(0, |s| s.iter().filter(|c| c["ready"] == true).count());
    format!("{ready}/{total}")
}

fn restarts(o: &Value) -> i64 {
    o["status"]["containerStatuses"]
        .as_array()
        .map_or(0, |s| s.iter().map(|c| int(&c["restartCount"])).sum())
}

fn ports(o: &Value) -> String {
    let Some(ports) = o["spec"]["ports"].as_array().filter(|p| !p.is_empty()) else {
        return "<none>".into();
    };
    ports
        .iter()
        .map(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            format!("{}/{proto}", int(&p["port"]))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Seconds since the epoch of an RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` time.
fn epoch_seconds(t: &str) -> Option<u64> {
    let b = t.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // H. Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// kubectl's age: `45s`, `5m10s`, `3h`, `2d4h`, … (`<unknown>` without a time).
fn age(o: &Value, now_s: u64) -> String {
    let Some(t) = o["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(epoch_seconds)
    else {
        return "<unknown>".into();
    };
    human(now_s.saturating_sub(t))
}

/// `k8s.io/apimachinery/pkg/util/duration.HumanDuration`.
pub fn human(s: u64) -> String {
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    match () {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 && !s.is_multiple_of(60) => format!("{m}m{}s", s % 60),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 && !m.is_multiple_of(60) => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if h < 192 && !h.is_multiple_of(24) => format!("{d}d{}h", h % 24),
        _ if d < 730 => format!("{d}d"),
        _ => format!("{}y{}d", d / 365, d % 365),
    }
}

/// The Table of `items` of `kind`, read at `revision`, at `now_s`.
pub fn table(kind: &str, items: &[Value], revision: i64, include: Include, now_s: u64) -> Value {
    let cols = columns(kind);
    let defs: Vec<Value> = cols
        .iter()
        .map(|(name, _)| {
            let format = if *name == "Name" { "name" } else { "" };
            json!({"name": name, "type": "string", "format": format, "description": "", "priority": 0})
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let cells: Vec<Value> = cols.iter().map(|(_, f)| f(o, now_s)).collect();
            let mut row = json!({ "cells": cells });
            match include {
                Include::None => {}
                Include::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o["metadata"],
                    })
                }
                Include::Object => row["object"] = o.clone(),
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": revision.to_string()},
        "columnDefinitions": defs,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        assert_eq!(human(45), "45s");
        assert_eq!(human(310), "5m10s");
        assert_eq!(human(600), "10m");
        assert_eq!(human(3 * 3600 + 60), "3h1m");
        assert_eq!(human(30 * 3600), "30h");
        assert_eq!(human(50 * 3600), "2d2h");
        assert_eq!(human(800 * 86_400), "2y70d");
        assert_eq!(epoch_seconds("1970-01-02T00:00:01Z"), Some(86_401));
        assert_eq!(epoch_seconds("2026-12-02T00:00:00Z"), Some(1_796_169_600));
        assert_eq!(epoch_seconds("2026-13-02T00:00:00Z"), None);
        assert_eq!(epoch_seconds("garbage"), None);
    }

    #[test]
    fn configmaps_get_a_data_column() {
        let cm = json!({"metadata": {"name": "web", "creationTimestamp": "1970-01-01T00:00:00Z"},
                        "data": {"a": "1", "b": "2"}});
        let t = table("ConfigMap", &[cm], 7, Include::Metadata, 60);
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .expect("defs")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["Name", "Data", "Age"]);
        assert_eq!(t["rows"][0]["cells"], json!(["web", 2, "60s"]));
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert!(wants_table(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        )));
        assert!(!wants_table(Some("application/json")));
    }
}
