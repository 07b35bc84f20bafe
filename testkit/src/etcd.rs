//! A unique etcd key prefix per test.

use anyhow::Context;
use etcd_client::{Client, DeleteOptions};

use crate::{Stack, unique_name};

/// A client and a key prefix that only this test uses. Keys under the prefix are
/// deleted when it is dropped.
pub struct TestEtcd {
    /// Client connected to the stack's etcd.
    pub client: Client,
    /// The test's prefix, e.g. `/t_1a2b3c/`; it always ends with `/`.
    pub prefix: String,
    endpoints: Vec<String>,
}

impl TestEtcd {
    /// Connects and picks a fresh prefix.
    pub async fn new(stack: &Stack) -> anyhow::Result<Self> {
        let client = Client::connect(&stack.etcd_endpoints, None)
            .await
            .with_context(|| format!("connecting to etcd at {:?}", stack.etcd_endpoints))?;
        Ok(Self {
            client,
            prefix: format!("/{}/", unique_name("t")),
            endpoints: stack.etcd_endpoints.clone(),
        })
    }

    /// `prefix` + `key` (without a leading `/` on `key`).
    pub fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key.trim_start_matches('/'))
    }
}

impl Drop for TestEtcd {
    fn drop(&mut self) {
        let (prefix, endpoints) = (self.prefix.clone(), self.endpoints.clone());
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut c) = Client::connect(&endpoints, None).await {
                    let _ = c
                        .delete(prefix, Some(DeleteOptions::new().with_prefix()))
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// An etcd server of its own (for tests that kill and restart etcd; the
/// stack's is shared by every test). Killed and removed when dropped.
pub struct PrivateEtcd {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    dir: std::path::PathBuf,
    child: Option<std::process::Child>,
    args: Vec<String>,
}

impl PrivateEtcd {
    /// Starts etcd (`DAAS_ETCD_BIN` or `etcd`) on free loopback ports.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(unique_name("daas-etcd"));
        std::fs::create_dir_all(&dir)?;
        let (port, peer) = (crate::free_addr()?.port(), crate::free_addr()?.port());
        let endpoint = format!("http://127.0.0.1:{port}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let args = vec![
            "--name".into(),
            "t".into(),
            "--data-dir".into(),
            dir.join("data").display().to_string(),
            "--listen-client-urls".into(),
            endpoint.clone(),
            "--advertise-client-urls".into(),
            endpoint.clone(),
            "--listen-peer-urls".into(),
            peer_url.clone(),
            "--initial-advertise-peer-urls".into(),
            peer_url.clone(),
            "--initial-cluster".into(),
            format!("t={peer_url}"),
        ];
        let mut etcd = Self {
            endpoint,
            dir,
            child: None,
            args,
        };
        etcd.restart().await?;
        Ok(etcd)
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// Starts it (again) on the same data and ports, and waits until it answers.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let bin = std::env::var("DAAS_ETCD_BIN").unwrap_or_else(|_| "etcd".into());
        let log = std::fs::File::create(self.dir.join("etcd.log"))?;
        self.child = Some(
            std::process::Command::new(bin)
                .args(&self.args)
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .context("starting etcd")?,
        );
        let endpoint = self.endpoint.clone();
        crate::wait_for("etcd to answer", std::time::Duration::from_secs(30), || {
            let endpoint = endpoint.clone();
            async move {
                Ok(match Client::connect([endpoint], None).await {
                    Ok(mut c) => c.status().await.ok().map(|_| ()),
                    Err(_) => None,
                })
            }
        })
        .await
    }
}

impl Drop for PrivateEtcd {
    fn drop(&mut self) {
        let _ = self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
