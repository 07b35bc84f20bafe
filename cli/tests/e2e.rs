//! The product end to end, on the real local stack: `scripts/services` starts
//! the dev chain, indexer, projector and master for a run of their own (own
//! topics, schema and etcd prefixes); `scripts/scenario` drives the `daas`
//! CLI through keys, stake, kubectl intents, rejections, a slash with its
//! eviction, the analysts' views and a replay (checking each step itself);
//! this test then checks the end state in Postgres, etcd and the outcome
//! topic, and that the Secret it sealed is in clear nowhere but inside the
//! at-rest envelope in etcd ([`plaintext`]). The crash variant SIGKILLs each service once at a random moment of
//! the scenario, restarts it, and must end in the same state.

use std::{
    collections::BTreeMap,
    process::Command,
    time::{Duration, Instant},
};

use anyhow::Context;
use daas_domain::{Outcome, OutcomeResult};
use daas_testkit::{Stack, read_outcomes, workload::Rng};
use etcd_client::GetOptions;
use sqlx::Row;

#[path = "support/plaintext.rs"]
mod plaintext;
#[path = "support/run.rs"]
mod run;
use run::{Run, bin_dir, services};

/// What the scenario leaves behind, without what differs between two runs of
/// it (addresses, digests, timestamps, uids, revisions).
#[derive(Debug, PartialEq)]
struct EndState {
    /// Projection: (role, SUI) per stake.
    stakes: Vec<(String, i64)>,
    /// Projection: (request id, status, reason, action) per request.
    requests: Vec<(i64, String, Option<String>, Option<String>)>,
    /// Projection: (node, status).
    nodes: Vec<(String, String)>,
    /// Outcome topic: (request id, result) in topic order.
    outcomes: Vec<(u64, String)>,
    /// etcd: object key (under the run's registry) → its spec (or data).
    objects: BTreeMap<String, String>,
    /// etcd: the evicted nodes.
    evictions: Vec<String>,
}

