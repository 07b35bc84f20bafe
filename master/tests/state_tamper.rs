//! The master's own state in etcd is authenticated (decision 0017): a
//! changed, deleted or planted key under `<state>/` is detected when the
//! engine opens, and the state is rebuilt from the log, ending with the
//! same kube objects, ledger and state root as an untouched run of the same
//! log (the reference, applied into a prefix of its own).

mod support;

use daas_domain::LogPosition;
use daas_master::{
    apply::Engine,
    metrics::Metrics,
    outcomes::Publisher,
    pipeline::{Until, apply_log},
    state::{self, Layout, Position},
    state_mac::{self, Loaded, StateKey},
    state_root::{entries, state_root},
};
use daas_testkit::workload::{self, Workload, test_seed};
use etcd_client::{Client, GetOptions};
use support::*;
use tokio_util::sync::CancellationToken;

/// Records in each test's log; the state is tampered with at [`AT`].
const N: i64 = 1_500;
const AT: i64 = 1_000;

/// A test's log, applied untouched into `ref/`; the case runs in `live/`.
struct Case {
    slice: Slice,
    workload: Workload,
    records: Vec<Vec<u8>>,
    reference: String,
    live: String,
}

impl Case {
    async fn new(name: &str) -> anyhow::Result<Self> {
        let slice = Slice::new(name).await?;
        let mut workload = Workload::new(test_seed(name), 30);
        let records = workload.records(N as usize);
        slice.produce(&records).await?;
        let reference = format!("{}ref/", slice.prefix);
        apply_to(&slice.etcd.client, &reference, &slice.log_args(), N).await?;
        let live = format!("{}live/", slice.prefix);
        Ok(Case {
            slice,
            workload,
            records,
            reference,
            live,
        })
    }

    fn client(&self) -> Client {
        self.slice.etcd.client.clone()
    }

    fn layout(&self) -> Layout {
        layout(&self.live)
    }

    /// Applies the live prefix up to `to`, then checks that an untouched
    /// state opens as authentic, without a rebuild.
    async fn live_to(&self, to: i64) -> anyhow::Result<()> {
        apply_to(
            &self.slice.etcd.client,
            &self.live,
            &self.slice.log_args(),
            to,
        )
        .await?;
        let metrics = Metrics::default();
        let engine = Engine::open_with(self.client(), config(&self.live), &metrics).await?;
        assert_eq!(
            metrics.state_tampered.get(),
            0,
            "untouched state is trusted"
        );
        assert_eq!(engine.next_offset(), to);
        Ok(())
    }

    /// The stored key-values under `prefix`.
    async fn kvs(&self, prefix: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
        let mut c = self.client();
        Ok(state::range(&mut c, prefix)
            .await?
            .iter()
            .map(|kv| {
                (
                    String::from_utf8_lossy(kv.key()).into_owned(),
                    kv.value().to_vec(),
                )
            })
            .collect())
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> anyhow::Result<()> {
        self.client().put(key, value, None).await?;
        Ok(())
    }

    /// What `master check` reads: the tampered state names `key`.
    async fn assert_detected(&self, key: &str) -> anyhow::Result<()> {
        let mut c = self.client();
        let mac = config(&self.live).state_key;
        match state_mac::load(&mut c, &self.layout(), &mac).await? {
            Loaded::Tampered(t) => assert!(
                t.problems.iter().any(|(k, _)| k == key),
                "{key} is not named among {:?}",
                t.problems
            ),
            Loaded::Authentic(_) => panic!("tampering with {key} was not detected"),
        }
        Ok(())
    }

    /// Opens the engine (which must detect the tampering and start again at
    /// offset 0), applies the whole log, and compares with the reference.
    async fn rebuild_and_compare(&self, publisher: Option<&mut Publisher>) -> anyhow::Result<()> {
        let metrics = Metrics::default();
        let engine = Engine::open_with(self.client(), config(&self.live), &metrics).await?;
        assert_eq!(metrics.state_tampered.get(), 1, "counted once");
        assert_eq!(engine.next_offset(), 0, "the state is rebuilt from the log");
        let stop = CancellationToken::new();
        let args = self.slice.log_args();
        let engine = apply_log(
            engine,
            &args,
            &metrics,
            publisher,
            Until::Offset(N),
            None,
            &stop,
        )
        .await?;
        assert_eq!(engine.next_offset(), N);
        assert_eq!(engine.ledger(), self.workload.ledger(), "the pure ledger");
        let again = Metrics::default();
        let reopened = Engine::open_with(self.client(), config(&self.live), &again).await?;
        assert_eq!(
            again.state_tampered.get(),
            0,
            "the rebuilt state is authentic"
        );
        assert_eq!(reopened.next_offset(), N);
        self.assert_same_as_reference().await
    }

    /// The live prefix holds the reference's kube objects (every registry
    /// key, Secrets by plaintext), ledger, evictions and state root.
    async fn assert_same_as_reference(&self) -> anyhow::Result<()> {
        let key = config(&self.live).secret_key;
        let (mut a, mut b) = (self.client(), self.client());
        let (ra, rb) = (layout(&self.reference), self.layout());
        let mut want = entries(&mut a, &ra, key.as_ref()).await?;
        let mut got = entries(&mut b, &rb, key.as_ref()).await?;
        want.sort();
        got.sort();
        assert!(
            want.len() > 100,
            "the workload made objects: {}",
            want.len()
        );
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0);
            assert!(g.1 == w.1, "{} differs from the untouched run's", g.0);
        }
        let names = |prefix: &str, kvs: Vec<(String, Vec<u8>)>| -> Vec<String> {
            kvs.into_iter()
                .map(|(k, _)| k[prefix.len()..].to_owned())
                .collect()
        };
        let want_keys = names(&ra.registry, self.kvs(&format!("{}/", ra.registry)).await?);
        let got_keys = names(&rb.registry, self.kvs(&format!("{}/", rb.registry)).await?);
        assert_eq!(
            got_keys, want_keys,
            "the same kube keys, Node objects included"
        );
        let root_want = state_root(&mut a, &ra, key.as_ref()).await?;
        let root_got = state_root(&mut b, &rb, key.as_ref()).await?;
        assert_eq!(root_got, root_want);
        Ok(())
    }
}

