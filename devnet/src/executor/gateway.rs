//! `daas::gateway` calls: create a cluster, submit a request.

use daas_domain::Event;

use super::{Failure, World, arg_error, call::Call, call::domain, derive_object_id, ptb::Scratch};

pub(super) fn call(world: &mut World, c: &Call<'_>, s: &mut Scratch) -> Result<Event, Failure> {
    let ctx = world.ctx(c.tx.sender);
    match c.function {
        "create_cluster" => {
            let pool_of_cap = c.cap(world, 0)?;
            let name = c.pure::<String>(1)?;
            c.clock(2)?;
            let id = derive_object_id(c.digest, 0);
            s.created_cluster = Some(id);
            Ok(world
                .contract
                .create_cluster(ctx, pool_of_cap, domain(id), name))
        }
        "submit_request" => {
            let cluster_id = c.cluster(world, 0)?;
            c.object(1, world.ids.pool)?;
            let strings = (2..7)
                .map(|i| c.pure::<String>(i))
                .collect::<Result<Vec<_>, _>>()?;
            let manifest = c.pure::<Vec<u8>>(7)?;
            c.clock(8)?;
            let [verb, api_version, kind, namespace, name]: [String; 5] =
                strings.try_into().map_err(|_| arg_error(2, c.ci))?;
            let request = crate::contract::Request {
                verb,
                api_version,
                kind,
                namespace,
                name,
                manifest,
            };
            world
                .contract
                .submit_request(ctx, cluster_id, request)
                .map_err(c.abort(world.ids.package))
        }
        _ => Err(c.not_found()),
    }
}
