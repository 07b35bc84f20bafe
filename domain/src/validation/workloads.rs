//! Workloads, as `apps/validation` and `batch/validation` check them:
//! replicas and counts not negative, a non-empty valid selector that
//! matches the template's labels, the template's pod spec, restart
//! policies per kind, a CronJob's schedule.

use serde_json::Value;

use super::{Checked, Invalid, array, at_least, invalid, join, meta, one_of, opt_str, pod};
use crate::templates::at;

/// Validates a workload object of `kind`.
pub fn validate(kind: &str, object: &Value) -> Checked {
    let spec = object
        .get("spec")
        .ok_or_else(|| invalid("spec", "required value"))?;
    match kind {
        "CronJob" => cron_job(object, spec),
        "Job" => job(spec, "spec"),
        _ => replicated(kind, spec),
    }
}

fn replicated(kind: &str, spec: &Value) -> Checked {
    at_least(spec, "spec", "replicas", 0)?;
    at_least(spec, "spec", "minReadySeconds", 0)?;
    at_least(spec, "spec", "revisionHistoryLimit", 0)?;
    let selector = spec
        .get("selector")
        .ok_or_else(|| invalid("spec.selector", "required value"))?;
    template(spec, "spec", Some(selector), &["Always"])?;
    match kind {
        "Deployment" => {
            let strategy = spec.get("strategy").unwrap_or(&Value::Null);
            one_of(
                strategy,
                "spec.strategy",
                "type",
                &["Recreate", "RollingUpdate"],
            )?;
            at_least(spec, "spec", "progressDeadlineSeconds", 1)
        }
        "StatefulSet" => one_of(
            spec,
            "spec",
            "podManagementPolicy",
            &["OrderedReady", "Parallel"],
        ),
        _ => Ok(()),
    }
}

/// The pod template at `path.template`: labels valid and selected by
/// `selector` (when given), restart policy among `restart`, pod spec valid.
fn template(spec: &Value, path: &str, selector: Option<&Value>, restart: &[&str]) -> Checked {
    let tpath = join(path, "template");
    let tpl = spec
        .get("template")
        .ok_or_else(|| invalid(&tpath, "required value"))?;
    let tmeta = tpl.get("metadata");
    meta::object_meta(tmeta, &join(&tpath, "metadata"))?;
    if let Some(selector) = selector {
        let labels = tmeta.and_then(|m| m.get("labels"));
        label_selector(selector, &join(path, "selector"))?;
        if !selects(selector, labels) {
            return Err(invalid(
                join(&tpath, "metadata.labels"),
                format!("`selector` does not match template `labels` (selector {selector})"),
            ));
        }
    }
    let pspec = tpl
        .get("spec")
        .ok_or_else(|| invalid(join(&tpath, "spec"), "required value"))?;
    pod::pod_spec(pspec, &join(&tpath, "spec"))?;
    if !array(pspec, &tpath, "ephemeralContainers")?.is_empty() {
        return Err(invalid(
            join(&tpath, "spec.ephemeralContainers"),
            "ephemeral containers are not allowed in pod templates",
        ));
    }
    let policy = opt_str(pspec, &tpath, "restartPolicy")?.unwrap_or("Always");
    if !restart.contains(&policy) {
        return Err(invalid(
            join(&tpath, "spec.restartPolicy"),
            format!(
                "unsupported value {policy:?}: supported values: {}",
                restart.join(", ")
            ),
        ));
    }
    Ok(())
}

/// A label selector: non-empty; valid keys, values and operators.
pub fn label_selector(selector: &Value, path: &str) -> Checked {
    if !selector.is_object() {
        return Err(invalid(path, "must be a mapping"));
    }
    meta::labels(selector.get("matchLabels"), &join(path, "matchLabels"))?;
    let exprs = array(selector, path, "matchExpressions")?;
    let labels_empty = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.is_empty());
    if labels_empty && exprs.is_empty() {
        return Err(invalid(path, "empty selector is invalid for this workload"));
    }
    for (i, e) in exprs.iter().enumerate() {
        let at = format!("{}[{i}]", join(path, "matchExpressions"));
        let key = opt_str(e, &at, "key")?.unwrap_or_default();
        super::text_rule(join(&at, "key"), key, super::names::qualified_name)?;
        let values = array(e, &at, "values")?;
        match opt_str(e, &at, "operator")?.unwrap_or_default() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(invalid(
                    join(&at, "values"),
                    "must be specified when operator is In or NotIn",
                ));
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(invalid(
                    join(&at, "values"),
                    "may not be specified when operator is Exists or DoesNotExist",
                ));
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => {
                return Err(invalid(
                    join(&at, "operator"),
                    format!("{other:?} is not a valid selector operator"),
                ));
            }
        }
        for (j, v) in values.iter().enumerate() {
            let v = v
                .as_str()
                .ok_or_else(|| invalid(format!("{at}.values[{j}]"), "must be a string"))?;
            super::text_rule(format!("{at}.values[{j}]"), v, super::names::label_value)?;
        }
    }
    Ok(())
}

