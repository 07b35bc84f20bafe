//! kubectl against the cluster (issue 17), with the real `kubectl` (v1.32)
//! on the real local stack: `scripts/services` starts a run with the
//! master's Kubernetes API (TLS, its own CA), `scripts/scenario` leaves
//! alice owning team-a with a Deployment, a Service, Secrets and a
//! ConfigMap; the test adds bob's team-b, then drives kubectl through a
//! kubeconfig made by `daas kubeconfig`. Expected objects come from etcd
//! (read here with etcd-client) and from what the test applied, not from
//! the API under test.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Command, Output, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use serde_json::Value;

#[path = "support/run.rs"]
mod run;
use run::{Run, bin_dir};

/// The run, its settings, and a folder for kubeconfigs and token caches.
struct Env {
    run: Run,
    vars: BTreeMap<String, String>,
    home: tempfile::TempDir,
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

impl Env {
    fn daas(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        let mut c = Command::new(bin_dir().join("daas"));
        c.args(args)
            .envs(&self.vars)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn()?;
        if let Some(input) = stdin
            && let Some(mut pipe) = child.stdin.take()
        {
            pipe.write_all(input.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        ensure!(out.status.success(), "daas {args:?}: {}", text(&out));
        Ok(text(&out))
    }

    fn kubeconfig(&self, who: &str) -> PathBuf {
        self.home.path().join(format!("{who}.kubeconfig"))
    }

    fn kubectl_cmd(&self, who: &str, args: &[&str]) -> Command {
        let mut c = Command::new("kubectl");
        c.args(args)
            .env("KUBECONFIG", self.kubeconfig(who))
            .env("DAAS_TOKEN_CACHE", self.home.path().join("tokens"))
            .env("HOME", self.home.path());
        c
    }

    /// kubectl as `who`; (success, output).
    fn kubectl(&self, who: &str, args: &[&str]) -> anyhow::Result<(bool, String)> {
        let out = self.kubectl_cmd(who, args).output()?;
        Ok((out.status.success(), text(&out)))
    }

    fn ok(&self, who: &str, args: &[&str]) -> anyhow::Result<String> {
        let (ok, out) = self.kubectl(who, args)?;
        ensure!(ok, "kubectl {args:?} as {who} failed: {out}");
        Ok(out)
    }

    fn refused(&self, who: &str, args: &[&str], expect: &str) -> anyhow::Result<String> {
        let (ok, out) = self.kubectl(who, args)?;
        ensure!(!ok, "kubectl {args:?} as {who} should fail: {out}");
        ensure!(
            out.contains(expect),
            "kubectl {args:?}: expected {expect:?} in {out}"
        );
        Ok(out)
    }

    fn address(&self, alias: &str) -> anyhow::Result<String> {
        let list = self.daas(&["keys", "list"], None)?;
        list.lines()
            .find_map(|l| {
                let mut f = l.split_whitespace();
                (f.next() == Some(alias)).then(|| f.next().map(str::to_owned))?
            })
            .with_context(|| format!("no key {alias} in {list}"))
    }

    fn var(&self, name: &str) -> anyhow::Result<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("{name} not in the run's env"))
    }
}

fn configmap(name: &str, ns: &str, labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{{labels}}}\ndata:\n  k: v\n"
    )
}

/// Waits until `f` holds, at most `secs` seconds (the master may still be
/// loading its ledger after a start: 503).
fn until(secs: u64, mut f: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f()? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("timed out after {secs}s")
}

