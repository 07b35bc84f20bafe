//! A private Postgres server for the few tests that restart the server (the
//! stack's server is shared by every test, so it must never be restarted).

use std::{
    path::PathBuf,
    process::{Command, Stdio},
};

use anyhow::{Context, bail};

use crate::{free_addr, unique_name};

/// A Postgres server of its own, in a temporary folder, stopped when dropped.
pub struct PrivatePostgres {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub url: String,
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

/// True when this process runs as root (the owner of `/proc/self`).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// initdb and postgres refuse to run as root: run them as `postgres` then.
fn as_pg_user(program: PathBuf) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl PrivatePostgres {
    /// initdb + start on a free loopback port.
    pub fn start() -> anyhow::Result<Self> {
        let bin = PathBuf::from(
            std::env::var("DAAS_PG_BIN_DIR")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        );
        let dir = std::env::temp_dir().join(unique_name("daas-pg"));
        std::fs::create_dir_all(&dir)?;
        if is_root() {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()?;
            if !status.success() {
                bail!("chown postgres {}", dir.display());
            }
        }
        let out = as_pg_user(bin.join("initdb"))
            .arg("-D")
            .arg(dir.join("data"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ])
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            bail!("initdb: {}", String::from_utf8_lossy(&out.stderr));
        }
        let port = free_addr()?.port();
        let pg = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            port,
        };
        pg.pg_ctl(&["start", "-w", "-t", "60"])?;
        Ok(pg)
    }

    fn pg_ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = as_pg_user(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .args([
                "-o",
                &format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1",
                    self.port,
                    self.dir.display()
                ),
            ])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("pg_ctl {args:?}"))?;
        if !out.status.success() {
            bail!(
                "pg_ctl {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Stops the server the hard way (`-m immediate`: no checkpoint, crash
    /// recovery on start), as a power cut or OOM kill would.
    pub fn crash(&self) -> anyhow::Result<()> {
        self.pg_ctl(&["stop", "-m", "immediate", "-w"])
    }

    /// Starts it again after [`Self::crash`] and waits until it accepts connections.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.pg_ctl(&["start", "-w", "-t", "60"])
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
