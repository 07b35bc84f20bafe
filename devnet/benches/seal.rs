//! What certifying costs the dev chain: sealing a checkpoint (contents,
//! summary, digests, indexes, log record, and the aggregated BLS signature of
//! every validator) against the same checkpoint's unsigned sealing work
//! (contents, summary and its digest), measured on the same pending
//! transactions in the same run, as a ratio; for empty checkpoints and for
//! checkpoints of `SEAL_BENCH_TXS` faucet transactions; then the replay of
//! the whole log on reopen.
//!
//! `cargo bench -p daas-devnet --bench seal` (`SEAL_BENCH_CHECKPOINTS`,
//! default 200; `SEAL_BENCH_TXS`, default 100; `SEAL_BENCH_VALIDATORS`,
//! default 4).

use std::time::{Duration, Instant};

use daas_devnet::node::{Node, NodeConfig};
use sui_sdk_types::Address;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seals `checkpoints` checkpoints of `txs` transactions each; returns the
/// time spent sealing and the time the unsigned work took on the same sets.
fn measure(node: &Node, checkpoints: usize, txs: usize) -> (Duration, Duration) {
    let (mut signed, mut unsigned) = (Duration::ZERO, Duration::ZERO);
    for c in 0..checkpoints {
        for t in 0..txs {
            let mut b = [0u8; 32];
            b[..8].copy_from_slice(&((c * txs + t) as u64).to_le_bytes());
            node.faucet(Address::new(b), 1_000).expect("faucet");
        }
        let start = Instant::now();
        let digest = node.read(|chain| chain.next_checkpoint(None).1.digest());
        unsigned += start.elapsed();
        std::hint::black_box(digest);
        let start = Instant::now();
        node.seal().expect("seal");
        signed += start.elapsed();
    }
    (signed, unsigned)
}

fn report(what: &str, checkpoints: usize, (signed, unsigned): (Duration, Duration)) {
    let per = |d: Duration| d.as_secs_f64() * 1e6 / checkpoints as f64;
    println!(
        "seal {what}: {:.0} µs/checkpoint sealed and certified; unsigned sealing work {:.0} µs; \
         ratio {:.1}",
        per(signed),
        per(unsigned),
        signed.as_secs_f64() / unsigned.as_secs_f64().max(1e-9)
    );
}

fn main() {
    let checkpoints = env("SEAL_BENCH_CHECKPOINTS", 200);
    let txs = env("SEAL_BENCH_TXS", 100);
    let validators = env("SEAL_BENCH_VALIDATORS", 4);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = NodeConfig {
        data_dir: dir.path().to_path_buf(),
        checkpoint_interval: Duration::from_secs(3600),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
        validators,
        nitro_root: daas_devnet::node::TrustedRoot::aws_nitro(),
    };
    let node = Node::open(config.clone()).expect("open");
    println!("{validators} validators sign every checkpoint");
    report("empty", checkpoints, measure(&node, checkpoints, 0));
    report(
        &format!("{txs} transactions"),
        checkpoints,
        measure(&node, checkpoints, txs),
    );
    let height = node.read(|c| c.checkpoint_height());
    let signing = {
        let (summary, epoch) = node.read(|c| (c.tip().summary.clone(), c.validators().epoch(0)));
        let everyone: Vec<usize> = (0..epoch.keys.len()).collect();
        let start = Instant::now();
        for _ in 0..checkpoints {
            let sig =
                daas_devnet::committee::certify(&epoch.committee, &epoch.keys, &everyone, &summary);
            std::hint::black_box(sig.expect("certify"));
        }
        start.elapsed().as_secs_f64() * 1e6 / checkpoints as f64
    };
    drop(node);
    let start = Instant::now();
    let again = Node::open(config).expect("reopen");
    let replay = start.elapsed();
    assert_eq!(again.read(|c| c.checkpoint_height()), height);
    println!(
        "certify alone: {signing:.0} µs/checkpoint; replay of {} checkpoints ({} transactions): \
         {:.2} s, of which signing ≈ {:.2} s",
        height + 1,
        checkpoints * txs,
        replay.as_secs_f64(),
        signing * (height + 1) as f64 / 1e6
    );
}
