//! `LedgerService` and `SubscriptionService`: what the chain has, and what it
//! gets next.

use std::pin::Pin;

use futures::Stream;
use prost_types::Timestamp;
use sui_rpc::proto::sui::rpc::v2::{
    self as pb, BatchGetObjectsRequest, BatchGetObjectsResponse, GetCheckpointRequest,
    GetCheckpointResponse, GetEpochRequest, GetEpochResponse, GetObjectRequest, GetObjectResponse,
    GetServiceInfoRequest, GetServiceInfoResponse, GetTransactionRequest, GetTransactionResponse,
    ListCheckpointsRequest, ListCheckpointsResponse, ListEventsRequest, ListEventsResponse,
    SubscribeCheckpointsRequest, SubscribeCheckpointsResponse, SubscribeEventsRequest,
    SubscribeEventsResponse, get_checkpoint_request::CheckpointId,
    ledger_service_server::LedgerService, subscription_service_server::SubscriptionService,
};
use sui_rpc::{field::FieldMaskTree, merge::Merge};
use sui_sdk_types::Digest;
use tonic::{Request, Response, Status};

use super::{Rpc, checkpoints, events, follow, objects};
use crate::{
    chain::{Chain, SealedCheckpoint},
    executor::{Executed, REFERENCE_GAS_PRICE},
};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A timestamp from milliseconds since the Unix epoch.
pub fn timestamp(ms: u64) -> Timestamp {
    Timestamp {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    }
}

/// The protobuf form of an executed transaction, with every field.
pub fn executed_to_proto(
    t: &Executed,
    checkpoint: Option<u64>,
    timestamp_ms: Option<u64>,
) -> pb::ExecutedTransaction {
    executed_to_proto_masked(t, checkpoint, timestamp_ms, &FieldMaskTree::new_wildcard())
}

/// The protobuf form of an executed transaction, only the fields `mask` asks
/// for (rendering digests and addresses as text is most of the cost).
pub fn executed_to_proto_masked(
    t: &Executed,
    checkpoint: Option<u64>,
    timestamp_ms: Option<u64>,
    mask: &FieldMaskTree,
) -> pb::ExecutedTransaction {
    let mut out = pb::ExecutedTransaction::default();
    if mask.contains("digest") {
        out.digest = Some(t.digest.to_string());
    }
    if let Some(sub) = mask.subtree("transaction") {
        out.transaction = Some(pb::Transaction::merge_from(t.transaction.clone(), &sub));
    }
    if mask.contains("signatures") {
        out.signatures = t.signatures.iter().cloned().map(Into::into).collect();
    }
    if let Some(sub) = mask.subtree("effects") {
        out.effects = Some(pb::TransactionEffects::merge_from(&t.effects, &sub));
    }
    if let Some(sub) = mask.subtree("events") {
        out.events = Some(pb::TransactionEvents::merge_from(
            sui_sdk_types::TransactionEvents(t.events.clone()),
            &sub,
        ));
    }
    if mask.contains("checkpoint") {
        out.checkpoint = checkpoint;
    }
    if mask.contains("timestamp") {
        out.timestamp = timestamp_ms.map(timestamp);
    }
    out
}

/// What a checkpoint read returns: the request's mask, or everything.
fn checkpoint_mask(mask: Option<&prost_types::FieldMask>) -> FieldMaskTree {
    match mask {
        Some(m) if !m.paths.is_empty() => FieldMaskTree::from_field_mask(m),
        _ => FieldMaskTree::new_wildcard(),
    }
}

/// A checkpoint with only the parts `mask` asks for, as Sui fills them
/// (`summary.bcs`, `signature`, `contents.bcs`, the transactions' `*.bcs`...):
/// a checkpoint's transactions can be megabytes, and a reader of timestamps
/// wants none of them. The sequence number and digest are always there.
fn checkpoint_to_proto_masked(cp: &SealedCheckpoint, mask: &FieldMaskTree) -> pb::Checkpoint {
    let mut out = pb::Checkpoint::default();
    out.sequence_number = Some(cp.summary.sequence_number);
    out.digest = Some(cp.digest.to_string());
    if let Some(sub) = mask.subtree("summary") {
        out.summary = Some(pb::CheckpointSummary::merge_from(cp.summary.clone(), &sub));
    }
    out.merge(cp.signature.clone(), mask);
    if let Some(sub) = mask.subtree("contents") {
        out.contents = Some(pb::CheckpointContents::merge_from(
            cp.contents.clone(),
            &sub,
        ));
    }
    if let Some(sub) = mask.subtree("transactions") {
        out.transactions = cp
            .transactions
            .iter()
            .map(|t| {
                executed_to_proto_masked(
                    t,
                    Some(cp.summary.sequence_number),
                    Some(cp.summary.timestamp_ms),
                    &sub,
                )
            })
            .collect();
    }
    out
}

