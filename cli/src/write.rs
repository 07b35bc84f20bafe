//! `daas apply|create|replace|delete`: each object becomes one
//! `gateway::submit_request` transaction; then the master's outcome is awaited
//! and printed the way kubectl prints its results.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use clap::Args;
use daas_domain::{Event, kinds, outcome::OutcomeView};

use crate::{
    chain::{self, Chain, Executed},
    config::Settings,
    enclave::{self, ReceiptChecker},
    files::{self, Doc},
    outcome::Master,
    session::Session,
};

/// Options every write shares.
#[derive(Args, Clone, Debug)]
pub struct WaitArgs {
    /// Return once the transaction is final, without waiting for the master.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for the master's outcome.
    #[arg(long, default_value = "60s", value_parser = humantime_secs)]
    pub timeout: Duration,
}

/// `-f` and `-n`.
#[derive(Args, Clone, Debug)]
pub struct FileArgs {
    /// A YAML/JSON file (several documents allowed), a folder of them, or `-` for stdin.
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR|-")]
    pub file: PathBuf,
    /// Namespace for objects that do not name one [default: default].
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
}

/// Parses `30s`, `2m` or a number of seconds.
pub fn humantime_secs(s: &str) -> Result<Duration, String> {
    let (num, unit) = match s.strip_suffix('s') {
        Some(n) => (n, 1),
        None => match s.strip_suffix('m') {
            Some(n) => (n, 60),
            None => (s, 1),
        },
    };
    num.parse::<u64>()
        .map(|n| Duration::from_secs(n * unit))
        .map_err(|_| format!("{s:?} is not a duration like 30s or 2m"))
}

/// One submitted request and its transaction.
struct Submitted {
    shown: String,
    request_id: Option<u64>,
    tx: Executed,
}

async fn submit(s: &mut Session, verb: &str, doc: &Doc) -> anyhow::Result<Submitted> {
    let cluster = s.cluster()?;
    let pool = s.pool;
    let tx = s
        .chain
        .call(&s.key, "gateway", "submit_request", |b| {
            vec![
                chain::shared(b, cluster),
                chain::shared(b, pool),
                b.pure(&verb),
                b.pure(&doc.api_version),
                b.pure(&doc.kind),
                b.pure(&doc.namespace),
                b.pure(&doc.name),
                b.pure(&doc.manifest),
                chain::clock(b),
            ]
        })
        .await
        .map_err(|e| match e {
            chain::ChainError::Refused { code: 101, .. } => {
                let need = daas_domain::Verb::parse(verb)
                    .map(|v| daas_domain::roles::required_stake(v, &doc.kind))
                    .unwrap_or(0);
                anyhow::anyhow!(
                    "{}: {e}; {verb} on {} needs a tier of {} SUI (`daas stake show`)",
                    doc.shown(),
                    doc.kind,
                    crate::stake::sui(need)
                )
            }
            e => anyhow::anyhow!("{}: {e}", doc.shown()),
        })?;
    let request_id = tx.events.iter().find_map(|e| match e {
        Event::K8sApiRequest(r) => Some(r.request_id),
        _ => None,
    });
    Ok(Submitted {
        shown: doc.shown(),
        request_id,
        tx,
    })
}

/// Submits one object; its request id and transaction digest.
pub async fn submit_one(s: &mut Session, verb: &str, doc: &Doc) -> anyhow::Result<(u64, String)> {
    let sub = submit(s, verb, doc).await?;
    let id = sub
        .request_id
        .ok_or_else(|| anyhow::anyhow!("{}: the transaction emitted no request", sub.shown))?;
    Ok((id, sub.tx.digest.to_string()))
}

/// Prints an outcome's warnings as kubectl does (`Warning: ...`, on stderr).
pub fn print_warnings(o: &OutcomeView) {
    for w in &o.warnings {
        eprintln!("Warning: {w}");
    }
}

