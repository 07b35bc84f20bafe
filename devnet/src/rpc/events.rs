//! Event queries: cursors, filters, and the frames of `ListEvents` and
//! `SubscribeEvents`, as pure functions over the chain's event index.
//!
//! Cursor: 20 bytes, big-endian `checkpoint (8) || transaction index (8) ||
//! event index (4)`. The end of checkpoint `c` is `(c, u64::MAX, u32::MAX)`,
//! so "strictly after it" is the start of `c + 1`. Watermark checkpoints are
//! the highest checkpoint whose matching events were all emitted, counted only
//! from the first checkpoint that lies wholly inside the request's interval.

use prost::bytes::Bytes;
use sui_rpc::proto::sui::rpc::v2::{
    self as pb, EventFilter, ListEventsRequest, ListEventsResponse, QueryEnd, QueryEndReason,
    SubscribeEventsResponse, Watermark, event_literal::Predicate,
};
use tonic::Status;

use crate::chain::IndexedEvent;

/// `(checkpoint, transaction index, event index)`.
pub type Pos = (u64, u64, u32);

/// Items per `ListEvents` response when the request sets no limit (as large
/// as the maximum: a backfill should not pay a round trip per thousand events).
pub const DEFAULT_LIMIT: u32 = 10_000;
/// Largest limit honoured; larger ones are coerced down, as the API allows.
pub const MAX_LIMIT: u32 = 10_000;

/// The position just after every event of checkpoint `c`.
pub const fn end_of(c: u64) -> Pos {
    (c, u64::MAX, u32::MAX)
}

/// Encodes a cursor.
pub fn encode(p: Pos) -> Bytes {
    let mut b = Vec::with_capacity(20);
    b.extend(p.0.to_be_bytes());
    b.extend(p.1.to_be_bytes());
    b.extend(p.2.to_be_bytes());
    Bytes::from(b)
}

/// Decodes a cursor from a client.
pub fn decode(b: &[u8]) -> Result<Pos, Status> {
    let b: [u8; 20] = b.try_into().map_err(|_| {
        Status::invalid_argument(format!("cursor must be 20 bytes, got {}", b.len()))
    })?;
    let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap_or_default());
    let e = u32::from_be_bytes(b[16..20].try_into().unwrap_or_default());
    Ok((u64_at(0), u64_at(8), e))
}

/// A compiled DNF event filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// OR of ANDs; empty = everything.
    terms: Vec<Vec<(bool, Literal)>>,
}

#[derive(Clone, Debug)]
enum Literal {
    Sender(daas_domain::Address),
    /// `package[::module]` of the emitting call.
    EmitModule(daas_domain::Address, Option<String>),
    /// `address[::module[::Name]]` of the event type.
    EventType(daas_domain::Address, Option<String>, Option<String>),
}

fn parse_address(s: &str) -> Result<daas_domain::Address, Status> {
    s.parse()
        .map_err(|e| Status::invalid_argument(format!("bad address {s:?}: {e}")))
}

fn parse_path(s: &str) -> Result<(daas_domain::Address, Option<String>, Option<String>), Status> {
    // Generic instantiations are not used by our events; match on the base type.
    let base = s.split('<').next().unwrap_or(s);
    let mut parts = base.split("::");
    let address = parse_address(parts.next().unwrap_or_default())?;
    let module = parts.next().map(str::to_owned);
    let name = parts.next().map(str::to_owned);
    if parts.next().is_some() {
        return Err(Status::invalid_argument(format!("bad Move path {s:?}")));
    }
    Ok((address, module, name))
}

