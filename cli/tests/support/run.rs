//! One run of the product's services on the local stack
//! (`scripts/services`), for tests that drive it end to end.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where the workspace's binaries are (all built by `cargo build --workspace`).
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_daas"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `scripts/services VERB RUN_DIR ARGS…`.
pub fn services(run: &Path, args: &[&str]) -> anyhow::Result<()> {
    let (verb, rest) = args.split_first().context("a verb")?;
    let out = Command::new(repo().join("scripts/services"))
        .arg(verb)
        .arg(run)
        .args(rest)
        .env("BIN", bin_dir())
        .output()?;
    if !out.status.success() {
        bail!(
            "scripts/services {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// One run of the services, stopped when dropped.
pub struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    pub fn start() -> anyhow::Result<Self> {
        let run = Self {
            dir: tempfile::tempdir()?,
        };
        run.services(&["up"])?;
        Ok(run)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn script(&self, script: &str, args: &[&str]) -> Command {
        let mut c = Command::new(repo().join("scripts").join(script));
        c.arg(self.path()).args(args).env("BIN", bin_dir());
        c
    }

    pub fn services(&self, args: &[&str]) -> anyhow::Result<()> {
        services(self.path(), args)
    }

    pub fn env(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let text = std::fs::read_to_string(self.path().join("env"))?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }

    /// Runs the scenario to the end; its output on failure.
    pub fn scenario(&self) -> anyhow::Result<String> {
        let out = self
            .script("scenario", &[])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            bail!("the scenario failed:\n{text}\n{}", self.service_logs());
        }
        Ok(text)
    }

    /// The last lines of each service's log, for a failure's message (the
    /// run folder is removed with the run).
    pub fn service_logs(&self) -> String {
        let mut all = String::new();
        for name in ["devnet", "indexer", "projector", "master"] {
            let path = self.path().join("logs").join(format!("{name}.log"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            all.push_str(&format!(
                "--- {name}.log (last {} lines)\n{}\n",
                tail.len(),
                tail.join("\n")
            ));
        }
        all
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.services(&["down"]);
    }
}
