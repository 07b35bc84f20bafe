//! Checkpoint queries: `ListCheckpoints` and `SubscribeCheckpoints` frames.
//!
//! Checkpoint cursors are dense: the 8-byte big-endian sequence number, and a
//! watermark's checkpoint is the sequence number itself.

use prost::bytes::Bytes;
use sui_rpc::proto::sui::rpc::v2::{
    self as pb, ListCheckpointsRequest, ListCheckpointsResponse, QueryEnd, QueryEndReason,
    SubscribeCheckpointsResponse, Watermark,
};
use tonic::Status;

use crate::chain::SealedCheckpoint;

fn cursor(seq: u64) -> Bytes {
    Bytes::copy_from_slice(&seq.to_be_bytes())
}

fn decode(b: &[u8]) -> Result<u64, Status> {
    let b: [u8; 8] = b.try_into().map_err(|_| {
        Status::invalid_argument(format!(
            "checkpoint cursor must be 8 bytes, got {}",
            b.len()
        ))
    })?;
    Ok(u64::from_be_bytes(b))
}

fn frame(
    cp: Option<pb::Checkpoint>,
    seq: u64,
    end: Option<QueryEndReason>,
) -> ListCheckpointsResponse {
    let mut w = Watermark::default();
    w.cursor = Some(cursor(seq));
    w.checkpoint = Some(seq);
    let mut r = ListCheckpointsResponse::default();
    r.checkpoint = cp;
    r.watermark = Some(w);
    r.end = end.map(|reason| {
        let mut q = QueryEnd::default();
        q.reason = Some(reason as i32);
        q
    });
    r
}

/// The frames answering `req`; `to_proto` renders one checkpoint.
pub fn list(
    checkpoints: &[SealedCheckpoint],
    req: &ListCheckpointsRequest,
    to_proto: impl Fn(&SealedCheckpoint) -> pb::Checkpoint,
) -> Result<Vec<ListCheckpointsResponse>, Status> {
    if req.filter.is_some() {
        return Err(Status::unimplemented(
            "the dev chain does not filter checkpoints",
        ));
    }
    let options = req.options.clone().unwrap_or_default();
    if options
        .ordering
        .is_some_and(|o| o != pb::Ordering::Ascending as i32)
    {
        return Err(Status::unimplemented(
            "the dev chain lists checkpoints in ascending order only",
        ));
    }
    let tip = checkpoints.len() as u64 - 1;
    let mut start = req.start_checkpoint.unwrap_or(0);
    if let Some(a) = options.after.as_deref().map(decode).transpose()? {
        start = start.max(a.saturating_add(1));
    }
    let before = options.before.as_deref().map(decode).transpose()?;
    if req
        .end_checkpoint
        .is_some_and(|e| e <= req.start_checkpoint.unwrap_or(0))
    {
        return Err(Status::invalid_argument(
            "end_checkpoint must be greater than start_checkpoint",
        ));
    }
    let hi = req.end_checkpoint.map_or(tip, |e| (e - 1).min(tip));
    let limit = match options.limit {
        None | Some(0) => 100,
        Some(n) => n.min(1_000),
    } as u64;
    let mut frames = Vec::new();
    let mut seq = start;
    while seq <= hi && before.is_none_or(|b| seq < b) {
        frames.push(frame(Some(to_proto(&checkpoints[seq as usize])), seq, None));
        if frames.len() as u64 == limit {
            if let Some(last) = frames.last_mut() {
                let mut q = QueryEnd::default();
                q.reason = Some(QueryEndReason::ItemLimit as i32);
                last.end = Some(q);
            }
            return Ok(frames);
        }
        seq += 1;
    }
    let end = match (before, req.end_checkpoint) {
        (Some(b), _) if b <= hi => {
            frame(None, b.saturating_sub(1), Some(QueryEndReason::CursorBound))
        }
        (_, Some(e)) if e - 1 <= tip => frame(None, e - 1, Some(QueryEndReason::CheckpointBound)),
        _ => frame(None, hi, Some(QueryEndReason::LedgerTip)),
    };
    frames.push(end);
    Ok(frames)
}

/// One subscription frame.
pub fn subscription_frame(cp: pb::Checkpoint, seq: u64) -> SubscribeCheckpointsResponse {
    let mut r = SubscribeCheckpointsResponse::default();
    r.cursor = Some(seq);
    r.checkpoint = Some(cp);
    r
}
