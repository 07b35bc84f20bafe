//! The Kubernetes API's reads, each next to a raw etcd read in the same run:
//!
//! - a list of 10,000 ConfigMaps in one namespace: a raw etcd range read of
//!   the prefix (pages of 500, values only: the baseline), the API's JSON
//!   list and its Table over HTTPS (reqwest), and `kubectl get configmaps`
//!   (the real kubectl, which asks for a Table, includes its own start-up);
//!   each as the median of `MASTER_BENCH_RUNS` runs and as a ratio to the
//!   baseline;
//! - watch latency: from sending an etcd put (what the apply path's Txn
//!   commit is) to the event's line on an open watch over HTTPS, median and
//!   p99 of `MASTER_BENCH_WATCH_EVENTS` puts, next to the put's own round
//!   trip (the event cannot arrive before etcd has the write).
//!
//! `scripts/stack up && cargo bench -p daas-master --bench kube_api`
//! (`MASTER_BENCH_OBJECTS`, default 10000; `MASTER_BENCH_RUNS`, default 5;
//! `MASTER_BENCH_WATCH_EVENTS`, default 200).

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use daas_domain::{Address, access::Access, roles::Role};
use daas_master::{
    access::AccessPublisher,
    kube_api::{KubeApi, router, serve, system_clock},
    state::prefix_end,
};
use daas_testkit::{Stack, TestEtcd};
use daas_token::{Claims, sign};
use etcd_client::GetOptions;
use serde_json::json;
use sui_crypto::ed25519::Ed25519PrivateKey;
use tokio_util::sync::CancellationToken;

const CLUSTER: [u8; 32] = [0xc1; 32];
const NS: &str = "team-a";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn p99(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[(xs.len() * 99 / 100).min(xs.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn put_configmaps(etcd: &TestEtcd, n: usize) -> anyhow::Result<()> {
    let mut client = etcd.client.clone();
    let mut ops = Vec::new();
    for i in 0..n {
        let name = format!("cm-{i:05}");
        let v = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": NS, "uid": format!("{i:032x}"),
                         "creationTimestamp": "2026-12-01T00:00:00Z", "labels": {"app": "bench"}},
            "data": {"config.yaml": "x".repeat(200)}});
        let key = etcd.key(&format!("registry/configmaps/{NS}/{name}"));
        ops.push(etcd_client::TxnOp::put(key, serde_json::to_vec(&v)?, None));
        if ops.len() == 100 {
            client
                .txn(etcd_client::Txn::new().and_then(std::mem::take(&mut ops)))
                .await?;
        }
    }
    if !ops.is_empty() {
        client.txn(etcd_client::Txn::new().and_then(ops)).await?;
    }
    Ok(())
}

/// The baseline: every value under the prefix, in pages of 500.
async fn raw_range(etcd: &TestEtcd) -> anyhow::Result<usize> {
    let mut client = etcd.client.clone();
    let prefix = etcd.key(&format!("registry/configmaps/{NS}/"));
    let end = prefix_end(prefix.as_bytes());
    let (mut start, mut n, mut rev) = (prefix.into_bytes(), 0, 0);
    loop {
        let mut opts = GetOptions::new().with_range(end.clone()).with_limit(500);
        if rev > 0 {
            opts = opts.with_revision(rev);
        }
        let resp = client.get(start.clone(), Some(opts)).await?;
        rev = resp.header().map(|h| h.revision()).unwrap_or_default();
        n += resp.kvs().len();
        match resp.kvs().last() {
            Some(last) if resp.more() => {
                start = last.key().to_vec();
                start.push(0);
            }
            _ => return Ok(n),
        }
    }
}

struct Served {
    base: String,
    token: String,
    ca_pem: Vec<u8>,
    _tls: tempfile::TempDir,
    _stop: tokio_util::sync::DropGuard,
}

async fn serve_api(etcd: &TestEtcd) -> anyhow::Result<Served> {
    let key = Ed25519PrivateKey::new([0xa1; 32]);
    let who = Address(key.public_key().derive_address().into_inner());
    let (publisher, _) = AccessPublisher::new();
    publisher.publish_access(Access::new(
        Address(CLUSTER),
        None,
        [(who, Role::User, 10_000_000_000)],
        BTreeMap::from([(NS.to_owned(), who)]),
        BTreeMap::new(),
    ));
    let api = Arc::new(KubeApi::new(
        etcd.client.clone(),
        &etcd.key("registry"),
        publisher.subscribe(),
        Address(CLUSTER),
    ));
    let tls = tempfile::tempdir()?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tls.path(), std::fs::Permissions::from_mode(0o700))?;
    }
    let stop = CancellationToken::new();
    let listen = "127.0.0.1:0".parse()?;
    let (bound, _) = serve::spawn(listen, Some(tls.path()), &[], router(api), stop.clone()).await?;
    let claims = Claims::new(
        sui_sdk_types::Address::new(CLUSTER),
        "daas-master",
        system_clock(),
        3_600_000,
        &mut rand_core::OsRng,
    );
    Ok(Served {
        base: format!("https://127.0.0.1:{}", bound.port()),
        token: sign(&claims, &key)?,
        ca_pem: std::fs::read(serve::ca_path(tls.path()))?,
        _tls: tls,
        _stop: stop.drop_guard(),
    })
}

