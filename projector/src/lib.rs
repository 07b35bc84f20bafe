//! The projector: the log topic → Postgres tables for analysts.
//!
//! - [`store`] owns the Postgres connection and the schema migrations.

pub mod store;
