//! Verification's cost in a replay (issue 15's acceptance: at least 0.9 of
//! the same replay with verification off, same run).
//!
//! A workload's records wrapped in a hand-built certified chain
//! (`testkit::certified`: 4 validators, 8 transactions a checkpoint, an
//! epoch every 500 checkpoints) are produced to a topic once; then
//! `apply_log` runs over it as `master replay` does (to the end offset,
//! into a fresh etcd prefix), alternately with verification pinned to the
//! chain's genesis committee and with `--insecure-no-verify` (which goes
//! first alternates from run to run), each run printing records/s and the
//! ratio of the pair; then the ratios sorted, and their median. Also printed: the
//! signatures the verifier checked, and the log's bytes per record with
//! the proofs and without (the workload's own records).
//!
//! `scripts/stack up && cargo bench -p daas-master --bench verify`
//! (`MASTER_BENCH_RECORDS`, default 20,000; `MASTER_BENCH_RUNS`, default 3).

use std::time::Instant;

use daas_master::{
    apply::{Config, Engine},
    encryption::SecretKey,
    metrics::Metrics,
    pipeline::{LogArgs, Until, apply_log},
    sealing_keys::{KeyRingHandle, SealingKeys},
    state::Layout,
    state_mac::StateKey,
    verification::VerifyArgs,
};
use daas_testkit::{
    Stack, TestEtcd, TestTopic, certified, produce,
    workload::{CLUSTER, Workload},
};
use tokio_util::sync::CancellationToken;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let env = daas_testkit::bench_param;
    let n = env("MASTER_BENCH_RECORDS", 20_000);
    let runs = env("MASTER_BENCH_RUNS", 3);
    let stack = Stack::from_env()?;
    let plain = Workload::new(9, 500).records(n);
    let log = certified::certify(&plain, 4, 500);
    let bytes = |rs: &[Vec<u8>]| rs.iter().map(Vec::len).sum::<usize>() as f64 / n as f64;
    let (with, without) = (bytes(&log.records), bytes(&plain));
    println!(
        "{n} records ({} certified) in {} checkpoints, {} epochs: {with:.0} bytes per record \
         with proofs, {without:.0} without: +{:.0} bytes ({:.2}x)",
        log.certified,
        log.chain.checkpoints.len(),
        log.chain.epoch + 1,
        with - without,
        with / without
    );
    let genesis =
        std::env::temp_dir().join(format!("daas-bench-genesis-{}.json", std::process::id()));
    log.chain.write_genesis(&genesis)?;
    let topic = TestTopic::new(&stack).await?;
    produce(&stack.kafka_brokers, &topic.name, &log.records).await?;
    let etcd = TestEtcd::new(&stack).await?;
    let key = SecretKey::parse("key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
    let cfg = |p: &str| Config {
        layout: Layout::new(
            &etcd.key(&format!("{p}/registry")),
            &etcd.key(&format!("{p}/daas")),
        ),
        cluster: CLUSTER,
        secret_key: Some(key.clone()),
        sealing: std::sync::Arc::new(KeyRingHandle::fixed(SealingKeys::new(
            daas_testkit::sealing::keyring(),
        ))),
        outcomes_kept: 10_000,
        access: None,
        state_key: StateKey::from_bytes(&[0x5a; 32]),
    };
    let args = |verify: VerifyArgs| LogArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: topic.name.clone(),
        outcome_topic: String::new(),
        read_ahead: 2_000,
        batch_ms: 20,
        verify,
    };
    let (on, off) = (
        args(VerifyArgs::pinned(genesis.clone())),
        args(VerifyArgs::off()),
    );
    // An untimed pass warms what both sides share (etcd's pages, the
    // broker's cache of the topic).
    let c = &etcd.client;
    run(c, cfg("warm"), &off, n).await?;
    let mut ratios = Vec::with_capacity(runs);
    for r in 1..=runs {
        // Alternately first, so a machine that speeds up or slows down
        // during a pair does not favour one side.
        let (verified, m, plain) = if r % 2 == 1 {
            let (v, m) = run(c, cfg(&format!("on{r}")), &on, n).await?;
            (v, m, run(c, cfg(&format!("off{r}")), &off, n).await?.0)
        } else {
            let (p, _) = run(c, cfg(&format!("off{r}")), &off, n).await?;
            let (v, m) = run(c, cfg(&format!("on{r}")), &on, n).await?;
            (v, m, p)
        };
        ratios.push(verified / plain);
        println!(
            "run {r}: replay verified {verified:.0} records/s ({} signatures checked, {} \
             quarantined), unverified {plain:.0} records/s: ratio {:.3}",
            m.verify.signatures.get(),
            quarantined(&m),
            verified / plain
        );
    }
    ratios.sort_by(f64::total_cmp);
    if let Some(median) = ratios.get(ratios.len() / 2) {
        println!("ratios verified/unverified, sorted: {ratios:.3?} (median {median:.3})");
    }
    std::fs::remove_file(&genesis)?;
    Ok(())
}

/// One replay of the whole topic into `cfg`'s fresh prefix: records/s.
async fn run(
    client: &etcd_client::Client,
    cfg: Config,
    log: &LogArgs,
    n: usize,
) -> anyhow::Result<(f64, Metrics)> {
    let metrics = Metrics::default();
    let start = Instant::now();
    let engine = Engine::open(client.clone(), cfg).await?;
    let engine = apply_log(
        engine,
        log,
        &metrics,
        None,
        Until::Offset(n as i64),
        None,
        &CancellationToken::new(),
    )
    .await?;
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let at = engine.next_offset();
    let verified = log.verify.genesis_committee.is_some();
    anyhow::ensure!(
        at == n as i64,
        "replay (verified: {verified}) stopped at {at} of {n}"
    );
    Ok((rate, metrics))
}

/// Records quarantined (every reason).
fn quarantined(m: &Metrics) -> u64 {
    daas_verify::Refusal::LABELS
        .iter()
        .map(|l| {
            m.verify
                .quarantined
                .get_or_create(&vec![("reason", *l)])
                .get()
        })
        .sum()
}
