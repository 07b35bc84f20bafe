//! Event sequences as the dev chain emits them: a scenario touching every
//! stream (the pool, the node registry, the enclave registry, two clusters),
//! with aborted calls in between, read back through the node's gRPC
//! `ListEvents` and decoded by the domain. Every stream's `seq`s, in chain
//! order, are 0, 1, 2, ... with nothing missing or repeated; a cluster's 0 is
//! its `ClusterCreated`; the counts per stream are the ones the scenario
//! makes (written out by hand below); an abort takes no number.

mod support;

use std::{collections::BTreeMap, sync::Arc};

use daas_attestation::{
    UserData,
    dev::{DevCa, DevRequest},
};
use daas_devnet::{
    calls::{self, Arg},
    chain::PACKAGE_ID,
    node::Node,
};
use daas_domain::{Decoded, Event, Stream, events, record::split_event_type};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_rpc::proto::sui::rpc::v2::{EmitModuleFilter, ListEventsRequest, event_literal::Predicate};
use sui_sdk_types::{Address, ExecutionStatus, ObjectReference};
use support::{Chain, dev_chain, filter};

const SUI: u64 = 1_000_000_000;

fn dom(a: Address) -> daas_domain::Address {
    daas_domain::Address(a.into_inner())
}

impl Chain {
    /// Runs `module::function(args)` signed by `key`; `cap` puts the genesis
    /// `AdminCap` first. Returns the events when it succeeded, `None` when it
    /// failed (aborted).
    fn call(
        &self,
        key: &Ed25519PrivateKey,
        module: &'static str,
        function: &'static str,
        cap: bool,
        mut args: Vec<Arg>,
    ) -> Option<Vec<sui_sdk_types::Event>> {
        let who = key.public_key().derive_address();
        let (gas, cap_ref): (ObjectReference, ObjectReference) = self.node.read(|c| {
            let o = c.world.objects.get(&c.world.ids.admin_cap).expect("cap");
            let cap_ref = o.reference(c.world.ids.package, c.world.clock_ms);
            (c.largest_coin(&who).expect("gas"), cap_ref)
        });
        if cap {
            args.insert(0, Arg::Owned(cap_ref));
        }
        let (tx, sig) = calls::move_call(key, &self.ids, gas, module, function, args);
        let done = self.node.execute(tx, vec![sig]).expect("included");
        (done.effects.status() == &ExecutionStatus::Success).then_some(done.events)
    }

    fn funded(&self) -> Ed25519PrivateKey {
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        let who = key.public_key().derive_address();
        self.node.faucet(who, 30 * SUI).expect("faucet");
        key
    }

    /// A cluster made by the admin, as (id, initial shared version).
    fn new_cluster(&self) -> (Address, u64) {
        let args = vec![Arg::pure(&"second"), Arg::Clock];
        let admin = self.node.admin_key();
        let events = self.call(admin, "gateway", "create_cluster", true, args);
        let contents = events.and_then(|e| e.first().map(|e| e.contents.clone()));
        let Ok(Decoded::Known(Event::ClusterCreated(created))) =
            events::decode("gateway", "ClusterCreated", &contents.unwrap_or_default())
        else {
            panic!("create_cluster emits ClusterCreated");
        };
        let id = Address::new(created.cluster_id.0);
        let version = self.node.read(|c| {
            let o = c.world.objects.get(&id).expect("the new cluster");
            o.initial_shared_version().expect("shared")
        });
        (id, version)
    }
}

