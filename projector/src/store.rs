//! The Postgres side of the projector: the only module that talks to the database.

use clap::Args;
use sqlx::{PgPool, migrate::Migrator, postgres::PgPoolOptions};

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
}

/// Opens a pool.
pub async fn connect(args: &DatabaseArgs) -> Result<PgPool, StoreError> {
    PgPoolOptions::new()
        .max_connections(8)
        .connect(&args.database_url)
        .await
        .map_err(|source| StoreError::Connect {
            url: redact(&args.database_url),
            source,
        })
}

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
        "postgres {} ok (server {server}); {applied}/{} migrations applied",
        redact(&args.database_url),
        MIGRATOR.iter().count()
    ))
}

/// Hides the password of a URL for logs and errors.
fn redact(url: &str) -> String {
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
