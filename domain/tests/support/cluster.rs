//! A cluster with an admin and a tenant, for admission tests.

#![allow(dead_code)] // each test binary uses its own subset

use daas_domain::{
    Address, Event, Ledger,
    events::{ClusterCreated, StakeDeposited},
};

pub const CLUSTER: Address = Address([0xc1; 32]);
pub const ADMIN: Address = Address([0xad; 32]);
pub const TENANT: Address = Address([0x7e; 32]);

/// `who`'s user-role stake becomes `total` MIST.
pub fn stake(who: Address, total: u64) -> Event {
    Event::StakeDeposited(StakeDeposited {
        staker: who,
        role: 0,
        amount: total,
        total_after: total,
        epoch: 1,
        timestamp_ms: 1,
        seq: 0,
    })
}

/// A ledger holding CLUSTER, created by ADMIN, and `stakes`.
pub fn with_stakes(stakes: &[(Address, u64)]) -> Ledger {
    let mut l = Ledger::default();
    l.apply(&Event::ClusterCreated(ClusterCreated {
        cluster_id: CLUSTER,
        name: "c".into(),
        admin: ADMIN,
        timestamp_ms: 0,
    }));
    for (who, total) in stakes {
        l.apply(&stake(*who, *total));
    }
    l
}