impl Filter {
    /// Compiles a request's filter; unsupported predicates are refused.
    pub fn compile(filter: Option<&EventFilter>) -> Result<Self, Status> {
        let Some(filter) = filter else {
            return Ok(Self::default());
        };
        let mut terms = Vec::new();
        for term in &filter.terms {
            let mut literals = Vec::new();
            for lit in &term.literals {
                let l = match &lit.predicate {
                    Some(Predicate::Sender(s)) => {
                        Literal::Sender(parse_address(s.address.as_deref().unwrap_or_default())?)
                    }
                    Some(Predicate::EmitModule(m)) => {
                        let (a, module, name) =
                            parse_path(m.module.as_deref().unwrap_or_default())?;
                        if name.is_some() {
                            return Err(Status::invalid_argument(
                                "emit_module takes package[::module]",
                            ));
                        }
                        Literal::EmitModule(a, module)
                    }
                    Some(Predicate::EventType(t)) => {
                        let (a, m, n) = parse_path(t.event_type.as_deref().unwrap_or_default())?;
                        Literal::EventType(a, m, n)
                    }
                    Some(_) => {
                        return Err(Status::unimplemented(
                            "this event predicate is not served by the dev chain",
                        ));
                    }
                    None => {
                        return Err(Status::invalid_argument(
                            "an event literal has no predicate",
                        ));
                    }
                };
                literals.push((lit.negated, l));
            }
            terms.push(literals);
        }
        Ok(Self { terms })
    }

    /// Whether `e` matches.
    pub fn matches(&self, e: &IndexedEvent) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        self.terms
            .iter()
            .any(|term| term.iter().all(|(negated, lit)| lit.matches(e) != *negated))
    }
}

impl Literal {
    fn matches(&self, e: &IndexedEvent) -> bool {
        let ev = &e.event;
        let addr = |a: &sui_sdk_types::Address| daas_domain::Address(a.into_inner());
        match self {
            Literal::Sender(s) => addr(&ev.sender) == *s,
            Literal::EmitModule(p, m) => {
                addr(&ev.package_id) == *p && m.as_deref().is_none_or(|m| ev.module.as_str() == m)
            }
            Literal::EventType(a, m, n) => {
                addr(ev.type_.address()) == *a
                    && m.as_deref().is_none_or(|m| ev.type_.module().as_str() == m)
                    && n.as_deref().is_none_or(|n| ev.type_.name().as_str() == n)
            }
        }
    }
}

/// The protobuf event with its ledger position filled in.
pub fn to_proto(e: &IndexedEvent) -> pb::Event {
    let mut out = pb::Event::from(e.event.clone());
    out.checkpoint = Some(e.checkpoint);
    out.transaction_digest = Some(e.transaction_digest.to_string());
    out.transaction_index = Some(e.transaction_index);
    out.event_index = Some(e.event_index);
    out
}

fn watermark(cursor: Pos, checkpoint: Option<u64>) -> Watermark {
    let mut w = Watermark::default();
    w.cursor = Some(encode(cursor));
    w.checkpoint = checkpoint;
    w
}

fn frame(
    event: Option<pb::Event>,
    w: Watermark,
    end: Option<QueryEndReason>,
) -> ListEventsResponse {
    let mut r = ListEventsResponse::default();
    r.event = event;
    r.watermark = Some(w);
    r.end = end.map(|reason| {
        let mut q = QueryEnd::default();
        q.reason = Some(reason as i32);
        q
    });
    r
}