/// kubectl's line for an outcome.
pub fn line(shown: &str, o: &OutcomeView) -> String {
    if o.is_applied() {
        format!(
            "{shown} {} (tx {}, checkpoint {}, request {}, resourceVersion {})",
            o.action, o.transaction_digest, o.checkpoint, o.request_id, o.resource_version
        )
    } else {
        format!(
            "Error from the master: {shown} rejected: {}: {} (tx {}, request {})",
            o.reason, o.message, o.transaction_digest, o.request_id
        )
    }
}

/// Submits `docs` with `verb`, one transaction each, waiting for outcomes
/// unless told not to, and checking each outcome's receipt against the
/// enclaves registered on chain. Fails (after trying every object) if any
/// was refused, or any receipt did not verify.
pub async fn run(
    s: &mut Session,
    verb: &str,
    docs: &[Doc],
    wait: &WaitArgs,
    allow_dev: bool,
) -> anyhow::Result<()> {
    let master = if wait.no_wait {
        None
    } else {
        Some(Master::new(&s.settings.master_url()?)?)
    };
    let mut checker = ReceiptChecker::new(s.cluster()?, allow_dev);
    let (mut failed, mut unverified) = (0, 0);
    for doc in docs {
        let sub = match submit(s, verb, doc).await {
            Ok(sub) => sub,
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed += 1;
                continue;
            }
        };
        let (Some(master), Some(id)) = (&master, sub.request_id) else {
            println!(
                "{} submitted (tx {}, checkpoint {}, request {})",
                sub.shown,
                sub.tx.digest,
                sub.tx
                    .checkpoint
                    .map_or_else(|| "pending".to_owned(), |c| c.to_string()),
                sub.request_id
                    .map_or_else(|| "?".to_owned(), |id| id.to_string())
            );
            continue;
        };
        let o = match master.wait(id, wait.timeout).await {
            Ok(o) => o,
            Err(e) => {
                eprintln!("Error: {}: {e:#}", sub.shown);
                failed += 1;
                continue;
            }
        };
        print_warnings(&o);
        if o.is_applied() {
            println!("{}", line(&sub.shown, &o));
        } else {
            eprintln!("{}", line(&sub.shown, &o));
            failed += 1;
        }
        if !report_receipt(&mut checker, &mut s.chain, &sub.shown, &o).await {
            unverified += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} of {} objects were not applied", docs.len());
    }
    if unverified > 0 {
        bail!(
            "{unverified} of {} outcomes carry a receipt that does not verify: the master's \
             answer is not vouched for by an enclave registered on chain",
            docs.len()
        );
    }
    Ok(())
}

/// Checks `o`'s receipt and prints the verdict; true when it verified.
async fn report_receipt(
    checker: &mut ReceiptChecker,
    chain: &mut Chain,
    shown: &str,
    o: &OutcomeView,
) -> bool {
    match checker.check(chain, o).await {
        Ok(Ok(v)) => {
            enclave::print_verified(&v);
            true
        }
        Ok(Err(refusal)) => {
            eprintln!("Error: {shown}: receipt refused: {refusal}");
            false
        }
        Err(e) => {
            eprintln!("Error: {shown}: checking the receipt: {e:#}");
            false
        }
    }
}

/// The request for `daas delete KIND NAME`.
pub fn delete_doc(kind: &str, name: &str, namespace: Option<&str>) -> anyhow::Result<Doc> {
    let lower = kind.to_ascii_lowercase();
    let Some(info) = kinds::KINDS.iter().find(|k| {
        k.kind.eq_ignore_ascii_case(&lower) || k.plural == lower || k.kubectl_name() == lower
    }) else {
        let known: Vec<&str> = kinds::KINDS.iter().map(|k| k.plural).collect();
        bail!("unknown kind {kind:?}; managed kinds: {}", known.join(", "));
    };
    Ok(Doc {
        source: "command line".into(),
        api_version: info.api_version.into(),
        kind: info.kind.into(),
        namespace: if info.namespaced {
            namespace.unwrap_or("default").to_owned()
        } else {
            String::new()
        },
        name: name.to_owned(),
        manifest: Vec::new(),
    })
}

/// Reads `-f` for a verb.
pub fn docs(args: &FileArgs) -> anyhow::Result<Vec<Doc>> {
    files::read(&args.file, args.namespace.as_deref())
}

