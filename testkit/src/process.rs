//! Starting a service under test, and stopping it: SIGKILL (a crash) or
//! SIGTERM (a shutdown).

use std::process::{Child, Command, ExitStatus, Stdio};

/// A service binary as tests start it: its logs on our stderr at the level in
/// `DAAS_TEST_CHILD_LOG` (default `error`), no backtraces, stdout discarded.
pub fn service(bin: &str) -> Command {
    let mut c = Command::new(bin);
    c.env(
        "RUST_LOG",
        std::env::var("DAAS_TEST_CHILD_LOG").unwrap_or_else(|_| "error".into()),
    )
    .env("RUST_BACKTRACE", "0")
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    c
}

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

/// A service child that is SIGKILLed when dropped, so a test that fails
/// half-way leaves no process behind (holding the test's output pipes open
/// or the stack's resources).
#[derive(Debug)]
pub struct Running(pub Child);

impl Running {
    /// Spawns `command`.
    pub fn spawn(command: &mut Command) -> std::io::Result<Self> {
        command.spawn().map(Running)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
