//! The status API `daas apply` waits on: every committed outcome is found by
//! request id and by transaction digest, equal to the pure ledger's decision,
//! and a restarted master answers the same from what it stored in etcd.

mod support;

use std::time::Duration;

use daas_domain::{Outcome, outcome::OutcomeView};
use daas_testkit::{
    Stack, TestEtcd, TestTopic, free_addr, produce, terminate, wait_for,
    workload::{self, Workload},
};
use support::*;

async fn get(url: &str) -> anyhow::Result<(u16, String)> {
    let resp = reqwest::get(url).await?;
    Ok((resp.status().as_u16(), resp.text().await?))
}

/// What must match between the API's answer and the pure decision
/// (resource versions are etcd's, the pure ones are placeholders).
fn essence(v: &OutcomeView) -> (u64, String, String, String, String, String) {
    let key = v
        .key
        .rsplit("registry")
        .next()
        .unwrap_or_default()
        .to_owned();
    (
        v.request_id,
        v.transaction_digest.clone(),
        v.status.clone(),
        v.action.clone(),
        key,
        v.reason.clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_are_served_by_request_and_transaction_across_restarts() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let records = Workload::new(21, 20).records(2_000);
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    let pure: Vec<Outcome> = workload::outcomes(&records)
        .iter()
        .map(|b| Outcome::decode(b))
        .collect::<Result<_, _>>()?;
    assert!(pure.len() > 1_000, "{} requests", pure.len());
    let prefix = etcd.key("live/");
    let endpoint = stack.etcd_endpoints.join(",");
    let addr = free_addr()?;
    let base = format!("http://{addr}");
    let start = || {
        master_at(
            &endpoint,
            &prefix,
            &stack.kafka_brokers,
            &log.name,
            &out.name,
            &addr.to_string(),
        )
    };

    let mut child = start()?;
    wait_position(&etcd.client, &prefix, records.len() as i64).await?;
    let sample: Vec<&Outcome> = pure.iter().step_by(97).chain(pure.last()).collect();
    let check = |answers: Vec<OutcomeView>| {
        for (got, want) in answers.iter().zip(&sample) {
            assert_eq!(essence(got), essence(&OutcomeView::from(*want)));
            if got.is_applied() && got.action != "deleted" {
                assert!(got.resource_version > 0, "a real revision: {got:?}");
            }
        }
    };
    let fetch_all = || async {
        let mut answers = Vec::new();
        for o in &sample {
            let (code, body) = get(&format!("{base}/v1/requests/{}", o.request_id)).await?;
            anyhow::ensure!(code == 200, "request {}: {code} {body}", o.request_id);
            answers.push(serde_json::from_str::<OutcomeView>(&body)?);
        }
        Ok::<_, anyhow::Error>(answers)
    };
    // The index is filled just after each commit: wait for the last request.
    let served = |id: u64| {
        let url = format!("{base}/v1/requests/{id}");
        wait_for(
            "the API to serve the request",
            Duration::from_secs(60),
            move || {
                let url = url.clone();
                async move { Ok(get(&url).await.ok().filter(|(code, _)| *code == 200)) }
            },
        )
    };
    served(pure.last().map_or(0, |o| o.request_id)).await?;
    let first = fetch_all().await?;
    check(first.clone());

    let o = sample[0];
    let digest = OutcomeView::from(o).transaction_digest;
    let (code, body) = get(&format!("{base}/v1/transactions/{digest}")).await?;
    assert_eq!(code, 200, "{body}");
    let by_tx: Vec<OutcomeView> = serde_json::from_str(&body)?;
    assert!(by_tx.iter().any(|v| v.request_id == o.request_id));
    assert_eq!(get(&format!("{base}/v1/requests/99999999")).await?.0, 404);
    assert_eq!(get(&format!("{base}/v1/requests/abc")).await?.0, 400);
    assert_eq!(
        get(&format!("{base}/v1/transactions/not-base58!")).await?.0,
        400
    );

    // A restarted master answers from etcd's stored outcomes, signed
    // again with its new enclave key (decision 0021).
    terminate(&mut child)?;
    let mut child = start()?;
    served(sample[sample.len() / 2].request_id).await?;
    let unsigned = |answers: Vec<OutcomeView>| -> Vec<(OutcomeView, Option<String>)> {
        answers
            .into_iter()
            .map(|mut v| {
                let key = v.receipt.take().map(|r| r.enclave_public_key);
                (v, key)
            })
            .collect()
    };
    let (before, after) = (unsigned(first), unsigned(fetch_all().await?));
    assert_eq!(
        after.iter().map(|a| &a.0).collect::<Vec<_>>(),
        before.iter().map(|b| &b.0).collect::<Vec<_>>(),
        "the same answers after a restart"
    );
    for ((_, k0), (_, k1)) in before.iter().zip(&after) {
        assert!(
            k0.is_some() && k1.is_some() && k0 != k1,
            "signed, by a new key"
        );
    }
    terminate(&mut child)?;
    Ok(())
}
