//! The I/O half of the projector: one batch of rows and the consumed position
//! in one Postgres transaction, so a crash either keeps both or neither.
//!
//! Every table is written with one statement over `UNNEST` arrays (not row by
//! row); rows of one batch are collapsed to their last state per key first,
//! because one statement cannot touch the same row twice. Append-only tables
//! have no `ON CONFLICT`: a record applied twice is a bug and must fail loudly.

use std::collections::BTreeMap;

use sqlx::{PgPool, Postgres, Transaction};

use crate::processor::{AccessRow, Rows};

/// Where a consumer stands: the next offset to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// Consumer name (`projector`).
    pub consumer: String,
    /// Topic.
    pub topic: String,
    /// First offset not yet applied.
    pub next_offset: i64,
}

/// Reads the stored position (0 when the consumer never committed).
pub async fn load_position(pool: &PgPool, consumer: &str, topic: &str) -> Result<i64, sqlx::Error> {
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT next_offset FROM consumer_positions WHERE consumer = $1 AND topic = $2 AND partition = 0",
    )
    .bind(consumer)
    .bind(topic)
    .fetch_optional(pool)
    .await?;
    Ok(next.unwrap_or(0))
}

fn ts(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Writes `rows` and moves the position to `position.next_offset`, atomically.
pub async fn commit(pool: &PgPool, rows: &Rows, position: &Position) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    write_stakes(&mut tx, rows).await?;
    write_history(&mut tx, rows).await?;
    write_nodes(&mut tx, rows).await?;
    write_access(&mut tx, rows).await?;
    write_requests(&mut tx, rows).await?;
    write_quarantine(&mut tx, rows, &position.topic).await?;
    sqlx::query(
        "INSERT INTO consumer_positions (consumer, topic, partition, next_offset, updated_at)
         VALUES ($1, $2, 0, $3, now())
         ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
    )
    .bind(&position.consumer)
    .bind(&position.topic)
    .bind(position.next_offset)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
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
         SELECT s, r, a, to_timestamp(t) FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::float8[]) AS u(s, r, a, t)
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
    let h = &rows.history;
    sqlx::query(
        "INSERT INTO stake_history (checkpoint, tx_index, event_index, staker, role, change, amount_mist, total_after_mist, reason, epoch, chain_time)
         SELECT c, ti, ei, s, r, ch, a, ta, re, e, to_timestamp(t)
         FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int8[], $9::text[], $10::int8[], $11::float8[])
              AS u(c, ti, ei, s, r, ch, a, ta, re, e, t)",
    )
    .bind(h.iter().map(|r| r.position.0).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.position.1).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.position.2).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.staker.clone()).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.role.to_owned()).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.change.to_owned()).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.amount_mist).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.total_after_mist).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.reason.clone()).collect::<Vec<_>>())
    .bind(h.iter().map(|r| r.epoch).collect::<Vec<_>>())
    .bind(h.iter().map(|r| ts(r.at_ms)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_nodes(tx: &mut Transaction<'_, Postgres>, rows: &Rows) -> Result<(), sqlx::Error> {
    let mut last = BTreeMap::new();
    for r in &rows.nodes {
        last.insert(r.name.clone(), r);
    }
    let n: Vec<_> = last.into_values().collect();
    sqlx::query(
        "INSERT INTO nodes (name, operator, public_key, endpoint, status, updated_at)
         SELECT n, o, k, e, s, to_timestamp(t) FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[]) AS u(n, o, k, e, s, t)
         ON CONFLICT (name) DO UPDATE SET
             operator = CASE WHEN EXCLUDED.operator = '' THEN nodes.operator ELSE EXCLUDED.operator END,
             public_key = CASE WHEN EXCLUDED.public_key = '' THEN nodes.public_key ELSE EXCLUDED.public_key END,
             endpoint = CASE WHEN EXCLUDED.endpoint = '' THEN nodes.endpoint ELSE EXCLUDED.endpoint END,
             status = EXCLUDED.status, updated_at = EXCLUDED.updated_at",
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
         SELECT c, n, o, to_timestamp(t) FROM UNNEST($1::text[], $2::text[], $3::text[], $4::float8[]) AS u(c, n, o, t)
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
         SELECT c, n, g, r, to_timestamp(t) FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[]) AS u(c, n, g, r, t)
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

async fn write_requests(
    tx: &mut Transaction<'_, Postgres>,
    rows: &Rows,
) -> Result<(), sqlx::Error> {
    let r = &rows.requests;
    sqlx::query(
        "INSERT INTO requests (cluster_id, request_id, checkpoint, tx_index, event_index, tx_digest, sender, verb, api_version,
                               kind, namespace, name, manifest_sha256, manifest_bytes, stake_mist, chain_time, status, reason_code, reason)
         SELECT c, id, cp, ti, ei, d, s, v, av, k, ns, n, h, mb, st, to_timestamp(t), status, rc, re
         FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::text[], $7::text[], $8::text[], $9::text[],
                     $10::text[], $11::text[], $12::text[], $13::text[], $14::int4[], $15::int8[], $16::float8[], $17::text[], $18::text[], $19::text[])
              AS u(c, id, cp, ti, ei, d, s, v, av, k, ns, n, h, mb, st, t, status, rc, re)",
    )
    .bind(r.iter().map(|x| x.cluster_id.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.request_id).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.position.0).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.position.1).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.position.2).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.tx_digest.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.sender.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.verb.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.api_version.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.kind.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.namespace.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.name.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.manifest_sha256.clone()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.manifest_bytes).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.stake_mist).collect::<Vec<_>>())
    .bind(r.iter().map(|x| ts(x.at_ms)).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.status.to_owned()).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.reason_code.map(str::to_owned)).collect::<Vec<_>>())
    .bind(r.iter().map(|x| x.reason.clone()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_quarantine(
    tx: &mut Transaction<'_, Postgres>,
    rows: &Rows,
    topic: &str,
) -> Result<(), sqlx::Error> {
    let q = &rows.quarantine;
    sqlx::query(
        "INSERT INTO quarantine (topic, kafka_offset, reason, raw)
         SELECT $1, o, r, b FROM UNNEST($2::int8[], $3::text[], $4::bytea[]) AS u(o, r, b)",
    )
    .bind(topic)
    .bind(q.iter().map(|x| x.offset).collect::<Vec<_>>())
    .bind(q.iter().map(|x| x.reason.clone()).collect::<Vec<_>>())
    .bind(q.iter().map(|x| x.raw.clone()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
