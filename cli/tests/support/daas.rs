//! The `daas` binary run by tests, with a configuration of its own.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use anyhow::{Context, bail};

/// The `daas` binary with a configuration of its own (no DAAS_* variables
/// of the caller's shell).
pub struct Daas {
    /// Its configuration file.
    pub config: PathBuf,
}

impl Daas {
    /// A `daas` configured (file in `dir`) for `chain` (its data folder is
    /// `dir/chain`), signing as its genesis admin (alias `devnet-admin`: the
    /// AdminCap's owner and the default cluster's creator); and that cluster.
    pub async fn for_chain(
        dir: &Path,
        chain: &daas_testkit::TestChain,
    ) -> anyhow::Result<(Self, daas_domain::Address)> {
        let (cluster, ids) = chain
            .node
            .read(|c| (c.default_cluster, c.world.ids.clone()));
        let cluster = cluster.context("the dev chain created no default cluster")?;
        let config = format!(
            "node_url = \"{}\"\npackage_id = \"{}\"\npool_id = \"{}\"\nnode_registry_id = \"{}\"\n\
             enclave_registry_id = \"{}\"\ncluster_id = \"{cluster}\"\nadmin_cap_id = \"{}\"\n\
             master_url = \"http://127.0.0.1:1\"\nkey = \"devnet-admin\"\n",
            chain.url,
            ids.package,
            ids.pool,
            ids.node_registry,
            ids.enclave_registry,
            ids.admin_cap
        );
        let config_path = dir.join("daas.toml");
        std::fs::write(&config_path, config)?;
        let daas = Daas {
            config: config_path,
        };
        let admin_key = dir.join("chain/admin.key");
        let admin_key = admin_key.to_str().context("a UTF-8 path")?;
        daas.ok(&["keys", "import", "devnet-admin", "--file", admin_key])
            .await?;
        Ok((daas, daas_domain::Address(cluster.into_inner())))
    }

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
