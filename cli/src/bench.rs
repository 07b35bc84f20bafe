//! `daas bench latency`: how long a tenant waits. For each of `count`
//! sequential ConfigMap applies it measures (a) submit → the transaction is
//! final in a checkpoint (what `--no-wait` waits for; the dev chain's
//! checkpoint interval is part of it) and (b) the digest returned → the
//! master's outcome visible on its status API (indexer, broker, master,
//! etcd). The baseline beside (b), measured in the same run, is one round
//! trip of the status API itself.

use std::time::{Duration, Instant};

use anyhow::bail;

use crate::{files::Doc, outcome::Master, session::Session, write};

/// Percentiles of a sample, ms.
#[derive(Debug)]
pub struct Summary {
    /// Median.
    pub p50: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// Median, p99 and max of `samples`.
pub fn summarize(samples: &[Duration]) -> Summary {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if ms.is_empty() {
            return 0.0;
        }
        let rank = ((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len());
        ms[rank - 1]
    };
    Summary {
        p50: at(0.5),
        p99: at(0.99),
        max: ms.last().copied().unwrap_or(0.0),
    }
}

/// Runs the measurement and prints it.
pub async fn latency(s: &mut Session, namespace: &str, count: usize) -> anyhow::Result<()> {
    let master = Master::new(&s.settings.master_url()?)?;
    let (mut chain, mut visible, mut api) = (Vec::new(), Vec::new(), Vec::new());
    let run = std::process::id();
    for i in 0..count {
        let name = format!("latency-{run}-{i}");
        let manifest = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": {"i": i.to_string()},
        });
        let doc = Doc {
            source: "bench".into(),
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: namespace.to_owned(),
            name,
            manifest: serde_json::to_vec(&manifest)?,
        };
        let t0 = Instant::now();
        let (id, _) = write::submit_one(s, "apply", &doc).await?;
        let t1 = Instant::now();
        let outcome = loop {
            if let Some(o) = master.request(id).await? {
                break o;
            }
            if t1.elapsed() > Duration::from_secs(60) {
                bail!("request {id}: no outcome within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let t2 = Instant::now();
        if !outcome.is_applied() {
            bail!(
                "request {id} was rejected: {}: {}",
                outcome.reason,
                outcome.message
            );
        }
        // Baseline: one round trip of the status API for a decided request.
        let b = Instant::now();
        master.request(id).await?;
        api.push(b.elapsed());
        chain.push(t1 - t0);
        visible.push(t2 - t1);
        eprint!("\r{}/{count}", i + 1);
    }
    eprintln!();
    let (c, v, a) = (summarize(&chain), summarize(&visible), summarize(&api));
    println!("{count} sequential applies (ConfigMaps in {namespace})");
    println!(
        "submit -> final in a checkpoint:   median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        c.p50, c.p99, c.max
    );
    println!(
        "digest -> outcome on the master:   median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        v.p50, v.p99, v.max
    );
    println!(
        "baseline, status API round trip:   median {:.1} ms, p99 {:.1} ms",
        a.p50, a.p99
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let s: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let sum = summarize(&s);
        assert_eq!((sum.p50, sum.p99, sum.max), (50.0, 99.0, 100.0));
        let one = summarize(&[Duration::from_millis(7)]);
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        assert_eq!(summarize(&[]).p50, 0.0);
    }
}
