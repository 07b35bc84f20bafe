//! `daas stats …`: the analysts' views, printed as tables.
//!
//! Each subcommand reads one documented view of the projection
//! (`migrations/0002_projection.sql`); MIST amounts are shown in SUI.

use std::fmt::Write as _;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use sqlx::{Row, postgres::PgPoolOptions};

/// Where the projection is.
#[derive(Args, Clone, Debug)]
pub struct ProjectionArgs {
    /// Postgres connection URL of the projection.
    #[arg(
        long,
        global = true,
        env = "DAAS_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/daas"
    )]
    pub database_url: String,
    /// Schema holding the projection.
    #[arg(long, global = true, env = "DAAS_PG_SCHEMA", default_value = "daas")]
    pub schema: String,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// How rows are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, amounts in SUI.
    Table,
    /// Comma-separated, raw values (MIST), with a header line.
    Csv,
}

/// The views.
#[derive(Subcommand, Debug)]
pub enum Stats {
    /// Stakers by total stake across roles.
    TopStakers {
        /// Rows to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Net stake change per role and day.
    StakeByRole {
        /// Most recent days to show.
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Every slash, newest first.
    Slashing {
        /// Rows to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Requests per namespace and verb per day.
    Requests {
        /// Only this namespace.
        #[arg(long, short = 'n')]
        namespace: Option<String>,
        /// Most recent days to show.
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Rejected requests by reason.
    Rejections,
}

impl Stats {
    /// The view and the query over it (`$1` is the number argument, `$2` the text one).
    fn query(&self, schema: &str) -> (String, i64, Option<String>) {
        let q = |sql: &str| sql.replace("{s}", &format!("\"{schema}\""));
        match self {
            Stats::TopStakers { limit } => (
                q("SELECT staker, total_mist, roles FROM {s}.top_stakers LIMIT $1"),
                *limit,
                None,
            ),
            Stats::StakeByRole { days } => (
                q("SELECT day::date AS day, role, net_change_mist, changes FROM {s}.stake_by_role_daily
                   WHERE day > (SELECT max(day) FROM {s}.stake_by_role_daily) - make_interval(days => $1::int)
                   ORDER BY day, role"),
                *days,
                None,
            ),
            Stats::Slashing { limit } => (
                q("SELECT chain_time, staker, role, amount_mist, total_after_mist, reason, epoch
                   FROM {s}.slashing_history LIMIT $1"),
                *limit,
                None,
            ),
            Stats::Requests { namespace, days } => (
                q("SELECT day::date AS day, namespace, verb, requests FROM {s}.requests_per_namespace_daily
                   WHERE day > (SELECT max(day) FROM {s}.requests_per_namespace_daily) - make_interval(days => $1::int)
                     AND ($2::text IS NULL OR namespace = $2)
                   ORDER BY day, namespace, verb"),
                *days,
                namespace.clone(),
            ),
            Stats::Rejections => (
                q("SELECT reason_code, requests, last_seen FROM {s}.rejection_reasons WHERE $1 >= 0"),
                0,
                None,
            ),
        }
    }
}

/// Connects to the projection database; checks `schema` is a plain name
/// (it is spliced into SQL).
pub async fn connect(database_url: &str, schema: &str) -> anyhow::Result<sqlx::PgPool> {
    anyhow::ensure!(
        !schema.is_empty()
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "schema {schema:?}: lower-case letters, digits and _ only",
    );
    PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await
        .with_context(|| format!("cannot connect to the projection database ({database_url})"))
}

/// Runs the query and returns the printed table.
pub async fn run(stats: &Stats, args: &ProjectionArgs) -> anyhow::Result<String> {
    let pool = connect(&args.database_url, &args.schema).await?;
    let (sql, n, text) = stats.query(&args.schema);
    // Every column as text: the printer does not need to know the types.
    let wrapped = format!("SELECT to_jsonb(t)::text FROM ({sql}) t");
    let names = columns(&sql);
    let rows = sqlx::query(&wrapped)
        .bind(n)
        .bind(text)
        .fetch_all(&pool)
        .await
        .with_context(|| {
            format!(
                "querying {}.*: is the projector running (`projector check` creates the schema)?",
                args.schema
            )
        })?;
    let mut table = Vec::with_capacity(rows.len());
    for row in rows {
        let json: String = row.try_get(0)?;
        let v: serde_json::Value = serde_json::from_str(&json)?;
        table.push(
            names
                .iter()
                .map(|c| match v.get(c) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect::<Vec<_>>(),
        );
    }
    pool.close().await;
    Ok(render(&names, &table, args.format))
}

/// Output column names of a `SELECT a, b AS c, … FROM` (the queries above are ours).
fn columns(sql: &str) -> Vec<String> {
    let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let select = sql.trim_start_matches("SELECT").trim_start();
    let list = select.split(" FROM ").next().unwrap_or_default();
    list.split(',')
        .map(|c| c.rsplit(" AS ").next().unwrap_or(c).trim().to_owned())
        .collect()
}

/// Formats rows; in a table, `*_mist` columns become SUI amounts.
pub fn render(names: &[String], rows: &[Vec<String>], format: Format) -> String {
    let mut out = String::new();
    if format == Format::Csv {
        let _ = writeln!(out, "{}", names.join(","));
        for r in rows {
            let cells: Vec<_> = r
                .iter()
                .map(|c| {
                    if c.contains([',', '"', '\n']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
        return out;
    }
    let heads: Vec<String> = names
        .iter()
        .map(|n| match n.strip_suffix("_mist") {
            Some(base) => format!("{}_sui", base).to_uppercase(),
            None => n.to_uppercase(),
        })
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(names)
                .map(|(v, n)| {
                    if n.ends_with("_mist") {
                        sui(v)
                    } else {
                        v.clone()
                    }
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..heads.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([heads[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |r: &[String]| {
        r.iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let _ = writeln!(out, "{}", line(&heads));
    for r in &cells {
        let _ = writeln!(out, "{}", line(r));
    }
    if rows.is_empty() {
        let _ = writeln!(out, "(no rows)");
    }
    out
}

/// MIST (possibly negative) as SUI, without trailing zeros.
fn sui(mist: &str) -> String {
    match mist.parse::<i128>() {
        Ok(v) => {
            let sign = if v < 0 { "-" } else { "" };
            let v = v.unsigned_abs();
            let (whole, frac) = (v / 1_000_000_000, v % 1_000_000_000);
            if frac == 0 {
                format!("{sign}{whole}")
            } else {
                format!(
                    "{sign}{whole}.{}",
                    format!("{frac:09}").trim_end_matches('0')
                )
            }
        }
        Err(_) => mist.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_show_sui() {
        let names = vec!["staker".to_string(), "total_mist".into(), "roles".into()];
        let rows = vec![
            vec!["0xab".to_string(), "12500000000".into(), "2".into()],
            vec!["0xabcdef".to_string(), "-500000000".into(), "1".into()],
        ];
        assert_eq!(
            render(&names, &rows, Format::Table),
            "STAKER    TOTAL_SUI  ROLES\n0xab      12.5       2\n0xabcdef  -0.5       1\n"
        );
        assert_eq!(
            render(&names, &rows, Format::Csv),
            "staker,total_mist,roles\n0xab,12500000000,2\n0xabcdef,-500000000,1\n"
        );
        assert_eq!(
            render(&names, &[], Format::Table),
            "STAKER  TOTAL_SUI  ROLES\n(no rows)\n"
        );
    }

    #[test]
    fn column_names_come_from_the_queries() {
        let (sql, _, _) = Stats::StakeByRole { days: 1 }.query("daas");
        assert_eq!(columns(&sql), ["day", "role", "net_change_mist", "changes"]);
        let (sql, _, _) = Stats::Rejections.query("daas");
        assert_eq!(columns(&sql), ["reason_code", "requests", "last_seen"]);
    }
}
