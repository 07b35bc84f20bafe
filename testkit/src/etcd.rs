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
