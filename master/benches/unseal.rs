//! What opening sealed Secrets adds to the master's apply path, next to its
//! baseline in the same run: sealed Secret applies (3 values of 32 bytes)
//! decided by the shared ledger with the master's opener (HPKE open of each
//! value: one X25519 exchange, HKDF, ChaCha20-Poly1305), against the same
//! requests decided without opening (admission's public checks: parse,
//! binding tags, validation), as a ratio. No etcd: the ledger only.
//!
//! `cargo bench -p daas-master --bench unseal` (`UNSEAL_BENCH_REQUESTS`,
//! default 5,000).

#[path = "../../domain/tests/support/cluster.rs"]
mod cluster;
#[path = "../../domain/tests/support/requests.rs"]
mod requests;

use std::{collections::BTreeMap, time::Instant};

use cluster::{CLUSTER, TENANT};
use daas_domain::{Event, Ledger, admission::Decision, roles::MIST_PER_SUI, sealed::NoOpen};
use daas_master::{metrics::Metrics, sealing_keys::SealingKeys, unseal::Opener};
use daas_sealing::seal_secret;
use daas_testkit::sealing;
use serde_json::json;

/// The cluster, a tenant with 10 SUI owning `team-a`, and testkit's sealing
/// key registered as v1.
fn ledger() -> Ledger {
    let mut l = cluster::with_stakes(&[(TENANT, 10 * MIST_PER_SUI)]);
    l.apply(&sealing::registered(0));
    requests::own_namespace(&mut l, CLUSTER, TENANT, "team-a");
    l
}

/// Requests/s deciding `events` with `decide`, and how many were admitted.
fn rate(events: &[Event], mut decide: impl FnMut(&Event) -> Option<Decision>) -> (f64, usize) {
    let t = Instant::now();
    let admitted = events
        .iter()
        .filter(|e| matches!(decide(e), Some(Decision::Admitted(_))))
        .count();
    (events.len() as f64 / t.elapsed().as_secs_f64(), admitted)
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("UNSEAL_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let (sk, pk) = (sealing::private_key(), sealing::public_key());
    let (mut events, mut bytes) = (Vec::with_capacity(n), 0);
    for i in 0..n {
        let name = format!("db-{}", i % 200);
        let value = |k: &str| format!("{k}-{i:026}");
        let plain = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": "team-a"},
            "stringData": {"user": value("u"), "password": value("p"), "token": value("t")}});
        let v = sealing::VERSION;
        let sealed = seal_secret(&plain, CLUSTER, v, &pk, &mut daas_sealing::rng::os())?;
        let manifest = serde_json::to_string(&sealed)?;
        bytes += manifest.len();
        let what = ["v1", "Secret", "team-a", &name];
        events.push(requests::apply(CLUSTER, TENANT, what, manifest));
    }

    let mut plain_ledger = ledger();
    let (public, admitted_public) = rate(&events, |e| plain_ledger.apply_with(e, &NoOpen).decision);
    let keys = SealingKeys::new([(sealing::VERSION, sk)]);
    let metrics = Metrics::default();
    let opener = Opener {
        cluster: CLUSTER,
        keys: &keys,
        registered: BTreeMap::from([(sealing::VERSION, pk.0)]),
        metrics: &metrics,
    };
    let mut opening_ledger = ledger();
    let (opened, admitted_opened) =
        rate(&events, |e| opening_ledger.apply_with(e, &opener).decision);
    anyhow::ensure!(
        (
            admitted_public,
            admitted_opened,
            metrics.sealed_opened.get()
        ) == (n, n, n as u64),
        "every request is admitted and opened"
    );
    println!(
        "unseal: {n} sealed Secret applies (3 values, {} B avg): {opened:.0} requests/s decided \
         and opened; decided without opening {public:.0}/s; ratio {:.2}",
        bytes / n.max(1),
        opened / public
    );
    Ok(())
}