/// `daas status` with `--verify` and `--from-file`.
#[derive(Clone, Copy, Debug)]
pub struct StatusArgs<'a> {
    /// A request id or a transaction digest.
    pub what: Option<&'a str>,
    /// Check each receipt.
    pub verify: bool,
    /// Read the outcome(s) from this file instead of the master.
    pub from_file: Option<&'a Path>,
    /// Accept a dev enclave's receipts.
    pub allow_dev: bool,
}

/// `daas status REQUEST_ID|TX_DIGEST [--verify [--from-file FILE]]`.
pub async fn status(settings: &Settings, args: StatusArgs<'_>) -> anyhow::Result<()> {
    let found = match (args.from_file, args.what) {
        (Some(path), _) => outcomes_in(path)?,
        (None, Some(what)) => {
            let master = Master::new(&settings.master_url()?)?;
            let found: Vec<OutcomeView> = match what.parse::<u64>() {
                Ok(id) => master.request(id).await?.into_iter().collect(),
                Err(_) => master.transaction(what).await?,
            };
            if found.is_empty() {
                bail!(
                    "no outcome for {what} yet (not applied so far, or not for this master's cluster)"
                );
            }
            found
        }
        (None, None) => bail!("name a request id or a transaction digest, or --from-file"),
    };
    for o in &found {
        let shown = if o.is_applied() {
            o.key.clone()
        } else {
            format!("request {}", o.request_id)
        };
        print_warnings(o);
        println!("{}", line(&shown, o));
    }
    if args.verify {
        verify_all(settings, &found, args.allow_dev).await?;
    }
    Ok(())
}

/// Checks every outcome's receipt, printing the key, the attestation time
/// and the ledger root@offset of each; fails if any does not verify.
async fn verify_all(
    settings: &Settings,
    found: &[OutcomeView],
    allow_dev: bool,
) -> anyhow::Result<()> {
    let (mut chain, cluster) = enclave::reader(settings).await?;
    let mut checker = ReceiptChecker::new(cluster, allow_dev).without_wait();
    let mut refused = Vec::new();
    for o in found {
        match checker.check(&mut chain, o).await? {
            Ok(v) => {
                enclave::print_verified(&v);
                let e = &v.enclave.event;
                println!("  enclave key: {}", hex::encode(&e.public_key.0));
                println!(
                    "  attested:    {} ({} ms), PCR set {}, tx {}",
                    enclave::rfc3339(e.attestation_timestamp_ms),
                    e.attestation_timestamp_ms,
                    e.pcr_version,
                    v.enclave.transaction_digest
                );
                println!("  ledger root: {}@{}", o.ledger_root, o.ledger_root_offset);
            }
            Err(r) => {
                eprintln!("receipt of request {}: NOT verified: {r}", o.request_id);
                refused.push(r);
            }
        }
    }
    match refused.as_slice() {
        [] => Ok(()),
        [one] => bail!("the receipt does not verify: {one}"),
        many => bail!("{} of {} receipts do not verify", many.len(), found.len()),
    }
}

/// The outcome(s) in a file: one status API answer (an object) or a list.
pub fn outcomes_in(path: &Path) -> anyhow::Result<Vec<OutcomeView>> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let list = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    anyhow::ensure!(!list.is_empty(), "{}: no outcome in it", path.display());
    list.into_iter()
        .map(|v| {
            serde_json::from_value(v).with_context(|| format!("{}: not an outcome", path.display()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_found_as_kubectl_spells_them() {
        for k in ["deployment", "Deployment", "deployments", "deployment.apps"] {
            let d = delete_doc(k, "web", Some("team-a")).expect(k);
            assert_eq!(
                (d.kind.as_str(), d.api_version.as_str()),
                ("Deployment", "apps/v1")
            );
            assert_eq!(d.namespace, "team-a");
        }
        assert_eq!(
            delete_doc("namespace", "team-a", Some("x"))
                .expect("ns")
                .namespace,
            ""
        );
        assert!(delete_doc("gizmo", "x", None).is_err());
        assert_eq!(humantime_secs("2m"), Ok(Duration::from_secs(120)));
        assert!(humantime_secs("soon").is_err());
    }
}
