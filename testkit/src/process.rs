//! Stopping a service under test: SIGKILL (a crash) or SIGTERM (a shutdown).

use std::process::{Child, Command, ExitStatus};

/// SIGKILL: no flush, no commit, no goodbye.
pub fn kill9(child: &mut Child) -> anyhow::Result<()> {
    child.kill()?;
    child.wait()?;
    Ok(())
}

/// SIGTERM, then the exit status (services finish their open batch first).
pub fn terminate(child: &mut Child) -> anyhow::Result<ExitStatus> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    anyhow::ensure!(status.success(), "kill -TERM failed");
    Ok(child.wait()?)
}
