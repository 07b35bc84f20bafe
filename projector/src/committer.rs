//! The I/O half of the projector: one batch of rows and the consumed position
//! in one Postgres transaction, so a crash either keeps both or neither.
//!
//! Every table is written with one statement over `UNNEST` arrays (not row by
//! row); rows of one batch are collapsed to their last state per key first,
//! because one statement cannot touch the same row twice. Append-only tables
//! have no `ON CONFLICT`: a record applied twice is a bug and must fail loudly.

use std::collections::BTreeMap;

use sqlx::{
    PgPool, Postgres, Transaction,
    types::chrono::{DateTime, Utc},
};

use crate::{
    copy::CopyText,
    processor::{AccessRow, Rows, Stream},
};

/// How far one topic's records move with a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// Topic.
    pub topic: String,
    /// Next offset before the batch (what the table must hold now).
    pub from: i64,
    /// Next offset after the batch.
    pub to: i64,
}

/// The positions a batch moves: the log's and, when consumed, the outcomes'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Positions {
    /// Consumer name (`projector`).
    pub consumer: String,
    /// The log topic.
    pub log: Cursor,
    /// The outcome topic, when the projector follows it.
    pub outcomes: Option<Cursor>,
    /// The verifier after the batch, stored beside the log's position;
    /// `None` when the log is projected without verification (the stored
    /// state is then cleared).
    pub verifier: Option<StoredVerifier>,
}

/// The verifier's durable part, stored with the log's position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredVerifier {
    /// `State::encode` of the state after the batch's last item.
    pub state: Vec<u8>,
    /// Next log offset pushed through the verifier: at or past the
    /// position (records held behind a gap are read but not projected, and
    /// may have released records ahead of their place whose rows are in).
    pub read: i64,
}

impl Positions {
    fn cursors(&self) -> impl Iterator<Item = &Cursor> {
        std::iter::once(&self.log).chain(self.outcomes.as_ref())
    }
}

/// Why a batch was not committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Postgres failed (connection lost, server restarting, …). Retry the same batch.
    #[error("postgres: {0}")]
    Sql(#[from] sqlx::Error),
    /// The stored position is neither the batch's start nor its end: another
    /// writer moved it (a rebuild swapped the projection in, or a second
    /// projector runs). Restart from the stored position.
    #[error("position of {topic} is {found}, expected {expected} (another writer moved it)")]
    Moved {
        /// Topic.
        topic: String,
        /// Where this projector thought it stood.
        expected: i64,
        /// What the table holds.
        found: i64,
    },
}

/// Reads the stored position (0 when the consumer never committed).
pub async fn load_position<'e, E: sqlx::PgExecutor<'e>>(
    db: E,
    consumer: &str,
    topic: &str,
) -> Result<i64, sqlx::Error> {
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT next_offset FROM consumer_positions WHERE consumer = $1 AND topic = $2 AND partition = 0",
    )
    .bind(consumer)
    .bind(topic)
    .fetch_optional(db)
    .await?;
    Ok(next.unwrap_or(0))
}

/// Serialises writers of one projection (its schema): batches and the
/// rebuild's swap take this transaction-scoped lock first.
pub(crate) async fn lock_projection(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('daas-projector'), hashtext($1))")
        .bind(schema)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Chain time (ms) as an exact `timestamptz`.
fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Runs one COPY of `data` inside the transaction.
async fn copy_in(
    tx: &mut Transaction<'_, Postgres>,
    statement: &str,
    data: &CopyText,
) -> Result<(), sqlx::Error> {
    if data.is_empty() {
        return Ok(());
    }
    let mut copy = tx.copy_in_raw(statement).await?;
    copy.send(data.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

/// Writes `rows` and moves the positions from `from` to `to`, atomically,
/// after checking that the stored positions are still at `from`.
///
/// After a failed commit the caller restarts from the stored positions (it
/// cannot know whether a commit whose acknowledgement was lost took effect).
pub async fn commit(pool: &PgPool, rows: &Rows, positions: &Positions) -> Result<(), CommitError> {
    let mut tx = pool.begin().await?;
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut *tx)
        .await?;
    lock_projection(&mut tx, &schema).await?;
    for c in positions.cursors() {
        let found: i64 = sqlx::query_scalar(
            "SELECT COALESCE((SELECT next_offset FROM consumer_positions
                              WHERE consumer = $1 AND topic = $2 AND partition = 0 FOR UPDATE), 0)",
        )
        .bind(&positions.consumer)
        .bind(&c.topic)
        .fetch_one(&mut *tx)
        .await?;
        if found != c.from {
            return Err(CommitError::Moved {
                topic: c.topic.clone(),
                expected: c.from,
                found,
            });
        }
    }
    write_stakes(&mut tx, rows).await?;
    write_history(&mut tx, rows).await?;
    write_nodes(&mut tx, rows).await?;
    write_access(&mut tx, rows).await?;
    write_sealing_keys(&mut tx, rows).await?;
    write_requests(&mut tx, rows).await?;
    write_outcomes(&mut tx, rows, positions).await?;
    write_quarantine(&mut tx, rows, positions).await?;
    for c in positions.cursors() {
        sqlx::query(
            "INSERT INTO consumer_positions (consumer, topic, partition, next_offset, updated_at)
             VALUES ($1, $2, 0, $3, now())
             ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
        )
        .bind(&positions.consumer)
        .bind(&c.topic)
        .bind(c.to)
        .execute(&mut *tx)
        .await?;
    }
    let v = positions.verifier.as_ref();
    sqlx::query(
        "UPDATE consumer_positions SET verifier_state = $3, verifier_read = $4
         WHERE consumer = $1 AND topic = $2 AND partition = 0",
    )
    .bind(&positions.consumer)
    .bind(&positions.log.topic)
    .bind(v.map(|v| v.state.as_slice()))
    .bind(v.map(|v| v.read))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Reads the stored verifier of the log topic (`None` when the consumer
/// never committed, or committed without verification).
pub async fn load_verifier<'e, E: sqlx::PgExecutor<'e>>(
    db: E,
    consumer: &str,
    topic: &str,
) -> Result<Option<StoredVerifier>, sqlx::Error> {
    let row: Option<(Option<Vec<u8>>, Option<i64>)> = sqlx::query_as(
        "SELECT verifier_state, verifier_read FROM consumer_positions WHERE consumer = $1 AND topic = $2 AND partition = 0",
    )
    .bind(consumer)
    .bind(topic)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        Some((Some(state), Some(read))) => Some(StoredVerifier { state, read }),
        _ => None,
    })
}

async fn write_stakes(tx: &mut Transaction<'_, Postgres>, rows: &Rows) -> Result<(), sqlx::Error> {
    let mut last = BTreeMap::new();
    for r in &rows.stakes {
        last.insert((r.staker.clone(), r.role), (r.amount_mist, r.at_ms));
    }
    let (mut stakers, mut roles, mut amounts, mut times) = (vec![], vec![], vec![], vec![]);
    let (mut gone_stakers, mut gone_roles) = (vec![], vec![]);
    for ((staker, role), (amount, at)) in last {
        if amount == 0 {
            gone_stakers.push(staker);
            gone_roles.push(role.to_owned());
        } else {
            stakers.push(staker);
            roles.push(role.to_owned());
            amounts.push(amount);
            times.push(ts(at));
        }
    }
    sqlx::query(
        "INSERT INTO stakes (staker, role, amount_mist, updated_at)
         SELECT s, r, a, t FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::timestamptz[]) AS u(s, r, a, t)
         ON CONFLICT (staker, role) DO UPDATE SET amount_mist = EXCLUDED.amount_mist, updated_at = EXCLUDED.updated_at",
    )
    .bind(&stakers)
    .bind(&roles)
    .bind(&amounts)
    .bind(&times)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM stakes USING UNNEST($1::text[], $2::text[]) AS u(s, r) WHERE staker = u.s AND role = u.r")
        .bind(&gone_stakers)
        .bind(&gone_roles)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn write_history(tx: &mut Transaction<'_, Postgres>, rows: &Rows) -> Result<(), sqlx::Error> {
    let mut c = CopyText::new();
    for r in &rows.history {
        c.int(r.position.0)
            .int(r.position.1)
            .int(r.position.2)
            .text(&r.staker)
            .text(r.role)
            .text(r.change)
            .int(r.amount_mist)
            .int(r.total_after_mist)
            .opt(r.reason.as_deref())
            .int(r.epoch)
            .time(ts(r.at_ms));
        c.end();
    }
    copy_in(
        tx,
        "COPY stake_history (checkpoint, tx_index, event_index, staker, role, change, amount_mist, total_after_mist, reason, epoch, chain_time) FROM STDIN",
        &c,
    )
    .await
}

