//! Asking the master what became of a request: its status API
//! (`GET /v1/requests/{id}`, `GET /v1/transactions/{digest}`).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use daas_domain::outcome::OutcomeView;

/// The master's status API.
pub struct Master {
    http: reqwest::Client,
    base: String,
}

impl Master {
    /// A client for the API at `url`.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("HTTP client")?;
        Ok(Self {
            http,
            base: url.trim_end_matches('/').to_owned(),
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<Option<T>> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.get(&url).send().await.with_context(|| {
            format!(
                "cannot reach the master at {} (see `master_url` in the configuration)",
                self.base
            )
        })?;
        match resp.status() {
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(
                resp.json()
                    .await
                    .with_context(|| format!("{url}: not an outcome"))?,
            )),
            s => bail!("{url}: {s}: {}", resp.text().await.unwrap_or_default()),
        }
    }

    /// Request `id`'s outcome, if decided.
    pub async fn request(&self, id: u64) -> anyhow::Result<Option<OutcomeView>> {
        self.get(&format!("/v1/requests/{id}")).await
    }

    /// The outcomes of a transaction's requests (base58 digest).
    pub async fn transaction(&self, digest: &str) -> anyhow::Result<Vec<OutcomeView>> {
        Ok(self
            .get(&format!("/v1/transactions/{digest}"))
            .await?
            .unwrap_or_default())
    }

    /// Waits until request `id` has an outcome, polling with a growing pause.
    /// A master that cannot be reached yet is retried until the deadline.
    pub async fn wait(&self, id: u64, timeout: Duration) -> anyhow::Result<OutcomeView> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(50);
        loop {
            let last = match self.request(id).await {
                Ok(Some(o)) => return Ok(o),
                Ok(None) => None,
                Err(e) => Some(e),
            };
            if Instant::now() + pause > deadline {
                let why = last.map_or_else(|| "no outcome yet".to_owned(), |e| format!("{e:#}"));
                bail!(
                    "request {id}: {why} after {} s; it is on chain, so it will be applied or \
                     rejected once the master catches up: `daas status {id}`",
                    timeout.as_secs()
                );
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
}