/// What `GetEpoch` reads: the request's mask, or (none given) everything
/// but the committee, which Sui also leaves out unless asked (`committee` or `*`).
fn epoch_mask(mask: Option<&prost_types::FieldMask>) -> FieldMaskTree {
    match mask {
        Some(m) if !m.paths.is_empty() => FieldMaskTree::from_field_mask(m),
        _ => FieldMaskTree::from_field_mask(&prost_types::FieldMask {
            paths: [
                "epoch",
                "first_checkpoint",
                "last_checkpoint",
                "start",
                "end",
                "reference_gas_price",
            ]
            .map(String::from)
            .to_vec(),
        }),
    }
}

/// Epoch `e` with every field the dev chain has: its committee, first
/// checkpoint, and (once ended) last checkpoint and end time.
fn epoch_to_proto(c: &Chain, e: u64) -> Option<pb::Epoch> {
    let (first, last) = c.epoch_checkpoints(e)?;
    let mut out = pb::Epoch::default();
    out.epoch = Some(e);
    out.committee = c.committee(e).cloned().map(Into::into);
    out.first_checkpoint = Some(first);
    // An epoch starts when the previous one's last checkpoint (or genesis) is sealed.
    let start = first
        .checked_sub(1)
        .and_then(|p| c.checkpoints.get(p as usize))
        .unwrap_or(&c.checkpoints[0]);
    out.start = Some(timestamp(start.summary.timestamp_ms));
    if let Some(last) = last.and_then(|l| c.checkpoints.get(l as usize)) {
        out.last_checkpoint = Some(last.summary.sequence_number);
        out.end = Some(timestamp(last.summary.timestamp_ms));
    }
    out.reference_gas_price = Some(REFERENCE_GAS_PRICE);
    Some(out)
}

/// The service's view of the chain, also sent as response headers.
pub fn service_info(chain: &Chain, lowest_available: u64) -> GetServiceInfoResponse {
    let mut r = GetServiceInfoResponse::default();
    r.chain_id = Some(chain.chain_id().to_string());
    r.chain = Some("localnet".into());
    r.epoch = Some(chain.epoch());
    r.checkpoint_height = Some(chain.checkpoint_height());
    r.timestamp = Some(timestamp(chain.tip().summary.timestamp_ms));
    r.lowest_available_checkpoint = Some(lowest_available);
    r.lowest_available_checkpoint_objects = Some(lowest_available);
    r.server = Some(format!("daas-devnet/{}", env!("CARGO_PKG_VERSION")));
    r
}

