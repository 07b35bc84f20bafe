//! Kill test: the indexer is SIGKILLed at random points during a backfill of
//! 20,000+ events and restarted; the topic then holds each of the chain's
//! events exactly once, in chain order, byte for byte, including requests
//! with hostile strings (NUL, control characters, maximum length, manifests
//! that are not UTF-8), each proved by the checkpoint and transaction proofs
//! the log carries.

mod support;

use daas_testkit::{
    Stack, TestChain, TestTopic, fill_hostile, free_addr, high_watermark,
    workload::{Rng, test_seed},
};
use support::{indexer, log_of, wait_count};

const EVENTS: usize = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let seed = test_seed("kill point and hostile requests");
    let mut rng = Rng::new(seed);
    let mut hostile = Rng::new(seed ^ 0x4057_11e5);
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let dir = tempfile::tempdir()?;
    let chain = TestChain::start(dir.path(), free_addr()?, 100, 0).await?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || fill_hostile(&node, EVENTS, 100, &mut hostile)).await?;
    let expected = chain.events();
    assert!(
        expected.len() > EVENTS,
        "the genesis cluster plus {EVENTS} events"
    );
    let hostile = expected
        .iter()
        .filter_map(
            |(_, bcs)| match daas_domain::events::decode("gateway", "K8sAPIRequest", bcs) {
                Ok(daas_domain::Decoded::Known(e)) => Some(e),
                _ => None,
            },
        )
        .filter(|e| {
            daas_testkit::hostile::string_fields(e)
                .iter()
                .any(|(_, v)| !daas_testkit::hostile::traits(v).is_empty())
        })
        .count();
    assert!(
        hostile > 10,
        "the chain carries hostile requests: {hostile}"
    );

    // Kill when the log reaches a random size, five times, then let it finish.
    let total = expected.len() as i64;
    for _ in 0..5 {
        let mut child = indexer(&chain.url, &stack.kafka_brokers, &topic.name)?;
        let now = high_watermark(&stack.kafka_brokers, &topic.name)?;
        let target = (now + 1 + rng.below(((total - now) as u64 / 3).max(1)) as i64).min(total);
        wait_count(&stack.kafka_brokers, &topic.name, target as usize).await?;
        child.kill()?; // SIGKILL
        child.wait()?;
    }
    let mut child = indexer(&chain.url, &stack.kafka_brokers, &topic.name)?;
    wait_count(&stack.kafka_brokers, &topic.name, expected.len()).await?;
    child.kill()?;
    child.wait()?;

    let got = log_of(&stack.kafka_brokers, &topic.name)?;
    assert_eq!(
        got.len(),
        expected.len(),
        "exactly once: no loss, no duplicate"
    );
    assert!(
        got == expected,
        "the log equals the chain's events, in order, byte for byte"
    );
    // Proofs survive the kills: the first record of each checkpoint and of
    // each transaction in the log carries its proof (also when a restart
    // fell in the middle of one), and every proof checks out.
    let log = daas_testkit::read_log(&stack.kafka_brokers, &topic.name)?;
    let checked = support::proofs::check_log(&log, &chain.validators())?;
    assert_eq!(checked.events, expected.len());
    chain.stop().await;
    Ok(())
}
