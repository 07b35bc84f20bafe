//! Pod Security Standards, checked as Kubernetes' Pod Security admission
//! (`k8s.io/pod-security-admission/policy`, version `latest`) checks them.
//!
//! One small pure function per control, each with its fields and allowed
//! values in its doc comment; [`CHECKS`] registers them with their level and
//! [`evaluate`] runs them all over one pod spec and reports every violation
//! (not only the first), each naming the field path (e.g.
//! `spec.template.spec.containers[0].securityContext.privileged`). Every
//! check covers containers, initContainers and ephemeralContainers.
//!
//! Not modelled: the Windows (`spec.os.name: windows`) exemptions of the
//! restricted level, older policy versions (`...-version` labels are read as
//! `latest`), and the seccomp alpha annotations (removed from Kubernetes).

use serde_json::Value;

use crate::templates::{PodSite, containers};

/// A Pod Security level, as in `pod-security.kubernetes.io/enforce`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Level {
    /// No restriction.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Hardened pods.
    Restricted,
}

impl Level {
    /// From a label value (`privileged`, `baseline`, `restricted`).
    pub fn parse(value: &str) -> Option<Level> {
        match value {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

/// The namespace label that sets the enforced level.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The Pod Security labels a namespace may carry (levels).
pub const LEVEL_LABELS: [&str; 3] = [
    "pod-security.kubernetes.io/enforce",
    "pod-security.kubernetes.io/warn",
    "pod-security.kubernetes.io/audit",
];
/// The Pod Security labels a namespace may carry (versions).
pub const VERSION_LABELS: [&str; 3] = [
    "pod-security.kubernetes.io/enforce-version",
    "pod-security.kubernetes.io/warn-version",
    "pod-security.kubernetes.io/audit-version",
];

/// One control a pod fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The lowest level that forbids it.
    pub level: Level,
    /// The field path, e.g. `spec.containers[0].securityContext.privileged`.
    pub field: String,
    /// What is wrong, e.g. `privileged containers are not allowed`.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

/// Where one check writes: the pod spec's path and the violations so far.
struct Out<'p> {
    path: &'p str,
    level: Level,
    found: Vec<Violation>,
}

impl Out<'_> {
    fn add(&mut self, field: impl AsRef<str>, detail: impl Into<String>) {
        self.found.push(Violation {
            level: self.level,
            field: format!("{}.{}", self.path, field.as_ref()),
            detail: detail.into(),
        });
    }
}

type Check = fn(&Value, Option<&Value>, &mut Out<'_>);

/// Every control, with the lowest level that enforces it.
const CHECKS: [(Level, Check); 17] = [
    (Level::Baseline, host_process),
    (Level::Baseline, host_namespaces),
    (Level::Baseline, privileged),
    (Level::Baseline, capabilities_baseline),
    (Level::Baseline, host_path_volumes),
    (Level::Baseline, host_ports),
    (Level::Baseline, app_armor),
    (Level::Baseline, se_linux),
    (Level::Baseline, proc_mount),
    (Level::Baseline, seccomp_baseline),
    (Level::Baseline, sysctls),
    (Level::Restricted, volume_types),
    (Level::Restricted, privilege_escalation),
    (Level::Restricted, run_as_non_root),
    (Level::Restricted, run_as_user),
    (Level::Restricted, seccomp_restricted),
    (Level::Restricted, capabilities_restricted),
];

/// Every violation of the pod at `site`, at any level, in check order.
/// A site without a spec (or a spec that is not a mapping) violates
/// nothing here: field validation refuses it.
pub fn evaluate(site: &PodSite<'_>) -> Vec<Violation> {
    let Some(spec @ Value::Object(_)) = site.spec else {
        return Vec::new();
    };
    let mut out = Out {
        path: site.spec_path,
        level: Level::Baseline,
        found: Vec::new(),
    };
    for (level, check) in CHECKS {
        out.level = level;
        check(spec, site.metadata, &mut out);
    }
    for v in &mut out.found {
        // The AppArmor annotations live in the metadata, not the spec.
        if let Some(rest) = v
            .field
            .strip_prefix(&format!("{}.@metadata.", site.spec_path))
        {
            v.field = format!("{}.{rest}", site.metadata_path);
        }
    }
    out.found
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

/// Container security contexts as (path of `securityContext`, context).
fn container_contexts(spec: &Value) -> Vec<(String, &Value)> {
    containers(spec)
        .into_iter()
        .filter_map(|(p, c)| {
            c.get("securityContext")
                .map(|sc| (format!("{p}.securityContext"), sc))
        })
        .collect()
}

/// hostProcess: `spec.securityContext.windowsOptions.hostProcess`,
/// `*.securityContext.windowsOptions.hostProcess`; allowed: unset, false.
fn host_process(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    let pod = spec.get("securityContext");
    if is_true(pod.and_then(|s| s.get("windowsOptions")?.get("hostProcess"))) {
        out.add(
            "securityContext.windowsOptions.hostProcess",
            "host process pods are not allowed",
        );
    }
    for (p, sc) in container_contexts(spec) {
        if is_true(sc.get("windowsOptions").and_then(|w| w.get("hostProcess"))) {
            out.add(
                format!("{p}.windowsOptions.hostProcess"),
                "host process containers are not allowed",
            );
        }
    }
}

/// Host namespaces: `spec.hostNetwork`, `spec.hostPID`, `spec.hostIPC`;
/// allowed: unset, false.
fn host_namespaces(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for f in ["hostNetwork", "hostPID", "hostIPC"] {
        if is_true(spec.get(f)) {
            out.add(f, "host namespaces are not allowed");
        }
    }
}

/// Privileged: `*.securityContext.privileged`; allowed: unset, false.
fn privileged(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (p, sc) in container_contexts(spec) {
        if is_true(sc.get("privileged")) {
            out.add(
                format!("{p}.privileged"),
                "privileged containers are not allowed",
            );
        }
    }
}

/// Capabilities a baseline container may add.
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added_capabilities(sc: &Value) -> Vec<(usize, &Value)> {
    match sc.get("capabilities").and_then(|c| c.get("add")) {
        Some(Value::Array(caps)) => caps.iter().enumerate().collect(),
        _ => Vec::new(),
    }
}

/// Capabilities (baseline): `*.securityContext.capabilities.add`; allowed:
/// AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD,
/// NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT.
fn capabilities_baseline(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (p, sc) in container_contexts(spec) {
        for (i, cap) in added_capabilities(sc) {
            if !text(Some(cap)).is_some_and(|c| BASELINE_CAPABILITIES.contains(&c)) {
                out.add(
                    format!("{p}.capabilities.add[{i}]"),
                    format!("non-default capability {cap} is not allowed"),
                );
            }
        }
    }
}

fn volumes(spec: &Value) -> &[Value] {
    spec.get("volumes")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// HostPath volumes: `spec.volumes[*].hostPath`; allowed: unset.
fn host_path_volumes(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (i, v) in volumes(spec).iter().enumerate() {
        if v.get("hostPath").is_some_and(|h| !h.is_null()) {
            out.add(
                format!("volumes[{i}].hostPath"),
                "hostPath volumes are not allowed",
            );
        }
    }
}

/// Host ports: `*.ports[*].hostPort`; allowed: unset, 0.
fn host_ports(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (p, c) in containers(spec) {
        let Some(Value::Array(ports)) = c.get("ports") else {
            continue;
        };
        for (i, port) in ports.iter().enumerate() {
            match port.get("hostPort") {
                None | Some(Value::Null) => {}
                Some(v) if v.as_i64() == Some(0) => {}
                Some(v) => out.add(
                    format!("{p}.ports[{i}].hostPort"),
                    format!("hostPort {v} is not allowed"),
                ),
            }
        }
    }
}

/// AppArmor: `metadata.annotations["container.apparmor.security.beta.kubernetes.io/*"]`
/// (allowed: `runtime/default`, `localhost/*`) and
/// `*.securityContext.appArmorProfile.type` (allowed: unset, RuntimeDefault, Localhost).
fn app_armor(spec: &Value, metadata: Option<&Value>, out: &mut Out<'_>) {
    const PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
    if let Some(Value::Object(annotations)) = metadata.and_then(|m| m.get("annotations")) {
        for (k, v) in annotations.iter().filter(|(k, _)| k.starts_with(PREFIX)) {
            let ok = text(Some(v))
                .is_some_and(|v| v == "runtime/default" || v.starts_with("localhost/"));
            if !ok {
                out.add(
                    format!("@metadata.annotations[{k}]"),
                    format!("AppArmor profile {v} is not allowed"),
                );
            }
        }
    }
    let mut contexts = container_contexts(spec);
    if let Some(sc) = spec.get("securityContext") {
        contexts.push(("securityContext".into(), sc));
    }
    for (p, sc) in contexts {
        let kind = sc.get("appArmorProfile").and_then(|a| a.get("type"));
        if let Some(t) = kind
            && !matches!(text(Some(t)), Some("RuntimeDefault" | "Localhost"))
        {
            out.add(
                format!("{p}.appArmorProfile.type"),
                format!("AppArmor profile type {t} is not allowed"),
            );
        }
    }
}

/// All security contexts, pod level included.
fn all_contexts(spec: &Value) -> Vec<(String, &Value)> {
    let mut contexts = Vec::new();
    if let Some(sc) = spec.get("securityContext") {
        contexts.push(("securityContext".to_owned(), sc));
    }
    contexts.extend(container_contexts(spec));
    contexts
}

/// SELinux: `*.securityContext.seLinuxOptions.type` (allowed: unset,
/// container_t, container_init_t, container_kvm_t, container_engine_t),
/// `.user` and `.role` (allowed: unset).
fn se_linux(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    const TYPES: [&str; 5] = [
        "",
        "container_t",
        "container_init_t",
        "container_kvm_t",
        "container_engine_t",
    ];
    for (p, sc) in all_contexts(spec) {
        let Some(opts) = sc.get("seLinuxOptions") else {
            continue;
        };
        if let Some(t) = opts.get("type").filter(|t| !t.is_null())
            && !text(Some(t)).is_some_and(|t| TYPES.contains(&t))
        {
            out.add(
                format!("{p}.seLinuxOptions.type"),
                format!("SELinux type {t} is not allowed"),
            );
        }
        for f in ["user", "role"] {
            if opts
                .get(f)
                .is_some_and(|v| !v.is_null() && text(Some(v)) != Some(""))
            {
                out.add(
                    format!("{p}.seLinuxOptions.{f}"),
                    format!("setting a SELinux {f} is not allowed"),
                );
            }
        }
    }
}

/// /proc mount: `*.securityContext.procMount`; allowed: unset, Default.
fn proc_mount(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (p, sc) in container_contexts(spec) {
        if let Some(m) = sc.get("procMount").filter(|m| !m.is_null())
            && text(Some(m)) != Some("Default")
        {
            out.add(
                format!("{p}.procMount"),
                format!("procMount {m} is not allowed"),
            );
        }
    }
}

fn seccomp_type(sc: &Value) -> Option<&Value> {
    sc.get("seccompProfile")
        .and_then(|s| s.get("type"))
        .filter(|t| !t.is_null())
}

/// Seccomp (baseline): `*.securityContext.seccompProfile.type`; allowed:
/// unset, RuntimeDefault, Localhost.
fn seccomp_baseline(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (p, sc) in all_contexts(spec) {
        if let Some(t) = seccomp_type(sc)
            && text(Some(t)) == Some("Unconfined")
        {
            out.add(
                format!("{p}.seccompProfile.type"),
                "seccomp profile Unconfined is not allowed",
            );
        }
    }
}

/// Sysctls a baseline pod may set.
const SAFE_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Sysctls: `spec.securityContext.sysctls[*].name`; allowed: the safe set.
fn sysctls(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    let list = spec.get("securityContext").and_then(|s| s.get("sysctls"));
    let Some(Value::Array(list)) = list else {
        return;
    };
    for (i, s) in list.iter().enumerate() {
        let name = s.get("name");
        if !text(name).is_some_and(|n| SAFE_SYSCTLS.contains(&n)) {
            out.add(
                format!("securityContext.sysctls[{i}].name"),
                format!(
                    "sysctl {} is not allowed",
                    name.cloned().unwrap_or(Value::Null)
                ),
            );
        }
    }
}

/// Volume types (restricted): `spec.volumes[*]` may only be configMap, csi,
/// downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret.
fn volume_types(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    const ALLOWED: [&str; 9] = [
        "name",
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    for (i, v) in volumes(spec).iter().enumerate() {
        let Value::Object(fields) = v else { continue };
        for (f, value) in fields {
            if !value.is_null() && !ALLOWED.contains(&f.as_str()) {
                out.add(
                    format!("volumes[{i}].{f}"),
                    format!("volume type {f} is not allowed"),
                );
            }
        }
    }
}

/// Privilege escalation (restricted): `*.securityContext.allowPrivilegeEscalation`
/// must be false.
fn privilege_escalation(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (p, c) in containers(spec) {
        let set = c
            .get("securityContext")
            .and_then(|s| s.get("allowPrivilegeEscalation"));
        if set.and_then(Value::as_bool) != Some(false) {
            out.add(
                format!("{p}.securityContext.allowPrivilegeEscalation"),
                "must be set to false",
            );
        }
    }
}

/// Running as non-root (restricted): `spec.securityContext.runAsNonRoot`
/// true, or every container's `securityContext.runAsNonRoot` true; no
/// container sets it false.
fn run_as_non_root(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    let pod = spec
        .get("securityContext")
        .and_then(|s| s.get("runAsNonRoot"))
        .and_then(Value::as_bool);
    if pod == Some(false) {
        out.add("securityContext.runAsNonRoot", "must not be set to false");
    }
    for (p, c) in containers(spec) {
        let own = c
            .get("securityContext")
            .and_then(|s| s.get("runAsNonRoot"))
            .and_then(Value::as_bool);
        match (own, pod) {
            (Some(false), _) => out.add(
                format!("{p}.securityContext.runAsNonRoot"),
                "must not be set to false",
            ),
            (Some(true), _) | (None, Some(true)) => {}
            (None, _) => out.add(
                format!("{p}.securityContext.runAsNonRoot"),
                "must be set to true (here or in spec.securityContext)",
            ),
        }
    }
}

/// Running as a non-root user (restricted): `*.securityContext.runAsUser`
/// must not be 0.
fn run_as_user(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (p, sc) in all_contexts(spec) {
        if sc.get("runAsUser").and_then(Value::as_i64) == Some(0) {
            out.add(format!("{p}.runAsUser"), "must not be 0 (root)");
        }
    }
}

/// Seccomp (restricted): `spec.securityContext.seccompProfile.type`
/// RuntimeDefault or Localhost, or every container's; no container unconfined.
fn seccomp_restricted(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    let confined = |t: Option<&Value>| matches!(text(t), Some("RuntimeDefault" | "Localhost"));
    let pod = spec.get("securityContext").and_then(seccomp_type);
    for (p, c) in containers(spec) {
        let own = c.get("securityContext").and_then(seccomp_type);
        let ok = match own {
            Some(_) => confined(own),
            None => confined(pod),
        };
        if !ok {
            out.add(
                format!("{p}.securityContext.seccompProfile.type"),
                "must be RuntimeDefault or Localhost (here or in spec.securityContext)",
            );
        }
    }
}

/// Capabilities (restricted): `*.securityContext.capabilities.drop` must
/// contain ALL; `.add` at most NET_BIND_SERVICE.
fn capabilities_restricted(spec: &Value, _: Option<&Value>, out: &mut Out<'_>) {
    for (p, c) in containers(spec) {
        let caps = c.get("securityContext").and_then(|s| s.get("capabilities"));
        let drops_all = caps
            .and_then(|c| c.get("drop"))
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
        if !drops_all {
            out.add(
                format!("{p}.securityContext.capabilities.drop"),
                "must include ALL",
            );
        }
        let Some(sc) = c.get("securityContext") else {
            continue;
        };
        for (i, cap) in added_capabilities(sc) {
            if text(Some(cap)) != Some("NET_BIND_SERVICE") {
                out.add(
                    format!("{p}.securityContext.capabilities.add[{i}]"),
                    format!("capability {cap} is not allowed (only NET_BIND_SERVICE)"),
                );
            }
        }
    }
}
