//! `master sealing-key show|rotate` and the key directory's rules, through
//! the binary: version 1 is made on first use, rotation adds versions and
//! keeps the old ones, the printed public key seals values the stored
//! private key opens, no output ever holds a private key, and a key file
//! others may read stops every subcommand that uses it.

mod support;

use std::{os::unix::fs::PermissionsExt, path::Path, process::Command};

use daas_domain::sealed::{Binding, SealedValue};
use daas_sealing::{KeyRing, SealingPublicKey, open_value, seal_value};
use daas_testkit::workload;

/// Runs `master <args>`; (exit code, stdout, stderr).
fn master(args: &[&str]) -> anyhow::Result<(Option<i32>, String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_master"))
        .args(args)
        .env_remove("DAAS_MASTER_SEALING_KEY_DIR")
        .env_remove("DAAS_MASTER_ENCRYPTION_KEY")
        .output()?;
    Ok((
        out.status.code(),
        String::from_utf8(out.stdout)?,
        String::from_utf8(out.stderr)?,
    ))
}

/// The private key files' contents (hex), to look for in outputs.
fn private_keys(dir: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        out.push(std::fs::read_to_string(e?.path())?.trim().to_owned());
    }
    Ok(out)
}

fn mode(path: impl AsRef<Path>) -> u32 {
    std::fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o777)
}

#[test]
fn show_makes_version_one_and_rotate_adds_versions_without_printing_a_private_key()
-> anyhow::Result<()> {
    let dir = support::sealing_key_dir();
    let mut outputs = String::new();
    let (code, shown, err) = master(&["sealing-key", "show", "--sealing-key-dir", &dir])?;
    outputs += &(shown.clone() + &err);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        shown.starts_with("sealing key version 1\npublic key "),
        "{shown}"
    );
    assert!(shown.contains("daas admin register-sealing-key --public-key "));
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(format!("{dir}/sealing-key-v1")), 0o600);

    let (code, v1_hex, err) = master(&[
        "sealing-key",
        "show",
        "--sealing-key-dir",
        &dir,
        "--public-key-only",
    ])?;
    outputs += &(v1_hex.clone() + &err);
    assert_eq!(code, Some(0), "{err}");
    let v1_hex = v1_hex.trim().to_owned();
    assert_eq!(v1_hex.len(), 64, "{v1_hex}");
    assert!(shown.contains(&v1_hex), "the same key twice: {shown}");

    let (code, rotated, err) = master(&["sealing-key", "rotate", "--sealing-key-dir", &dir])?;
    outputs += &(rotated.clone() + &err);
    assert_eq!(code, Some(0), "{err}");
    assert!(rotated.starts_with("sealing key version 2\n"), "{rotated}");
    assert!(rotated.contains("versions held: 1, 2"), "{rotated}");
    let (code, json, err) = master(&["sealing-key", "show", "--sealing-key-dir", &dir, "--json"])?;
    outputs += &(json.clone() + &err);
    assert_eq!(code, Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&json)?;
    assert_eq!(json["version"], 2);
    assert_eq!(json["versions"], serde_json::json!([1, 2]));
    let v2_hex = json["public_key"].as_str().unwrap_or_default().to_owned();
    assert_ne!(v2_hex, v1_hex);

    // Each printed public key is the public half of the stored private key
    // of its version: what is sealed to it opens with the key on disk.
    let keys = daas_master::sealing_keys::FileKeyStore::new(&dir);
    let keys = daas_master::sealing_keys::KeyStore::load(&keys)?;
    for (version, hex_key) in [(1, &v1_hex), (2, &v2_hex)] {
        let pk = SealingPublicKey::from_hex(hex_key)?;
        let binding = Binding {
            cluster: workload::CLUSTER,
            namespace: "team-a",
            name: "db",
            key: "password",
            version,
        };
        let sealed = seal_value(&pk, &binding, b"hunter2", &mut daas_sealing::rng::os())?;
        let sk = keys
            .private_key(version)
            .ok_or_else(|| anyhow::anyhow!("v{version} held"))?;
        let opened = open_value(sk, &binding, &SealedValue::parse(&sealed)?)?;
        assert_eq!(opened, b"hunter2");
    }
    for secret in private_keys(&dir)? {
        assert_eq!(secret.len(), 64);
        assert!(!outputs.contains(&secret), "a private key was printed");
    }
    Ok(())
}

#[test]
fn a_key_others_may_read_stops_every_subcommand_before_it_connects() -> anyhow::Result<()> {
    let dir = support::sealing_key_dir();
    assert_eq!(
        master(&["sealing-key", "show", "--sealing-key-dir", &dir])?.0,
        Some(0)
    );
    let key_file = format!("{dir}/sealing-key-v1");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644))?;
    let cluster = workload::CLUSTER.to_string();
    // Nothing listens on port 9: a refusal must come before any connection.
    let local = ["--etcd", "http://127.0.0.1:9", "--brokers", "127.0.0.1:9"];
    let applying = |sub: &'static str| -> Vec<String> {
        [
            sub,
            "--cluster-id",
            &cluster,
            "--encryption-key",
            support::KEY,
        ]
        .into_iter()
        .chain(local)
        .map(str::to_owned)
        .collect()
    };
    let with_cluster = |sub| -> Vec<String> {
        let mut args = applying(sub);
        args.extend(["--sealing-key-dir".to_owned(), dir.clone()]);
        args
    };
    let runs: [Vec<String>; 4] = [
        with_cluster("run"),
        with_cluster("replay"),
        ["sealing-key", "show", "--sealing-key-dir", &dir]
            .map(str::to_owned)
            .to_vec(),
        ["sealing-key", "rotate", "--sealing-key-dir", &dir]
            .map(str::to_owned)
            .to_vec(),
    ];
    for args in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = master(&args)?;
        assert_eq!(code, Some(1), "{args:?}: {out}{err}");
        assert!(
            err.contains(&format!("chmod 600 {key_file}")),
            "{args:?}: {err}"
        );
        for secret in private_keys(&dir)? {
            assert!(!err.contains(&secret) && !out.contains(&secret));
        }
    }
    assert_eq!(
        std::fs::read_dir(&dir)?.count(),
        1,
        "rotate made no key beside a refused one"
    );

    // `run` and `replay` need the directory at all.
    for sub in ["run", "replay"] {
        let args = applying(sub);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = master(&args)?;
        assert_eq!(code, Some(2), "{sub}: {err}");
        assert!(err.contains("--sealing-key-dir"), "{sub}: {err}");
    }
    Ok(())
}
