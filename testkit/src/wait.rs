//! Waiting on a condition with a deadline: the only synchronisation tests use.

use std::{future::Future, time::Duration};

use anyhow::bail;

/// Polls `check` until it returns `Some`, or fails after `deadline` naming `what`.
///
/// The poll interval starts at 5 ms and doubles up to 200 ms, so fast conditions
/// return quickly and slow ones do not spin.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let until = tokio::time::Instant::now() + deadline;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if tokio::time::Instant::now() >= until {
            bail!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn returns_once_the_condition_holds() {
        let n = AtomicU32::new(0);
        let v = wait_for("third poll", Duration::from_secs(1), || async {
            Ok((n.fetch_add(1, Ordering::SeqCst) == 2).then_some(7))
        })
        .await
        .expect("condition met");
        assert_eq!(v, 7);
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn fails_at_the_deadline_naming_the_condition() {
        let err = wait_for("never", Duration::from_millis(50), || async {
            Ok(None::<()>)
        })
        .await
        .expect_err("must time out");
        assert!(err.to_string().contains("never"), "{err}");
    }
}
