//! Issue 14's acceptance: after the scenario applied a Secret whose value
//! is a fresh random string, that string (and its base64) is in none of the
//! places a member of the public (or an operator) can read: the dev chain's
//! stored transactions and events, the log and outcome topics, any table of
//! the projection, any service's log or metrics, any raw etcd value. Each search also
//! finds something it must (the sealed Secret's annotation, its request row,
//! its etcd key), so an empty place cannot pass for a clean one. The etcd
//! value, decrypted with the AES-GCM primitive as kube-apiserver would
//! (`daas_testkit::at_rest`, not the master's code),
//! holds the plaintext.

use std::{collections::BTreeMap, path::Path};

use anyhow::{Context, ensure};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use etcd_client::GetOptions;
use sqlx::Row;

/// What the sealed Secret's manifest carries on chain.
const ANNOTATION: &[u8] = b"k3s-daas.io/sealed";

/// The needles: the plaintext and its base64.
fn needles(plain: &str) -> [Vec<u8>; 2] {
    [
        plain.as_bytes().to_vec(),
        STANDARD.encode(plain).into_bytes(),
    ]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Fails naming `place` when `hay` holds a needle.
fn clean(place: &str, hay: &[u8], plain: &str) -> anyhow::Result<()> {
    for n in needles(plain) {
        ensure!(
            !contains(hay, &n),
            "{place} holds the Secret's plaintext ({} bytes searched)",
            hay.len()
        );
    }
    Ok(())
}

/// Every file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The dev chain's stored transactions and events (its folder), and the
/// services' logs.
fn search_files(env: &BTreeMap<String, String>, run: &Path, plain: &str) -> anyhow::Result<()> {
    let mut chain = Vec::new();
    files(Path::new(&env["DAAS_DEVNET_DIR"]), &mut chain)?;
    let mut annotated = false;
    for f in &chain {
        let bytes = std::fs::read(f)?;
        annotated |= contains(&bytes, ANNOTATION);
        clean(&format!("the dev chain's {}", f.display()), &bytes, plain)?;
    }
    ensure!(
        annotated,
        "no sealed Secret in the dev chain's files ({chain:?})"
    );
    for name in ["devnet", "indexer", "projector", "master"] {
        let path = run.join("logs").join(format!("{name}.log"));
        let bytes = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
        ensure!(!bytes.is_empty(), "{name}.log is empty");
        clean(&format!("{name}.log"), &bytes, plain)?;
    }
    Ok(())
}

/// Every record of the log and outcome topics.
fn search_topics(env: &BTreeMap<String, String>, plain: &str) -> anyhow::Result<()> {
    let brokers = &env["DAAS_KAFKA_BROKERS"];
    let log = daas_testkit::read_topic(brokers, &env["DAAS_LOG_TOPIC"])?;
    ensure!(
        log.iter().any(|r| contains(r, ANNOTATION)),
        "no sealed Secret in the log topic ({} records)",
        log.len()
    );
    for (i, r) in log.iter().enumerate() {
        clean(&format!("log record {i}"), r, plain)?;
    }
    let outcomes = daas_testkit::read_topic(brokers, &env["DAAS_OUTCOME_TOPIC"])?;
    ensure!(
        outcomes.iter().any(|r| contains(r, b"secrets/team-a/db")),
        "no outcome for the Secret"
    );
    for (i, r) in outcomes.iter().enumerate() {
        clean(&format!("outcome record {i}"), r, plain)?;
    }
    Ok(())
}

/// Every row of every table of the run's projection schema, as text.
async fn search_projection(env: &BTreeMap<String, String>, plain: &str) -> anyhow::Result<()> {
    let schema = &env["DAAS_PG_SCHEMA"];
    let pool = sqlx::PgPool::connect(&env["DAAS_PG_URL"]).await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
    )
    .bind(schema)
    .fetch_all(&pool)
    .await?;
    ensure!(tables.len() >= 5, "the projection has tables: {tables:?}");
    let mut secret_rows = 0;
    for t in &tables {
        let rows = sqlx::query(&format!(
            "SELECT t::text AS row FROM \"{schema}\".\"{t}\" t"
        ))
        .fetch_all(&pool)
        .await?;
        for r in rows {
            let text: String = r.try_get("row")?;
            secret_rows += usize::from(t == "requests" && text.contains(",Secret,"));
            clean(&format!("projection table {t}"), text.as_bytes(), plain)?;
        }
    }
    pool.close().await;
    ensure!(secret_rows >= 1, "no Secret request row in the projection");
    Ok(())
}

