//! The outcomes this master has committed, by request id and by transaction
//! digest: what the status API answers (`daas apply` waits on it).
//!
//! Filled from etcd's stored outcome batches when the publisher resumes (the
//! newest `--outcomes-kept` records' worth: older batches are pruned once the
//! topic holds them), then from every committed batch. It keeps the newest
//! `capacity` outcomes; older ones are on the outcome topic (and in the
//! projection). It is never filled from the topic: the master serves only
//! what its own state (etcd) or its own commits say.

use std::{
    collections::{HashMap, VecDeque},
    sync::RwLock,
};

use daas_domain::Outcome;

/// Outcomes by request id and transaction digest.
pub struct OutcomeIndex {
    capacity: usize,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<u64, Outcome>,
    by_digest: HashMap<[u8; 32], Vec<u64>>,
    /// Request ids, oldest first, for eviction.
    order: VecDeque<u64>,
}

impl OutcomeIndex {
    /// An empty index keeping the newest `capacity` outcomes.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: RwLock::default(),
        }
    }

    /// Adds committed outcomes of requests (a request seen again is
    /// replaced, not repeated). Quarantined records' outcomes are not
    /// requests: they are on the topic only.
    pub fn record(&self, outcomes: &[Outcome]) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        for o in outcomes.iter().filter(|o| o.is_request()) {
            if inner.by_id.insert(o.request_id, o.clone()).is_none() {
                inner.order.push_back(o.request_id);
                inner
                    .by_digest
                    .entry(o.transaction_digest)
                    .or_default()
                    .push(o.request_id);
            }
        }
        while inner.order.len() > self.capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(o) = inner.by_id.remove(&old)
                && let Some(ids) = inner.by_digest.get_mut(&o.transaction_digest)
            {
                ids.retain(|id| *id != old);
                if ids.is_empty() {
                    inner.by_digest.remove(&o.transaction_digest);
                }
            }
        }
    }

    /// The outcome of request `id`.
    pub fn by_request(&self, id: u64) -> Option<Outcome> {
        self.inner.read().ok()?.by_id.get(&id).cloned()
    }

    /// The outcomes of the requests a transaction carried, in request order.
    pub fn by_transaction(&self, digest: &[u8; 32]) -> Vec<Outcome> {
        let Ok(inner) = self.inner.read() else {
            return Vec::new();
        };
        inner
            .by_digest
            .get(digest)
            .into_iter()
            .flatten()
            .filter_map(|id| inner.by_id.get(id).cloned())
            .collect()
    }

    /// How many outcomes it holds.
    pub fn len(&self) -> usize {
        self.inner.read().map_or(0, |i| i.by_id.len())
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use daas_domain::{
        Address, LogPosition, OutcomeResult,
        admission::{RejectCode, Rejection},
    };

    use super::*;

    fn outcome(id: u64, digest: u8) -> Outcome {
        let rejection = Rejection {
            code: RejectCode::Conflict,
            message: format!("r{id}"),
        };
        let position = LogPosition::new(id, 0, 0);
        let result = OutcomeResult::Rejected(rejection);
        Outcome::new(Address([1; 32]), id, position, [digest; 32], 0, result)
    }

    #[test]
    fn finds_by_request_and_transaction_and_forgets_the_oldest() {
        let index = OutcomeIndex::new(3);
        index.record(&[outcome(1, 9), outcome(2, 9), outcome(3, 8)]);
        index.record(&[outcome(2, 9)]);
        assert_eq!(index.len(), 3, "a repeated outcome is not counted twice");
        assert_eq!(
            index
                .by_transaction(&[9; 32])
                .iter()
                .map(|o| o.request_id)
                .collect::<Vec<_>>(),
            vec![1, 2]
        );
        index.record(&[outcome(4, 7)]);
        assert_eq!(index.by_request(1), None, "the oldest went");
        assert_eq!(index.by_request(4).map(|o| o.request_id), Some(4));
        assert_eq!(index.by_transaction(&[9; 32]).len(), 1);
        assert!(index.by_transaction(&[5; 32]).is_empty());
        // A quarantined record's outcome (request id 0, zero digest) is not a
        // request's: it neither answers nor pushes a request out.
        index.record(&[Outcome::quarantined(Address([1; 32]), 5, "malformed", "x")]);
        assert_eq!(index.len(), 3);
        assert_eq!(index.by_request(0), None);
        assert!(index.by_transaction(&[0; 32]).is_empty());
        assert_eq!(index.by_request(2).map(|o| o.request_id), Some(2));
    }
}
