//! A scripted scenario on the native contract emits events whose BCS equals the
//! shared vectors (`contracts/vectors/*.json`) byte for byte: the dev chain and
//! the Move package agree on every event.

use daas_attestation::{Document, UserData};
use daas_devnet::contract::{ContractState, Ctx, Request};
use daas_domain::{Address, Event};

fn addr(b: u8) -> Address {
    let mut a = [0u8; 32];
    a[0] = 0xa0;
    a[31] = b;
    Address(a)
}

const T: u64 = 1_764_288_000_123;

fn ctx(sender: u8, epoch: u64, timestamp_ms: u64) -> Ctx {
    Ctx {
        sender: addr(sender),
        epoch,
        timestamp_ms,
    }
}

fn vector_bcs(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../contracts/vectors/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = text.find("\"bcs\": \"0x").expect("bcs field") + 10;
    let end = start + text[start..].find('"').expect("end of bcs");
    hex::decode(&text[start..end]).expect("hex")
}

fn assert_matches(event: Event) {
    let (_, name) = event.move_type();
    assert_eq!(
        hex::encode(event.to_bcs()),
        hex::encode(vector_bcs(name)),
        "{name}"
    );
}

#[test]
fn a_scripted_scenario_reproduces_every_vector() {
    let pool = Address([0x99; 32]);
    let mut s = ContractState::new(pool);
    let admin = 9;

    assert_matches(s.stake(ctx(1, 7, T), 500_000_000, 0).expect("user stake"));

    s.stake(ctx(2, 20, T), 1_250_000_000, 1)
        .expect("node stake");
    assert_matches(
        s.withdraw(ctx(2, 120, T + 1), 1, 250_000_000)
            .expect("withdraw after the lock"),
    );

    s.stake(ctx(3, 0, T), 1_000_000_000, 1).expect("node stake");
    assert_matches(
        s.slash(
            ctx(admin, 121, T + 2),
            pool,
            addr(3),
            1,
            600_000_000,
            "missed heartbeats — node offline".into(),
        )
        .expect("slash"),
    );

    let cluster = addr(0x10);
    assert_matches(s.create_cluster(ctx(admin, 0, T + 3), pool, cluster, "default".into()));

    // The vector's request is number 41 of the cluster; the tenant also needs 5 SUI.
    s.top_up(ctx(1, 7, T), 4_500_000_000, 0)
        .expect("top up to 5 SUI");
    for _ in 0..41 {
        s.submit_request(
            ctx(1, 7, T),
            cluster,
            Request {
                verb: "create".into(),
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                namespace: "team-a".into(),
                name: "x".into(),
                manifest: vec![],
            },
        )
        .expect("earlier request");
    }
    let manifest = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  replicas: 2\n{}",
        "#".repeat(200 - 89)
    );
    assert_matches(
        s.submit_request(
            ctx(1, 7, T + 4),
            cluster,
            Request {
                verb: "apply".into(),
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "team-a".into(),
                name: "web".into(),
                manifest: manifest.into_bytes(),
            },
        )
        .expect("request"),
    );

    assert_matches(
        s.register_node(
            ctx(2, 120, T + 5),
            "node-1".into(),
            (0..32).collect(),
            "10.0.0.7:10250".into(),
        )
        .expect("register"),
    );
    assert_matches(
        s.deregister_node(ctx(2, 120, T + 6), "node-1".into())
            .expect("deregister"),
    );

    assert_matches(
        s.grant(
            ctx(admin, 0, T + 7),
            pool,
            cluster,
            "team-a".into(),
            addr(4),
            1,
        )
        .expect("grant"),
    );
    assert_matches(
        s.revoke(
            ctx(admin, 0, T + 8),
            pool,
            cluster,
            "team-a".into(),
            addr(4),
        )
        .expect("revoke"),
    );

    assert_matches(
        s.register_pcrs(
            ctx(admin, 0, T + 9),
            vec![0x11; 48],
            vec![0x22; 48],
            vec![0x33; 48],
        )
        .expect("pcrs"),
    );
    assert_matches(
        s.register_sealing_key(ctx(admin, 0, T + 10), pool, cluster, (0x40..0x60).collect())
            .expect("sealing key"),
    );
    // An operator registers an attested enclave whose document names the
    // sealing key just registered: no second sealing key event.
    let events = s
        .register_enclave(ctx(2, 0, u64::MAX), cluster, &document(cluster))
        .expect("enclave");
    let [event] = <[Event; 1]>::try_from(events).expect("one event");
    assert_matches(event);
}

/// The document `load_nitro_attestation` would return for the vector's enclave.
fn document(cluster: Address) -> Document {
    let pcrs = [(0, 0x11), (1, 0x22), (2, 0x33), (3, 0), (4, 0), (8, 0)];
    let user_data = UserData {
        cluster_id: cluster.0,
        sealing_key_version: 1,
        sealing_public_key: std::array::from_fn(|i| 0x40 + i as u8),
    };
    Document {
        module_id: format!("k3s-daas-dev-enclave{}", "-".repeat(128)),
        timestamp_ms: 1_764_287_999_000,
        digest: "SHA384".into(),
        pcrs: pcrs.into_iter().map(|(i, b)| (i, vec![b; 48])).collect(),
        certificate: vec![],
        cabundle: vec![],
        public_key: Some(vec![0x44; 32]),
        user_data: Some(user_data.encode().to_vec()),
        nonce: None,
    }
}
