//! One batch over whole topics, as the projector's first batch would be:
//! shared by the projector's tests and `daas stats`' (which includes this
//! file by path).

use daas_projector::{
    committer::{Cursor, Positions},
    pipeline::CONSUMER,
    processor::{Processor, Rows},
};

/// A topic's name and its records, from offset 0.
pub type Topic<'a> = (&'a str, &'a [Vec<u8>]);

/// The rows the pure processor computes over `log` and then `outcomes`
/// (each from offset 0), and the positions that move with them to each
/// topic's end.
pub fn batch(log: Topic<'_>, outcomes: Option<Topic<'_>>) -> (Rows, Positions) {
    let mut p = Processor::default();
    let mut rows = Rows::default();
    for (i, r) in log.1.iter().enumerate() {
        p.process(i as i64, r, &mut rows);
    }
    for (i, o) in outcomes.map_or(&[][..], |o| o.1).iter().enumerate() {
        p.process_outcome(i as i64, o, &mut rows);
    }
    let cursor = |(topic, records): Topic<'_>| Cursor {
        topic: topic.into(),
        from: 0,
        to: records.len() as i64,
    };
    let positions = Positions {
        consumer: CONSUMER.into(),
        log: cursor(log),
        outcomes: outcomes.map(cursor),
        verifier: None,
    };
    (rows, positions)
}