/// Whether `selector` (valid) selects an object with `labels`.
pub fn selects(selector: &Value, labels: Option<&Value>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let labels_ok = match_labels.is_none_or(|m| {
        m.iter()
            .all(|(k, v)| label(k).is_some() && label(k) == v.as_str())
    });
    let exprs = selector.get("matchExpressions").and_then(Value::as_array);
    labels_ok
        && exprs.is_none_or(|es| {
            es.iter().all(|e| {
                let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
                let values: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let have = label(key);
                match e.get("operator").and_then(Value::as_str) {
                    Some("In") => have.is_some_and(|h| values.contains(&h)),
                    Some("NotIn") => !have.is_some_and(|h| values.contains(&h)),
                    Some("Exists") => have.is_some(),
                    Some("DoesNotExist") => have.is_none(),
                    _ => false,
                }
            })
        })
}

/// A Job spec at `path`.
fn job(spec: &Value, path: &str) -> Checked {
    for f in [
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
    ] {
        at_least(spec, path, f, 0)?;
    }
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    let selector = spec.get("selector").filter(|s| !s.is_null());
    match (manual, selector) {
        (false, Some(_)) => {
            return Err(invalid(
                join(path, "selector"),
                "`selector` will be auto-generated; set manualSelector: true to give one",
            ));
        }
        (true, None) => return Err(invalid(join(path, "selector"), "required value")),
        _ => {}
    }
    one_of(spec, path, "completionMode", &["NonIndexed", "Indexed"])?;
    template(spec, path, selector, &["OnFailure", "Never"])
}

fn cron_job(object: &Value, spec: &Value) -> Checked {
    let name = at(object, "metadata.name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.len() > 52 {
        return Err(Invalid {
            problem: super::Problem::Name,
            field: "metadata.name".into(),
            reason: format!("{name:?} must be no more than 52 characters"),
        });
    }
    let schedule = opt_str(spec, "spec", "schedule")?.unwrap_or_default();
    cron_schedule(schedule).map_err(|r| invalid("spec.schedule", r))?;
    one_of(
        spec,
        "spec",
        "concurrencyPolicy",
        &["Allow", "Forbid", "Replace"],
    )?;
    for f in [
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    ] {
        at_least(spec, "spec", f, 0)?;
    }
    let job_spec = at(spec, "jobTemplate.spec")
        .ok_or_else(|| invalid("spec.jobTemplate.spec", "required value"))?;
    job(job_spec, "spec.jobTemplate.spec")
}

/// A cron schedule: a predefined `@…` macro or five fields of
/// `0-9 * / , - ?` and letters (month and weekday names), optionally after
/// `TZ=`/`CRON_TZ=` (which kube refuses in `schedule`).
pub fn cron_schedule(s: &str) -> Result<(), String> {
    const MACROS: [&str; 8] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
        "@every",
    ];
    if s.is_empty() {
        return Err("required value".into());
    }
    if s.contains("TZ") {
        return Err("cannot use TZ or CRON_TZ in schedule; use timeZone".into());
    }
    if let Some(m) = MACROS.iter().find(|m| s.starts_with(**m)) {
        return if *m == "@every" || s == *m {
            Ok(())
        } else {
            Err(format!("{s:?} is not a valid schedule"))
        };
    }
    let fields: Vec<&str> = s.split_ascii_whitespace().collect();
    let field_ok = |f: &&str| {
        f.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '/' | ',' | '-' | '?'))
    };
    if fields.len() == 5 && fields.iter().all(field_ok) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid schedule: expected five fields"
        ))
    }
}
