//! The projector verifies the log (decision 0019): over a certified log
//! (testkit's hand-built chain), the honest log projects what the
//! unverified projection of the same log does; a forged request gets no
//! row; a dropped record holds every later row until it comes; SIGKILLs
//! at seeded points end with the tables of a clean verified run.

mod support;

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use daas_domain::{Body, Event, LogEntry, LogPosition, record::Proof};
use daas_projector::{
    metrics::Metrics,
    pipeline::{self, LogArgs, Projector, ProjectorError},
    rebuild::rebuild,
    store::{self, DatabaseArgs},
};
use daas_testkit::{
    Stack, TestDb, TestTopic,
    certified::{self, CertifiedLog},
    produce, wait_for,
    workload::{self, Rng, Workload},
};
use daas_verify::{SetupError, VerifyArgs};
use sqlx::PgPool;
use support::*;
use tokio_util::sync::CancellationToken;

type Dump = BTreeMap<&'static str, Vec<String>>;

/// A certified log of `n` workload records and its genesis committee file.
struct Fixture {
    stack: Stack,
    log: CertifiedLog,
    _dir: tempfile::TempDir,
    genesis: PathBuf,
}

impl Fixture {
    fn new(seed: u64, n: usize) -> anyhow::Result<Self> {
        let stack = Stack::from_env()?;
        let log = certified::certify(&Workload::new(seed, 20).records(n), 4, 10);
        anyhow::ensure!(log.chain.epoch >= 2, "the chain changes epoch");
        let dir = tempfile::tempdir()?;
        let genesis = dir.path().join("genesis-committee.json");
        log.chain.write_genesis(&genesis)?;
        Ok(Self {
            stack,
            log,
            _dir: dir,
            genesis,
        })
    }

    fn verified(&self) -> VerifyArgs {
        VerifyArgs::pinned(self.genesis.clone())
    }

    /// Indexes of the log's request records.
    fn requests(&self) -> Vec<usize> {
        (0..self.log.records.len())
            .filter(|&i| {
                matches!(
                    LogEntry::decode(&self.log.records[i]).map(|e| e.body),
                    Ok(Body::Event(Event::K8sApiRequest(_)))
                )
            })
            .collect()
    }
}

/// A projection running in this process over its own topic and database.
struct Run {
    pool: PgPool,
    topic: String,
    metrics: Metrics,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), pipeline::ProjectorError>>,
    args: LogArgs,
    db: TestDb,
    _topic: TestTopic,
}

impl Run {
    async fn start(stack: &Stack, records: &[Vec<u8>], verify: VerifyArgs) -> anyhow::Result<Self> {
        let topic = TestTopic::new(stack).await?;
        produce(&stack.kafka_brokers, &topic.name, records).await?;
        let db = TestDb::empty(stack).await?;
        let pool = store::connect_schema(&db.url, "daas").await?;
        let args = LogArgs {
            brokers: stack.kafka_brokers.clone(),
            topic: topic.name.clone(),
            outcome_topic: String::new(),
            batch_records: 97,
            batch_ms: 50,
            verify,
        };
        let (metrics, stop) = (Metrics::default(), CancellationToken::new());
        let task = {
            let (pool, args, metrics, stop) =
                (pool.clone(), args.clone(), metrics.clone(), stop.clone());
            tokio::spawn(async move { pipeline::run(&pool, &args, &metrics, stop).await })
        };
        Ok(Self {
            pool,
            topic: topic.name.clone(),
            metrics,
            stop,
            task,
            args,
            db,
            _topic: topic,
        })
    }

    async fn reach(&self, log: i64) -> anyhow::Result<()> {
        wait_positions(&self.pool, &self.topic, log, "", 0).await
    }

    /// Stops the projector and starts it again on the same topic and tables
    /// (with fresh metrics).
    async fn restart(&mut self) -> anyhow::Result<()> {
        self.halt().await?;
        self.metrics = Metrics::default();
        self.stop = CancellationToken::new();
        let (pool, args, metrics, stop) = (
            self.pool.clone(),
            self.args.clone(),
            self.metrics.clone(),
            self.stop.clone(),
        );
        self.task = tokio::spawn(async move { pipeline::run(&pool, &args, &metrics, stop).await });
        Ok(())
    }

    /// The tables, with this run's topic name written `log` (each run has
    /// its own topic).
    async fn dump(&self) -> anyhow::Result<Dump> {
        dump_as_log(&self.pool, &self.topic).await
    }