async fn end_state(run: &Run) -> anyhow::Result<EndState> {
    let env = run.env()?;
    let var = |k: &str| {
        env.get(k)
            .cloned()
            .with_context(|| format!("{k} in the run's env"))
    };
    let schema = var("DAAS_PG_SCHEMA")?;
    let pool = sqlx::PgPool::connect(&var("DAAS_PG_URL")?).await?;
    // The projector has read the whole log (every request has its row) and
    // applied every outcome (no row is left provisional). The scenario's
    // last requests come right before its end, so both are waited for.
    let log_topic = var("DAAS_LOG_TOPIC")?;
    let log_end = daas_testkit::high_watermark(&var("DAAS_KAFKA_BROKERS")?, &log_topic)?;
    let caught_up = format!(
        "SELECT (SELECT coalesce(max(next_offset), 0) FROM {schema}.consumer_positions \
                 WHERE topic = $1) >= $2 \
            AND NOT EXISTS (SELECT 1 FROM {schema}.requests WHERE status = 'admitted')"
    );
    daas_testkit::wait_for(
        "the projector to read the whole log and apply every outcome",
        Duration::from_secs(60),
        || {
            let (pool, caught_up, topic) = (pool.clone(), caught_up.clone(), log_topic.clone());
            async move {
                let done: bool = sqlx::query_scalar(&caught_up)
                    .bind(topic)
                    .bind(log_end)
                    .fetch_one(&pool)
                    .await?;
                Ok(done.then_some(()))
            }
        },
    )
    .await?;
    let stakes = sqlx::query(&format!(
        "SELECT role, amount_mist FROM {schema}.stakes ORDER BY role, amount_mist"
    ))
    .fetch_all(&pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("role")?, r.try_get("amount_mist")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let requests = sqlx::query(&format!(
        "SELECT request_id, status, reason_code, action FROM {schema}.requests ORDER BY request_id"
    ))
    .fetch_all(&pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("request_id")?,
            r.try_get("status")?,
            r.try_get("reason_code")?,
            r.try_get("action")?,
        ))
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let nodes = sqlx::query(&format!(
        "SELECT name, status FROM {schema}.nodes ORDER BY name"
    ))
    .fetch_all(&pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("name")?, r.try_get("status")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    pool.close().await;

    let outcomes = read_outcomes(&var("DAAS_KAFKA_BROKERS")?, &var("DAAS_OUTCOME_TOPIC")?)?
        .into_iter()
        .map(|o: Outcome| {
            let r = match o.result {
                OutcomeResult::Applied { action, key, .. } => {
                    format!(
                        "{action} {}",
                        key.rsplit("/registry/").next().unwrap_or_default()
                    )
                }
                OutcomeResult::Rejected(r) => format!("rejected {}", r.code.as_str()),
                OutcomeResult::Quarantined { offset, label, .. } => {
                    format!("quarantined record {offset} ({label})")
                }
            };
            (o.request_id, r)
        })
        .collect();

    let mut etcd = etcd_client::Client::connect([var("DAAS_ETCD_ENDPOINTS")?], None).await?;
    let registry = format!("{}/", var("DAAS_ETCD_PREFIX")?);
    let mut objects = BTreeMap::new();
    let resp = etcd
        .get(registry.as_str(), Some(GetOptions::new().with_prefix()))
        .await?;
    for kv in resp.kvs() {
        let key = String::from_utf8_lossy(kv.key()).replacen(&registry, "", 1);
        let v: serde_json::Value = serde_json::from_slice(kv.value()).unwrap_or_default();
        let spec = v
            .get("spec")
            .or_else(|| v.get("data"))
            .cloned()
            .unwrap_or_default();
        objects.insert(key, spec.to_string());
    }
    let evicted = format!("{}/evictions/", var("DAAS_ETCD_STATE_PREFIX")?);
    let evictions = etcd
        .get(
            evicted.as_str(),
            Some(GetOptions::new().with_prefix().with_keys_only()),
        )
        .await?
        .kvs()
        .iter()
        .map(|kv| String::from_utf8_lossy(kv.key()).replacen(&evicted, "", 1))
        .collect();
    Ok(EndState {
        stakes,
        requests,
        nodes,
        outcomes,
        objects,
        evictions,
    })
}

fn check_clean_end_state(s: &EndState, output: &str) {
    let sui = 1_000_000_000i64;
    assert_eq!(
        s.stakes,
        vec![
            ("admin".into(), 10 * sui),
            ("admin".into(), 10 * sui),
            ("node".into(), sui / 2),
            ("user".into(), 5 * sui),
            ("user".into(), 10 * sui),
        ],
        "stakes after the slash"
    );
    let applied = |id: i64, action: &str| (id, "applied".to_owned(), None, Some(action.to_owned()));
    // bob in alice's namespace (5); carol with only an admin-role stake (6),
    // granted cluster admin and bonded (7), revoked (8).
    let forbidden = |id: i64| {
        (
            id,
            "rejected".to_owned(),
            Some("namespace_forbidden".to_owned()),
            None,
        )
    };
    assert_eq!(
        s.requests,
        vec![
            applied(0, "created"),
            applied(1, "created"),
            applied(2, "created"),
            applied(3, "unchanged"),
            applied(4, "unchanged"),
            forbidden(5),
            forbidden(6),
            applied(7, "created"),
            forbidden(8),
            applied(9, "created"),
            applied(10, "created"),
            applied(11, "created"),
        ],
        "one row per request, each with the master's outcome"
    );
    assert_eq!(s.nodes, vec![("worker-1".into(), "inactive".into())]);
    let outcome_ids: Vec<u64> = s.outcomes.iter().map(|o| o.0).collect();
    assert_eq!(
        outcome_ids,
        vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        "one outcome per request, in order"
    );
    for id in [5, 6, 8] {
        assert_eq!(s.outcomes[id].1, "rejected namespace_forbidden", "{id}");
    }
    assert_eq!(s.outcomes[7].1, "created configmaps/team-a/by-carol");
    // Sealed to key version 1, then after a rotation to version 2.
    assert_eq!(s.outcomes[9].1, "created secrets/team-a/db");
    assert_eq!(s.outcomes[10].1, "created secrets/team-a/db-2");
    // bob's namespace, which alice's kubectl is refused.
    assert_eq!(s.outcomes[11].1, "created namespaces/team-b");
    assert_eq!(
        s.objects.keys().cloned().collect::<Vec<_>>(),
        vec![
            "configmaps/team-a/by-carol",
            "deployments/team-a/web",
            "minions/worker-1",
            "namespaces/team-a",
            "namespaces/team-b",
            "secrets/team-a/db",
            "secrets/team-a/db-2",
            "services/specs/team-a/web",
        ]
    );
    assert!(s.objects["deployments/team-a/web"].contains(r#""replicas":2"#));
    assert!(s.objects["minions/worker-1"].contains("daas.io/stake-evicted"));
    assert!(
        s.objects["minions/worker-1"].contains("node.kubernetes.io/not-ready"),
        "the kubelet's taint kept"
    );
    assert_eq!(s.evictions, vec!["worker-1".to_owned()]);
    assert!(output.contains("state roots equal"), "{output}");
}

/// The master applied the log verified (genesis committee pinned by the
/// services script): it certified checkpoints, refused nothing, and holds
/// nothing back.
async fn check_verified(run: &Run) -> anyhow::Result<()> {
    let listen = run
        .env()?
        .get("DAAS_MASTER_METRICS_LISTEN")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no master metrics address"))?;
    let text = reqwest::get(format!("http://{listen}/metrics"))
        .await?
        .text()
        .await?;
    let value = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert!(
        value("master_verify_last_checkpoint ") > 0.0,
        "the master certified no checkpoint:\n{text}"
    );
    assert!(value("master_verify_signatures_total") > 0.0, "{text}");
    assert_eq!(value("master_verify_quarantined_total"), 0.0, "{text}");
    assert_eq!(value("master_verify_gap "), 0.0, "{text}");
    Ok(())
}

/// The master registered itself and signed every outcome: `daas apply`
/// printed verified receipts, and a saved outcome whose receipt is re-signed
/// by a key no enclave registered (seed `55`×32) is refused by `daas status
/// --verify --from-file` (the scenario refuses a changed field itself).
fn check_receipts(run: &Run, output: &str) -> anyhow::Result<()> {
    assert!(
        output.contains("receipt: verified (enclave "),
        "no verified receipt in the scenario's output:\n{output}"
    );
    let saved = std::fs::read(run.path().join("outcome-1.json"))?;
    let view: daas_domain::outcome::OutcomeView = serde_json::from_slice(&saved)?;
    let mut outcome = Outcome::try_from(&view)?;
    let payload = outcome.receipt_payload().context("a ledger root")?;
    let other = daas_attestation::EnclaveKey::from_seed([0x55; 32]);
    outcome.receipt = Some(daas_domain::outcome::SignedReceipt {
        enclave_public_key: other.public_key(),
        signature: other.sign_receipt(&payload, outcome.request_timestamp_ms),
        dev_attestation: true,
    });
    let forged = run.path().join("outcome-1.forged.json");
    let forged_view = daas_domain::outcome::OutcomeView::from(&outcome);
    std::fs::write(&forged, serde_json::to_vec(&forged_view)?)?;
    let out = Command::new(bin_dir().join("daas"))
        .args(["status", "--verify", "--from-file"])
        .arg(&forged)
        .envs(run.env()?)
        .output()?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "a forged receipt verified:\n{said}");
    assert!(
        said.contains(
            "no enclave registered on chain has key \
             c6822637c7d310ec57627be00ba259d253749f4aaf644470cffbe53a35f73242"
        ),
        "{said}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_runs_end_to_end_and_survives_a_sigkill_of_each_service() -> anyhow::Result<()>
{
    Stack::from_env()?; // the stack's env must be there (scripts/stack up)

    // A clean run.
    let clean = Run::start()?;
    let began = Instant::now();
    let output = clean.scenario()?;
    let clean_took = began.elapsed();
    let clean_state = end_state(&clean).await?;
    check_clean_end_state(&clean_state, &output);
    check_verified(&clean).await?;
    check_receipts(&clean, &output)?;
    plaintext::assert_nowhere_in_clear(clean.path(), &clean.env()?).await?;
    drop(clean);

    // The crash variant: each service SIGKILLed once at a random moment of the
    // scenario (within the first three quarters of the clean run's length),
    // then restarted with the same ports and state.
    eprintln!("clean run {clean_took:?}");
    let seed = daas_testkit::workload::test_seed("crash schedule");
    let mut rng = Rng::new(seed);
    let window = clean_took.as_millis() as u64;
    let crashed = Run::start()?;
    // Output to a file: nobody reads a pipe while the kills run.
    let log_path = crashed.path().join("scenario.log");
    let log = std::fs::File::create(&log_path)?;
    let mut scenario = crashed
        .script("scenario", &[])
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let started = Instant::now();
    let killers: Vec<_> = ["devnet", "indexer", "projector", "master"]
        .into_iter()
        .map(|victim| {
            let at = Duration::from_millis(window / 20 + rng.below(window * 7 / 10));
            let run = crashed.path().to_path_buf();
            std::thread::spawn(move || -> anyhow::Result<(&str, Duration)> {
                std::thread::sleep(at.saturating_sub(started.elapsed()));
                services(&run, &["kill", victim])?;
                let when = started.elapsed();
                services(&run, &["start", victim])?;
                Ok((victim, when))
            })
        })
        .collect();
    let mut killed = Vec::new();
    for k in killers {
        killed.push(
            k.join()
                .map_err(|_| anyhow::anyhow!("a killer thread panicked"))??,
        );
    }
    let status = scenario.wait()?;
    let finished = started.elapsed();
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        status.success(),
        "the scenario failed after {killed:?}:\n{text}\n{}",
        crashed.service_logs()
    );
    assert!(
        killed.iter().all(|(_, at)| *at < finished),
        "every kill fell inside the scenario ({finished:?}): {killed:?}"
    );
    eprintln!("killed and restarted: {killed:?}");
    let crashed_state = end_state(&crashed).await?;
    assert_eq!(crashed_state, clean_state, "killed {killed:?}");
    Ok(())
}
