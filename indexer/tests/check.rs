//! `indexer check` against the real broker of the local stack.

use daas_indexer::sink::{BrokerArgs, CheckError, check_log_topic};
use daas_testkit::{Stack, TestTopic};

#[tokio::test]
async fn the_stack_log_topic_passes() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    for topic in [&stack.log_topic, &stack.outcome_topic] {
        let args = BrokerArgs {
            brokers: stack.kafka_brokers.clone(),
            topic: topic.clone(),
        };
        let report = check_log_topic(&args).await?;
        assert!(report.contains("1 partition"), "{report}");
    }
    Ok(())
}

#[tokio::test]
async fn a_missing_topic_is_named() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let args = BrokerArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: daas_testkit::unique_name("absent"),
    };
    let err = check_log_topic(&args).await.expect_err("topic is absent");
    assert!(
        matches!(&err, CheckError::NoTopic(t) if *t == args.topic),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn a_partitioned_topic_is_refused() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::with_partitions(&stack, 3).await?;
    let args = BrokerArgs {
        brokers: topic.brokers.clone(),
        topic: topic.name.clone(),
    };
    let err = check_log_topic(&args).await.expect_err("3 partitions");
    assert!(
        matches!(err, CheckError::NotOnePartition { partitions: 3, .. }),
        "{err}"
    );
    Ok(())
}
