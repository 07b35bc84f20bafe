//! Progress of long work (replays, rebuilds): a bar on a terminal, a log line
//! every 5 s otherwise (CI logs, systemd).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

/// A bar of `len` records labelled `what`, and a task that logs its position
/// every 5 s when the bar cannot be drawn. Abort the task when done.
pub fn records_bar(
    what: &'static str,
    len: u64,
    shutdown: CancellationToken,
) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what);
    let logger = {
        let bar = bar.clone();
        tokio::spawn(async move {
            if !bar.is_hidden() {
                return;
            }
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tick.tick() => tracing::info!(
                        records = bar.position(),
                        of = bar.length().unwrap_or(0),
                        "{what} progress"
                    ),
                }
            }
        })
    };
    (bar, logger)
}