/// The frames answering `req` over `events` (sorted by position) with `tip`
/// the newest sealed checkpoint.
pub fn list(
    events: &[IndexedEvent],
    tip: u64,
    req: &ListEventsRequest,
) -> Result<Vec<ListEventsResponse>, Status> {
    let filter = Filter::compile(req.filter.as_ref())?;
    let options = req.options.clone().unwrap_or_default();
    if options
        .ordering
        .is_some_and(|o| o != pb::Ordering::Ascending as i32)
    {
        return Err(Status::unimplemented(
            "the dev chain lists events in ascending order only",
        ));
    }
    let after = options.after.as_deref().map(decode).transpose()?;
    let before = options.before.as_deref().map(decode).transpose()?;
    let limit = match options.limit {
        None | Some(0) => DEFAULT_LIMIT,
        Some(n) => n.min(MAX_LIMIT),
    } as usize;
    let start = req.start_checkpoint.unwrap_or(0);
    if req.end_checkpoint.is_some_and(|e| e <= start) {
        return Err(Status::invalid_argument(
            "end_checkpoint must be greater than start_checkpoint",
        ));
    }
    // The last checkpoint the scan may read.
    let hi = req.end_checkpoint.map_or(tip, |e| (e - 1).min(tip));
    let first_full = after.map_or(start, |a| a.0.saturating_add(1).max(start));
    let covered = |c: Option<u64>| c.filter(|c| *c >= first_full);

    let lower = after.map_or(0, |a| events.partition_point(|e| e.position() <= a));
    let lower = lower.max(events.partition_point(|e| e.checkpoint < start));
    let mut frames = Vec::new();
    for e in &events[lower..] {
        let p = e.position();
        if p.0 > hi || before.is_some_and(|b| p >= b) {
            break;
        }
        if !filter.matches(e) {
            continue;
        }
        let w = watermark(p, covered(p.0.checked_sub(1)));
        frames.push(frame(Some(to_proto(e)), w, None));
        if frames.len() == limit {
            if let Some(last) = frames.last_mut() {
                let mut q = QueryEnd::default();
                q.reason = Some(QueryEndReason::ItemLimit as i32);
                last.end = Some(q);
            }
            return Ok(frames);
        }
    }
    let floor = |p: Pos| after.map_or(p, |a| a.max(p));
    let end = match before {
        Some(b) if b <= end_of(hi) => frame(
            None,
            watermark(floor(b), covered(b.0.checked_sub(1))),
            Some(QueryEndReason::CursorBound),
        ),
        _ => match req.end_checkpoint {
            Some(e) if e - 1 <= tip => frame(
                None,
                watermark(floor(end_of(e - 1)), covered(Some(e - 1))),
                Some(QueryEndReason::CheckpointBound),
            ),
            _ => frame(
                None,
                watermark(floor(end_of(hi)), covered(Some(hi))),
                Some(QueryEndReason::LedgerTip),
            ),
        },
    };
    frames.push(end);
    Ok(frames)
}

/// Subscription frames for the sealed checkpoint `c`: its matching events,
/// then a progress frame at its end.
pub fn subscription_frames(
    events: &[IndexedEvent],
    c: u64,
    filter: &Filter,
) -> Vec<SubscribeEventsResponse> {
    let lo = events.partition_point(|e| e.checkpoint < c);
    let hi = events.partition_point(|e| e.checkpoint <= c);
    let mut out: Vec<SubscribeEventsResponse> = events[lo..hi]
        .iter()
        .filter(|e| filter.matches(e))
        .map(|e| {
            let mut r = SubscribeEventsResponse::default();
            r.event = Some(to_proto(e));
            r.watermark = Some(watermark(e.position(), c.checked_sub(1)));
            r
        })
        .collect();
    out.push(progress(c));
    out
}

