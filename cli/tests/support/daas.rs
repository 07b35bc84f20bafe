//! The `daas` binary run by tests, with a configuration of its own.

use std::{path::PathBuf, process::Output};

use anyhow::{Context, bail};

/// The `daas` binary with a configuration of its own (no DAAS_* variables
/// of the caller's shell).
pub struct Daas {
    /// Its configuration file.
    pub config: PathBuf,
}

impl Daas {
    /// Runs `daas ARGS` with `stdin`; its output, whatever its status.
    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Output> {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_daas"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DAAS_")) {
            cmd.env_remove(k);
        }
        cmd.arg("--config").arg(&self.config).args(args);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().context("starting daas")?;
        if let Some(mut input) = child.stdin.take() {
            use tokio::io::AsyncWriteExt as _;
            input
                .write_all(stdin.unwrap_or_default().as_bytes())
                .await?;
        }
        Ok(child.wait_with_output().await?)
    }

    /// Runs `daas ARGS`; its standard output, or an error with both outputs.
    pub async fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        self.ok_with(args, None).await
    }

    /// [`Daas::ok`] with `stdin`.
    pub async fn ok_with(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        let out = self.run(args, stdin).await?;
        if !out.status.success() {
            bail!("daas {args:?} failed:\n{}", text(&out));
        }
        Ok(String::from_utf8(out.stdout)?)
    }
}

/// Standard output then standard error, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
