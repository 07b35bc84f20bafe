//! Health: whether a stage is making progress, for people (`GET /healthz`),
//! for orchestrators (compose's health checks call it) and for Prometheus
//! (`daas_healthy`).
//!
//! A stage reports each problem under a name of its own ("commit", "stall",
//! ...) with [`Health::fail`] and clears it with [`Health::ok`]; it is healthy
//! while no problem is reported. Each change is logged once: an `error!` when a
//! problem appears or its reason changes, an `info!` when it clears. Nothing
//! here decides what a problem is: the stage does, and [`watch_progress`] turns
//! "lag above zero and the position not moving" into the `stall` problem.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::State, http::StatusCode, routing::get};
use prometheus_client::{metrics::gauge::Gauge, registry::Registry};

/// A stage's health, cheap to clone and share between its tasks.
#[derive(Clone, Default)]
pub struct Health {
    problems: Arc<Mutex<BTreeMap<&'static str, String>>>,
    healthy: Gauge,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Health").field(&self.status()).finish()
    }
}

impl Health {
    /// A healthy stage with no problems reported.
    pub fn new() -> Self {
        let health = Health::default();
        health.healthy.set(1);
        health
    }

    /// Registers `daas_healthy` (1 healthy, 0 not) in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "daas_healthy",
            "1 while the stage makes progress, 0 while a problem is reported (see /healthz)",
            self.healthy.clone(),
        );
    }

    /// Reports problem `what` with `reason`; logged when it is new or changed.
    pub fn fail(&self, what: &'static str, reason: impl Into<String>) {
        let reason = reason.into();
        let mut problems = self.lock();
        if problems.get(what) != Some(&reason) {
            tracing::error!(problem = what, %reason, "unhealthy");
            problems.insert(what, reason);
        }
        self.healthy.set(i64::from(problems.is_empty()));
    }

    /// Clears problem `what`; logged when it was reported.
    pub fn ok(&self, what: &'static str) {
        let mut problems = self.lock();
        if problems.remove(what).is_some() {
            tracing::info!(problem = what, "recovered");
        }
        self.healthy.set(i64::from(problems.is_empty()));
    }

    /// `Ok` when healthy, otherwise every problem as `what: reason` lines.
    pub fn status(&self) -> Result<(), String> {
        let problems = self.lock();
        if problems.is_empty() {
            return Ok(());
        }
        Err(problems
            .iter()
            .map(|(what, reason)| format!("{what}: {reason}"))
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// `GET /healthz`: 200 `ok`, or 503 with the problems, one a line.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .with_state(self.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, String>> {
        // A panic while holding this lock leaves a map that is still valid.
        self.problems
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn healthz(State(health): State<Health>) -> (StatusCode, String) {
    match health.status() {
        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
        Err(problems) => (StatusCode::SERVICE_UNAVAILABLE, format!("{problems}\n")),
    }
}

/// Decides the `stall` problem from samples of a consumer's position and lag:
/// a stage whose lag stays above zero while its position does not move for
/// `after` is stalled, whatever the reason (a poisoned record, a commit that
/// keeps failing, a store that is down).
#[derive(Debug)]
pub struct StallDetector {
    after: Duration,
    last_position: Option<i64>,
    still_for: Duration,
}

impl StallDetector {
    /// Reports a stall once the position has not moved for `after` with lag above zero.
    pub fn new(after: Duration) -> Self {
        StallDetector {
            after,
            last_position: None,
            still_for: Duration::ZERO,
        }
    }

    /// Takes one sample, `elapsed` after the previous one; `Some(reason)` while stalled.
    pub fn sample(&mut self, position: i64, lag: i64, elapsed: Duration) -> Option<String> {
        let moved = self.last_position != Some(position);
        self.last_position = Some(position);
        if moved || lag <= 0 {
            self.still_for = Duration::ZERO;
            return None;
        }
        self.still_for += elapsed;
        (self.still_for >= self.after).then(|| {
            format!(
                "position {position} has not moved for {}s while {lag} records wait",
                self.still_for.as_secs()
            )
        })
    }
}

/// Applies a [`StallDetector`] sample to `health` (problem `stall`).
pub fn watch_progress(
    health: &Health,
    detector: &mut StallDetector,
    position: i64,
    lag: i64,
    elapsed: Duration,
) {
    match detector.sample(position, lag, elapsed) {
        Some(reason) => health.fail("stall", reason),
        None => health.ok("stall"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(5);

    #[test]
    fn problems_are_reported_until_cleared() {
        let health = Health::new();
        assert_eq!(health.status(), Ok(()));
        assert_eq!(health.healthy.get(), 1);
        health.fail("commit", "postgres refused: disk full");
        health.fail("stall", "no progress");
        assert_eq!(
            health.status(),
            Err("commit: postgres refused: disk full\nstall: no progress".to_owned())
        );
        assert_eq!(health.healthy.get(), 0);
        health.ok("commit");
        assert_eq!(health.status(), Err("stall: no progress".to_owned()));
        health.ok("stall");
        assert_eq!(health.status(), Ok(()));
        assert_eq!(health.healthy.get(), 1);
    }

    #[test]
    fn a_still_position_with_lag_is_a_stall_only_after_the_window() {
        let mut d = StallDetector::new(Duration::from_secs(15));
        assert_eq!(d.sample(10, 5, S), None, "first sample: moved from nothing");
        assert_eq!(d.sample(10, 5, S), None, "still for 5 s");
        assert_eq!(d.sample(10, 5, S), None, "still for 10 s");
        let reason = d.sample(10, 5, S).expect("still for 15 s: stalled");
        assert!(
            reason.contains("position 10") && reason.contains("5 records"),
            "{reason}"
        );
        assert_eq!(d.sample(11, 4, S), None, "moved: not stalled");
    }

    #[test]
    fn no_lag_is_never_a_stall() {
        let mut d = StallDetector::new(S);
        for _ in 0..10 {
            assert_eq!(d.sample(7, 0, S), None);
        }
    }

    #[tokio::test]
    async fn healthz_answers_503_with_the_problems() {
        let health = Health::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(axum::serve(listener, health.router()).into_future());
        let get = || async {
            let r = reqwest::get(format!("http://{addr}/healthz"))
                .await
                .expect("get");
            (r.status().as_u16(), r.text().await.expect("body"))
        };
        assert_eq!(get().await, (200, "ok\n".to_owned()));
        health.fail("commit", "refused");
        assert_eq!(get().await, (503, "commit: refused\n".to_owned()));
        server.abort();
    }
}
