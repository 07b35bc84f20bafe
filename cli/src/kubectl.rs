//! kubectl's way in (decision 0022): `daas token`, the exec credential
//! plugin that signs a short-lived token with the user's Sui key, and
//! `daas kubeconfig`, which writes the context that runs it.
//!
//! Tokens are cached on disk (kubectl keeps them only per process):
//! `<cache>/<sha256(cluster, audience, address)>.json`, directory 0700,
//! files 0600, reused while more than [`REUSE_MARGIN_MS`] of validity remain.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use daas_token::Claims;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::Address;

/// The exec credential API version kubectl v1.22+ speaks.
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1";

/// A cached token is reused only while more than this remains: 2 minutes.
pub const REUSE_MARGIN_MS: u64 = 120_000;

/// kubectl is told the token expires this much before it does, so it asks
/// again in time: 60 seconds.
pub const EXPIRY_MARGIN_MS: u64 = 60_000;

/// The default token cache directory: `~/.cache/daas/tokens`.
pub fn default_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("daas/tokens")
}

/// Refuses `KUBERNETES_EXEC_INFO` (if kubectl set it) of another API version.
pub fn check_exec_info(info: Option<&str>) -> anyhow::Result<()> {
    let Some(info) = info.filter(|i| !i.trim().is_empty()) else {
        return Ok(());
    };
    let v: Value = serde_json::from_str(info).context("KUBERNETES_EXEC_INFO is not JSON")?;
    match v["apiVersion"].as_str() {
        Some(EXEC_API_VERSION) => Ok(()),
        other => bail!(
            "kubectl asked for exec credential API {other:?}; daas speaks {EXEC_API_VERSION} \
             (set apiVersion: {EXEC_API_VERSION} in the kubeconfig's exec section)"
        ),
    }
}

/// RFC 3339 (UTC, seconds) of Unix `ms`.
fn rfc3339(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The ExecCredential kubectl reads for `token` expiring at `expires_at_ms`.
pub fn exec_credential(token: &str, expires_at_ms: u64) -> Value {
    json!({
        "apiVersion": EXEC_API_VERSION,
        "kind": "ExecCredential",
        "status": {
            "token": token,
            "expirationTimestamp": rfc3339(expires_at_ms.saturating_sub(EXPIRY_MARGIN_MS)),
        }
    })
}

/// The cache file of (cluster, audience, address).
fn cache_file(dir: &Path, cluster: &Address, audience: &str, who: &Address) -> PathBuf {
    let mut h = Sha256::new();
    for part in [cluster.as_bytes(), audience.as_bytes(), who.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    dir.join(format!("{}.json", hex::encode(h.finalize())))
}

/// A cached token still good at `now_ms` for `expected`, if any.
fn cached(path: &Path, cluster: &Address, audience: &str, now_ms: u64) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let token = v["token"].as_str()?.to_owned();
    let claims = daas_token::decode(&token).ok()?.claims;
    let fresh = claims.expires_at_ms > now_ms.saturating_add(REUSE_MARGIN_MS)
        && claims.issued_at_ms <= now_ms.saturating_add(daas_token::CLOCK_SKEW_MS);
    (fresh && claims.cluster == *cluster && claims.audience == audience)
        .then_some((token, claims.expires_at_ms))
}

/// Writes `contents` to `path` with mode 0600, in a 0700 directory.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::keystore::write_private(path, contents)
        .with_context(|| format!("writing {}", path.display()))
}

/// What `daas token` needs.
pub struct TokenRequest<'a> {
    /// The cluster.
    pub cluster: Address,
    /// The audience.
    pub audience: &'a str,
    /// Lifetime, ms.
    pub lifetime_ms: u64,
    /// The cache directory (`None`: no cache).
    pub cache: Option<&'a Path>,
    /// The clock, Unix ms.
    pub now_ms: u64,
}

