//! SIGKILL the master at random points while it applies over 20,000 requests
//! (mixed verbs, some unauthorised, some malformed); after the restarts the
//! state root equals a clean replay's, and every request has exactly one
//! outcome on the topic.

mod support;

use std::collections::BTreeSet;

use daas_master::state_root::state_root;
use daas_testkit::{
    Stack, TestEtcd, TestTopic, high_watermark, produce,
    workload::{Rng, Workload, test_seed},
};
use support::*;

const RECORDS: usize = 25_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_gives_the_clean_state_root() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let seed = test_seed("workload");
    let records = Workload::new(seed, 200).records(RECORDS);
    let requests = request_ids(&records);
    assert!(requests.len() >= 20_000, "{} requests", requests.len());
    produce(&stack.kafka_brokers, &log.name, &records).await?;

    let live = etcd.key("live/");
    let endpoint = stack.etcd_endpoints.join(",");
    let mut rng = Rng::new(seed);
    let mut targets: Vec<i64> = (0..5)
        .map(|_| 1 + rng.below(RECORDS as u64 - 1) as i64)
        .collect();
    targets.sort();
    for target in targets {
        let mut m = master(&endpoint, &live, &stack.kafka_brokers, &log.name, &out.name)?;
        wait_position(&etcd.client, &live, target).await?;
        kill9(&mut m)?;
        eprintln!(
            "killed at position ≥ {target}: {}",
            position(&etcd.client, &live).await
        );
    }
    let mut m = master(&endpoint, &live, &stack.kafka_brokers, &log.name, &out.name)?;
    wait_position(&etcd.client, &live, RECORDS as i64).await?;
    daas_testkit::wait_for(
        "every outcome on the topic",
        std::time::Duration::from_secs(60),
        || {
            let (b, t, n) = (
                stack.kafka_brokers.clone(),
                out.name.clone(),
                requests.len() as i64,
            );
            async move { Ok((high_watermark(&b, &t)? >= n).then_some(())) }
        },
    )
    .await?;
    assert!(terminate(&mut m)?.success(), "SIGTERM exits 0");

    // Exactly one outcome per request, in log order.
    let outcomes = read_outcomes(&stack.kafka_brokers, &out.name)?;
    let ids: Vec<u64> = outcomes.iter().map(|o| o.request_id).collect();
    assert_eq!(
        ids, requests,
        "one outcome per request, none twice, in order"
    );
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), requests.len());

    // The same state as one clean run.
    let clean = etcd.key("clean/");
    let args = log_args(&stack.kafka_brokers, &log.name, &out.name);
    apply_to(&etcd.client, &clean, &args, RECORDS as i64).await?;
    let key = config(&live).secret_key;
    let mut c = etcd.client.clone();
    let (a, n) = state_root(&mut c, &layout(&live), key.as_ref()).await?;
    let (b, _) = state_root(&mut c, &layout(&clean), key.as_ref()).await?;
    assert!(n > 1_000, "{n} entries");
    assert_eq!(a, b, "the killed run's state root equals the clean run's");
    Ok(())
}
