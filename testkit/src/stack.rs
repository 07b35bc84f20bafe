//! Where the local stack is: read from the environment, else from `.stack/env`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Connection settings of the running local stack.
#[derive(Clone, Debug)]
pub struct Stack {
    /// URL of the `postgres` maintenance database (to create and drop test databases).
    pub pg_admin_url: String,
    /// etcd client endpoints, e.g. `http://127.0.0.1:2379`.
    pub etcd_endpoints: Vec<String>,
    /// Kafka bootstrap servers, e.g. `127.0.0.1:9092`.
    pub kafka_brokers: String,
    /// The project's log topic (created by `scripts/stack up`).
    pub log_topic: String,
    /// The master's outcome topic (created by `scripts/stack up`).
    pub outcome_topic: String,
    /// The folder holding the stack's state (logs, data).
    pub dir: PathBuf,
}

impl Stack {
    /// Reads `DAAS_*` variables from the environment, falling back to the env file
    /// that `scripts/stack up` wrote (`$DAAS_STACK_ENV`, else `.stack/env` in the
    /// workspace root).
    pub fn from_env() -> anyhow::Result<Self> {
        let file = env_file();
        let from_file = match &file {
            Some(path) => parse_env_file(path)?,
            None => Vec::new(),
        };
        let get = |key: &str| -> anyhow::Result<String> {
            if let Ok(v) = std::env::var(key) {
                return Ok(v);
            }
            from_file
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .with_context(|| {
                    format!(
                        "{key} is not set and no stack env file was found ({}); run `scripts/stack up` first",
                        file.as_deref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| "looked for .stack/env".into())
                    )
                })
        };
        Ok(Self {
            pg_admin_url: get("DAAS_PG_ADMIN_URL")?,
            etcd_endpoints: get("DAAS_ETCD_ENDPOINTS")?
                .split(',')
                .map(str::to_owned)
                .collect(),
            kafka_brokers: get("DAAS_KAFKA_BROKERS")?,
            log_topic: get("DAAS_LOG_TOPIC")?,
            outcome_topic: get("DAAS_OUTCOME_TOPIC")?,
            dir: PathBuf::from(get("DAAS_STACK_DIR")?),
        })
    }

    /// URL of database `name` on the stack's server.
    pub fn pg_url(&self, name: &str) -> anyhow::Result<String> {
        let Some((base, _)) = self.pg_admin_url.rsplit_once('/') else {
            bail!(
                "DAAS_PG_ADMIN_URL has no database part: {}",
                self.pg_admin_url
            );
        };
        Ok(format!("{base}/{name}"))
    }
}

fn env_file() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("DAAS_STACK_ENV") {
        return Some(PathBuf::from(p));
    }
    // Tests run with the crate folder as cwd; the stack lives at the workspace root.
    let start = std::env::var("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|_| std::env::current_dir())
        .ok()?;
    start
        .ancestors()
        .map(|dir| dir.join(".stack/env"))
        .find(|p| p.is_file())
}

fn parse_env_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading stack env file {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_lines_parse() {
        let dir = std::env::temp_dir().join(crate::unique_name("envfile"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("env");
        std::fs::write(&path, "# comment\nA=1\n\nB = x=y\n").expect("write");
        let parsed = parse_env_file(&path).expect("parse");
        assert_eq!(
            parsed,
            vec![("A".into(), "1".into()), ("B".into(), "x=y".into())]
        );
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
