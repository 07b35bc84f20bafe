//! The projector: the log topic → Postgres tables for analysts.
//!
//! - [`processor`] turns log records into table rows through the shared ledger (pure);
//! - [`committer`] writes a batch of rows and the consumed position in one transaction;
//! - [`store`] owns the Postgres connection and the schema migrations.

pub mod committer;
pub mod processor;
pub mod store;
