//! Values Postgres cannot store as they are, through the real pipeline into
//! real tables: each is escaped, shortened or quarantined with its reason,
//! the projector goes on past it, and once the log goes quiet its position
//! metric is current without another batch coming.

mod support;

use std::time::Duration;

use daas_domain::{Address, Event, LogPosition, events::*};
use daas_projector::{
    metrics::Metrics,
    pipeline::{self, LogArgs},
    storable, store,
};
use daas_testkit::{Stack, TestDb, TestTopic, produce, wait_for, workload::record};
use support::*;
use tokio_util::sync::CancellationToken;

const CLUSTER: Address = Address([0xc1; 32]);
const TENANT: Address = Address([0x7e; 32]);
const SUI: u64 = 1_000_000_000;

fn request(id: u64, kind: &str, namespace: &str, name: &str) -> Event {
    daas_testkit::workload::create_request(TENANT, id, kind, namespace, name, b"{}".to_vec())
}

fn deposit(who: Address, amount: u64) -> Event {
    Event::StakeDeposited(StakeDeposited {
        staker: who,
        role: 0,
        amount,
        total_after: amount,
        epoch: 1,
        timestamp_ms: 1,
        seq: 0,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unstorable_values_are_quarantined_and_the_projector_goes_on() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let log = TestTopic::new(&stack).await?;
    let db = TestDb::empty(&stack).await?;
    let pool = store::connect_schema(&db.url, "daas").await?;
    // Random-looking, so it does not compress under the B-tree limit.
    let long_namespace: String = (0..5_000u32)
        .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    let events = [
        Event::ClusterCreated(ClusterCreated {
            cluster_id: CLUSTER,
            name: "c".into(),
            admin: TENANT,
            timestamp_ms: 1,
        }),
        deposit(TENANT, 10 * SUI),
        request(0, "ConfigMap", "default", "nul\0byte"),
        request(1, "ConfigMap", &long_namespace, "app"),
        deposit(Address([0x99; 32]), u64::MAX),
        request(2, "ConfigMap", "default", "ctl\x01\x1b[31m\ttab\\x00"),
        request(3, "ConfigMap", "default", "after-all-that"),
    ];
    let records: Vec<Vec<u8>> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            record(
                LogPosition::new(1 + i as u64, 0, 0),
                [i as u8; 32],
                1_767_225_600_000,
                TENANT,
                e,
            )
        })
        .collect();
    produce(&stack.kafka_brokers, &log.name, &records).await?;

    let args = LogArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: log.name.clone(),
        outcome_topic: String::new(),
        batch_records: 3,
        batch_ms: 50,
        verify: daas_verify::VerifyArgs::off(),
    };
    let (metrics, stop) = (Metrics::default(), CancellationToken::new());
    let task = {
        let (pool, args, metrics, stop) =
            (pool.clone(), args.clone(), metrics.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run(&pool, &args, &metrics, stop).await })
    };
    // The last batch is committed while nothing else arrives: the gauge must
    // show it without a further batch (it used to wait for one).
    let n = records.len() as i64;
    wait_for(
        "the position metric to reach the end",
        Duration::from_secs(60),
        || {
            let g = metrics.next_offset.get();
            async move { Ok((g == n).then_some(())) }
        },
    )
    .await?;
    assert_eq!(
        position(&pool, &log.name).await,
        n,
        "metric and table agree"
    );
    assert_eq!(metrics.health.status(), Ok(()), "healthy");

    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT request_id, sender, namespace, name FROM requests ORDER BY request_id",
    )
    .fetch_all(&pool)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(ids, [0, 1, 2, 3], "every request keeps its row");
    assert!(rows.iter().all(|r| r.1 == TENANT.to_string()));
    assert_eq!(rows[0].3, "nul\\x00byte", "NUL stored escaped");
    assert_eq!(storable::unescape(&rows[0].3), "nul\0byte");
    assert!(
        rows[1].2.len() < 400 && rows[1].2.contains("\\…sha256:"),
        "long key shortened"
    );
    assert_eq!(
        rows[2].3, "ctl\x01\x1b[31m\ttab\\\\x00",
        "control characters kept; backslash escaped"
    );
    assert_eq!(rows[3].3, "after-all-that");

    let quarantine: Vec<(i64, String)> =
        sqlx::query_as("SELECT kafka_offset, reason FROM quarantine ORDER BY 1")
            .fetch_all(&pool)
            .await?;
    let offsets: Vec<i64> = quarantine.iter().map(|q| q.0).collect();
    assert_eq!(offsets, [2, 3, 4], "{quarantine:?}");
    assert!(
        quarantine[0].1.contains("requests.name holds NUL"),
        "{quarantine:?}"
    );
    assert!(
        quarantine[1].1.contains("requests.namespace is 5000 bytes"),
        "{quarantine:?}"
    );
    assert!(quarantine[2].1.contains("beyond BIGINT"), "{quarantine:?}");
    let whale: i64 = sqlx::query_scalar("SELECT count(*) FROM stakes WHERE staker = $1")
        .bind(Address([0x99; 32]).to_string())
        .fetch_one(&pool)
        .await?;
    assert_eq!(
        whale, 0,
        "an amount beyond BIGINT is not clamped into the table"
    );

    stop.cancel();
    task.await??;
    Ok(())
}