/// A progress-only subscription frame at the end of checkpoint `c`.
pub fn progress(c: u64) -> SubscribeEventsResponse {
    let mut r = SubscribeEventsResponse::default();
    r.watermark = Some(watermark(end_of(c), Some(c)));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use sui_sdk_types::{Address, Digest, Identifier, StructTag};

    fn ev(c: u64, t: u64, i: u32, module: &'static str) -> IndexedEvent {
        let pkg = Address::from_static("0xda45");
        IndexedEvent {
            checkpoint: c,
            transaction_index: t,
            event_index: i,
            transaction_digest: Digest::new([1; 32]),
            event: sui_sdk_types::Event {
                package_id: pkg,
                module: Identifier::from_static(module),
                sender: Address::from_static("0x1"),
                type_: StructTag::new(
                    pkg,
                    Identifier::from_static(module),
                    Identifier::from_static("E"),
                    vec![],
                ),
                contents: vec![],
            },
        }
    }

    fn positions(frames: &[ListEventsResponse]) -> Vec<(u64, u64, u32)> {
        frames
            .iter()
            .filter_map(|f| f.event.as_ref())
            .map(|e| {
                (
                    e.checkpoint.unwrap_or(0),
                    e.transaction_index.unwrap_or(0),
                    e.event_index.unwrap_or(0),
                )
            })
            .collect()
    }

    fn end(frames: &[ListEventsResponse]) -> (i32, Pos, Option<u64>) {
        let last = frames.last().expect("frames");
        let w = last.watermark.as_ref().expect("watermark");
        (
            last.end.as_ref().and_then(|e| e.reason).unwrap_or(-1),
            decode(w.cursor.as_ref().expect("cursor")).expect("cursor"),
            w.checkpoint,
        )
    }

    fn index() -> Vec<IndexedEvent> {
        vec![
            ev(1, 0, 0, "a"),
            ev(1, 0, 1, "b"),
            ev(3, 2, 0, "a"),
            ev(4, 0, 0, "a"),
        ]
    }

    #[test]
    fn cursors_round_trip_and_order() {
        let p = (5, 7, 9);
        assert_eq!(decode(&encode(p)).ok(), Some(p));
        assert!(encode((1, 0, 0)) < encode((1, 0, 1)) && encode(end_of(1)) < encode((2, 0, 0)));
        assert!(decode(&[1, 2, 3]).is_err());
    }

    #[test]
    fn a_full_scan_ends_at_the_tip_with_coverage() {
        let frames = list(&index(), 5, &ListEventsRequest::default()).expect("list");
        assert_eq!(positions(&frames).len(), 4);
        assert_eq!(
            end(&frames),
            (QueryEndReason::LedgerTip as i32, end_of(5), Some(5))
        );
        // The watermark on the item at checkpoint 3 says checkpoints <= 2 are covered.
        assert_eq!(
            frames[2].watermark.as_ref().and_then(|w| w.checkpoint),
            Some(2)
        );
    }

    #[test]
    fn resuming_after_a_cursor_is_strict_and_pages_by_limit() {
        let mut req = ListEventsRequest::default();
        let mut opts = pb::QueryOptions::default();
        opts.after = Some(encode((1, 0, 0)));
        opts.limit = Some(2);
        req.options = Some(opts);
        let frames = list(&index(), 5, &req).expect("list");
        assert_eq!(positions(&frames), vec![(1, 0, 1), (3, 2, 0)]);
        assert_eq!(end(&frames).0, QueryEndReason::ItemLimit as i32);
        // The first checkpoint was entered mid-way: no coverage is claimed until it is done.
        assert_eq!(
            frames[0].watermark.as_ref().and_then(|w| w.checkpoint),
            None
        );
    }

    #[test]
    fn bounds_end_with_their_reason() {
        let mut req = ListEventsRequest::default();
        req.end_checkpoint = Some(4);
        let frames = list(&index(), 5, &req).expect("list");
        assert_eq!(positions(&frames).len(), 3);
        assert_eq!(
            end(&frames),
            (QueryEndReason::CheckpointBound as i32, end_of(3), Some(3))
        );

        let mut req = ListEventsRequest::default();
        let mut opts = pb::QueryOptions::default();
        opts.after = Some(encode(end_of(1)));
        opts.before = Some(encode((4, 0, 0)));
        req.options = Some(opts);
        let frames = list(&index(), 5, &req).expect("list");
        assert_eq!(positions(&frames), vec![(3, 2, 0)]);
        assert_eq!(end(&frames).0, QueryEndReason::CursorBound as i32);
    }

    #[test]
    fn filters_select_by_module() {
        let mut req = ListEventsRequest::default();
        let mut lit = pb::EventLiteral::default();
        let mut m = pb::EmitModuleFilter::default();
        m.module = Some("0xda45::b".into());
        lit.predicate = Some(Predicate::EmitModule(m));
        let mut term = pb::EventTerm::default();
        term.literals = vec![lit];
        let mut f = EventFilter::default();
        f.terms = vec![term];
        req.filter = Some(f);
        let frames = list(&index(), 5, &req).expect("list");
        assert_eq!(positions(&frames), vec![(1, 0, 1)]);
    }

    #[test]
    fn subscription_frames_close_each_checkpoint() {
        let frames = subscription_frames(&index(), 1, &Filter::default());
        assert_eq!(frames.len(), 3);
        let last = frames[2].watermark.as_ref().expect("watermark");
        assert_eq!(last.checkpoint, Some(1));
        assert_eq!(
            decode(last.cursor.as_ref().expect("cursor")).ok(),
            Some(end_of(1))
        );
    }
}