    /// Stops the projector (it must end without error).
    async fn halt(&mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        (&mut self.task).await??;
        Ok(())
    }

    /// Stops the projector and dumps its tables.
    async fn finish(mut self) -> anyhow::Result<(Dump, Metrics)> {
        self.halt().await?;
        Ok((self.dump().await?, self.metrics))
    }
}

/// The tables of `pool`, with the topic name `topic` written `log`.
async fn dump_as_log(pool: &PgPool, topic: &str) -> anyhow::Result<Dump> {
    let mut d = store::dump(pool).await?;
    for rows in d.values_mut() {
        for row in rows.iter_mut() {
            *row = row.replace(topic, "log");
        }
    }
    Ok(d)
}

/// The projection of `records`, verified or not, once its position is `end`.
async fn project(
    stack: &Stack,
    records: &[Vec<u8>],
    verify: VerifyArgs,
    end: i64,
) -> anyhow::Result<(Dump, Metrics)> {
    let run = Run::start(stack, records, verify).await?;
    run.reach(end).await?;
    run.finish().await
}

fn quarantined(m: &Metrics, reason: &'static str) -> u64 {
    m.verify
        .quarantined
        .get_or_create(&vec![("reason", reason)])
        .get()
}

/// Quarantine rows as offset → reason.
fn quarantine(d: &Dump) -> anyhow::Result<BTreeMap<i64, String>> {
    d["quarantine"]
        .iter()
        .map(|row| {
            let v: serde_json::Value = serde_json::from_str(row)?;
            let offset = v["kafka_offset"].as_i64().unwrap_or(-1);
            Ok((offset, v["reason"].as_str().unwrap_or("").to_owned()))
        })
        .collect()
}

