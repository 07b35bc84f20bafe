//! `daas::grants` calls: namespace grants and cluster-admin grants.

use daas_domain::Event;

use super::{Failure, World, call::Call};

pub(super) fn call(world: &mut World, c: &Call<'_>) -> Result<Event, Failure> {
    let ctx = world.ctx(c.tx.sender);
    let abort = c.abort(world.ids.package);
    let pool_of_cap = c.cap(world, 0)?;
    let cluster_id = c.cluster(world, 1)?;
    let contract = &mut world.contract;
    match c.function {
        "grant" => {
            let (namespace, grantee, role) =
                (c.pure::<String>(2)?, c.address(3)?, c.pure::<u8>(4)?);
            c.clock(5)?;
            contract.grant(ctx, pool_of_cap, cluster_id, namespace, grantee, role)
        }
        "revoke" => {
            let (namespace, grantee) = (c.pure::<String>(2)?, c.address(3)?);
            c.clock(4)?;
            contract.revoke(ctx, pool_of_cap, cluster_id, namespace, grantee)
        }
        "grant_cluster_admin" => {
            let grantee = c.address(2)?;
            c.clock(3)?;
            contract.grant_cluster_admin(ctx, pool_of_cap, cluster_id, grantee)
        }
        "revoke_cluster_admin" => {
            let grantee = c.address(2)?;
            c.clock(3)?;
            contract.revoke_cluster_admin(ctx, pool_of_cap, cluster_id, grantee)
        }
        _ => return Err(c.not_found()),
    }
    .map_err(abort)
}
