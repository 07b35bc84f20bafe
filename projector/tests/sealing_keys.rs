//! Registered sealing keys land in `sealing_keys`, one row per (cluster,
//! version), in the same commit as the position; a record whose key the chain
//! could never have emitted (31 bytes) is quarantined, not stored.

mod support;

use daas_domain::{Address, Bytes, Event, LogEntry, LogPosition, events::*};
use daas_projector::{
    committer::{commit, load_position},
    store,
};
use daas_testkit::{Stack, TestDb};
use sqlx::types::chrono::{DateTime, Utc};
use support::batch;

const ADMIN: Address = Address([9; 32]);
const T0: u64 = 1_767_225_600_000;

fn record(n: u64, event: Event) -> Vec<u8> {
    daas_testkit::workload::record(
        LogPosition::new(n, 0, 0),
        [n as u8; 32],
        T0 + n * 1000,
        ADMIN,
        &event,
    )
}

fn sealing_key(cluster: Address, version: u64, key: Vec<u8>) -> Event {
    Event::SealingKeyRegistered(SealingKeyRegistered {
        cluster_id: cluster,
        version,
        public_key: Bytes(key),
        registered_by: ADMIN,
        timestamp_ms: 1,
        seq: 0,
    })
}

#[tokio::test]
async fn registered_keys_land_in_sealing_keys_by_cluster_and_version() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let db = TestDb::new(&stack).await?;
    let (a, b) = (Address([0xc1; 32]), Address([0xc2; 32]));
    let key = |b: u8| (0..32).map(|i| b.wrapping_add(i)).collect::<Vec<u8>>();
    // A 31-byte key, as a writer that skipped the checks would put it in the log.
    let short = LogEntry::from_chain(
        LogPosition::new(5, 0, 0),
        [5; 32],
        T0 + 5000,
        format!("0x{}::enclave::SealingKeyRegistered", "da".repeat(32)),
        ADMIN,
        sealing_key(a, 3, vec![0x77; 31]).to_bcs(),
    )
    .encode();
    let records = [
        record(1, sealing_key(a, 1, key(0x10))),
        record(2, sealing_key(a, 2, key(0xa0))),
        record(3, sealing_key(b, 1, key(0xf0))),
        short,
    ];
    let (rows, positions) = batch(("log", &records), None);
    commit(&db.pool, &rows, &positions).await?;
    assert_eq!(load_position(&db.pool, "projector", "log").await?, 4);

    let stored: Vec<(String, i64, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT cluster_id, version, public_key, registered_by, registered_at
         FROM sealing_keys ORDER BY cluster_id, version",
    )
    .fetch_all(&db.pool)
    .await?;
    let at = |n: i64| DateTime::from_timestamp_millis(T0 as i64 + n * 1000).expect("time");
    let admin = format!("0x{}", "09".repeat(32));
    assert_eq!(
        stored,
        vec![
            (
                format!("0x{}", "c1".repeat(32)),
                1,
                "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f".into(),
                admin.clone(),
                at(1)
            ),
            (
                format!("0x{}", "c1".repeat(32)),
                2,
                "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf".into(),
                admin.clone(),
                at(2)
            ),
            (
                format!("0x{}", "c2".repeat(32)),
                1,
                "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f".into(),
                admin,
                at(3)
            ),
        ]
    );
    let quarantined: Vec<(i64, String)> =
        sqlx::query_as("SELECT kafka_offset, reason FROM quarantine ORDER BY kafka_offset")
            .fetch_all(&db.pool)
            .await?;
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert_eq!(quarantined[0].0, 3);
    assert!(
        quarantined[0].1.contains("public_key"),
        "{}",
        quarantined[0].1
    );
    let dump = store::dump(&db.pool).await?;
    assert_eq!(dump["sealing_keys"].len(), 3, "the dump covers the table");
    Ok(())
}
