//! `daas::enclave` calls: register a PCR set, an enclave key, a cluster's sealing key.

use daas_domain::Event;

use super::{Failure, World, call::Call};

pub(super) fn call(world: &mut World, c: &Call<'_>) -> Result<Event, Failure> {
    let ctx = world.ctx(c.tx.sender);
    let abort = c.abort(world.ids.package);
    let pool_of_cap = c.cap(world, 0)?;
    c.object(1, world.ids.enclave_registry)?;
    match c.function {
        "register_pcrs" => {
            let (p0, p1) = (c.pure::<Vec<u8>>(2)?, c.pure::<Vec<u8>>(3)?);
            let p2 = c.pure::<Vec<u8>>(4)?;
            c.clock(5)?;
            world.contract.register_pcrs(ctx, p0, p1, p2)
        }
        "register_enclave" => {
            let (version, key) = (c.pure::<u64>(2)?, c.pure::<Vec<u8>>(3)?);
            let doc = c.pure::<Vec<u8>>(4)?;
            c.clock(5)?;
            world.contract.register_enclave(ctx, version, key, doc)
        }
        "register_sealing_key" => {
            let (cluster_id, key) = (c.cluster(world, 2)?, c.pure::<Vec<u8>>(3)?);
            c.clock(4)?;
            let contract = &mut world.contract;
            contract.register_sealing_key(ctx, pool_of_cap, cluster_id, key)
        }
        _ => return Err(c.not_found()),
    }
    .map_err(abort)
}
