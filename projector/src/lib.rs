//! The projector: the log topic → Postgres tables for analysts.
//!
//! - [`processor`] turns log records into table rows through the shared ledger (pure);
//! - [`store`] owns the Postgres connection and the schema migrations.

pub mod processor;
pub mod store;
