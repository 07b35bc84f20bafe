//! `enclave::register_sealing_key` as the dev chain runs it: the cluster's
//! `AdminCap` holder registers two keys, which get versions 1 and 2; a key
//! that is not 32 bytes aborts with 405 and emits nothing; and `ListEvents`
//! filtered on the event type (what `daas` asks to find the current key)
//! returns both registrations, decodable by the domain.

mod support;

use std::sync::Arc;

use daas_devnet::{calls, chain::PACKAGE_ID, node::Node};
use daas_domain::{Decoded, Event, events};
use sui_rpc::proto::sui::rpc::v2::{EventTypeFilter, ListEventsRequest, event_literal::Predicate};
use sui_sdk_types::{ExecutionError, ExecutionStatus, ObjectReference};
use support::{Chain, chain, filter};

impl Chain {
    /// The genesis admin (holder of the cluster's `AdminCap`) registers `key`.
    fn register(&self, key: &[u8]) -> (ExecutionStatus, Vec<sui_sdk_types::Event>) {
        let admin = self.node.admin_key();
        let who = admin.public_key().derive_address();
        let (gas, cap): (ObjectReference, ObjectReference) = self.node.read(|c| {
            let cap = c
                .world
                .objects
                .get(&c.world.ids.admin_cap)
                .map(|o| o.reference(c.world.ids.package, c.world.clock_ms))
                .expect("cap");
            (c.largest_coin(&who).expect("the admin has gas"), cap)
        });
        let (tx, sig) = calls::register_sealing_key(admin, &self.ids, gas, cap, self.cluster, key);
        let done = self.node.execute(tx, vec![sig]).expect("included");
        (done.effects.status().clone(), done.events)
    }
}

/// Every `SealingKeyRegistered` of the chain, through its gRPC `ListEvents`.
async fn listed(node: Arc<Node>) -> anyhow::Result<Vec<events::SealingKeyRegistered>> {
    let mut t = EventTypeFilter::default();
    t.event_type = Some(format!("{PACKAGE_ID}::enclave::SealingKeyRegistered"));
    let mut req = ListEventsRequest::default();
    req.filter = Some(filter(Predicate::EventType(t)));
    let mut out = Vec::new();
    support::list_served(node, req, |e| {
        let contents = e.contents.and_then(|b| b.value).unwrap_or_default();
        match events::decode("enclave", "SealingKeyRegistered", &contents)? {
            Decoded::Known(Event::SealingKeyRegistered(k)) => out.push(k),
            other => anyhow::bail!("not a sealing key: {other:?}"),
        }
        Ok(())
    })
    .await?;
    Ok(out)
}

fn abort_of(status: &ExecutionStatus) -> Option<(String, u64)> {
    match status {
        ExecutionStatus::Failure {
            error: ExecutionError::MoveAbort { location, code },
            ..
        } => Some((location.module.as_str().to_owned(), *code)),
        _ => None,
    }
}

#[tokio::test]
async fn two_keys_get_versions_1_and_2_and_list_back_by_event_type() -> anyhow::Result<()> {
    let c = chain();
    let (first, second) = ([0x11u8; 32], [0x22u8; 32]);
    for key in [&first, &second] {
        let (status, events) = c.register(key);
        assert_eq!(status, ExecutionStatus::Success);
        assert_eq!(events.len(), 1);
    }
    // Keys of other sizes abort before anything is recorded.
    for bad in [&[0x33u8; 31][..], &[0x33; 33], &[]] {
        let (status, events) = c.register(bad);
        assert_eq!(
            abort_of(&status),
            Some(("enclave".to_owned(), 405)),
            "{}",
            bad.len()
        );
        assert!(events.is_empty(), "an abort emits nothing");
    }
    c.node.seal()?;

    let keys = listed(c.node.clone()).await?;
    let admin = daas_domain::Address(
        c.node
            .admin_key()
            .public_key()
            .derive_address()
            .into_inner(),
    );
    let cluster = daas_domain::Address(c.cluster.0.into_inner());
    let got: Vec<_> = keys
        .iter()
        .map(|k| {
            (
                k.cluster_id,
                k.version,
                k.public_key.0.clone(),
                k.registered_by,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (cluster, 1, first.to_vec(), admin),
            (cluster, 2, second.to_vec(), admin),
        ]
    );
    assert!(keys[0].timestamp_ms <= keys[1].timestamp_ms);
    assert_eq!(
        c.node
            .read(|ch| ch.world.contract.sealing_key_version(cluster)),
        2
    );
    Ok(())
}