fn setup() -> anyhow::Result<Env> {
    let run = Run::start()?;
    run.scenario()?;
    let vars = run.env()?;
    let env = Env {
        run,
        vars,
        home: tempfile::tempdir()?,
    };
    // bob: enough stake for a namespace, then slashed to 0.5 SUI (reads
    // ConfigMaps, not Secrets).
    env.daas(&["faucet", "--key", "bob"], None)?;
    env.daas(
        &["stake", "add", "user", "--amount", "5", "--key", "bob"],
        None,
    )?;
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b\n";
    env.daas(&["apply", "-f", "-", "--key", "bob"], Some(ns))?;
    env.daas(
        &["apply", "-f", "-", "--key", "bob"],
        Some(&configmap("bob-cm", "team-b", "app: web")),
    )?;
    env.daas(
        &["apply", "-f", "-", "--key", "alice"],
        Some(&configmap("alice-web", "team-a", "app: web")),
    )?;
    env.daas(
        &["apply", "-f", "-", "--key", "alice"],
        Some(&configmap("alice-db", "team-a", "app: db")),
    )?;
    let bob = env.address("bob")?;
    env.daas(
        &[
            "admin",
            "slash",
            &bob,
            "--role",
            "user",
            "--amount",
            "5.5",
            "--reason",
            "test",
            "--key",
            "devnet-admin",
        ],
        None,
    )?;
    for who in ["alice", "bob"] {
        let file = env.kubeconfig(who);
        let out = env.daas(
            &[
                "kubeconfig",
                "--key",
                who,
                "--kubeconfig",
                file.to_str().unwrap_or_default(),
            ],
            None,
        )?;
        ensure!(out.contains("selected"), "{out}");
    }
    until(60, || Ok(env.kubectl("alice", &["get", "ns"])?.0))?;
    Ok(env)
}

/// What etcd holds for `key`: its mod_revision.
async fn mod_revision(env: &Env, key: &str) -> anyhow::Result<i64> {
    let endpoints: Vec<String> = env
        .var("DAAS_ETCD_ENDPOINTS")?
        .split(',')
        .map(str::to_owned)
        .collect();
    let mut etcd = etcd_client::Client::connect(endpoints, None).await?;
    let resp = etcd.get(key, None).await?;
    Ok(resp.kvs().first().context("no such key")?.mod_revision())
}

fn reads_and_tables(env: &Env) -> anyhow::Result<()> {
    let v = env.ok("alice", &["version"])?;
    ensure!(v.contains("Server Version: v1.32.0-daas"), "{v}");
    let cms = env.ok("alice", &["get", "configmaps", "-n", "team-a"])?;
    for want in ["NAME", "DATA", "AGE", "by-carol", "alice-web", "alice-db"] {
        ensure!(cms.contains(want), "{want} missing from {cms}");
    }
    let deploy = env.ok("alice", &["get", "deploy,svc", "-n", "team-a"])?;
    for want in ["deployment.apps/web", "UP-TO-DATE", "service/web", "80/TCP"] {
        ensure!(deploy.contains(want), "{want} missing from {deploy}");
    }
    let yaml = env.ok(
        "alice",
        &["get", "cm", "alice-web", "-n", "team-a", "-o", "yaml"],
    )?;
    ensure!(
        yaml.contains("name: alice-web") && yaml.contains("app: web"),
        "{yaml}"
    );
    let labelled = env.ok(
        "alice",
        &["get", "cm", "-n", "team-a", "-l", "app=web", "-o", "name"],
    )?;
    ensure!(labelled.trim() == "configmap/alice-web", "{labelled}");
    let all = env.ok("alice", &["get", "cm", "-A"])?;
    ensure!(all.contains("NAMESPACE") && all.contains("team-a"), "{all}");
    ensure!(
        !all.contains("team-b") && !all.contains("bob-cm"),
        "bob's objects in alice's -A: {all}"
    );
    let ns = env.ok("alice", &["get", "ns", "-o", "name"])?;
    ensure!(ns.trim() == "namespace/team-a", "{ns}");
    let described = env.ok("alice", &["describe", "cm", "alice-web", "-n", "team-a"])?;
    ensure!(
        described.contains("Name:         alice-web") && described.contains("app=web"),
        "{described}"
    );
    let resources = env.ok("alice", &["api-resources"])?;
    for want in ["configmaps", "deployments", "secrets", "namespaces"] {
        ensure!(resources.contains(want), "{want} missing from {resources}");
    }
    Ok(())
}

