//! The ledger root's cost per batch (decision 0021), next to its baseline in
//! the same run: a `StateSet` holding N ledger keys (values of ~300 bytes,
//! like the ledger's JSON entries), one batch of 100 ledger writes applied to
//! it (`apply_txn`: per write a tag and a multiset element, the
//! authentication work every batch did before receipts, decision 0017),
//! then `ledger_root()` over all N leaves; both per batch, as a ratio. Also
//! printed: the root recomputed from the values (what a set without kept
//! leaves would pay per batch) beside the incremental one. No etcd.
//!
//! `cargo bench -p daas-master --bench ledger_root` (`LEDGER_ROOT_BENCH_KEYS`,
//! default "2000,20000,200000"; `LEDGER_ROOT_BENCH_BATCHES`, default 50).

use std::{collections::BTreeMap, time::Instant};

use daas_master::{
    ledger_root,
    state::Layout,
    state_mac::{StateKey, StateSet},
};

fn value(i: usize, round: usize) -> Vec<u8> {
    format!(
        "{{\"Object\":{{\"key\":{{\"cluster\":\"0x{:064x}\",\"kind\":\"Deployment\",\"namespace\":\"team-{}\",\"name\":\"app-{i}\"}},\"exists\":true,\"owner\":\"0x{:064x}\",\"round\":{round}}}}}",
        i % 7,
        i % 50,
        i % 13
    )
    .into_bytes()
}

fn main() {
    let keys: Vec<usize> = std::env::var("LEDGER_ROOT_BENCH_KEYS")
        .unwrap_or_else(|_| "2000,20000,200000".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let batches: usize = std::env::var("LEDGER_ROOT_BENCH_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let layout = Layout::new("/registry", "/daas");
    let mac = StateKey::from_bytes(&[7; 32]);
    for n in keys {
        let mut set = StateSet::new(&layout);
        let mut values: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for i in 0..n {
            let k = layout.ledger(&format!("object/{i:09}"));
            set.put(&mac, &k, &value(i, 0));
            values.insert(k, value(i, 0));
        }
        let (mut txn_s, mut root_s, mut full_s) = (0.0, 0.0, 0.0);
        for b in 0..batches {
            let mut writes: BTreeMap<String, Option<Vec<u8>>> = (0..100)
                .map(|j| {
                    let i = (b * 7919 + j * 104_729) % n;
                    (
                        layout.ledger(&format!("object/{i:09}")),
                        Some(value(i, b + 1)),
                    )
                })
                .collect();
            for (k, v) in &writes {
                values.insert(k.clone(), v.clone().unwrap_or_default());
            }
            let t = Instant::now();
            set.apply_txn(&mac, &[], &mut writes);
            txn_s += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let root = std::hint::black_box(set.ledger_root());
            root_s += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let leaves: Vec<[u8; 32]> = values
                .iter()
                .map(|(k, v)| ledger_root::leaf(&format!("daas{}", &k[layout.state.len()..]), v))
                .collect();
            let full = ledger_root::root_of(leaves.iter());
            full_s += t.elapsed().as_secs_f64();
            assert_eq!(full, root, "incremental == recomputed");
        }
        let per = |s: f64| s / batches as f64 * 1e6;
        println!(
            "{n} ledger keys: ledger_root {:.1} µs per batch vs the batch's state \
             authentication (100 writes) {:.1} µs: ratio {:.2}; recomputing every leaf \
             instead {:.1} µs: ratio {:.1} to the kept leaves",
            per(root_s),
            per(txn_s),
            root_s / txn_s,
            per(full_s),
            full_s / root_s
        );
    }
}
