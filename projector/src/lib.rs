//! The projector: the log topic (and the master's outcomes) → Postgres tables
//! for analysts.
//!
//! - [`processor`] turns log records into table rows through the shared ledger (pure);
//!   every value it puts in a row is storable, so no record can make a commit fail;
//! - [`committer`] writes a batch of rows and the consumed positions in one transaction
//!   ([`copy`] formats the append-only tables' rows for COPY);
//! - [`pipeline`] restores the ledger and consumes the topics in batches from the stored positions;
//! - [`rebuild`] projects the whole log into a fresh schema and swaps it in atomically;
//! - [`storable`] decides how each value is stored (escaped, shortened) or why it cannot be;
//! - [`store`] owns the Postgres connection, the schema and the migrations;
//! - [`verification`] checks each log record against Sui's validators before the processor sees it;
//! - [`metrics`] the Prometheus metrics.

pub mod committer;
pub mod copy;
pub mod metrics;
pub mod pipeline;
pub mod processor;
pub mod rebuild;
pub mod storable;
pub mod store;
pub mod verification;
