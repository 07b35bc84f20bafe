//! What every k3s-daas service binary shares, so each `main.rs` stays a page of wiring:
//!
//! - [`health`]: `GET /healthz` and `daas_healthy`, from the problems a stage reports;
//! - [`logging`]: structured `tracing` output, text for people or JSON for machines;
//! - [`metrics`]: the Prometheus text endpoint (`GET /metrics`) over a registry;
//! - [`progress`]: a progress bar for long work, or log lines when there is no terminal;
//! - [`shutdown`]: a cancellation token tripped by SIGTERM or SIGINT;
//! - [`verification`]: the log verifier's metrics and log lines (master, projector).

pub mod health;
pub mod logging;
pub mod metrics;
pub mod nitro_root;
pub mod progress;
pub mod shutdown;
pub mod verification;
pub mod verify_status;

pub use health::Health;
pub use logging::{LogArgs, LogFormat};
pub use metrics::{serve_metrics, spawn_http, spawn_metrics};
pub use shutdown::shutdown_on_signals;
