//! `scripts/stack` itself: idempotent `up`, `down` that leaves nothing running,
//! and one-line failures for a taken port or a missing binary.
//!
//! Each test runs a second stack in its own state folder on its own free ports,
//! beside the one the other tests use.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A throwaway stack: state in a temp folder; `down` on drop whatever happened.
struct ScratchStack {
    dir: tempfile::TempDir,
}

impl ScratchStack {
    fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("daas-stack-")
                .tempdir()
                .expect("tempdir"),
        }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(repo().join("scripts/stack"));
        cmd.args(args).env("DAAS_STACK_DIR", self.dir.path());
        // Never inherit forced ports from the caller's environment.
        for k in ["DAAS_PG_PORT", "DAAS_ETCD_PORT", "DAAS_KAFKA_PORT"] {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run scripts/stack")
    }

    fn pid(&self, file: &str) -> Option<u32> {
        std::fs::read_to_string(self.dir.path().join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn postgres_pid(&self) -> Option<u32> {
        let data = self.dir.path().join("postgres");
        let data = std::fs::read_link(&data).unwrap_or(data);
        std::fs::read_to_string(data.join("data/postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for ScratchStack {
    fn drop(&mut self) {
        let _ = self.run(&["down"], &[]);
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn up_twice_reuses_then_down_stops_everything() {
    let stack = ScratchStack::new();
    let first = stack.run(&["up"], &[]);
    assert!(
        first.status.success(),
        "first up failed: {}",
        stderr(&first)
    );
    let pids = [
        stack.pid("etcd/etcd.pid").expect("etcd pid"),
        stack.pid("broker/broker.pid").expect("broker pid"),
        stack.postgres_pid().expect("postgres pid"),
    ];
    assert!(pids.iter().all(|p| alive(*p)), "all three run after up");
    let env = std::fs::read_to_string(stack.dir.path().join("env")).expect("env file");
    for key in [
        "DAAS_PG_URL=",
        "DAAS_ETCD_ENDPOINTS=",
        "DAAS_KAFKA_BROKERS=",
    ] {
        assert!(env.contains(key), "env file lacks {key}: {env}");
    }

    let second = stack.run(&["up"], &[]);
    assert!(
        second.status.success(),
        "second up failed: {}",
        stderr(&second)
    );
    assert_eq!(
        stderr(&second).matches("already running").count(),
        3,
        "{}",
        stderr(&second)
    );
    assert_eq!(stack.pid("etcd/etcd.pid"), Some(pids[0]), "etcd reused");
    assert_eq!(
        stack.pid("broker/broker.pid"),
        Some(pids[1]),
        "broker reused"
    );
    assert_eq!(stack.postgres_pid(), Some(pids[2]), "postgres reused");

    let status = stack.run(&["status"], &[]);
    assert!(status.status.success());
    assert_eq!(
        String::from_utf8_lossy(&status.stdout)
            .matches("running")
            .count(),
        3
    );

    let down = stack.run(&["down"], &[]);
    assert!(down.status.success(), "down failed: {}", stderr(&down));
    for pid in pids {
        assert!(!alive(pid), "pid {pid} still running after down");
    }
    assert!(
        !stack.run(&["status"], &[]).status.success(),
        "status fails when stopped"
    );
}

#[test]
fn taken_port_is_a_one_line_reason_with_the_log() {
    let stack = ScratchStack::new();
    let squatter = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = squatter.local_addr().expect("addr").port().to_string();
    let out = stack.run(&["up"], &[("DAAS_ETCD_PORT", &port)]);
    assert!(!out.status.success(), "up must fail on a taken port");
    let err = stderr(&out);
    let line = err.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("stack: etcd:") && line.contains(&port) && line.contains("(log: "),
        "want one line naming etcd, the port and the log; got: {err}"
    );
}

#[test]
fn missing_binary_is_a_one_line_reason_with_the_log() {
    let stack = ScratchStack::new();
    let out = stack.run(&["up"], &[("DAAS_TANSU_BIN", "/nonexistent/tansu")]);
    assert!(
        !out.status.success(),
        "up must fail without the broker binary"
    );
    let err = stderr(&out);
    let line = err.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("stack: broker: binary not found: /nonexistent/tansu")
            && line.contains("(log: "),
        "want one line naming the broker, the binary and the log; got: {err}"
    );
}
