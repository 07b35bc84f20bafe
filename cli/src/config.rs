//! Where `daas` finds the chain, the package, the cluster, the master and
//! the key: `~/.config/daas/config.toml`, then environment variables, then
//! flags, each overriding the one before.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use sui_sdk_types::Address;

/// The configuration file's contents. Every field is optional in the file;
/// a command says which ones it needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Sui full node gRPC URL.
    pub node_url: Option<String>,
    /// Faucet URL (devnet, testnet).
    pub faucet_url: Option<String>,
    /// The master's status API (its `--metrics-listen` address).
    pub master_url: Option<String>,
    /// Our Move package.
    pub package_id: Option<String>,
    /// `staking::StakingPool`.
    pub pool_id: Option<String>,
    /// `nodes::NodeRegistry`.
    pub node_registry_id: Option<String>,
    /// `enclave::EnclaveRegistry` (`daas admin register-sealing-key`).
    pub enclave_registry_id: Option<String>,
    /// The cluster requests go to.
    pub cluster_id: Option<String>,
    /// The `AdminCap` an administrator signs with (`daas admin …`).
    pub admin_cap_id: Option<String>,
    /// Alias of the key that signs (see `daas keys list`).
    pub key: Option<String>,
    /// The keystore, Sui's `sui.keystore` format.
    pub keystore: Option<PathBuf>,
    /// The projection (for `stake show` and `stats`).
    pub database_url: Option<String>,
    /// The master's Kubernetes API (kubectl's `server`, `https://…`).
    pub kube_api_url: Option<String>,
    /// The CA certificate (PEM file) that signed the Kubernetes API's serving certificate.
    pub kube_api_ca: Option<PathBuf>,
}

/// Flags (and their environment variables) that override the file.
#[derive(Args, Clone, Debug, Default)]
pub struct ConfigArgs {
    /// The configuration file [default: ~/.config/daas/config.toml].
    #[arg(long, global = true, env = "DAAS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Sui full node gRPC URL.
    #[arg(long, global = true, env = "DAAS_NODE_URL")]
    pub node_url: Option<String>,
    /// The master's status API URL.
    #[arg(long, global = true, env = "DAAS_MASTER_URL")]
    pub master_url: Option<String>,
    /// The cluster (0x… object id).
    #[arg(long, global = true, env = "DAAS_CLUSTER_ID")]
    pub cluster_id: Option<String>,
    /// Alias of the signing key.
    #[arg(long, global = true, env = "DAAS_KEY")]
    pub key: Option<String>,
    /// The keystore file (Sui's format) [default: next to the config file].
    #[arg(long, global = true, env = "DAAS_KEYSTORE")]
    pub keystore: Option<PathBuf>,
}

/// The default configuration folder: `$XDG_CONFIG_HOME/daas` or `~/.config/daas`.
pub fn default_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("daas");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".config").join("daas")
}

/// The loaded configuration and where it came from.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The merged values.
    pub config: Config,
    /// The file read (it may not exist yet).
    pub path: PathBuf,
}

impl ConfigArgs {
    /// The file's path.
    pub fn path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| default_dir().join("config.toml"))
    }

    /// Reads the file (absent = empty) and applies the overrides.
    pub fn load(&self) -> anyhow::Result<Settings> {
        let path = self.path();
        let mut config = read(&path)?;
        // Flags already carry their own environment variables (clap `env`).
        let flags = [
            (&mut config.node_url, &self.node_url),
            (&mut config.master_url, &self.master_url),
            (&mut config.cluster_id, &self.cluster_id),
            (&mut config.key, &self.key),
        ];
        for (slot, flag) in flags {
            if flag.is_some() {
                slot.clone_from(flag);
            }
        }
        // Settings without a flag: environment variables only.
        let vars = [
            (&mut config.faucet_url, "DAAS_FAUCET_URL"),
            (&mut config.package_id, "DAAS_PACKAGE_ID"),
            (&mut config.pool_id, "DAAS_POOL_ID"),
            (&mut config.node_registry_id, "DAAS_NODE_REGISTRY_ID"),
            (&mut config.enclave_registry_id, "DAAS_ENCLAVE_REGISTRY_ID"),
            (&mut config.database_url, "DAAS_PG_URL"),
            (&mut config.admin_cap_id, "DAAS_ADMIN_CAP"),
            (&mut config.kube_api_url, "DAAS_KUBE_API_URL"),
        ];
        for (slot, var) in vars {
            if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
                *slot = Some(v);
            }
        }
        if let Some(k) = &self.keystore {
            config.keystore = Some(k.clone());
        }
        if let Some(ca) = std::env::var_os("DAAS_KUBE_API_CA").filter(|v| !v.is_empty()) {
            config.kube_api_ca = Some(PathBuf::from(ca));
        }
        Ok(Settings { config, path })
    }
}

