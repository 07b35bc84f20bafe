//! `master check --genesis-committee` after a verified apply of a certified
//! log prints the pinned committee, the epoch reached and the last verified
//! checkpoint: the values asserted are the hand-built chain's own.

mod support;

use daas_master::verification::VerifyArgs;
use daas_testkit::{certified, workload::Workload};
use support::*;

#[tokio::test]
async fn check_prints_the_pinned_committee_and_how_far_verification_got() -> anyhow::Result<()> {
    let slice = Slice::new("check").await?;
    let log = certified::certify(&Workload::new(21, 30).records(400), 4, 12);
    anyhow::ensure!(log.chain.epoch >= 2, "the chain changes epoch");
    let dir = std::env::temp_dir().join(format!("daas-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let genesis = dir.join("genesis-committee.json");
    log.chain.write_genesis(&genesis)?;
    slice.produce(&log.records).await?;
    let mut args = slice.log_args();
    args.verify = VerifyArgs::pinned(genesis.clone());
    let end = log.records.len() as i64;
    apply_to(&slice.etcd.client, &slice.prefix, &args, end).await?;

    let l = layout(&slice.prefix);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_master"))
        .args(["check", "--etcd", &slice.stack.etcd_endpoints.join(",")])
        .args(["--prefix", &l.registry, "--state-prefix", &l.state])
        .arg("--genesis-committee")
        .arg(&genesis)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    std::fs::remove_dir_all(&dir)?;
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let has = |want: &str| {
        assert!(lines.contains(&want), "no line {want:?} in:\n{stdout}");
    };
    // Four members of stake 1: Sui's quorum rule gives 3.
    has("verify: pinned genesis committee: epoch 0, 4 members, total stake 4, quorum 3");
    for (i, m) in log.chain.genesis().members.iter().enumerate() {
        let key = m
            .public_key
            .inner()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        has(&format!(
            "verify:   member {i}: {}…{} stake 1",
            &key[..16],
            &key[key.len() - 8..]
        ));
    }
    has(&format!("verify: epoch reached {}", log.chain.epoch));
    let last = log.chain.checkpoints.last().expect("checkpoints");
    has(&format!(
        "verify: last verified checkpoint {} digest {}",
        last.summary.sequence_number,
        last.summary.digest()
    ));
    // The workload's one cluster: its creation is its 0, then one number
    // per grant, revoke and request, all certified here.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("verify: stream cluster:") && !l.ends_with(" next 0")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("verify: resume offset ")),
        "{stdout}"
    );
    Ok(())
}