fn kubeconfig(s: &Served, dir: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(&s.ca_pem);
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\nusers:\n- name: b\n  user:\n    token: {}\ncontexts:\n- name: b\n  context:\n    cluster: b\n    user: b\n    namespace: {NS}\ncurrent-context: b\n",
        s.base, s.token
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text)?;
    Ok(path)
}

async fn timed<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed());
    }
    Ok(median(times))
}

/// (put sent -> event read, put sent -> put answered) per event.
async fn watch_latency(
    etcd: &TestEtcd,
    s: &Served,
    http: &reqwest::Client,
    events: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let url = format!(
        "{}/api/v1/namespaces/{NS}/configmaps?watch=true&resourceVersion=1",
        s.base
    );
    let rev = etcd
        .client
        .clone()
        .get("x", None)
        .await?
        .header()
        .map(|h| h.revision())
        .unwrap_or(1);
    let url = url.replace("resourceVersion=1", &format!("resourceVersion={rev}"));
    let resp = http.get(url).bearer_auth(&s.token).send().await?;
    let mut resp = resp;
    let mut client = etcd.client.clone();
    let (mut out, mut puts) = (Vec::new(), Vec::new());
    let mut buf = Vec::new();
    for i in 0..events {
        let name = format!("watched-{i:05}");
        let v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS}});
        let sent = Instant::now();
        client
            .put(
                etcd.key(&format!("registry/configmaps/{NS}/{name}")),
                serde_json::to_vec(&v)?,
                None,
            )
            .await?;
        puts.push(sent.elapsed());
        loop {
            if let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                if line.windows(name.len()).any(|w| w == name.as_bytes()) {
                    out.push(sent.elapsed());
                    break;
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
                .await??
                .ok_or_else(|| anyhow::anyhow!("the watch ended"))?;
            buf.extend_from_slice(&chunk);
        }
    }
    Ok((out, puts))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let objects = env_usize("MASTER_BENCH_OBJECTS", 10_000);
    let runs = env_usize("MASTER_BENCH_RUNS", 5);
    let events = env_usize("MASTER_BENCH_WATCH_EVENTS", 200);
    let stack = Stack::from_env()?;
    let etcd = TestEtcd::new(&stack).await?;
    put_configmaps(&etcd, objects).await?;
    let s = serve_api(&etcd).await?;
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&s.ca_pem)?)
        .build()?;
    let list_url = format!("{}/api/v1/namespaces/{NS}/configmaps", s.base);
    let dir = tempfile::tempdir()?;
    let kc = kubeconfig(&s, dir.path())?;

    let raw = timed(runs, || raw_range(&etcd)).await?;
    let json_list = timed(runs, || async {
        let v: serde_json::Value = http
            .get(&list_url)
            .bearer_auth(&s.token)
            .send()
            .await?
            .json()
            .await?;
        Ok(v["items"].as_array().map_or(0, Vec::len))
    })
    .await?;
    let table = timed(runs, || async {
        let v: serde_json::Value = http
            .get(&list_url)
            .bearer_auth(&s.token)
            .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
            .send()
            .await?
            .json()
            .await?;
        Ok(v["rows"].as_array().map_or(0, Vec::len))
    })
    .await?;
    let kubectl = timed(runs, || async {
        let out = tokio::process::Command::new("kubectl")
            .args(["get", "configmaps", "--kubeconfig"])
            .arg(&kc)
            .output()
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "kubectl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(out.stdout.iter().filter(|b| **b == b'\n').count())
    })
    .await?;
    let raw_ms = ms(raw);
    println!("list of {objects} ConfigMaps, median of {runs} runs (same etcd, same run):");
    println!("  raw etcd range read (baseline)  {raw_ms:8.1} ms");
    for (what, d) in [
        ("API JSON list (HTTPS)", json_list),
        ("API Table (HTTPS)", table),
        ("kubectl get configmaps", kubectl),
    ] {
        println!("  {what:<31} {:8.1} ms  ratio {:.2}", ms(d), ms(d) / raw_ms);
    }
    let (lat, puts) = watch_latency(&etcd, &s, &http, events).await?;
    let (lm, lp, pm, pp) = (
        ms(median(lat.clone())),
        ms(p99(lat)),
        ms(median(puts.clone())),
        ms(p99(puts)),
    );
    println!("watch, {events} puts of one ConfigMap each (same etcd, same run):");
    println!("  etcd put round trip (baseline)  median {pm:.2} ms, p99 {pp:.2} ms");
    println!(
        "  put sent -> watch event read    median {lm:.2} ms, p99 {lp:.2} ms  (ratio {:.2}, {:.2})",
        lm / pm,
        lp / pp
    );
    Ok(())
}
