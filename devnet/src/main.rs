//! `devnet`: the local Sui-API-compatible dev chain.

use clap::Parser;
use daas_service::LogArgs;

/// A single-process dev chain that serves Sui's gRPC API (`sui.rpc.v2`) and runs
/// the k3s-daas Move package natively, so the product works offline.
///
/// Not built yet: the server arrives with the dev chain issue (#4). Until then
/// this binary only documents itself and exits with status 2.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.log.init();
    eprintln!("devnet: the dev chain server is not built yet (issue #4)");
    std::process::ExitCode::from(2)
}
