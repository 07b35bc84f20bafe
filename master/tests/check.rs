//! `master check --genesis-committee` after a verified apply of a certified
//! log prints the pinned committee, the epoch reached and the last verified
//! checkpoint: the values asserted are the hand-built chain's own.

mod support;

use std::time::Duration;

use anyhow::Context;
use daas_domain::{Body, Event, LogEntry};
use daas_master::verification::VerifyArgs;
use daas_service::verify_status::VerifyView;
use daas_testkit::{Running, certified, terminate, wait_for, workload::Workload};
use support::*;

#[tokio::test]
async fn check_prints_the_pinned_committee_and_how_far_verification_got() -> anyhow::Result<()> {
    let slice = Slice::new("check").await?;
    let log = certified::certify(&Workload::new(21, 30).records(400), 4, 12);
    anyhow::ensure!(log.chain.epoch >= 2, "the chain changes epoch");
    let dir = std::env::temp_dir().join(format!("daas-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let genesis = dir.join("genesis-committee.json");
    log.chain.write_genesis(&genesis)?;
    slice.produce(&log.records).await?;
    let mut args = slice.log_args();
    args.verify = VerifyArgs::pinned(genesis.clone());
    let end = log.records.len() as i64;
    apply_to(&slice.etcd.client, &slice.prefix, &args, end).await?;

    let l = layout(&slice.prefix);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_master"))
        .args(["check", "--etcd", &slice.stack.etcd_endpoints.join(",")])
        .args(["--prefix", &l.registry, "--state-prefix", &l.state])
        .arg("--genesis-committee")
        .arg(&genesis)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    std::fs::remove_dir_all(&dir)?;
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let has = |want: &str| {
        assert!(lines.contains(&want), "no line {want:?} in:\n{stdout}");
    };
    // Four members of stake 1: Sui's quorum rule gives 3.
    has("verify: pinned genesis committee: epoch 0, 4 members, total stake 4, quorum 3");
    for (i, m) in log.chain.genesis().members.iter().enumerate() {
        let key = m
            .public_key
            .inner()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        has(&format!(
            "verify:   member {i}: {}…{} stake 1",
            &key[..16],
            &key[key.len() - 8..]
        ));
    }
    has(&format!("verify: epoch reached {}", log.chain.epoch));
    let last = log.chain.checkpoints.last().expect("checkpoints");
    has(&format!(
        "verify: last verified checkpoint {} digest {}",
        last.summary.sequence_number,
        last.summary.digest()
    ));
    // The workload's one cluster: its creation is its 0, then one number
    // per grant, revoke and request, all certified here.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("verify: stream cluster:") && !l.ends_with(" next 0")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("verify: resume offset ")),
        "{stdout}"
    );
    Ok(())
}

/// A certified log with one record dropped, applied by the real master:
/// `GET /v1/verification` and `master check --api` name the stream and the
/// number that is missing (both read from the dropped record itself), and
/// once the record is appended the master goes on by itself and says so.
#[tokio::test(flavor = "multi_thread")]
async fn check_names_the_missing_record_of_a_gap_and_sees_it_close() -> anyhow::Result<()> {
    let slice = Slice::new("check-gap").await?;
    let log = certified::certify(&Workload::new(22, 30).records(400), 4, 12);
    let dir = tempfile::tempdir()?;
    let genesis = dir.path().join("genesis-committee.json");
    log.chain.write_genesis(&genesis)?;
    let (i, stream, seq) = droppable(&log.records).context("a record to drop")?;
    let mut records = log.records.clone();
    let dropped = records.remove(i);
    slice.produce(&records).await?;

    let addr = daas_testkit::free_addr()?.to_string();
    let endpoints = slice.stack.etcd_endpoints.join(",");
    let keys = workload_key_dir()?;
    let mut master = Running::spawn(&mut master_command(
        &endpoints,
        &slice.prefix,
        slice.topics(),
        &addr,
        &keys,
        Some(&genesis),
    ))?;
    let url = format!("http://{addr}");
    let gap = wait_for(
        "the gap on /v1/verification",
        Duration::from_secs(60),
        || {
            let url = url.clone();
            async move { Ok(verification(&url).await.ok().and_then(|v| v.gap)) }
        },
    )
    .await?;
    assert_eq!((gap.stream.as_str(), gap.missing), (stream.as_str(), seq));
    let lines = check_api(&url, &endpoints)?;
    let want = format!("live: GAP: stream {stream}: record {seq} is missing");
    assert!(
        lines.iter().any(|l| l.starts_with(&want)),
        "no {want:?} in {lines:?}"
    );
    // The stage is unhealthy for it, naming the record.
    let health = reqwest::get(format!("{url}/healthz")).await?;
    assert_eq!(health.status(), 503);
    let want = format!("gap: stream {stream}: record {seq} is missing");
    let body = health.text().await?;
    assert!(body.lines().any(|l| l.starts_with(&want)), "{body}");

    slice.produce(&[dropped]).await?;
    wait_for("the gap closed", Duration::from_secs(60), || {
        let url = url.clone();
        async move {
            let v = verification(&url).await.ok();
            Ok(v.filter(|v| v.gap.is_none() && v.held == 0).map(|_| ()))
        }
    })
    .await?;
    assert!(check_api(&url, &endpoints)?.contains(&"live: no gap".to_owned()));
    let body = reqwest::get(format!("{url}/healthz")).await?.text().await?;
    assert!(!body.contains("gap:"), "{body}");
    assert!(terminate(&mut master.0)?.success());
    Ok(())
}

/// The first record that does not carry its checkpoint's proof and whose
/// stream has a later record: its index, stream and number.
fn droppable(records: &[Vec<u8>]) -> Option<(usize, String, u64)> {
    let entries: Vec<Option<LogEntry>> = records.iter().map(|r| LogEntry::decode(r).ok()).collect();
    let event = |e: &Option<LogEntry>| match e.as_ref().map(|e| &e.body) {
        Some(Body::Event(ev)) if !matches!(ev, Event::ClusterCreated(_)) => Some(ev.clone()),
        _ => None,
    };
    entries.iter().enumerate().skip(10).find_map(|(i, e)| {
        let ev = event(e)?;
        let bare = e.as_ref()?.proof.checkpoint.is_none();
        let later = entries[i + 1..]
            .iter()
            .any(|l| event(l).is_some_and(|x| x.stream() == ev.stream()));
        (bare && later).then(|| (i, ev.stream().to_string(), ev.seq()))
    })
}

async fn verification(url: &str) -> anyhow::Result<VerifyView> {
    Ok(reqwest::get(format!("{url}/v1/verification"))
        .await?
        .json()
        .await?)
}

/// `master check --api URL`'s lines.
fn check_api(url: &str, etcd: &str) -> anyhow::Result<Vec<String>> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_master"))
        .args(["check", "--etcd", etcd])
        .args(["--api", url])
        .output()?;
    anyhow::ensure!(out.status.success(), "{out:?}");
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}
