//! The scenario workload (`testkit::workload`) executed on a dev chain, so
//! the log gets real proofs for events of the workload's shape: each tenant's
//! requests (with their manifests) become `gateway::submit_request`
//! transactions, every other record a 1-MIST top-up, as many transactions
//! per checkpoint as asked (8 in the workload).

use std::collections::HashMap;

use daas_devnet::{calls, node::Node};
use daas_domain::{Address, Body, Event, LogEntry};
use daas_testkit::workload::Workload;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::{ObjectReference, Transaction, UserSignature};

/// One funded account per workload sender (key derived from the address).
struct Accounts<'a> {
    node: &'a Node,
    ids: daas_devnet::executor::Ids,
    by_sender: HashMap<Address, (Ed25519PrivateKey, ObjectReference)>,
}

impl Accounts<'_> {
    /// `sender`'s key and gas, funded and staked 10 SUI (any kind) on first use.
    fn of(&mut self, sender: Address) -> anyhow::Result<&mut (Ed25519PrivateKey, ObjectReference)> {
        if !self.by_sender.contains_key(&sender) {
            let key = Ed25519PrivateKey::new(sender.0);
            let who = key.public_key().derive_address();
            self.node.faucet(who, 100_000_000_000)?;
            let gas = self
                .node
                .read(|c| c.largest_coin(&who))
                .ok_or_else(|| anyhow::anyhow!("no coin"))?;
            let (tx, sig) = calls::stake(&key, &self.ids, gas.clone(), 10_000_000_000, 0);
            let mut account = (key, gas);
            execute(self.node, tx, sig, &mut account.1)?;
            self.by_sender.insert(sender, account);
        }
        self.by_sender
            .get_mut(&sender)
            .ok_or_else(|| anyhow::anyhow!("just inserted"))
    }
}

fn execute(
    node: &Node,
    tx: Transaction,
    sig: UserSignature,
    gas: &mut ObjectReference,
) -> anyhow::Result<()> {
    let done = node.execute(tx, vec![sig])?;
    *gas = calls::gas_after(&done.effects).ok_or_else(|| anyhow::anyhow!("no gas coin after"))?;
    Ok(())
}

/// Executes the first `n` records of the workload from `seed` on `node`,
/// sealing every `per_checkpoint` transactions (the workload's is 8).
/// Blocking: run it with `spawn_blocking`.
pub fn replay(node: &Node, n: usize, seed: u64, per_checkpoint: usize) -> anyhow::Result<()> {
    let ids = node.read(|c| c.world.ids.clone());
    let cluster = node
        .read(|c| {
            let id = c.default_cluster?;
            Some((id, c.world.objects.get(&id)?.initial_shared_version()?))
        })
        .ok_or_else(|| anyhow::anyhow!("no default cluster"))?;
    let mut accounts = Accounts {
        node,
        ids: ids.clone(),
        by_sender: HashMap::new(),
    };
    let records = Workload::new(seed, 20).records(n);
    for (i, bytes) in records.iter().enumerate() {
        // Junk records (not decodable) stand for a top-up of an anonymous sender.
        let entry = LogEntry::decode(bytes).ok();
        let sender = entry.as_ref().map_or(Address([0x5e; 32]), |e| e.sender);
        let (key, gas) = accounts.of(sender)?;
        let (tx, sig) = match entry.map(|e| e.body) {
            Some(Body::Event(Event::K8sApiRequest(r))) => calls::submit_request(
                key,
                &ids,
                gas.clone(),
                cluster,
                &r.verb,
                &r.api_version,
                &r.kind,
                &r.namespace,
                &r.name,
                &r.manifest.0,
            ),
            _ => calls::top_up(key, &ids, gas.clone(), 1, 0),
        };
        // The gateway refuses some requests (hostile names): they emit nothing.
        let _ = execute(node, tx, sig, gas);
        if i % per_checkpoint == per_checkpoint - 1 {
            node.seal()?;
        }
    }
    node.seal()?;
    Ok(())
}
