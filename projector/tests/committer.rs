//! A processed batch lands in the real Postgres tables together with the
//! consumed position, and the analysts' views read it.

mod support;

use daas_domain::{Address, Bytes, Event, LogPosition, events::*};
use daas_projector::committer::{CommitError, commit, load_position};
use daas_testkit::{Stack, TestDb};
use support::batch;

fn record(n: u64, event: Event) -> Vec<u8> {
    daas_testkit::workload::record(
        LogPosition::new(n, 0, 0),
        [n as u8; 32],
        1_700_000_000_000 + n * 1000,
        Address([1; 32]),
        &event,
    )
}

#[tokio::test]
async fn a_batch_and_its_position_commit_together() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let db = TestDb::new(&stack).await?;
    let cluster = Address([0xc1; 32]);
    let tenant = Address([0xa1; 32]);
    let operator = Address([0x0b; 32]);
    let records = [
        record(
            1,
            Event::ClusterCreated(ClusterCreated {
                cluster_id: cluster,
                name: "c".into(),
                admin: Address([9; 32]),
                timestamp_ms: 1,
            }),
        ),
        record(
            2,
            Event::StakeDeposited(StakeDeposited {
                staker: tenant,
                role: 0,
                amount: 5_000_000_000,
                total_after: 5_000_000_000,
                epoch: 1,
                timestamp_ms: 1,
                seq: 0,
            }),
        ),
        record(
            3,
            Event::StakeDeposited(StakeDeposited {
                staker: operator,
                role: 1,
                amount: 1_000_000_000,
                total_after: 1_000_000_000,
                epoch: 1,
                timestamp_ms: 1,
                seq: 0,
            }),
        ),
        record(
            4,
            Event::NodeRegistered(NodeRegistered {
                operator,
                node_name: "node-1".into(),
                public_key: Bytes(vec![7; 32]),
                endpoint: "e".into(),
                timestamp_ms: 1,
                seq: 0,
            }),
        ),
        record(
            5,
            Event::StakeSlashed(StakeSlashed {
                staker: operator,
                role: 1,
                amount: 1,
                total_after: 999_999_999,
                reason: "offline".into(),
                slashed_by: Address([9; 32]),
                epoch: 2,
                timestamp_ms: 1,
                seq: 0,
            }),
        ),
        record(
            6,
            Event::K8sApiRequest(K8sApiRequest {
                cluster_id: cluster,
                request_id: 0,
                sender: tenant,
                verb: "create".into(),
                api_version: "v1".into(),
                kind: "Namespace".into(),
                namespace: String::new(),
                name: "team-a".into(),
                manifest: Bytes(
                    b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n".to_vec(),
                ),
                stake: 5_000_000_000,
                timestamp_ms: 1,
                seq: 0,
            }),
        ),
        b"garbage".to_vec(),
    ];
    // The master's outcomes: one for the namespace request, one for a
    // request the log never had, bytes that are not an outcome, and one for
    // a log record the master's verifier refused.
    let applied = daas_domain::Outcome {
        cluster_id: cluster,
        request_id: 0,
        position: LogPosition::new(6, 0, 0),
        transaction_digest: [6; 32],
        sequence: 1,
        request_timestamp_ms: 0,
        ledger_root: None,
        ledger_root_offset: 0,
        receipt: None,
        result: daas_domain::OutcomeResult::Applied {
            action: "created".into(),
            key: "/registry/namespaces/team-a".into(),
            resource_version: 41,
            warnings: Vec::new(),
        },
    };
    let stray = daas_domain::Outcome {
        request_id: 99,
        sequence: 2,
        ..applied.clone()
    };
    let mut refused = daas_domain::Outcome::quarantined(cluster, 5, "bad_signature", "forged\0");
    refused.sequence = 3;
    let outcomes = [
        applied.encode(),
        stray.encode(),
        b"\x0a\x01".to_vec(),
        refused.encode(),
    ];
    let (rows, position) = batch(("log", &records), Some(("outcomes", &outcomes)));
    commit(&db.pool, &rows, &position).await?;
    assert_eq!(load_position(&db.pool, "projector", "outcomes").await?, 4);

    assert_eq!(load_position(&db.pool, "projector", "log").await?, 7);
    let stakes: i64 = sqlx::query_scalar("SELECT count(*) FROM stakes")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(stakes, 2);
    let node: String = sqlx::query_scalar("SELECT status FROM nodes WHERE name = 'node-1'")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(node, "inactive", "slashed below the node minimum");
    let owner: String =
        sqlx::query_scalar("SELECT owner FROM namespaces WHERE namespace = 'team-a'")
            .fetch_one(&db.pool)
            .await?;
    assert_eq!(owner, tenant.to_string());
    let (status, action, rv): (String, Option<String>, Option<i64>) =
        sqlx::query_as("SELECT status, action, resource_version FROM requests")
            .fetch_one(&db.pool)
            .await?;
    assert_eq!(
        (status.as_str(), action.as_deref(), rv),
        ("applied", Some("created"), Some(41))
    );
    let quarantined: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT topic, kafka_offset, reason FROM quarantine ORDER BY topic, kafka_offset",
    )
    .fetch_all(&db.pool)
    .await?;
    assert_eq!(quarantined.len(), 4, "{quarantined:?}");
    assert_eq!((quarantined[0].0.as_str(), quarantined[0].1), ("log", 6));
    assert!(quarantined[0].2.starts_with("not a log record"));
    assert_eq!(
        (quarantined[1].0.as_str(), quarantined[1].1),
        ("outcomes", 1)
    );
    assert!(
        quarantined[1].2.contains("does not have") && quarantined[1].2.ends_with("#99"),
        "{}",
        quarantined[1].2
    );
    assert_eq!(
        (quarantined[2].0.as_str(), quarantined[2].1),
        ("outcomes", 2)
    );
    assert!(quarantined[2].2.starts_with("not an outcome"));
    // The master's refusal, its NUL escaped, and no request row for it.
    assert_eq!(
        (quarantined[3].0.as_str(), quarantined[3].1),
        ("outcomes", 3)
    );
    assert!(
        quarantined[3]
            .2
            .starts_with("the master quarantined log record 5 (bad_signature): forged")
            && !quarantined[3].2.contains('\0'),
        "{}",
        quarantined[3].2
    );
    let slashes: i64 = sqlx::query_scalar("SELECT count(*) FROM slashing_history")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(slashes, 1);
    let top: String = sqlx::query_scalar("SELECT staker FROM top_stakers LIMIT 1")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(top, tenant.to_string());

    // The same batch again: the stored position has moved past its start.
    let again = commit(&db.pool, &rows, &position).await;
    assert!(
        matches!(
            again,
            Err(CommitError::Moved {
                found: 7,
                expected: 0,
                ..
            })
        ),
        "{again:?}"
    );
    // Were the position check bypassed, the tables themselves refuse a
    // record applied twice, and nothing changes.
    sqlx::query("UPDATE consumer_positions SET next_offset = 0")
        .execute(&db.pool)
        .await?;
    let again = commit(&db.pool, &rows, &position).await;
    assert!(
        matches!(&again, Err(CommitError::Sql(sqlx::Error::Database(e))) if e.code().as_deref() == Some("23505")),
        "{again:?}"
    );
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM stake_history")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(history, 3);
    Ok(())
}
