//! The `daas` command line's parts:
//!
//! - [`args`]: the command line's definition (clap) and `--help` examples;
//! - [`config`]: `~/.config/daas/config.toml`, with env and flag overrides;
//! - [`keystore`]: keys in Sui's `sui.keystore` and `suiprivkey` formats;
//! - [`chain`]: build, sign and execute our package's calls over gRPC;
//! - [`session`]: configuration + node + signing key, for chain commands;
//! - [`files`]: `-f FILE|DIR|-` into one request per document;
//! - [`write`]: apply/create/replace/delete and `status`, kubectl-style;
//! - [`seal`]: sealed Secrets (the cluster's key from chain, `daas seal`,
//!   `daas admin register-sealing-key`); [`warnings`]: secret-looking env
//!   vars in pod templates;
//! - [`outcome`]: the master's status API client (waiting for outcomes);
//! - [`stake`]: stake, unstake, nodes, admin actions, `stake show`;
//! - [`faucet`]; [`stats`]: the analysts' views; [`bench`]: `daas bench latency`.

pub mod args;
pub mod bench;
pub mod chain;
pub mod config;
pub mod enclave;
pub mod faucet;
pub mod files;
pub mod keystore;
pub mod kubectl;
pub mod outcome;
pub mod seal;
pub mod session;
pub mod stake;
pub mod stats;
pub mod warnings;
pub mod write;