/// Stakes and nodes: pool 0 and 1, nodes 0 to 2, and two aborts.
fn pool_and_nodes(c: &Chain, tenant: &Ed25519PrivateKey, operator: &Ed25519PrivateKey) {
    let stake = |key: &Ed25519PrivateKey, amount: u64, role: u8| {
        let args = vec![
            Arg::Shared(c.ids.pool),
            Arg::FromGas(amount),
            Arg::pure(&role),
            Arg::Clock,
        ];
        c.call(key, "staking", "stake", false, args).is_some()
    };
    assert!(stake(tenant, 10 * SUI, 0)); // pool 0
    assert!(!stake(tenant, SUI, 0), "a second stake in a role aborts");
    assert!(stake(operator, SUI, 1)); // pool 1
    let node = |name: &str, key: u8| {
        let args = vec![
            Arg::Shared(c.ids.node_registry),
            Arg::Shared(c.ids.pool),
            Arg::pure(&name),
            Arg::pure(&vec![key; 32]),
            Arg::pure(&"10.0.0.7:10250"),
            Arg::Clock,
        ];
        c.call(operator, "nodes", "register_node", false, args)
            .is_some()
    };
    assert!(node("n1", 1)); // nodes 0
    assert!(!node("n1", 1), "a taken name aborts");
    assert!(node("n2", 2)); // nodes 1
    let args = vec![
        Arg::Shared(c.ids.node_registry),
        Arg::pure(&"n1"),
        Arg::Clock,
    ];
    assert!(
        c.call(operator, "nodes", "deregister_node", false, args)
            .is_some()
    ); // nodes 2
}

/// Requests and grants in two clusters: the genesis one 1 to 5, the second 1.
fn clusters(c: &Chain, tenant: &Ed25519PrivateKey, second: (Address, u64)) {
    let first = c.cluster;
    let admin = c.node.admin_key();
    let request = |cluster: (Address, u64), name: &str| {
        let mut args = vec![Arg::SharedAt(cluster.0, cluster.1), Arg::Shared(c.ids.pool)];
        for s in ["create", "v1", "ConfigMap", "team-a", name] {
            args.push(Arg::pure(&s));
        }
        args.extend([Arg::pure(&Vec::<u8>::new()), Arg::Clock]);
        c.call(tenant, "gateway", "submit_request", false, args)
            .is_some()
    };
    let who = tenant.public_key().derive_address();
    let admin_call = |function: &'static str, mut args: Vec<Arg>| {
        args.insert(0, Arg::SharedAt(first.0, first.1));
        args.push(Arg::Clock);
        c.call(admin, "grants", function, true, args).is_some()
    };
    assert!(request(first, "a")); // first 1, request 0
    assert!(request(second, "a")); // second 1, request 0
    assert!(!request(first, "Not-A-Name"), "an invalid name aborts");
    let grant = vec![Arg::pure(&"team-b"), Arg::pure(&who), Arg::pure(&1u8)];
    assert!(admin_call("grant", grant)); // first 2
    assert!(admin_call("grant_cluster_admin", vec![Arg::pure(&who)])); // first 3
    assert!(request(first, "b")); // first 4, request 1
    assert!(admin_call("revoke_cluster_admin", vec![Arg::pure(&who)])); // first 5
    assert!(
        !admin_call("revoke_cluster_admin", vec![Arg::pure(&who)]),
        "nothing left to revoke"
    );
}

/// The enclave registry 0 to 4 (sealing keys of both clusters among them, an
/// attested enclave, an aborted registration between) and a slash (pool 2).
fn enclave_and_slash(c: &Chain, ca: &DevCa, operator: Address, second: (Address, u64)) {
    let admin = c.node.admin_key();
    let registry = || Arg::Shared(c.ids.enclave_registry);
    let pcr = || Arg::pure(&vec![7u8; 48]);
    let pcrs = vec![registry(), pcr(), pcr(), pcr(), Arg::Clock];
    assert!(
        c.call(admin, "enclave", "register_pcrs", true, pcrs)
            .is_some()
    ); // enclave 0
    for (cluster, key) in [(c.cluster, 5u8), (second, 6)] {
        let args = vec![
            registry(),
            Arg::SharedAt(cluster.0, cluster.1),
            Arg::pure(&vec![key; 32]),
            Arg::Clock,
        ];
        assert!(
            c.call(admin, "enclave", "register_sealing_key", true, args)
                .is_some()
        ); // enclave 1, 2
    }
    // Anyone may send an attested enclave's document: one naming the second
    // cluster does not register for the first (aborts), one naming the
    // first's next sealing key does.
    let sender = c.funded();
    for (named, sealing_key_version) in [(second, 2), (c.cluster, 2)] {
        let user_data = UserData {
            cluster_id: named.0.into_inner(),
            sealing_key_version,
            sealing_public_key: [8; 32],
        };
        let document = ca.attest(&DevRequest {
            timestamp_ms: c.node.read(|c| c.world.clock_ms),
            public_key: Some(vec![9; 32]),
            user_data: Some(user_data.encode().to_vec()),
            nonce: None,
            pcrs: (0..3).map(|i| (i, [7; 48])).collect(),
        });
        let args = vec![
            registry(),
            Arg::SharedAt(c.cluster.0, c.cluster.1),
            Arg::Attestation(document),
            Arg::Clock,
        ];
        let done = c.call(&sender, "enclave", "register_enclave", false, args);
        assert_eq!(done.map(|e| e.len()), (named == c.cluster).then_some(2));
    } // enclave 3 (the sealing key), 4
    let args = vec![
        Arg::Shared(c.ids.pool),
        Arg::pure(&operator),
        Arg::pure(&1u8),
        Arg::pure(&1u64),
        Arg::pure(&"offline"),
        Arg::Clock,
    ];
    assert!(c.call(admin, "staking", "slash", true, args).is_some()); // pool 2
}

