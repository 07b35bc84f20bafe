//! A fresh Postgres database per test, with the workspace migrations applied.

use anyhow::Context;
use sqlx::{Connection, PgConnection, PgPool, migrate::Migrator, postgres::PgPoolOptions};

use crate::{Stack, unique_name};

/// The workspace's migrations (`migrations/`), embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A database that exists for one test and is dropped with it.
pub struct TestDb {
    /// Pool connected to the test database.
    pub pool: PgPool,
    /// Connection URL of the test database (to hand to a service under test).
    pub url: String,
    /// Database name.
    pub name: String,
    admin_url: String,
}

impl TestDb {
    /// Creates a database with a unique name and applies [`MIGRATOR`].
    pub async fn new(stack: &Stack) -> anyhow::Result<Self> {
        let db = Self::empty(stack).await?;
        MIGRATOR
            .run(&db.pool)
            .await
            .with_context(|| format!("applying migrations to {}", db.name))?;
        Ok(db)
    }

    /// Creates a database with a unique name and no tables.
    pub async fn empty(stack: &Stack) -> anyhow::Result<Self> {
        let name = unique_name("t");
        let mut admin = PgConnection::connect(&stack.pg_admin_url)
            .await
            .with_context(|| format!("connecting to {}", stack.pg_admin_url))?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .with_context(|| format!("creating database {name}"))?;
        let url = stack.pg_url(&name)?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        Ok(Self {
            pool,
            url,
            name,
            admin_url: stack.pg_admin_url.clone(),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which this thread blocks while it
        // waits: do the cleanup on a thread with its own runtime and its own
        // connection, and never touch `self.pool` there (its sockets belong to
        // the blocked runtime). FORCE ends the pool's sessions server-side.
        let (name, admin_url) = (self.name.clone(), self.admin_url.clone());
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