/// A token for `req`, from the cache or newly signed by `key`, and its expiry.
pub fn token(key: &Ed25519PrivateKey, req: &TokenRequest<'_>) -> anyhow::Result<(String, u64)> {
    daas_token::check_audience_text(req.audience)?;
    if req.lifetime_ms == 0 || req.lifetime_ms > daas_token::MAX_LIFETIME_MS {
        bail!(
            "a token lives 1 ms to {} min",
            daas_token::MAX_LIFETIME_MS / 60_000
        );
    }
    let who = key.public_key().derive_address();
    let path = req
        .cache
        .map(|dir| cache_file(dir, &req.cluster, req.audience, &who));
    if let Some(hit) = path
        .as_deref()
        .and_then(|p| cached(p, &req.cluster, req.audience, req.now_ms))
    {
        return Ok(hit);
    }
    let claims = Claims::new(
        req.cluster,
        req.audience,
        req.now_ms,
        req.lifetime_ms,
        &mut rand_core::OsRng,
    );
    let token = daas_token::sign(&claims, key)?;
    if let Some(p) = path {
        let body = serde_json::to_vec(&json!({ "token": token }))?;
        if let Err(e) = write_private(&p, &body) {
            tracing::warn!(
                error = format!("{e:#}"),
                "the token cache could not be written"
            );
        }
    }
    Ok((token, claims.expires_at_ms))
}

/// What `daas kubeconfig` writes.
pub struct KubeconfigEntry {
    /// Cluster entry name.
    pub cluster_name: String,
    /// User entry name.
    pub user_name: String,
    /// Context name.
    pub context: String,
    /// The API URL.
    pub server: String,
    /// PEM bytes of the CA (`None` for plain HTTP).
    pub ca_pem: Option<Vec<u8>>,
    /// Default namespace of the context.
    pub namespace: Option<String>,
    /// The exec plugin's command and arguments.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// Replaces or appends the entry named `name` in the list `key` of `doc`.
fn upsert(doc: &mut serde_yaml_ng::Mapping, key: &str, name: &str, entry: serde_yaml_ng::Value) {
    let list = doc
        .entry(key.into())
        .or_insert_with(|| serde_yaml_ng::Value::Sequence(Vec::new()));
    if !list.is_sequence() {
        *list = serde_yaml_ng::Value::Sequence(Vec::new());
    }
    if let Some(seq) = list.as_sequence_mut() {
        seq.retain(|e| e.get("name").and_then(|n| n.as_str()) != Some(name));
        seq.push(entry);
    }
}

/// `existing` (a kubeconfig's text, possibly empty) with `e` merged in
/// and made the current context; every other entry is kept.
pub fn merge(existing: &str, e: &KubeconfigEntry) -> anyhow::Result<String> {
    let mut doc: serde_yaml_ng::Mapping = if existing.trim().is_empty() {
        serde_yaml_ng::Mapping::new()
    } else {
        serde_yaml_ng::from_str(existing).context("the existing kubeconfig is not YAML")?
    };
    doc.insert("apiVersion".into(), "v1".into());
    doc.insert("kind".into(), "Config".into());
    let mut cluster = json!({ "server": e.server });
    if let Some(ca) = &e.ca_pem {
        cluster["certificate-authority-data"] =
            json!(base64::engine::general_purpose::STANDARD.encode(ca));
    }
    let mut context = json!({ "cluster": e.cluster_name, "user": e.user_name });
    if let Some(ns) = &e.namespace {
        context["namespace"] = json!(ns);
    }
    let user = json!({ "exec": {
        "apiVersion": EXEC_API_VERSION,
        "command": e.command,
        "args": e.args,
        "interactiveMode": "Never",
        "provideClusterInfo": false,
    }});
    let entry = |name: &str, field: &str, body: Value| -> anyhow::Result<serde_yaml_ng::Value> {
        Ok(serde_yaml_ng::to_value(
            json!({ "name": name, field: body }),
        )?)
    };
    upsert(
        &mut doc,
        "clusters",
        &e.cluster_name,
        entry(&e.cluster_name, "cluster", cluster)?,
    );
    upsert(
        &mut doc,
        "users",
        &e.user_name,
        entry(&e.user_name, "user", user)?,
    );
    upsert(
        &mut doc,
        "contexts",
        &e.context,
        entry(&e.context, "context", context)?,
    );
    doc.insert("current-context".into(), e.context.clone().into());
    Ok(serde_yaml_ng::to_string(&doc)?)
}

/// The kubeconfig file to write: `$KUBECONFIG`'s first path, else `~/.kube/config`.
pub fn kubeconfig_path(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_owned();
    }
    if let Some(first) = std::env::var_os("KUBECONFIG")
        .and_then(|v| std::env::split_paths(&v).find(|p| !p.as_os_str().is_empty()))
    {
        return first;
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".kube/config")
}

