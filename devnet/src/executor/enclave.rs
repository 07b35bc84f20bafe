//! `daas::enclave` calls: register a PCR set, an attested enclave, a
//! cluster's sealing key.

use daas_domain::Event;

use super::{Failure, World, call::Call, ptb::Scratch};

pub(super) fn call(
    world: &mut World,
    c: &Call<'_>,
    s: &mut Scratch,
) -> Result<Vec<Event>, Failure> {
    let ctx = world.ctx(c.tx.sender);
    let abort = c.abort(world.ids.package);
    match c.function {
        "register_pcrs" => {
            c.cap(world, 0)?;
            c.object(1, world.ids.enclave_registry)?;
            let (p0, p1) = (c.pure::<Vec<u8>>(2)?, c.pure::<Vec<u8>>(3)?);
            let p2 = c.pure::<Vec<u8>>(4)?;
            c.clock(5)?;
            world
                .contract
                .register_pcrs(ctx, p0, p1, p2)
                .map(|e| vec![e])
        }
        "register_enclave" => {
            c.object(0, world.ids.enclave_registry)?;
            let cluster_id = c.cluster(world, 1)?;
            let document = c.document(s, 2)?;
            c.clock(3)?;
            world.contract.register_enclave(ctx, cluster_id, &document)
        }
        "register_sealing_key" => {
            let pool_of_cap = c.cap(world, 0)?;
            c.object(1, world.ids.enclave_registry)?;
            let (cluster_id, key) = (c.cluster(world, 2)?, c.pure::<Vec<u8>>(3)?);
            c.clock(4)?;
            let contract = &mut world.contract;
            contract
                .register_sealing_key(ctx, pool_of_cap, cluster_id, key)
                .map(|e| vec![e])
        }
        _ => return Err(c.not_found()),
    }
    .map_err(abort)
}
