//! `daas::nodes` calls: register and deregister a worker node.

use daas_domain::Event;

use super::{Failure, World, call::Call};

pub(super) fn call(world: &mut World, c: &Call<'_>) -> Result<Event, Failure> {
    let ctx = world.ctx(c.tx.sender);
    let abort = c.abort(world.ids.package);
    c.object(0, world.ids.node_registry)?;
    match c.function {
        "register_node" => {
            c.object(1, world.ids.pool)?;
            let (name, key) = (c.pure::<String>(2)?, c.pure::<Vec<u8>>(3)?);
            let endpoint = c.pure::<String>(4)?;
            c.clock(5)?;
            world.contract.register_node(ctx, name, key, endpoint)
        }
        "deregister_node" => {
            let name = c.pure::<String>(1)?;
            c.clock(2)?;
            world.contract.deregister_node(ctx, name)
        }
        _ => return Err(c.not_found()),
    }
    .map_err(abort)
}