impl Rpc {
    /// Refuses reads that start below the (simulated) pruning point.
    fn check_available(&self, start: u64, after: Option<&[u8]>) -> Result<(), Status> {
        let lowest = self.node.config().lowest_available_checkpoint;
        let first = match after {
            Some(c) => events::decode(c)?.0.max(start),
            None => start,
        };
        if first < lowest {
            return Err(Status::out_of_range(format!(
                "checkpoint {first} was pruned; the lowest available checkpoint is {lowest}"
            )));
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl LedgerService for Rpc {
    async fn get_service_info(
        &self,
        _: Request<GetServiceInfoRequest>,
    ) -> Result<Response<GetServiceInfoResponse>, Status> {
        let lowest = self.node.config().lowest_available_checkpoint;
        Ok(Response::new(self.node.read(|c| service_info(c, lowest))))
    }

    async fn get_object(
        &self,
        request: Request<GetObjectRequest>,
    ) -> Result<Response<GetObjectResponse>, Status> {
        let req = request.into_inner();
        let mask = objects::read_mask::<pb::Object>(req.read_mask.as_ref())?;
        let object = self
            .node
            .read(|c| objects::get(c, req.object_id.as_deref(), req.version, &mask))?;
        let mut r = GetObjectResponse::default();
        r.object = Some(object);
        Ok(Response::new(r))
    }

    async fn batch_get_objects(
        &self,
        request: Request<BatchGetObjectsRequest>,
    ) -> Result<Response<BatchGetObjectsResponse>, Status> {
        let req = request.into_inner();
        if req.requests.len() > objects::MAX_BATCH {
            return Err(Status::invalid_argument(format!(
                "at most {} objects per batch, not {}",
                objects::MAX_BATCH,
                req.requests.len()
            )));
        }
        let mask = objects::read_mask::<pb::Object>(req.read_mask.as_ref())?;
        let mut r = BatchGetObjectsResponse::default();
        r.objects = self.node.read(|c| objects::batch(c, &req.requests, &mask));
        Ok(Response::new(r))
    }

    async fn get_transaction(
        &self,
        request: Request<GetTransactionRequest>,
    ) -> Result<Response<GetTransactionResponse>, Status> {
        let req = request.into_inner();
        let digest: Digest = req
            .digest
            .as_deref()
            .ok_or_else(|| Status::invalid_argument("digest is required"))?
            .parse()
            .map_err(|e| Status::invalid_argument(format!("digest: {e}")))?;
        let found = self.node.read(|c| {
            c.transaction(&digest).map(|(t, cp)| {
                let ts = cp
                    .and_then(|n| c.checkpoints.get(n as usize))
                    .map(|x| x.summary.timestamp_ms);
                executed_to_proto(t, cp, ts)
            })
        });
        let t =
            found.ok_or_else(|| Status::not_found(format!("transaction {digest} not found")))?;
        let mut r = GetTransactionResponse::default();
        r.transaction = Some(t);
        Ok(Response::new(r))
    }

    async fn get_checkpoint(
        &self,
        request: Request<GetCheckpointRequest>,
    ) -> Result<Response<GetCheckpointResponse>, Status> {
        let req = request.into_inner();
        let mask = checkpoint_mask(req.read_mask.as_ref());
        let cp = self.node.read(|c| {
            let cp = match &req.checkpoint_id {
                None => Some(c.tip()),
                Some(CheckpointId::SequenceNumber(n)) => c.checkpoints.get(*n as usize),
                Some(CheckpointId::Digest(d)) => d
                    .parse::<Digest>()
                    .ok()
                    .and_then(|d| c.checkpoint_by_digest(&d)),
                Some(_) => None,
            };
            cp.map(|cp| checkpoint_to_proto_masked(cp, &mask))
        });
        let cp = cp.ok_or_else(|| Status::not_found("checkpoint not found"))?;
        let mut r = GetCheckpointResponse::default();
        r.checkpoint = Some(cp);
        Ok(Response::new(r))
    }

    async fn get_epoch(
        &self,
        request: Request<GetEpochRequest>,
    ) -> Result<Response<GetEpochResponse>, Status> {
        let req = request.into_inner();
        let mask = epoch_mask(req.read_mask.as_ref());
        let epoch = self.node.read(|c| {
            let e = req.epoch.unwrap_or(c.epoch());
            epoch_to_proto(c, e).map(|full| pb::Epoch::merge_from(&full, &mask))
        });
        let epoch = epoch.ok_or_else(|| Status::not_found("epoch not found"))?;
        let mut r = GetEpochResponse::default();
        r.epoch = Some(epoch);
        Ok(Response::new(r))
    }

    async fn list_checkpoints(
        &self,
        request: Request<ListCheckpointsRequest>,
    ) -> Result<Response<BoxStream<ListCheckpointsResponse>>, Status> {
        let req = request.into_inner();
        let mask = checkpoint_mask(req.read_mask.as_ref());
        let frames = self.node.read(|c| {
            checkpoints::list(&c.checkpoints, &req, |cp| {
                checkpoint_to_proto_masked(cp, &mask)
            })
        })?;
        Ok(Response::new(Box::pin(futures::stream::iter(
            frames.into_iter().map(Ok),
        ))))
    }

    async fn list_events(
        &self,
        request: Request<ListEventsRequest>,
    ) -> Result<Response<BoxStream<ListEventsResponse>>, Status> {
        let req = request.into_inner();
        self.check_available(
            req.start_checkpoint.unwrap_or(0),
            req.options.as_ref().and_then(|o| o.after.as_deref()),
        )?;
        let frames = self
            .node
            .read(|c| events::list(&c.events, c.checkpoint_height(), &req))?;
        let stream = futures::stream::iter(frames.into_iter().map(Ok));
        Ok(Response::new(Box::pin(stream)))
    }
}

#[tonic::async_trait]
impl SubscriptionService for Rpc {
    async fn subscribe_checkpoints(
        &self,
        request: Request<SubscribeCheckpointsRequest>,
    ) -> Result<Response<BoxStream<SubscribeCheckpointsResponse>>, Status> {
        let req = request.into_inner();
        if req.filter.is_some() {
            return Err(Status::unimplemented(
                "the dev chain does not filter checkpoints",
            ));
        }
        let mask = checkpoint_mask(req.read_mask.as_ref());
        let node = self.node.clone();
        let sealed = node.subscribe();
        // The stream begins at the latest checkpoint, then follows each new one.
        let first = *sealed.borrow();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let frames_of = move |n: u64| {
            node.read(|c| {
                let cp = c.checkpoints.get(n as usize)?;
                Some(vec![checkpoints::subscription_frame(
                    checkpoint_to_proto_masked(cp, &mask),
                    n,
                )])
            })
        };
        let heights = follow::heights(sealed);
        tokio::spawn(follow::follow(
            heights,
            first,
            frames_of,
            tx,
            self.shutdown.clone(),
        ));
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn subscribe_events(
        &self,
        request: Request<SubscribeEventsRequest>,
    ) -> Result<Response<BoxStream<SubscribeEventsResponse>>, Status> {
        let req = request.into_inner();
        let filter = events::Filter::compile(req.filter.as_ref())?;
        let node = self.node.clone();
        let sealed = node.subscribe();
        // It begins with a progress frame at the latest checkpoint, then
        // streams each new one. Bounded: a slow subscriber holds this task,
        // never the chain.
        let first = *sealed.borrow();
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let frames_of = move |c: u64| {
            Some(node.read(|chain| events::subscription_frames(&chain.events, c, &filter)))
        };
        let heights = follow::heights(sealed);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            if tx.send(Ok(events::progress(first))).await.is_ok() {
                let next = first.saturating_add(1);
                follow::follow(heights, next, frames_of, tx, shutdown).await;
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}