/// Reads a configuration file; a missing file is an empty configuration.
pub fn read(path: &Path) -> anyhow::Result<Config> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes a configuration file (creating its folder).
pub fn write(path: &Path, config: &Config) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = toml::to_string_pretty(config).context("encoding the configuration")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

impl Settings {
    /// The keystore path: configured, or `sui.keystore` beside the config file.
    pub fn keystore(&self) -> PathBuf {
        self.config.keystore.clone().unwrap_or_else(|| {
            self.path
                .parent()
                .map_or_else(|| PathBuf::from("sui.keystore"), |d| d.join("sui.keystore"))
        })
    }

    /// A required string setting.
    pub fn need(&self, value: &Option<String>, name: &str, how: &str) -> anyhow::Result<String> {
        match value {
            Some(v) => Ok(v.clone()),
            None => bail!(
                "{name} is not configured: set it in {} or {how} (`daas init --devnet DIR` writes a \
                 configuration for the local dev chain)",
                self.path.display()
            ),
        }
    }

    /// A required object id setting.
    pub fn need_id(
        &self,
        value: &Option<String>,
        name: &str,
        how: &str,
    ) -> anyhow::Result<Address> {
        let v = self.need(value, name, how)?;
        v.parse()
            .map_err(|e| anyhow::anyhow!("{name} {v:?} is not an object id: {e}"))
    }

    /// The node URL.
    pub fn node_url(&self) -> anyhow::Result<String> {
        self.need(
            &self.config.node_url,
            "node_url",
            "--node-url / DAAS_NODE_URL",
        )
    }

    /// The master URL.
    pub fn master_url(&self) -> anyhow::Result<String> {
        self.need(
            &self.config.master_url,
            "master_url",
            "--master-url / DAAS_MASTER_URL",
        )
    }
}

/// The configuration for a local dev chain, from its `devnet.json`.
pub fn from_devnet(dir: &Path, master_url: &str) -> anyhow::Result<Config> {
    let path = dir.join("devnet.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let info: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let field = |k: &str| -> anyhow::Result<String> {
        info[k]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{} lacks {k}", path.display()))
    };
    Ok(Config {
        node_url: Some(field("grpc_url")?),
        faucet_url: Some(field("faucet_url")?),
        master_url: Some(master_url.to_owned()),
        package_id: Some(field("package")?),
        pool_id: Some(field("pool")?),
        node_registry_id: Some(field("node_registry")?),
        enclave_registry_id: Some(field("enclave_registry")?),
        cluster_id: Some(field("default_cluster")?),
        admin_cap_id: Some(field("admin_cap")?),
        key: None,
        keystore: None,
        database_url: None,
        kube_api_url: None,
        kube_api_ca: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_config_reads_back_and_unknown_fields_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        assert_eq!(read(&path).expect("missing = empty"), Config::default());
        let c = Config {
            node_url: Some("http://127.0.0.1:9000".into()),
            key: Some("alice".into()),
            ..Config::default()
        };
        write(&path, &c).expect("write");
        assert_eq!(read(&path).expect("read"), c);
        std::fs::write(&path, "nod_url = \"x\"\n").expect("write");
        let err = read(&path).expect_err("typo");
        assert!(format!("{err:#}").contains("nod_url"), "{err:#}");
    }
}