async fn write_nodes(tx: &mut Transaction<'_, Postgres>, rows: &Rows) -> Result<(), sqlx::Error> {
    let mut last = BTreeMap::new();
    for r in &rows.nodes {
        last.insert(r.name.clone(), r);
    }
    let n: Vec<_> = last.into_values().collect();
    sqlx::query(
        "INSERT INTO nodes (name, operator, public_key, endpoint, status, updated_at)
         SELECT n, o, k, e, s, t FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS u(n, o, k, e, s, t)
         ON CONFLICT (name) DO UPDATE SET operator = EXCLUDED.operator, public_key = EXCLUDED.public_key,
             endpoint = EXCLUDED.endpoint, status = EXCLUDED.status, updated_at = EXCLUDED.updated_at",
    )
    .bind(n.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
    .bind(n.iter().map(|r| r.operator.clone()).collect::<Vec<_>>())
    .bind(n.iter().map(|r| r.public_key.clone()).collect::<Vec<_>>())
    .bind(n.iter().map(|r| r.endpoint.clone()).collect::<Vec<_>>())
    .bind(n.iter().map(|r| r.status.to_owned()).collect::<Vec<_>>())
    .bind(n.iter().map(|r| ts(r.at_ms)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_access(tx: &mut Transaction<'_, Postgres>, rows: &Rows) -> Result<(), sqlx::Error> {
    let mut namespaces = BTreeMap::new();
    let mut grants = BTreeMap::new();
    for r in &rows.access {
        match r {
            AccessRow::Namespace {
                cluster_id,
                namespace,
                owner,
                at_ms,
            } => {
                namespaces.insert(
                    (cluster_id.clone(), namespace.clone()),
                    (owner.clone(), *at_ms),
                );
            }
            AccessRow::Grant {
                cluster_id,
                namespace,
                grantee,
                role,
                at_ms,
            } => {
                grants.insert(
                    (cluster_id.clone(), namespace.clone(), grantee.clone()),
                    (*role, *at_ms),
                );
            }
        }
    }
    let (kept, gone): (Vec<_>, Vec<_>) = namespaces
        .into_iter()
        .partition(|(_, (owner, _))| owner.is_some());
    sqlx::query(
        "INSERT INTO namespaces (cluster_id, namespace, owner, created_at)
         SELECT c, n, o, t FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(c, n, o, t)
         ON CONFLICT (cluster_id, namespace) DO UPDATE SET owner = EXCLUDED.owner, created_at = EXCLUDED.created_at",
    )
    .bind(kept.iter().map(|((c, _), _)| c.clone()).collect::<Vec<_>>())
    .bind(kept.iter().map(|((_, n), _)| n.clone()).collect::<Vec<_>>())
    .bind(kept.iter().map(|(_, (o, _))| o.clone().unwrap_or_default()).collect::<Vec<_>>())
    .bind(kept.iter().map(|(_, (_, t))| ts(*t)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM namespaces USING UNNEST($1::text[], $2::text[]) AS u(c, n) WHERE cluster_id = u.c AND namespace = u.n")
        .bind(gone.iter().map(|((c, _), _)| c.clone()).collect::<Vec<_>>())
        .bind(gone.iter().map(|((_, n), _)| n.clone()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    let (kept, gone): (Vec<_>, Vec<_>) = grants
        .into_iter()
        .partition(|(_, (role, _))| role.is_some());
    sqlx::query(
        "INSERT INTO grants (cluster_id, namespace, grantee, role, granted_at)
         SELECT c, n, g, r, t FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(c, n, g, r, t)
         ON CONFLICT (cluster_id, namespace, grantee) DO UPDATE SET role = EXCLUDED.role, granted_at = EXCLUDED.granted_at",
    )
    .bind(kept.iter().map(|((c, _, _), _)| c.clone()).collect::<Vec<_>>())
    .bind(kept.iter().map(|((_, n, _), _)| n.clone()).collect::<Vec<_>>())
    .bind(kept.iter().map(|((_, _, g), _)| g.clone()).collect::<Vec<_>>())
    .bind(kept.iter().map(|(_, (r, _))| r.unwrap_or_default().to_owned()).collect::<Vec<_>>())
    .bind(kept.iter().map(|(_, (_, t))| ts(*t)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "DELETE FROM grants USING UNNEST($1::text[], $2::text[], $3::text[]) AS u(c, n, g)
         WHERE cluster_id = u.c AND namespace = u.n AND grantee = u.g",
    )
    .bind(
        gone.iter()
            .map(|((c, _, _), _)| c.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        gone.iter()
            .map(|((_, n, _), _)| n.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        gone.iter()
            .map(|((_, _, g), _)| g.clone())
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_sealing_keys(
    tx: &mut Transaction<'_, Postgres>,
    rows: &Rows,
) -> Result<(), sqlx::Error> {
    if rows.sealing_keys.is_empty() {
        return Ok(());
    }
    let mut last = BTreeMap::new();
    for r in &rows.sealing_keys {
        last.insert((r.cluster_id.clone(), r.version), r);
    }
    let k: Vec<_> = last.into_values().collect();
    sqlx::query(
        "INSERT INTO sealing_keys (cluster_id, version, public_key, registered_by, registered_at)
         SELECT c, v, k, b, t FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::timestamptz[]) AS u(c, v, k, b, t)
         ON CONFLICT (cluster_id, version) DO UPDATE SET public_key = EXCLUDED.public_key,
             registered_by = EXCLUDED.registered_by, registered_at = EXCLUDED.registered_at",
    )
    .bind(k.iter().map(|r| r.cluster_id.clone()).collect::<Vec<_>>())
    .bind(k.iter().map(|r| r.version).collect::<Vec<_>>())
    .bind(k.iter().map(|r| r.public_key.clone()).collect::<Vec<_>>())
    .bind(k.iter().map(|r| r.registered_by.clone()).collect::<Vec<_>>())
    .bind(k.iter().map(|r| ts(r.at_ms)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_requests(
    tx: &mut Transaction<'_, Postgres>,
    rows: &Rows,
) -> Result<(), sqlx::Error> {
    let mut c = CopyText::new();
    for r in &rows.requests {
        c.text(&r.cluster_id)
            .int(r.request_id)
            .int(r.position.0)
            .int(r.position.1)
            .int(r.position.2)
            .text(&r.tx_digest)
            .text(&r.sender)
            .text(&r.verb)
            .text(&r.api_version)
            .text(&r.kind)
            .text(&r.namespace)
            .text(&r.name)
            .text(&r.manifest_sha256)
            .int(i64::from(r.manifest_bytes))
            .int(r.stake_mist)
            .time(ts(r.at_ms))
            .text(r.status)
            .opt(r.reason_code)
            .opt(r.reason.as_deref());
        c.end();
    }
    copy_in(
        tx,
        "COPY requests (cluster_id, request_id, checkpoint, tx_index, event_index, tx_digest, sender, verb, api_version,
                       kind, namespace, name, manifest_sha256, manifest_bytes, stake_mist, chain_time, status, reason_code, reason)
         FROM STDIN",
        &c,
    )
    .await
}

async fn write_outcomes(
    tx: &mut Transaction<'_, Postgres>,
    rows: &Rows,
    positions: &Positions,
) -> Result<(), sqlx::Error> {
    let o = &rows.outcomes;
    if o.is_empty() {
        return Ok(());
    }
    let topic = positions.outcomes.as_ref().map_or("", |c| c.topic.as_str());
    // An outcome whose request is not in the table would otherwise vanish
    // without a trace: it goes to quarantine in the same statement.
    sqlx::query(
        "WITH o AS (
             SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::int8[], $8::bytea[])
                 AS o(c, id, st, rc, re, rv, off, raw)),
         u AS (
             UPDATE requests r SET status = o.st, reason_code = o.rc,
                    reason = CASE WHEN o.st = 'rejected' THEN o.re END,
                    action = CASE WHEN o.st = 'applied' THEN o.re END,
                    resource_version = o.rv
             FROM o WHERE r.cluster_id = o.c AND r.request_id = o.id
             RETURNING r.cluster_id, r.request_id)
         INSERT INTO quarantine (topic, kafka_offset, reason, raw)
         SELECT $9, o.off, 'outcome for a request the log does not have: ' || o.c || ' #' || o.id, o.raw
         FROM o WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.cluster_id = o.c AND u.request_id = o.id)",
    )
    .bind(o.iter().map(|x| x.cluster_id.clone()).collect::<Vec<_>>())
    .bind(o.iter().map(|x| x.request_id).collect::<Vec<_>>())
    .bind(o.iter().map(|x| x.status.to_owned()).collect::<Vec<_>>())
    .bind(o.iter().map(|x| x.reason_code.map(str::to_owned)).collect::<Vec<_>>())
    .bind(o.iter().map(|x| x.reason.clone()).collect::<Vec<_>>())
    .bind(o.iter().map(|x| x.resource_version).collect::<Vec<_>>())
    .bind(o.iter().map(|x| x.offset).collect::<Vec<_>>())
    .bind(o.iter().map(|x| x.raw.clone()).collect::<Vec<_>>())
    .bind(topic)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_quarantine(
    tx: &mut Transaction<'_, Postgres>,
    rows: &Rows,
    positions: &Positions,
) -> Result<(), sqlx::Error> {
    let mut c = CopyText::new();
    for q in &rows.quarantine {
        let topic = match (q.stream, &positions.outcomes) {
            (Stream::Outcomes, Some(o)) => &o.topic,
            _ => &positions.log.topic,
        };
        c.text(topic).int(q.offset).text(&q.reason).bytes(&q.raw);
        c.end();
    }
    copy_in(
        tx,
        "COPY quarantine (topic, kafka_offset, reason, raw) FROM STDIN",
        &c,
    )
    .await
}
