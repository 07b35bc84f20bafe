//! The API's listener: TLS with a serving certificate from the master's
//! own CA (decision 0022), or plain HTTP with `--kube-api-insecure-http`.
//!
//! The TLS directory holds `ca.pem` (what kubeconfigs trust) and
//! `ca-key.pem`, made on first use (P-256, 10 years), and `tls.pem` /
//! `tls-key.pem`, a serving certificate issued on every start (1 year)
//! for `localhost`, `127.0.0.1` and the `--kube-api-san` names. The
//! directory is 0700 and keys 0600; a key others can read is refused.

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail};
use axum::Router;
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
    service::TowerToHyperService,
};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio_rustls::{TlsAcceptor, rustls};
use tokio_util::sync::CancellationToken;

const CA_CN: &str = "k3s-daas master CA";
const DAY_S: u64 = 86_400;

/// The CA certificate's file in `dir`: what `daas kubeconfig` embeds.
pub fn ca_path(dir: &Path) -> PathBuf {
    dir.join("ca.pem")
}

fn private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} is readable by others (mode {mode:o}); chmod 700 it",
            dir.display()
        );
    }
    Ok(())
}

fn write_key(path: &Path, pem: &str) -> anyhow::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(pem.as_bytes())?;
    Ok(())
}

fn read_key(path: &Path) -> anyhow::Result<KeyPair> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} is readable by others (mode {mode:o}); chmod 600 it",
            path.display()
        );
    }
    let pem =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    KeyPair::from_pem(&pem).with_context(|| format!("{} is not a PEM key", path.display()))
}

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_CN);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

fn validity(p: &mut CertificateParams, days: u64) {
    let now = std::time::SystemTime::now();
    p.not_before = (now - std::time::Duration::from_secs(DAY_S)).into();
    p.not_after = (now + std::time::Duration::from_secs(days * DAY_S)).into();
}

/// The CA's key, made (with `ca.pem`) when absent.
fn ca_key(dir: &Path) -> anyhow::Result<KeyPair> {
    let key_path = dir.join("ca-key.pem");
    if key_path.exists() {
        return read_key(&key_path);
    }
    let key = KeyPair::generate()?;
    let mut params = ca_params();
    validity(&mut params, 3650);
    let cert = params.self_signed(&key)?;
    write_key(&key_path, &key.serialize_pem())?;
    std::fs::write(ca_path(dir), cert.pem())?;
    tracing::info!(dir = %dir.display(), "made the Kubernetes API's CA");
    Ok(key)
}

/// The serving certificate chain and key for `sans`, issued by the CA in
/// `dir` (made on first use).
pub fn serving_identity(
    dir: &Path,
    sans: &[String],
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    private_dir(dir)?;
    let ca = ca_key(dir)?;
    let issuer = Issuer::new(ca_params(), ca);
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into()];
    names.extend(sans.iter().filter(|s| !s.is_empty()).cloned());
    names.dedup();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "k3s-daas master");
    params.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => n.clone().try_into().map(SanType::DnsName),
        })
        .collect::<Result<_, _>>()
        .context("--kube-api-san")?;
    validity(&mut params, 365);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    write_key(&dir.join("tls-key.pem"), &key.serialize_pem())?;
    std::fs::write(dir.join("tls.pem"), cert.pem())?;
    let ca = CertificateDer::from_pem_file(ca_path(dir)).context("reading ca.pem")?;
    let key =
        PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).context("the serving key")?;
    Ok((vec![cert.der().clone(), ca], key))
}

/// Serves `router` on `listen` until `shutdown`, over TLS with the identity
/// in `tls_dir` (or plain HTTP when `tls_dir` is `None`); returns the bound address.
pub async fn spawn(
    listen: SocketAddr,
    tls_dir: Option<&Path>,
    sans: &[String],
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let acceptor = match tls_dir {
        Some(dir) => {
            let (chain, key) = serving_identity(dir, sans)?;
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(chain, key)?;
            Some(TlsAcceptor::from(Arc::new(config)))
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(accept_loop(listener, acceptor, router, shutdown));
    Ok((bound, task))
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: Option<TlsAcceptor>,
    router: Router,
    shutdown: CancellationToken,
) {
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    continue;
                }
            },
        };
        let (acceptor, router, shutdown) = (acceptor.clone(), router.clone(), shutdown.clone());
        tokio::spawn(async move {
            let service = TowerToHyperService::new(router);
            let builder = auto::Builder::new(TokioExecutor::new());
            let result = match acceptor {
                Some(a) => match a.accept(stream).await {
                    Ok(tls) => {
                        let conn = builder.serve_connection(TokioIo::new(tls), service);
                        tokio::select! { r = conn => r, _ = shutdown.cancelled() => Ok(()) }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    tokio::select! { r = conn => r, _ = shutdown.cancelled() => Ok(()) }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}
