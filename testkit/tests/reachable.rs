//! Each part of the real local stack answers, and each test's slice is its own.
//! Needs `scripts/stack up` (the README's test command runs it first).

use std::time::Duration;

use daas_testkit::{Stack, TestDb, TestEtcd, TestTopic, wait_for};
use etcd_client::{Compare, CompareOp, GetOptions, Txn, TxnOp};
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{Consumer, StreamConsumer},
    producer::{FutureProducer, FutureRecord},
};

#[tokio::test]
async fn broker_round_trips_records_in_order() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &topic.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()?;
    let sent: Vec<String> = (0..50).map(|i| format!("record-{i}")).collect();
    for (i, payload) in sent.iter().enumerate() {
        let delivery = producer
            .send(
                FutureRecord::to(&topic.name).key("k").payload(payload),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)?;
        assert_eq!(delivery.partition, 0);
        assert_eq!(
            delivery.offset, i as i64,
            "offsets are dense and start at 0"
        );
    }

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &topic.brokers)
        .set("group.id", &topic.name)
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic.name, 0, Offset::Offset(0))?;
    consumer.assign(&tpl)?;
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let m = tokio::time::timeout(Duration::from_secs(20), consumer.recv()).await??;
        got.push(String::from_utf8(m.payload().unwrap_or_default().to_vec())?);
    }
    assert_eq!(got, sent);

    let (lo, hi) = consumer.fetch_watermarks(&topic.name, 0, Duration::from_secs(10))?;
    assert_eq!((lo, hi), (0, 50));
    Ok(())
}

#[tokio::test]
async fn postgres_answers_with_migrations_applied() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let db = TestDb::new(&stack).await?;
    let version: String = sqlx::query_scalar("show server_version")
        .fetch_one(&db.pool)
        .await?;
    assert!(
        version.starts_with("15"),
        "expected PostgreSQL 15, got {version}"
    );

    sqlx::query("insert into consumer_positions (consumer, topic, partition, next_offset) values ('t', 'log', 0, 7)")
        .execute(&db.pool)
        .await?;
    let next: i64 =
        sqlx::query_scalar("select next_offset from consumer_positions where consumer = 't'")
            .fetch_one(&db.pool)
            .await?;
    assert_eq!(next, 7);
    Ok(())
}

#[tokio::test]
async fn test_databases_are_isolated() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let a = TestDb::new(&stack).await?;
    let b = TestDb::new(&stack).await?;
    assert_ne!(a.name, b.name);
    sqlx::query("insert into consumer_positions (consumer, topic, partition, next_offset) values ('a', 'log', 0, 1)")
        .execute(&a.pool)
        .await?;
    let in_b: i64 = sqlx::query_scalar("select count(*) from consumer_positions")
        .fetch_one(&b.pool)
        .await?;
    assert_eq!(in_b, 0);

    // Dropping a test database really removes it.
    let name = a.name.clone();
    drop(a);
    let left: i64 = sqlx::query_scalar("select count(*) from pg_database where datname = $1")
        .bind(&name)
        .fetch_one(&b.pool)
        .await?;
    assert_eq!(left, 0, "database {name} should be gone");
    Ok(())
}

#[tokio::test]
async fn etcd_txn_guards_on_mod_revision_like_the_apiserver() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let mut etcd = TestEtcd::new(&stack).await?;
    let key = etcd.key("registry/configmaps/default/a");

    // Create: only if absent (mod_revision == 0).
    let create = |value: &'static str| {
        Txn::new()
            .when([Compare::mod_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key.clone(), value, None)])
    };
    assert!(etcd.client.txn(create("v1")).await?.succeeded());
    assert!(
        !etcd.client.txn(create("v2")).await?.succeeded(),
        "second create must fail"
    );

    let got = etcd.client.get(key.clone(), None).await?;
    let kv = &got.kvs()[0];
    assert_eq!(kv.value(), b"v1");

    // Update guarded by the revision we read.
    let rev = kv.mod_revision();
    let update = Txn::new()
        .when([Compare::mod_revision(key.clone(), CompareOp::Equal, rev)])
        .and_then([TxnOp::put(key.clone(), "v3", None)]);
    assert!(etcd.client.txn(update.clone()).await?.succeeded());
    assert!(
        !etcd.client.txn(update).await?.succeeded(),
        "stale revision must fail"
    );
    Ok(())
}

#[tokio::test]
async fn etcd_prefixes_are_isolated() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let mut a = TestEtcd::new(&stack).await?;
    let mut b = TestEtcd::new(&stack).await?;
    a.client.put(a.key("x"), "1", None).await?;
    let in_b = b
        .client
        .get(b.prefix.clone(), Some(GetOptions::new().with_prefix()))
        .await?;
    assert_eq!(in_b.kvs().len(), 0);

    // Dropping the slice deletes its keys.
    let prefix = a.prefix.clone();
    drop(a);
    let left = wait_for("prefix cleanup", Duration::from_secs(10), || {
        let mut c = b.client.clone();
        let p = prefix.clone();
        async move {
            let n = c
                .get(p, Some(GetOptions::new().with_prefix().with_count_only()))
                .await?
                .count();
            Ok((n == 0).then_some(n))
        }
    })
    .await?;
    assert_eq!(left, 0);
    Ok(())
}