/// Every raw etcd value of the run (objects and the master's own state);
/// then the Secret, decrypted independently, must hold the plaintext.
async fn search_etcd(env: &BTreeMap<String, String>, plain: &str) -> anyhow::Result<()> {
    let mut etcd =
        etcd_client::Client::connect([env["DAAS_ETCD_ENDPOINTS"].as_str()], None).await?;
    let run_prefix = format!("/{}/", env["DAAS_RUN_ID"]);
    let all = etcd
        .get(run_prefix.as_str(), Some(GetOptions::new().with_prefix()))
        .await?;
    ensure!(
        all.kvs().len() > 10,
        "the run's etcd keys: {}",
        all.kvs().len()
    );
    for kv in all.kvs() {
        clean(
            &format!("etcd {}", String::from_utf8_lossy(kv.key())),
            kv.value(),
            plain,
        )?;
    }
    let key = format!("{}/secrets/team-a/db", env["DAAS_ETCD_PREFIX"]);
    let resp = etcd.get(key.as_str(), None).await?;
    let value = resp.kvs().first().context("the Secret in etcd")?.value();
    let opened = daas_testkit::at_rest::decrypt(&env["DAAS_MASTER_ENCRYPTION_KEY"], &key, value)?;
    let secret: serde_json::Value = serde_json::from_slice(&opened)?;
    let password = secret["data"]["password"]
        .as_str()
        .context("data.password")?;
    ensure!(
        STANDARD.decode(password)? == plain.as_bytes(),
        "the Secret in etcd does not hold the plaintext the scenario sealed"
    );
    ensure!(
        secret["metadata"]["annotations"]
            .get("k3s-daas.io/sealed")
            .is_none(),
        "the stored Secret still says sealed"
    );
    Ok(())
}

/// Every service's Prometheus exposition, scraped now; the master's must
/// count the opened Secrets.
async fn search_metrics(env: &BTreeMap<String, String>, plain: &str) -> anyhow::Result<()> {
    for service in ["DEVNET", "INDEXER", "PROJECTOR", "MASTER"] {
        let listen = &env[&format!("DAAS_{service}_METRICS_LISTEN")];
        let text = reqwest::get(format!("http://{listen}/metrics"))
            .await?
            .error_for_status()?
            .text()
            .await?;
        if service == "MASTER" {
            ensure!(
                text.lines()
                    .any(|l| l.starts_with("master_sealed_opened_total ") && !l.ends_with(" 0")),
                "the master's metrics count no opened Secret"
            );
        }
        clean(&format!("{service} metrics"), text.as_bytes(), plain)?;
    }
    Ok(())
}

/// The whole search; `run` is the services' run folder.
pub async fn assert_nowhere_in_clear(
    run: &Path,
    env: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let plain = std::fs::read_to_string(run.join("secret.plain"))
        .context("the scenario's secret.plain")?
        .trim()
        .to_owned();
    ensure!(
        plain.len() >= 16,
        "a random plaintext of 16+ characters: {}",
        plain.len()
    );
    search_files(env, run, &plain)?;
    search_topics(env, &plain)?;
    search_projection(env, &plain).await?;
    search_etcd(env, &plain).await?;
    search_metrics(env, &plain).await?;
    Ok(())
}