/// Merges `e` into the kubeconfig at `path` (0600).
pub fn write_kubeconfig(path: &Path, e: &KubeconfigEntry) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let merged = merge(&existing, e)?;
    write_private(path, merged.as_bytes())
}

#[cfg(test)]
mod tests;

/// `daas token`: prints the ExecCredential for the configured key and cluster.
pub fn token_command(
    settings: &crate::config::Settings,
    audience: &str,
    lifetime_secs: u64,
    cache_dir: Option<&Path>,
) -> anyhow::Result<()> {
    check_exec_info(std::env::var("KUBERNETES_EXEC_INFO").ok().as_deref())?;
    let key = crate::session::signing_key(settings)?;
    let cluster = settings.need_id(
        &settings.config.cluster_id,
        "cluster_id",
        "--cluster-id / DAAS_CLUSTER_ID",
    )?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let req = TokenRequest {
        cluster,
        audience,
        lifetime_ms: lifetime_secs.saturating_mul(1000),
        cache: cache_dir,
        now_ms,
    };
    let (token, expires) = token(&key, &req)?;
    println!(
        "{}",
        serde_json::to_string(&exec_credential(&token, expires))?
    );
    Ok(())
}

/// What `daas kubeconfig` is asked.
#[derive(clap::Args, Clone, Debug)]
pub struct KubeconfigArgs {
    /// The Kubernetes API URL [default: the configuration's kube_api_url].
    #[arg(long)]
    pub server: Option<String>,
    /// The API's CA certificate, PEM [default: the configuration's kube_api_ca].
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// The context's name [default: <key>@daas-<cluster prefix>].
    #[arg(long)]
    pub context: Option<String>,
    /// The context's default namespace.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// The tokens' audience (see `daas token --help`).
    #[arg(long, default_value = "daas-master")]
    pub audience: String,
    /// The kubeconfig file to write [default: first of $KUBECONFIG, else ~/.kube/config].
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// `daas kubeconfig`: merges the context and prints where.
pub fn kubeconfig_command(
    settings: &crate::config::Settings,
    a: KubeconfigArgs,
) -> anyhow::Result<()> {
    daas_token::check_audience_text(&a.audience)?;
    let alias = settings
        .config
        .key
        .clone()
        .context("no key chosen: pass --key ALIAS (see `daas keys list`)")?;
    crate::session::signing_key(settings)?;
    let cluster = settings.need_id(
        &settings.config.cluster_id,
        "cluster_id",
        "--cluster-id / DAAS_CLUSTER_ID",
    )?;
    let server = match a.server {
        Some(s) => s,
        None => settings.need(
            &settings.config.kube_api_url,
            "kube_api_url",
            "--server / DAAS_KUBE_API_URL",
        )?,
    };
    let ca = a.ca_file.or_else(|| settings.config.kube_api_ca.clone());
    let ca_pem = match (&ca, server.starts_with("https://")) {
        (Some(p), true) => {
            Some(std::fs::read(p).with_context(|| format!("reading the CA {}", p.display()))?)
        }
        (None, true) => bail!(
            "an https server needs its CA: --ca-file PATH (or kube_api_ca in the configuration)"
        ),
        (_, false) => None,
    };
    let short = &cluster.to_string()[2..10];
    let cluster_name = format!("daas-{short}");
    let context = a
        .context
        .unwrap_or_else(|| format!("{alias}@{cluster_name}"));
    let exe = std::env::current_exe().context("the path of this daas binary")?;
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let mut args = vec![
        "token".to_owned(),
        "--key".to_owned(),
        alias.clone(),
        "--cluster-id".to_owned(),
        cluster.to_string(),
        "--audience".to_owned(),
        a.audience,
        "--config".to_owned(),
        absolute(&settings.path).display().to_string(),
        "--keystore".to_owned(),
        absolute(&settings.keystore()).display().to_string(),
    ];
    args.shrink_to_fit();
    let entry = KubeconfigEntry {
        cluster_name,
        user_name: format!("daas-{alias}"),
        context: context.clone(),
        server,
        ca_pem,
        namespace: a.namespace,
        command: exe.display().to_string(),
        args,
    };
    let path = kubeconfig_path(a.kubeconfig.as_deref());
    write_kubeconfig(&path, &entry)?;
    println!(
        "context {context:?} written to {} and selected",
        path.display()
    );
    Ok(())
}