/// `master check` with a key directory holding the tests' state key.
fn master_check(case: &Case) -> anyhow::Result<(bool, String)> {
    let dir = workload_key_dir()?;
    let l = case.layout();
    let out = daas_testkit::service(env!("CARGO_BIN_EXE_master"))
        .args([
            "check",
            "--etcd",
            &case.slice.stack.etcd_endpoints.join(","),
        ])
        .args(["--prefix", &l.registry, "--state-prefix", &l.state])
        .args(["--sealing-key-dir", &dir])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    Ok((out.status.success(), text.into_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_byte_in_a_ledger_value_is_detected_and_rebuilt() -> anyhow::Result<()> {
    let case = Case::new("ledger-byte").await?;
    case.live_to(AT).await?;
    let (ok, out) = master_check(&case)?;
    assert!(ok && out.contains("authentic"), "{out}");
    let ledger = case.kvs(&case.layout().ledger_prefix()).await?;
    let (key, mut value) = ledger[ledger.len() / 2].clone();
    value[0] ^= 0x20; // `{` becomes `[`
    case.put(&key, value).await?;
    case.assert_detected(&key).await?;
    let (ok, out) = master_check(&case)?;
    assert!(!ok, "master check fails on tampered state: {out}");
    assert!(out.contains("NOT AUTHENTIC") && out.contains(&key), "{out}");
    case.rebuild_and_compare(None).await?;
    let (ok, out) = master_check(&case)?;
    assert!(ok && out.contains("authentic"), "{out}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_ledger_key_is_detected_and_rebuilt() -> anyhow::Result<()> {
    let case = Case::new("ledger-delete").await?;
    case.live_to(AT).await?;
    let ledger = case.kvs(&case.layout().ledger_prefix()).await?;
    let (key, _) = &ledger[ledger.len() / 3];
    case.client().delete(key.as_str(), None).await?;
    // Every tag left is valid: only the position's commitment tells.
    case.assert_detected(&case.layout().position()).await?;
    case.rebuild_and_compare(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_authentic_old_ledger_value_is_detected_and_rebuilt() -> anyhow::Result<()> {
    let case = Case::new("ledger-plant").await?;
    case.live_to(AT / 2).await?;
    let early = case.kvs(&case.layout().ledger_prefix()).await?;
    case.live_to(AT).await?;
    let now: std::collections::BTreeMap<_, _> = case
        .kvs(&case.layout().ledger_prefix())
        .await?
        .into_iter()
        .collect();
    // A key deleted since (planted back), else one changed since (rolled back).
    let (key, old) = early
        .iter()
        .find(|(k, _)| !now.contains_key(k))
        .or_else(|| early.iter().find(|(k, v)| now.get(k) != Some(v)))
        .cloned()
        .expect("the workload deletes or changes ledger entries");
    let mac = config(&case.live).state_key;
    assert!(
        mac.open(&key, &old).is_ok(),
        "the planted value's own tag is valid"
    );
    case.put(&key, old).await?;
    case.assert_detected(&case.layout().position()).await?;
    case.rebuild_and_compare(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_planted_from_another_prefix_is_detected_and_rebuilt() -> anyhow::Result<()> {
    let case = Case::new("ledger-foreign").await?;
    case.live_to(AT).await?;
    // The reference's (finished, authentic) value of a ledger key, copied
    // to the same key under this state prefix.
    let reference = layout(&case.reference);
    let theirs = case.kvs(&reference.ledger_prefix()).await?;
    let now: std::collections::BTreeMap<_, _> = case
        .kvs(&case.layout().ledger_prefix())
        .await?
        .into_iter()
        .collect();
    let ours = |k: &str| format!("{}{}", case.layout().state, &k[reference.state.len()..]);
    let (key, value) = theirs
        .iter()
        .map(|(k, v)| (ours(k), v.clone()))
        .find(|(k, v)| now.get(k) != Some(v))
        .expect("the reference went further than this state");
    case.put(&key, value).await?;
    case.assert_detected(&key).await?;
    case.rebuild_and_compare(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_position_is_detected_and_rebuilt() -> anyhow::Result<()> {
    let case = Case::new("position").await?;
    case.live_to(AT).await?;
    let key = case.layout().position();
    let stored = case.kvs(&key).await?.remove(0).1;
    let (payload, tag) = stored.split_at(stored.len() - state_mac::TAG_LEN);
    let mut p = Position::parse(std::str::from_utf8(payload)?).expect("a position");
    assert_eq!(p.cursor.offset, AT);
    p.cursor.offset -= 100; // apply the last 100 records again
    case.put(&key, [p.encode().as_bytes(), tag].concat())
        .await?;
    case.assert_detected(&key).await?;
    case.rebuild_and_compare(None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_outcome_batch_is_detected_rebuilt_and_outcomes_stay_once_each()
-> anyhow::Result<()> {
    let case = Case::new("outcomes").await?;
    let args = case.slice.log_args();
    let stop = CancellationToken::new();
    let brokers = &case.slice.stack.kafka_brokers;
    let mut publisher = Publisher::new(brokers, &case.slice.out.name)?;
    let engine = Engine::open(case.client(), config(&case.live)).await?;
    let metrics = Metrics::default();
    let to = Until::Offset(AT);
    apply_log(
        engine,
        &args,
        &metrics,
        Some(&mut publisher),
        to,
        None,
        &stop,
    )
    .await?;
    let batches = case.kvs(&case.layout().outcomes_prefix()).await?;
    let (key, mut value) = batches[batches.len() / 2].clone();
    value[3] ^= 0x01;
    case.put(&key, value).await?;
    case.assert_detected(&key).await?;

    // As `master run` reopens: the publisher first, then the engine.
    let mut publisher = Publisher::new(brokers, &case.slice.out.name)?;
    let mut c = case.client();
    let mac = config(&case.live).state_key;
    assert_eq!(publisher.resume(&mut c, &case.layout(), &mac).await?, 0);
    case.rebuild_and_compare(Some(&mut publisher)).await?;

    // The topic holds every outcome of the log once, in log order.
    let got = case.slice.outcomes()?;
    let want = workload::outcomes(&case.records);
    let positions: Vec<LogPosition> = got.iter().map(|o| o.position).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in order, once each"
    );
    assert_eq!(got.len(), want.len());
    assert!(
        got.iter().map(|o| o.sequence).eq(1..=got.len() as u64),
        "the rebuild numbered the outcomes as the first run did"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_written_under_another_state_key_is_not_trusted() -> anyhow::Result<()> {
    let case = Case::new("other-key").await?;
    case.live_to(AT).await?;
    let mut c = case.client();
    let other = StateKey::from_bytes(&[0x33; 32]);
    let Loaded::Tampered(t) = state_mac::load(&mut c, &case.layout(), &other).await? else {
        panic!("state under another key was trusted");
    };
    let stored = c
        .get(
            format!("{}/", case.layout().state),
            Some(GetOptions::new().with_prefix().with_count_only()),
        )
        .await?
        .count();
    assert_eq!(t.problems.len() as i64, stored, "every key is named");
    Ok(())
}
