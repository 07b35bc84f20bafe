//! The projector: the log topic → Postgres tables for analysts.
//!
//! - [`processor`] turns log records into table rows through the shared ledger (pure);
//! - [`committer`] writes a batch of rows and the consumed position in one transaction;
//! - [`pipeline`] restores the ledger and consumes the log in batches from the stored position;
//! - [`store`] owns the Postgres connection and the schema migrations.

pub mod committer;
pub mod pipeline;
pub mod processor;
pub mod store;
