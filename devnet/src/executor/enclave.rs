//! `daas::enclave` calls: register a PCR set, register an enclave key.

use daas_domain::Event;

use super::{Failure, World, call::Call};

pub(super) fn call(world: &mut World, c: &Call<'_>) -> Result<Event, Failure> {
    let ctx = world.ctx(c.tx.sender);
    let abort = c.abort(world.ids.package);
    c.cap(world, 0)?;
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
        _ => return Err(c.not_found()),
    }
    .map_err(abort)
}
