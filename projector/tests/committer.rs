//! A processed batch lands in the real Postgres tables together with the
//! consumed position, and the analysts' views read it.

use daas_domain::{Address, Bytes, Event, LogEntry, LogPosition, events::*};
use daas_projector::{
    committer::{Position, commit, load_position},
    processor::{Processor, Rows},
};
use daas_testkit::{Stack, TestDb};

fn record(n: u64, event: Event) -> Vec<u8> {
    let (m, name) = event.move_type();
    LogEntry::from_chain(
        LogPosition::new(n, 0, 0),
        [n as u8; 32],
        1_700_000_000_000 + n * 1000,
        format!("0xda45::{m}::{name}"),
        Address([1; 32]),
        event.to_bcs(),
    )
    .encode()
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
            }),
        ),
        b"garbage".to_vec(),
    ];
    let mut p = Processor::default();
    let mut rows = Rows::default();
    for (offset, r) in records.iter().enumerate() {
        p.process(offset as i64, r, &mut rows);
    }
    let position = Position {
        consumer: "projector".into(),
        topic: "log".into(),
        next_offset: records.len() as i64,
    };
    commit(&db.pool, &rows, &position).await?;

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
    let status: String = sqlx::query_scalar("SELECT status FROM requests")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(status, "admitted");
    let quarantined: i64 = sqlx::query_scalar("SELECT count(*) FROM quarantine")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(quarantined, 1);
    let slashes: i64 = sqlx::query_scalar("SELECT count(*) FROM slashing_history")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(slashes, 1);
    let top: String = sqlx::query_scalar("SELECT staker FROM top_stakers LIMIT 1")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(top, tenant.to_string());

    // Applying the same records again is a loud failure, and changes nothing.
    let again = commit(&db.pool, &rows, &position).await;
    assert!(again.is_err(), "a record applied twice must fail");
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM stake_history")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(history, 3);
    Ok(())
}
