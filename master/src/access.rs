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
pub struct AccessPublisher(Arc<watch::Sender<Option<Arc<Access>>>>);

/// What readers hold: the latest snapshot (`None` until the engine has
/// loaded the ledger), and a way to wait for the next.
pub type AccessReader = watch::Receiver<Option<Arc<Access>>>;

impl AccessPublisher {
    /// A publisher whose readers see `None` until the engine publishes
    /// its first snapshot (readers answer "not ready" meanwhile, rather
    /// than deny from an empty ledger).
    pub fn new() -> (Self, AccessReader) {
        let (tx, rx) = watch::channel(None);
        (AccessPublisher(Arc::new(tx)), rx)
    }

    /// Publishes `ledger`'s authority over `cluster`.
    pub fn publish(&self, ledger: &Ledger, cluster: ObjectId) {
        self.0.send_replace(Some(Arc::new(ledger.access(cluster))));
    }

    /// Publishes a snapshot as it is (tests).
    pub fn publish_access(&self, access: Access) {
        self.0.send_replace(Some(Arc::new(access)));
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