/// `d` without the tables `tables`.
fn without(d: &Dump, tables: &[&str]) -> Dump {
    let mut d = d.clone();
    d.retain(|t, _| !tables.contains(t));
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_log_projects_what_the_unverified_projection_does() -> anyhow::Result<()> {
    let f = Fixture::new(31, 1_500)?;
    let records = &f.log.records;
    let end = records.len() as i64;
    let (plain, _) = project(&f.stack, records, VerifyArgs::off(), end).await?;
    let (verified, m) = project(&f.stack, records, f.verified(), end).await?;
    assert_same(
        &without(&verified, &["quarantine"]),
        &without(&plain, &["quarantine"]),
    );
    // The same records are quarantined, except: the ones that are not log
    // records at all are refused by verification before the processor
    // says so; the ones the fixture could not certify (kept as they came,
    // without proofs) are kept aside, without a row.
    let (qv, qp) = (quarantine(&verified)?, quarantine(&plain)?);
    let (mut malformed, mut aside) = (0u64, 0i64);
    for (offset, reason) in &qp {
        let uncertified = LogEntry::decode(&records[*offset as usize])
            .is_ok_and(|e| e.proof.transaction.is_none());
        match qv.get(offset) {
            None if uncertified => aside += 1,
            Some(got) if reason.starts_with("not a log record") => {
                assert!(
                    got.starts_with("not verified (malformed)"),
                    "{offset}: {got}"
                );
                malformed += 1;
            }
            got => assert_eq!(got, Some(reason), "offset {offset}"),
        }
    }
    assert!(qv.keys().all(|o| qp.contains_key(o)));
    assert_eq!(quarantined(&m, "malformed"), malformed);
    assert_eq!(m.verify.parked.get(), aside);
    assert_eq!(
        f.log.certified + malformed as usize + aside as usize,
        records.len()
    );
    assert!(!verified["requests"].is_empty());
    assert_eq!(m.verify.gap.get(), 0);
    assert!(m.verify.epoch.get() >= 2, "epochs were reached");
    Ok(())
}

/// The second event of the transaction at `p` (the fixture's have one).
fn second_event(p: LogPosition) -> LogPosition {
    LogPosition::new(p.checkpoint, p.transaction_index, 1)
}

/// A copy of a request record with another request id and name and no
/// proofs, at the position `at` makes of the record's.
fn forged(
    record: &[u8],
    at: impl Fn(LogPosition) -> LogPosition,
) -> anyhow::Result<(Vec<u8>, u64)> {
    let mut e = LogEntry::decode(record)?;
    let Body::Event(Event::K8sApiRequest(r)) = &mut e.body else {
        anyhow::bail!("not a request");
    };
    r.request_id += 1_000_000;
    r.name = "forged".into();
    let id = r.request_id;
    if let Body::Event(ev) = &e.body {
        e.bcs = ev.to_bcs();
    }
    e.position = at(e.position);
    e.proof = Proof::default();
    Ok((e.encode(), id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_request_without_proof_gets_no_row() -> anyhow::Result<()> {
    let f = Fixture::new(32, 600)?;
    let i = f.requests()[3];
    // One claims a second event of a certified transaction (which has
    // one): refused. One claims a checkpoint no record proves: kept aside.
    let (in_tx, in_tx_id) = forged(&f.log.records[i], second_event)?;
    let beyond = |p: LogPosition| LogPosition::new(p.checkpoint + 10_000, 0, 0);
    let (aside, aside_id) = forged(&f.log.records[i], beyond)?;
    let honest_end = f.log.records.len() as i64;
    let mut records = f.log.records.clone();
    records.push(in_tx);
    records.push(aside);
    let (honest, _) = project(&f.stack, &f.log.records, f.verified(), honest_end).await?;
    let (got, m) = project(&f.stack, &records, f.verified(), honest_end + 2).await?;

    let ids: Vec<String> = [in_tx_id, aside_id]
        .iter()
        .map(|id| format!("\"request_id\":{id},"))
        .collect();
    assert!(
        !got["requests"]
            .iter()
            .any(|r| ids.iter().any(|id| r.contains(id.as_str()))),
        "no forged request row"
    );
    assert_eq!(got["requests"], honest["requests"]);
    let q = quarantine(&got)?;
    let reason = q.get(&honest_end).map(String::as_str).unwrap_or("");
    assert!(
        reason.starts_with("not verified (no_such_event)"),
        "{reason}"
    );
    assert!(
        !q.contains_key(&(honest_end + 1)),
        "the parked one has no row"
    );
    assert_eq!(quarantined(&m, "no_such_event"), 1);
    assert_eq!(m.verify.parked.get(), 1);
    assert_eq!(m.verify.gap.get(), 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_record_holds_later_rows_until_it_is_appended() -> anyhow::Result<()> {
    let f = Fixture::new(33, 800)?;
    // A request inside a checkpoint (not the one carrying its proof).
    let i = *f
        .requests()
        .iter()
        .find(|&&i| {
            i > 200
                && LogEntry::decode(&f.log.records[i]).is_ok_and(|e| e.proof.checkpoint.is_none())
        })
        .expect("a request inside a checkpoint");
    let end = f.log.records.len() as i64;
    let (honest, _) = project(&f.stack, &f.log.records, f.verified(), end).await?;
    let (before, _) = project(&f.stack, &f.log.records[..i], f.verified(), i as i64).await?;

    let mut records = f.log.records.clone();
    let dropped = records.remove(i);
    let run = Run::start(&f.stack, &records, f.verified()).await?;
    let held = records.len() - i;
    wait_for(
        "every record after the gap to be read and held",
        Duration::from_secs(120),
        || async { Ok((run.metrics.verify.held.get() == held as i64).then_some(())) },
    )
    .await?;
    run.reach(i as i64).await?;
    assert_eq!(run.metrics.verify.gap.get(), 1);
    let now = run.dump().await?;
    // Nothing past the gap is projected.
    assert_same(&now, &before);
    run.finish().await?;

    // Appended at the end, the record fills the gap; everything follows.
    records.push(dropped);
    let (got, m) = project(&f.stack, &records, f.verified(), end).await?;
    assert_eq!(m.verify.gap.get(), 0);
    assert_same(
        &without(&got, &["consumer_positions", "quarantine"]),
        &without(&honest, &["consumer_positions", "quarantine"]),
    );
    // The records after the dropped one moved one offset down; it is last.
    let moved = |o: i64| match o.cmp(&(i as i64)) {
        std::cmp::Ordering::Less => o,
        std::cmp::Ordering::Equal => end - 1,
        std::cmp::Ordering::Greater => o - 1,
    };
    let want: BTreeMap<i64, String> = quarantine(&honest)?
        .into_iter()
        .map(|(o, r)| (moved(o), r))
        .collect();
    assert_eq!(quarantine(&got)?, want);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_projection_is_refused_and_rebuild_verifies() -> anyhow::Result<()> {
    let f = Fixture::new(34, 600)?;
    let i = f.requests()[2];
    let (forgery, id) = forged(&f.log.records[i], second_event)?;
    let mut records = f.log.records.clone();
    records.insert(i + 1, forgery);
    let end = records.len() as i64;
    let forged_row = format!("\"request_id\":{id},");
    let has_forged = |d: &Dump| d["requests"].iter().any(|r| r.contains(&forged_row));

    // Without verification the forged request gets its row.
    let mut plain = Run::start(&f.stack, &records, VerifyArgs::off()).await?;
    plain.reach(end).await?;
    plain.halt().await?;
    assert!(has_forged(&plain.dump().await?));

    // Verifying on top of it is refused: nothing says what it was made of.
    let mut args = plain.args.clone();
    args.verify = f.verified();
    let setup = args.verify.setup()?;
    let (m, stop) = (Metrics::default(), CancellationToken::new());
    let opened = Projector::open(&plain.pool, &args, setup.as_ref(), &m, &stop).await;
    assert!(
        matches!(opened, Err(ProjectorError::Verify(SetupError::Stored(_)))),
        "{:?}",
        opened.err()
    );

    // A verified rebuild replaces it with what a verified run makes.
    let db = DatabaseArgs {
        database_url: plain.db.url.clone(),
        schema: "daas".into(),
    };
    let report = rebuild(&db, &args, false, &m, stop).await?;
    assert!(report.swapped);
    let pool = store::connect_schema(&plain.db.url, "daas").await?;
    let rebuilt = dump_as_log(&pool, &plain.topic).await?;
    assert!(!has_forged(&rebuilt));
    let (want, _) = project(&f.stack, &records, f.verified(), end).await?;
    assert_same(&rebuilt, &want);
    // And the rebuilt projection goes on verified.
    let stop = CancellationToken::new();
    let opened = Projector::open(&pool, &args, setup.as_ref(), &m, &stop).await;
    assert!(opened.is_ok(), "{:?}", opened.err());
    Ok(())
}

fn event(record: &[u8]) -> Option<Event> {
    match LogEntry::decode(record).ok()?.body {
        Body::Event(e) => Some(e),
        _ => None,
    }
}

fn has_checkpoint_proof(record: &[u8]) -> bool {
    LogEntry::decode(record).is_ok_and(|e| e.proof.checkpoint.is_some())
}

fn is_pool(record: &[u8]) -> bool {
    event(record).is_some_and(|e| e.stream() == daas_domain::events::Stream::Pool)
}

/// Where in `records` a request `r` (the second transaction of its
/// checkpoint) follows the checkpoint's first record `p` (not of the
/// cluster's stream), itself after a pool record `h` whose pool predecessor
/// `g` carries no checkpoint proof: (g, h, p, r).
fn parked_behind_gap(records: &[Vec<u8>]) -> Option<(usize, usize, usize, usize)> {
    (2..records.len() - 1).find_map(|p| {
        let (h, r) = (p - 1, p + 1);
        let request = matches!(event(&records[r]), Some(Event::K8sApiRequest(_)));
        let first = has_checkpoint_proof(&records[p])
            && !has_checkpoint_proof(&records[r])
            && !matches!(
                event(&records[p]),
                Some(
                    Event::K8sApiRequest(_)
                        | Event::NamespaceGranted(_)
                        | Event::NamespaceRevoked(_)
                )
            );
        if !(request && first && is_pool(&records[h])) {
            return None;
        }
        let g = (0..h).rev().find(|&g| is_pool(&records[g]))?;
        (!has_checkpoint_proof(&records[g])).then_some((g, h, p, r))
    })
}

/// A record kept aside for its proof is released (ahead of its place)
/// by that proof's record while the proof's record is itself held behind
/// a gap: its rows are committed before the position reaches the proof.
/// A restart then must neither project it twice nor refuse the state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_released_behind_a_gap_survives_a_restart_once() -> anyhow::Result<()> {
    let f = (40..60)
        .map(|seed| Fixture::new(seed, 1_500))
        .find(|f| {
            f.as_ref()
                .map_or(true, |f| parked_behind_gap(&f.log.records).is_some())
        })
        .expect("a fixture with the layout")?;
    let (g, h, _, r) = parked_behind_gap(&f.log.records).expect("found above");
    let end = f.log.records.len() as i64;
    let (honest, _) = project(&f.stack, &f.log.records, f.verified(), end).await?;
    // [.., R, H, P, ..] without G: R waits for P's proof; H opens a gap (G
    // is missing); P, held behind it, proves R, which is released.
    let mut records = f.log.records.clone();
    let request = records.remove(r);
    records.insert(h, request);
    let dropped = records.remove(g);
    let held_from = h; // H's offset: R moved before it, G gone before both
    let mut run = Run::start(&f.stack, &records, f.verified()).await?;
    let held = (records.len() - held_from) as i64;
    let Some(Event::K8sApiRequest(req)) = event(&f.log.records[r]) else {
        anyhow::bail!("not a request");
    };
    let row = format!("\"request_id\":{},", req.request_id);
    for round in ["first run", "after a restart"] {
        wait_for(
            "the records after the gap to be held",
            Duration::from_secs(120),
            || async { Ok((run.metrics.verify.held.get() == held).then_some(())) },
        )
        .await?;
        run.reach(held_from as i64).await?;
        assert_eq!(run.metrics.verify.gap.get(), 1, "{round}");
        let now = run.dump().await?;
        assert!(
            now["requests"].iter().filter(|x| x.contains(&row)).count() == 1,
            "{round}: the released request has its row"
        );
        assert_eq!(run.metrics.restarts.get(), 0, "{round}: no failed start");
        if round == "first run" {
            run.restart().await?;
        }
    }
    // The missing record comes: everything is projected, once.
    produce(&f.stack.kafka_brokers, &run.topic, &[dropped]).await?;
    run.reach(end).await?;
    let (got, m) = run.finish().await?;
    assert_eq!(m.verify.gap.get(), 0);
    assert_eq!(m.restarts.get(), 0);
    assert_same(
        &without(&got, &["consumer_positions", "quarantine"]),
        &without(&honest, &["consumer_positions", "quarantine"]),
    );
    Ok(())
}

const KILL_RECORDS: usize = 10_000;
const KILLS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_seeded_points_over_a_certified_log_ends_as_a_clean_run() -> anyhow::Result<()> {
    let seed = workload::test_seed("kill points");
    let f = Fixture::new(seed, KILL_RECORDS)?;
    let records = &f.log.records;
    let outcomes = workload::outcomes(records);
    let (log, out) = (
        TestTopic::new(&f.stack).await?,
        TestTopic::new(&f.stack).await?,
    );
    produce(&f.stack.kafka_brokers, &log.name, records).await?;
    produce(&f.stack.kafka_brokers, &out.name, &outcomes).await?;
    let db = TestDb::empty(&f.stack).await?;
    let pool = store::connect_schema(&db.url, "daas").await?;
    let start = || {
        projector_verified(
            &db.url,
            &f.stack.kafka_brokers,
            &log.name,
            &out.name,
            &f.genesis,
        )
    };
    let mut rng = Rng::new(seed);
    let mut targets: Vec<i64> = (0..KILLS)
        .map(|_| 1 + rng.below(records.len() as u64 - 1) as i64)
        .collect();
    targets.sort();
    for target in targets {
        let mut p = start()?;
        wait_positions(&pool, &log.name, target, &out.name, 0).await?;
        kill9(&mut p)?;
        eprintln!(
            "killed at log position ≥ {target}: {}",
            position(&pool, &log.name).await
        );
    }
    let mut p = start()?;
    let (end, outcomes_end) = (records.len() as i64, outcomes.len() as i64);
    wait_positions(&pool, &log.name, end, &out.name, outcomes_end).await?;
    assert!(terminate(&mut p)?.success(), "SIGTERM exits 0");
    let got = store::dump(&pool).await?;

    // The clean run: one verified projector, no kills, its own database.
    let clean_db = TestDb::empty(&f.stack).await?;
    let clean = store::connect_schema(&clean_db.url, "daas").await?;
    let mut p = projector_verified(
        &clean_db.url,
        &f.stack.kafka_brokers,
        &log.name,
        &out.name,
        &f.genesis,
    )?;
    wait_positions(&clean, &log.name, end, &out.name, outcomes_end).await?;
    assert!(terminate(&mut p)?.success(), "SIGTERM exits 0");
    let want = store::dump(&clean).await?;
    assert_same(&got, &want);
    assert!(!want["requests"].is_empty());
    Ok(())
}
