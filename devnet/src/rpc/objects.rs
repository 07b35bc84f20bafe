//! Object reads (`GetObject`, `BatchGetObjects`, the objects of
//! `ListOwnedObjects`) and read-mask parsing. Objects are rendered through
//! `sui-rpc`'s own conversion of the SDK object, as a full node renders them:
//! `bcs` is the BCS of the whole `Object`, `contents` the Move struct's BCS.

use prost_types::FieldMask;
use sui_rpc::{
    field::{FieldMaskTree, FieldMaskUtil, MessageFields},
    merge::Merge,
    proto::{
        google::rpc::Status as RpcStatus,
        sui::rpc::v2::{self as pb, GetObjectResult, get_object_result},
    },
};
use tonic::Status;

use crate::{chain::Chain, objects::Obj};

/// The most objects one `BatchGetObjects` may ask for.
pub const MAX_BATCH: usize = 1000;

/// The read mask of a request, checked against the message `M` it selects
/// from (an unknown path is `INVALID_ARGUMENT`, as on a full node). No mask
/// (or an empty one) selects every field: the dev chain's callers rely on
/// that, where a full node would apply a narrower default.
pub fn read_mask<M: MessageFields>(mask: Option<&FieldMask>) -> Result<FieldMaskTree, Status> {
    match mask {
        Some(m) if !m.paths.is_empty() => {
            m.validate::<M>()
                .map_err(|p| Status::invalid_argument(format!("invalid read_mask path: {p}")))?;
            Ok(FieldMaskTree::from_field_mask(m))
        }
        _ => Ok(FieldMaskTree::new_wildcard()),
    }
}

/// One live object as the API renders it, only the fields `mask` selects.
pub fn render(chain: &Chain, o: &Obj, mask: &FieldMaskTree) -> pb::Object {
    let mut out = pb::Object::merge_from(
        o.to_sdk(chain.world.ids.package, chain.world.clock_ms),
        mask,
    );
    if mask.contains(pb::Object::BALANCE_FIELD.name) {
        out.balance = o.balance();
    }
    out
}

/// The object `id` (at `version` when given), rendered with `mask`.
pub fn get(
    chain: &Chain,
    id: Option<&str>,
    version: Option<u64>,
    mask: &FieldMaskTree,
) -> Result<pb::Object, Status> {
    let id = super::address(id, "object_id")?;
    let o = chain
        .world
        .objects
        .get(&id)
        .filter(|o| version.is_none_or(|v| v == o.version))
        .ok_or_else(|| match version {
            // The dev chain keeps only live objects, so an older version is unknown.
            Some(v) => Status::not_found(format!("object {id} at version {v} not found")),
            None => Status::not_found(format!("object {id} not found")),
        })?;
    Ok(render(chain, o, mask))
}

/// `BatchGetObjects`: one result per request, in order; a missing or
/// malformed one is an error entry, not a failure of the batch.
pub fn batch(
    chain: &Chain,
    requests: &[pb::GetObjectRequest],
    mask: &FieldMaskTree,
) -> Vec<GetObjectResult> {
    requests
        .iter()
        .map(|r| {
            let result = match get(chain, r.object_id.as_deref(), r.version, mask) {
                Ok(o) => get_object_result::Result::Object(o),
                Err(s) => get_object_result::Result::Error(RpcStatus {
                    code: s.code() as i32,
                    message: s.message().to_owned(),
                    ..Default::default()
                }),
            };
            let mut out = GetObjectResult::default();
            out.result = Some(result);
            out
        })
        .collect()
}