/// Every event of our package, in chain order, through gRPC `ListEvents`
/// (pages of 4), decoded by the domain.
async fn listed(node: Arc<Node>) -> anyhow::Result<Vec<Event>> {
    let mut m = EmitModuleFilter::default();
    m.module = Some(PACKAGE_ID.to_string());
    let mut req = ListEventsRequest::default();
    req.filter = Some(filter(Predicate::EmitModule(m)));
    let mut opts = sui_rpc::proto::sui::rpc::v2::QueryOptions::default();
    opts.limit = Some(4);
    req.options = Some(opts);
    let mut out = Vec::new();
    support::list_served(node, req, |e| {
        let ty = e.event_type.clone().unwrap_or_default();
        let (module, name) = split_event_type(&ty).ok_or_else(|| anyhow::anyhow!("{ty}"))?;
        let contents = e.contents.and_then(|b| b.value).unwrap_or_default();
        match events::decode(module, name, &contents)? {
            Decoded::Known(event) => out.push(event),
            Decoded::Unknown => anyhow::bail!("unknown event {ty}"),
        }
        Ok(())
    })
    .await?;
    Ok(out)
}

#[tokio::test]
async fn every_stream_is_numbered_densely_from_0_in_chain_order() -> anyhow::Result<()> {
    let (c, ca) = dev_chain();
    let (tenant, operator) = (c.funded(), c.funded());
    let second = c.new_cluster(); // second 0
    pool_and_nodes(&c, &tenant, &operator);
    clusters(&c, &tenant, second);
    enclave_and_slash(&c, &ca, operator.public_key().derive_address(), second);
    c.node.seal()?;

    let events = listed(c.node.clone()).await?;
    let mut streams: BTreeMap<Stream, Vec<&Event>> = BTreeMap::new();
    for e in &events {
        streams.entry(e.stream()).or_default().push(e);
    }
    for (stream, list) in &streams {
        let seqs: Vec<u64> = list.iter().map(|e| e.seq()).collect();
        let dense: Vec<u64> = (0..list.len() as u64).collect();
        assert_eq!(seqs, dense, "{stream}");
        if let Stream::Cluster(_) = stream {
            assert!(matches!(list[0], Event::ClusterCreated(_)), "{stream}");
        }
    }
    let counts: BTreeMap<Stream, usize> = streams.iter().map(|(s, l)| (*s, l.len())).collect();
    let want = BTreeMap::from([
        (Stream::Pool, 3),
        (Stream::Nodes, 3),
        (Stream::Enclave, 5),
        (Stream::Cluster(dom(c.cluster.0)), 6),
        (Stream::Cluster(dom(second.0)), 2),
    ]);
    assert_eq!(counts, want);
    // Requests keep their own numbering inside the cluster's sequence.
    let requests: Vec<(Stream, u64, u64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::K8sApiRequest(r) => Some((e.stream(), r.request_id, r.seq)),
            _ => None,
        })
        .collect();
    let (first, second) = (
        Stream::Cluster(dom(c.cluster.0)),
        Stream::Cluster(dom(second.0)),
    );
    assert_eq!(requests, [(first, 0, 1), (second, 0, 1), (first, 1, 4)]);
    Ok(())
}
