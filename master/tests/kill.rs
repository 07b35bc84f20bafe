//! SIGKILL the master at random points while it applies over 20,000 requests
//! (mixed verbs, some unauthorised, some malformed), with proofs in the log
//! and verification on (the workload wrapped in a certified chain, the
//! master pinned to its genesis committee); after the restarts the state root
//! equals a clean verified replay's, and every request has exactly one
//! outcome on the topic.

mod support;

use std::{collections::BTreeSet, path::Path, process::Child};

use daas_master::{state_root::state_root, verification::VerifyArgs};
use daas_testkit::{
    Stack, TestEtcd, TestTopic, certified, high_watermark, produce,
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
    let plain = Workload::new(seed, 200).records(RECORDS);
    let requests = request_ids(&plain);
    // Records that are not log records at all: the verifier refuses them.
    let undecodable = plain
        .iter()
        .filter(|b| daas_domain::LogEntry::decode(b).is_err())
        .count();
    let certified = certified::certify(&plain, 4, 1_000);
    let records = certified.records;
    let dir = tempfile::tempdir()?;
    let genesis = dir.path().join("genesis-committee.json");
    certified.chain.write_genesis(&genesis)?;
    assert!(requests.len() >= 20_000, "{} requests", requests.len());
    produce(&stack.kafka_brokers, &log.name, &records).await?;

    let live = etcd.key("live/");
    let endpoint = stack.etcd_endpoints.join(",");
    let topics = [&*stack.kafka_brokers, &*log.name, &*out.name];
    let mut run = 0;
    let mut start = || {
        run += 1;
        let stderr = dir.path().join(format!("master-{run}.log"));
        verified_master(&endpoint, &live, topics, &genesis, &stderr)
    };
    let mut rng = Rng::new(seed);
    let mut targets: Vec<i64> = (0..5)
        .map(|_| 1 + rng.below(RECORDS as u64 - 1) as i64)
        .collect();
    targets.sort();
    for target in targets {
        let mut m = start()?;
        wait_position(&etcd.client, &live, target).await?;
        kill9(&mut m)?;
        eprintln!(
            "killed at position ≥ {target}: {}",
            position(&etcd.client, &live).await
        );
    }
    let mut m = start()?;
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
    let ids: Vec<u64> = outcomes
        .iter()
        .filter(|o| o.is_request())
        .map(|o| o.request_id)
        .collect();
    assert_eq!(
        ids, requests,
        "one outcome per request, none twice, in order"
    );
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), requests.len());
    let numbers: Vec<u64> = outcomes.iter().map(|o| o.sequence).collect();
    assert!(
        numbers.iter().copied().eq(1..=outcomes.len() as u64),
        "numbered 1, 2, 3, ... across the kills"
    );
    // The workload's undecodable records are refused, each once.
    let refused = outcomes.iter().filter(|o| !o.is_request()).count();
    assert_eq!(
        refused, undecodable,
        "one quarantined outcome per refused record"
    );
    eprintln!("{} request outcomes, {refused} quarantined", ids.len());

    // The same state as one clean run.
    let clean = etcd.key("clean/");
    let mut args = log_args(&stack.kafka_brokers, &log.name, &out.name);
    args.verify = VerifyArgs::pinned(genesis.clone());
    apply_to(&etcd.client, &clean, &args, RECORDS as i64).await?;
    let key = config(&live).secret_key;
    let mut c = etcd.client.clone();
    let (a, n) = state_root(&mut c, &layout(&live), key.as_ref()).await?;
    let (b, _) = state_root(&mut c, &layout(&clean), key.as_ref()).await?;
    assert!(n > 1_000, "{n} entries");
    assert_eq!(
        a,
        b,
        "the killed run's state root equals the clean run's (master logs in {})",
        dir.keep().display()
    );
    Ok(())
}

/// `master run` verifying the log against `genesis`, its log in `stderr`.
fn verified_master(
    etcd: &str,
    prefix: &str,
    topics: [&str; 3],
    genesis: &Path,
    stderr: &Path,
) -> anyhow::Result<Child> {
    let keys = workload_key_dir()?;
    let mut c = master_command(etcd, prefix, topics, "127.0.0.1:0", &keys, Some(genesis));
    c.env("RUST_LOG", "info")
        .stderr(std::fs::File::create(stderr)?);
    Ok(c.spawn()?)
}