async fn json_matches_etcd(env: &Env) -> anyhow::Result<()> {
    let out = env.ok(
        "alice",
        &["get", "cm", "alice-web", "-n", "team-a", "-o", "json"],
    )?;
    let v: Value = serde_json::from_str(&out)?;
    ensure!(
        v["metadata"]["name"] == "alice-web" && v["data"]["k"] == "v",
        "{v}"
    );
    let prefix = env.var("DAAS_ETCD_PREFIX")?;
    let rev = mod_revision(env, &format!("{prefix}/configmaps/team-a/alice-web")).await?;
    ensure!(
        v["metadata"]["resourceVersion"].as_str() == Some(rev.to_string().as_str()),
        "resourceVersion {} is not etcd's mod_revision {rev}",
        v["metadata"]["resourceVersion"]
    );
    Ok(())
}

fn can_i(env: &Env) -> anyhow::Result<()> {
    let yes = env.ok(
        "alice",
        &["auth", "can-i", "list", "configmaps", "-n", "team-a"],
    )?;
    ensure!(yes.trim() == "yes", "{yes}");
    let (ok, no) = env.kubectl(
        "alice",
        &["auth", "can-i", "list", "configmaps", "-n", "team-b"],
    )?;
    ensure!(!ok && no.starts_with("no"), "{no}");
    let (ok, no) = env.kubectl("bob", &["auth", "can-i", "get", "secrets", "-n", "team-b"])?;
    ensure!(!ok && no.contains("5 SUI"), "{no}");
    Ok(())
}

fn forbidden(env: &Env) -> anyhow::Result<()> {
    let out = env.refused("alice", &["get", "cm", "-n", "team-b"], "Forbidden")?;
    ensure!(out.contains("not a namespace you own"), "{out}");
    env.refused(
        "alice",
        &["get", "cm", "bob-cm", "-n", "team-b"],
        "Forbidden",
    )?;
    env.refused("alice", &["get", "ns", "team-b"], "Forbidden")?;
    // bob (0.5 SUI after the slash) reads his ConfigMaps, not his Secrets.
    let own = env.ok("bob", &["get", "cm", "-n", "team-b", "-o", "name"])?;
    ensure!(own.trim() == "configmap/bob-cm", "{own}");
    let out = env.refused("bob", &["get", "secrets", "-n", "team-b"], "Forbidden")?;
    ensure!(out.contains("needs a tier stake of 5 SUI"), "{out}");
    // alice (10 SUI) reads her Secrets, opened from the at-rest envelope.
    let s = env.ok(
        "alice",
        &["get", "secret", "db", "-n", "team-a", "-o", "json"],
    )?;
    let v: Value = serde_json::from_str(&s)?;
    ensure!(v["data"]["password"].is_string(), "{v}");
    // Writes: 405 with how to write.
    let out = env.refused(
        "alice",
        &["delete", "cm", "alice-web", "-n", "team-a"],
        "daas apply",
    )?;
    ensure!(
        out.contains("MethodNotAllowed") || out.contains("not allowed"),
        "{out}"
    );
    Ok(())
}

