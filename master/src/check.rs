//! `master check`: etcd reachable, the pinned committee and how far the
//! stored verifier state got, the running master's live verification
//! (`--api`: the gap it waits on), and whether the master's state in etcd is
//! authentic.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use daas_master::{
    sealing_keys::FileKeyStore,
    state::Layout,
    state_mac::{Loaded, StateKey},
    store::{self, EtcdArgs},
    verification::VerifyArgs,
};
use daas_service::verify_status::VerifyView;

/// Runs every check `args` asks for; fails when the state is not authentic
/// or the running master cannot be asked.
pub async fn run(args: &CheckArgs) -> anyhow::Result<()> {
    let report = store::check(&args.etcd).await?;
    println!("master: {report}");
    if let Some(file) = &args.genesis_committee {
        check_verifier(args, file).await?;
    }
    if let Some(url) = &args.api {
        check_live(url).await?;
    }
    if let Some(dir) = &args.sealing_key_dir {
        let ok = check_state(args, dir).await?;
        anyhow::ensure!(ok, "the master's state is not authentic");
    }
    Ok(())
}

/// What `master check` checks.
#[derive(Args, Clone, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    etcd: EtcdArgs,
    /// Root of the master's own keys.
    #[arg(long, env = "DAAS_ETCD_STATE_PREFIX", default_value = "/daas")]
    state_prefix: String,
    /// The master's key directory: its `state-key` authenticates the state
    /// (not created by `check`).
    #[arg(long, env = "DAAS_MASTER_SEALING_KEY_DIR")]
    sealing_key_dir: Option<PathBuf>,
    /// The pinned genesis committee (as for `run`): printed, with how far
    /// the verifier state under the state prefix got from it.
    #[arg(long, env = "DAAS_GENESIS_COMMITTEE", value_name = "FILE")]
    genesis_committee: Option<PathBuf>,
    /// The running master's API (`http://` + its `--metrics-listen`
    /// address): prints its live verification, and the missing record when a
    /// gap holds the log back.
    #[arg(long, value_name = "URL")]
    api: Option<String>,
}

/// `master check`'s lines about the running master's verification.
async fn check_live(url: &str) -> anyhow::Result<()> {
    let url = format!("{}/v1/verification", url.trim_end_matches('/'));
    let view: VerifyView = reqwest::get(&url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("GET {url}"))?
        .json()
        .await
        .with_context(|| format!("GET {url}: not a verification answer"))?;
    if !view.verifying {
        println!("live: NOT VERIFYING (the master runs with --insecure-no-verify)");
        return Ok(());
    }
    let last = view
        .last_verified
        .map_or("none".to_owned(), |(seq, d)| format!("{seq} digest {d}"));
    println!(
        "live: epoch reached {}, last verified checkpoint {last}",
        view.epoch
    );
    match &view.gap {
        Some(g) => println!(
            "live: GAP: {} ({} records held); nothing past it is applied until it arrives",
            g.text, view.held
        ),
        None => println!("live: no gap"),
    }
    if view.parked > 0 {
        println!("live: {} records wait aside for their proofs", view.parked);
    }
    Ok(())
}

/// `master check`'s lines about verification: the pinned committee and the
/// verifier state stored under the state prefix (its payload, read here
/// without the state key; `--sealing-key-dir` authenticates it).
async fn check_verifier(args: &CheckArgs, file: &Path) -> anyhow::Result<()> {
    let setup = VerifyArgs::pinned(file.to_path_buf())
        .setup()?
        .context("a pinned committee")?;
    let g = &setup.genesis;
    let total: u64 = g.members.iter().map(|m| m.stake).sum();
    println!(
        "verify: pinned genesis committee: epoch {}, {} members, total stake {total}, quorum {}",
        g.epoch,
        g.members.len(),
        (total.saturating_sub(1) / 3) * 2 + 1
    );
    for (i, m) in g.members.iter().enumerate() {
        let key = hex::encode(m.public_key.inner());
        println!(
            "verify:   member {i}: {}…{} stake {}",
            &key[..16],
            &key[key.len() - 8..],
            m.stake
        );
    }
    let mut client = store::connect(&args.etcd).await?;
    let layout = Layout::new(&args.etcd.prefix, &args.state_prefix);
    let got = client.get(layout.verifier(), None).await?;
    let Some(kv) = got.kvs().first() else {
        println!(
            "verify: no verifier state under {} yet (nothing verified)",
            args.state_prefix
        );
        return Ok(());
    };
    let state = daas_verify::State::decode(daas_master::state_mac::payload(kv.value()), g)?;
    println!("verify: epoch reached {}", state.epoch());
    match &state.last_verified {
        Some((seq, digest)) => println!("verify: last verified checkpoint {seq} digest {digest}"),
        None => println!("verify: last verified checkpoint none"),
    }
    for (stream, next) in &state.sequences.expected {
        println!("verify: stream {stream} next {next}");
    }
    println!("verify: resume offset {}", state.resume_from);
    Ok(())
}

/// `master check`'s lines about the master's state.
async fn check_state(args: &CheckArgs, dir: &Path) -> anyhow::Result<bool> {
    let file = dir.join(daas_master::state_mac::STATE_KEY_FILE);
    if !file.exists() {
        println!("master: state not checked: no {} yet", file.display());
        return Ok(true);
    }
    let key = StateKey::load_or_make(&FileKeyStore::new(dir)).context("state key")?;
    let mut client = store::connect(&args.etcd).await?;
    let layout = Layout::new(&args.etcd.prefix, &args.state_prefix);
    match daas_master::state_mac::load(&mut client, &layout, &key).await? {
        Loaded::Authentic(a) => {
            println!(
                "master: state under {} authentic: position {}, {} ledger and eviction keys \
                 (digest {}), {} outcome batches",
                args.state_prefix,
                a.position.cursor.encode(),
                a.set.count(),
                hex::encode(a.set.digest()),
                a.outcome_batches
            );
            if a.position.rebuild_until > a.position.cursor.offset {
                println!(
                    "master: a rebuild from the log is under way up to offset {}",
                    a.position.rebuild_until
                );
            }
            Ok(true)
        }
        Loaded::Tampered(t) => {
            println!(
                "master: state under {} NOT AUTHENTIC ({} problems); `master run` rebuilds it from the log",
                args.state_prefix,
                t.problems.len()
            );
            for (key, reason) in &t.problems {
                println!("master:   {key}: {reason}");
            }
            Ok(false)
        }
    }
}
