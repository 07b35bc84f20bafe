//! The Postgres side of the projector: the only module that talks to the database.

use clap::Args;
use std::{collections::BTreeMap, str::FromStr};

use sqlx::{
    PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// The workspace's migrations (`migrations/`), embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Where the projection lives.
#[derive(Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// Postgres connection URL.
    #[arg(
        long,
        env = "DAAS_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/daas"
    )]
    pub database_url: String,
    /// Schema holding the projection (tables, views, positions). Analysts
    /// query `<schema>.<view>`; a rebuild swaps a whole new schema in.
    #[arg(long, env = "DAAS_PG_SCHEMA", default_value = "daas")]
    pub schema: String,
}

/// Why the database is not usable.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Connecting failed.
    #[error("cannot connect to {url}")]
    Connect {
        /// The URL, without a password if it had one.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying a migration failed.
    #[error("migrations failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("query failed")]
    Query(#[from] sqlx::Error),
    /// The schema name is not a plain identifier.
    #[error("schema name {0:?} must be lower-case letters, digits and _ (at most 48)")]
    SchemaName(String),
}

/// Opens a pool on `args.schema`: every connection's `search_path` is that
/// schema, so the migrations, the committer and readers use plain table names.
/// The schema is created when missing.
pub async fn connect(args: &DatabaseArgs) -> Result<PgPool, StoreError> {
    connect_schema(&args.database_url, &args.schema).await
}

/// [`connect`] for an explicit schema (a rebuild writes into a new one).
pub async fn connect_schema(url: &str, schema: &str) -> Result<PgPool, StoreError> {
    check_schema_name(schema)?;
    let err = |source| StoreError::Connect {
        url: redact(url),
        source,
    };
    let options = PgConnectOptions::from_str(url)
        .map_err(err)?
        .options([("search_path", schema)]);
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(err)?;
    // Two processes creating it at once race inside Postgres (IF NOT EXISTS
    // is not atomic): the loser's unique violation means it exists.
    match sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .execute(&pool)
        .await
    {
        Ok(_) => Ok(pool),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => Ok(pool),
        Err(e) => Err(e.into()),
    }
}

/// Schema names are spliced into DDL (it takes no parameters): only plain
/// lower-case identifiers are accepted.
pub fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= 48
        && schema.starts_with(|c: char| c.is_ascii_lowercase())
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::SchemaName(schema.to_owned()))
    }
}

/// Every row of every projection table, as JSON text, sorted: two
/// projections are the same iff their dumps are equal. The positions' clock
/// column is left out (it is wall time, not log-derived).
pub async fn dump(pool: &PgPool) -> Result<BTreeMap<&'static str, Vec<String>>, sqlx::Error> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        let query = if table == "consumer_positions" {
            "SELECT json_build_array(consumer, topic, partition, next_offset)::text AS j FROM consumer_positions ORDER BY 1"
                .to_owned()
        } else {
            format!("SELECT row_to_json(t)::text AS j FROM {table} t ORDER BY 1")
        };
        out.insert(table, sqlx::query_scalar(&query).fetch_all(pool).await?);
    }
    Ok(out)
}

/// The projection's tables.
pub const TABLES: [&str; 9] = [
    "stakes",
    "stake_history",
    "nodes",
    "namespaces",
    "grants",
    "sealing_keys",
    "requests",
    "quarantine",
    "consumer_positions",
];

/// Connects, applies pending migrations and reports the server and schema version.
pub async fn check(args: &DatabaseArgs) -> Result<String, StoreError> {
    let pool = connect(args).await?;
    MIGRATOR.run(&pool).await?;
    let server: String = sqlx::query_scalar("show server_version")
        .fetch_one(&pool)
        .await?;
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(format!(
        "postgres {} ok (server {server}); schema {}: {applied}/{} migrations applied",
        redact(&args.database_url),
        args.schema,
        MIGRATOR.iter().count()
    ))
}

/// Hides the password of a URL for logs and errors.
pub fn redact(url: &str) -> String {
    let Some(userinfo_lo) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let Some(at) = url[userinfo_lo..].find('@').map(|i| i + userinfo_lo) else {
        return url.to_owned();
    };
    match url[userinfo_lo..at].find(':') {
        Some(colon) => format!("{}:***{}", &url[..userinfo_lo + colon], &url[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://u:secret@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(redact("postgres://u@h:5/db"), "postgres://u@h:5/db");
    }
}
