//! The committed ledger's authority, published for the readers of the
//! Kubernetes API ([`crate::kube_api`]): after each committed batch that
//! changed a stake, a namespace, a grant or a cluster, the engine sends a
//! new [`Access`] snapshot of the served cluster.
//!
//! Readers see the snapshot of the last finished batch. The engine plans a
//! batch before the previous one commits, so a snapshot can include the
//! changes of at most one batch that is planned but not yet committed
//! (it commits, or the engine reopens from etcd and publishes again).

use std::sync::Arc;

use daas_domain::{Ledger, ObjectId, access::Access, ledger::Change};
use tokio::sync::watch;

/// Sends [`Access`] snapshots to every reader; cheap to clone.
#[derive(Clone, Debug)]
pub struct AccessPublisher(Arc<watch::Sender<Arc<Access>>>);

/// What readers hold: the latest snapshot, and a way to wait for the next.
pub type AccessReader = watch::Receiver<Arc<Access>>;

impl AccessPublisher {
    /// A publisher whose readers see an empty snapshot of `cluster` until
    /// the engine publishes its first.
    pub fn new(cluster: ObjectId) -> (Self, AccessReader) {
        let empty = Access::new(cluster, None, [], Default::default(), Default::default());
        let (tx, rx) = watch::channel(Arc::new(empty));
        (AccessPublisher(Arc::new(tx)), rx)
    }

    /// Publishes `ledger`'s authority over `cluster`.
    pub fn publish(&self, ledger: &Ledger, cluster: ObjectId) {
        self.0.send_replace(Arc::new(ledger.access(cluster)));
    }

    /// A new reader of the same snapshots.
    pub fn subscribe(&self) -> AccessReader {
        self.0.subscribe()
    }
}

/// Whether `change` can change an [`Access`] answer.
pub fn touches_access(change: &Change) -> bool {
    matches!(
        change,
        Change::Stake { .. }
            | Change::Cluster { .. }
            | Change::Grant { .. }
            | Change::NamespaceOwner { .. }
    )
}
