//! What a chain command needs: the settings, a node connection, the signing
//! key and our package's object ids.

use anyhow::Context;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::Address;

use crate::{
    chain::Chain,
    config::{ConfigArgs, Settings},
    keystore::Keystore,
};

/// A connected, signing session.
pub struct Session {
    /// The merged configuration.
    pub settings: Settings,
    /// The node.
    pub chain: Chain,
    /// The signing key.
    pub key: Ed25519PrivateKey,
    /// Its address.
    pub sender: Address,
    /// `staking::StakingPool`.
    pub pool: Address,
}

impl Session {
    /// Loads the configuration and the key, and connects to the node.
    pub async fn open(args: &ConfigArgs) -> anyhow::Result<Self> {
        let settings = args.load()?;
        let key = signing_key(&settings)?;
        let package =
            settings.need_id(&settings.config.package_id, "package_id", "DAAS_PACKAGE_ID")?;
        let pool = settings.need_id(&settings.config.pool_id, "pool_id", "DAAS_POOL_ID")?;
        let chain = Chain::connect(&settings.node_url()?, package).await?;
        Ok(Self {
            sender: key.public_key().derive_address(),
            settings,
            chain,
            key,
            pool,
        })
    }

    /// The configured cluster.
    pub fn cluster(&self) -> anyhow::Result<Address> {
        self.settings.need_id(
            &self.settings.config.cluster_id,
            "cluster_id",
            "--cluster-id / DAAS_CLUSTER_ID",
        )
    }

    /// The configured node registry.
    pub fn node_registry(&self) -> anyhow::Result<Address> {
        self.settings.need_id(
            &self.settings.config.node_registry_id,
            "node_registry_id",
            "DAAS_NODE_REGISTRY_ID",
        )
    }
}

/// The key named by the configuration (`key`, `--key`, `DAAS_KEY`).
pub fn signing_key(settings: &Settings) -> anyhow::Result<Ed25519PrivateKey> {
    let alias = settings.config.key.as_deref().with_context(|| {
        format!(
            "no signing key chosen: `daas keys new NAME` makes one; then pass --key NAME, set \
             DAAS_KEY, or put key = \"NAME\" in {}",
            settings.path.display()
        )
    })?;
    let keystore = settings.keystore();
    Ok(Keystore::open(&keystore)?.get(alias)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_missing_key_says_how_to_make_and_choose_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = Settings {
            config: Config::default(),
            path: dir.path().join("config.toml"),
        };
        let err = signing_key(&settings).expect_err("no key chosen");
        let text = format!("{err:#}");
        assert!(
            text.contains("daas keys new") && text.contains("--key"),
            "{text}"
        );

        let named = Settings {
            config: Config {
                key: Some("alice".into()),
                ..Config::default()
            },
            ..settings
        };
        let err = signing_key(&named).expect_err("no such key");
        assert!(format!("{err:#}").contains("no key \"alice\""), "{err:#}");
    }
}