fn watch_sees_an_apply(env: &Env) -> anyhow::Result<()> {
    let mut child = env
        .kubectl_cmd("alice", &["get", "cm", "-n", "team-a", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The initial list arrives first: the watch is open after it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let wait_for = |name: &str, seen: &mut Vec<String>| -> anyhow::Result<()> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .with_context(|| format!("{name} never appeared: {seen:?}"))?;
            let found = line.split_whitespace().next() == Some(name);
            seen.push(line);
            if found {
                return Ok(());
            }
        }
    };
    wait_for("alice-web", &mut seen)?;
    env.daas(
        &["apply", "-f", "-", "--key", "alice"],
        Some(&configmap("appeared", "team-a", "app: new")),
    )?;
    let result = wait_for("appeared", &mut seen);
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The token classes refused with 401, through raw HTTP and kubectl.
async fn bad_tokens(env: &Env) -> anyhow::Result<()> {
    use daas_token::{Claims, sign};
    let secret = env.daas(&["keys", "export", "alice"], None)?;
    let key = daas_cli::keystore::parse_suiprivkey(secret.trim())?;
    let other = sui_crypto::ed25519::Ed25519PrivateKey::new([7; 32]);
    let cluster: sui_sdk_types::Address = env.var("DAAS_CLUSTER_ID")?.parse()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let claims = |cluster, audience: &str, issued: u64, life: u64| Claims {
        cluster,
        audience: audience.to_owned(),
        issued_at_ms: issued,
        expires_at_ms: issued + life,
        nonce: [1; 16],
    };
    let good = claims(cluster, "daas-master", now, 600_000);
    // alice's claims under a signature another key made over other claims.
    let moved_signature = {
        let (head, _) = sign(&good, &key)?
            .rsplit_once('.')
            .context("parts")?
            .to_owned_pair();
        let forged = sign(&claims(cluster, "daas-master", now + 1, 600_000), &other)?;
        let (_, sig) = forged.rsplit_once('.').context("parts")?;
        format!("{head}.{sig}")
    };
    let cases = [
        (
            "expired",
            sign(
                &claims(cluster, "daas-master", now - 3_000_000, 600_000),
                &key,
            )?,
        ),
        (
            "not valid yet",
            sign(
                &claims(cluster, "daas-master", now + 600_000, 600_000),
                &key,
            )?,
        ),
        (
            "for cluster",
            sign(
                &claims(
                    sui_sdk_types::Address::new([9; 32]),
                    "daas-master",
                    now,
                    600_000,
                ),
                &key,
            )?,
        ),
        (
            "audience",
            sign(&claims(cluster, "daas-k3s", now, 600_000), &key)?,
        ),
        ("malformed", "daas1.bm90LWJjcw.AAAA".to_owned()),
        ("signature is not valid", moved_signature),
    ];
    let ca = std::fs::read(env.var("DAAS_KUBE_API_CA")?)?;
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca)?)
        .build()?;
    let url = format!(
        "{}/api/v1/namespaces/team-a/configmaps",
        env.var("DAAS_KUBE_API_URL")?
    );
    let ok = http
        .get(&url)
        .bearer_auth(sign(&good, &key)?)
        .send()
        .await?;
    ensure!(ok.status() == 200, "a good token: {}", ok.status());
    for (class, token) in cases {
        let r = http.get(&url).bearer_auth(&token).send().await?;
        ensure!(r.status() == 401, "{class}: {}", r.status());
        let body: Value = r.json().await?;
        ensure!(
            body["kind"] == "Status" && body["reason"] == "Unauthorized",
            "{class}: {body}"
        );
        let message = body["message"].as_str().unwrap_or_default();
        ensure!(message.contains(class), "{class}: {message}");
        let out = env.refused(
            "alice",
            &["--token", &token, "get", "cm", "-n", "team-a"],
            "Unauthorized",
        )?;
        ensure!(!out.contains(&token), "the token is echoed: {out}");
    }
    let none = http.get(&url).send().await?;
    ensure!(none.status() == 401, "no token: {}", none.status());
    Ok(())
}

/// `(a, b)` of borrowed halves as owned strings.
trait OwnedPair {
    fn to_owned_pair(self) -> (String, String);
}

impl OwnedPair for (&str, &str) {
    fn to_owned_pair(self) -> (String, String) {
        (self.0.to_owned(), self.1.to_owned())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_reads_what_the_ledger_allows() -> anyhow::Result<()> {
    let env = tokio::task::block_in_place(setup)?;
    let checks = || -> anyhow::Result<()> {
        reads_and_tables(&env)?;
        can_i(&env)?;
        forbidden(&env)?;
        watch_sees_an_apply(&env)
    };
    let result = tokio::task::block_in_place(checks);
    let result = match result {
        Ok(()) => json_matches_etcd(&env).await,
        e => e,
    };
    let result = match result {
        Ok(()) => bad_tokens(&env).await,
        e => e,
    };
    if let Err(e) = result {
        bail!("{e:#}\n{}", env.run.service_logs());
    }
    Ok(())
}
