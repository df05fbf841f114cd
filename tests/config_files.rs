//! Configuration files on disk: where they are looked for, what is refused, and
//! every example config in the repository parses.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use proxid::config::Mode;
use proxid::Config;

const PROXID: &str = env!("CARGO_BIN_EXE_proxid");

fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn missing_default_file_means_client_side_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let c = Config::load_file(&dir.path().join("absent.conf"), false).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.resolution.mode, Mode::Client);
}

#[test]
fn missing_explicit_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("absent.conf");
    let err = Config::load(Some(&absent)).unwrap_err().to_string();
    assert!(
        err.contains("absent.conf") && err.contains("cannot read"),
        "{err}"
    );
    // Through the CLI, by --config and by PROXID_CONF.
    for (flag, env) in [(true, false), (false, true)] {
        let mut cmd = Command::new(PROXID);
        cmd.env_remove("PROXID_CONF");
        if flag {
            cmd.arg("--config").arg(&absent);
        }
        if env {
            cmd.env("PROXID_CONF", &absent);
        }
        let out = cmd.args(["resolve", "root"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("proxid: configuration: ") && err.contains("absent.conf"),
            "{err}"
        );
    }
}

#[test]
fn config_flag_beats_environment() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.conf",
        "[cache]\npositive_ttl = \"7s\"\n",
        0o644,
    );
    let bad = write(dir.path(), "bad.conf", "nonsense = 1\n", 0o644);
    let out = Command::new(PROXID)
        .env("PROXID_CONF", &bad)
        .arg("--config")
        .arg(&good)
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("positive_ttl = \"7s\""));
}

#[test]
fn file_errors_name_file_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "[cache]\npositive_ttl = \"300s\"\nttl = \"5s\"\n",
            &["line 3", "ttl", "[cache]"],
        ),
        (
            "[cache]\n\nmax_entries = \"many\"\n",
            &["line 3", "max_entries", "invalid type"],
        ),
        (
            "[cache]\nnegative_ttl = \"30 seconds\"\n",
            &["line 2", "negative_ttl", "duration"],
        ),
    ];
    for (text, words) in cases {
        let path = write(dir.path(), "p.conf", text, 0o644);
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains(path.to_str().unwrap()), "{err}");
        for w in *words {
            assert!(err.contains(w), "{err:?} lacks {w:?}");
        }
        // The CLI reports it the same way, exit 2.
        let out = Command::new(PROXID)
            .arg("--config")
            .arg(&path)
            .arg("check-config")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(words[0]));
    }
}

fn ldap_conf(secret_line: &str) -> String {
    format!(
        "[ldap]\nuris = [\"ldap://127.0.0.1:1\"]\nbase = \"dc=example,dc=org\"\n\
         bind_dn = \"cn=proxid,dc=example,dc=org\"\n{secret_line}\n"
    )
}

#[test]
fn secret_file_permissions() {
    let dir = tempfile::tempdir().unwrap();
    // (mode of the secret file, accepted?)
    for (mode, ok) in [
        (0o600, true),
        (0o400, true),
        (0o640, false),
        (0o644, false),
        (0o604, false),
        (0o660, false),
    ] {
        let secret = write(dir.path(), "bind.secret", "s3cret\n", mode);
        let conf = write(
            dir.path(),
            "p.conf",
            &ldap_conf(&format!("bind_password_file = {:?}", secret)),
            0o644,
        );
        let result = Config::load(Some(&conf));
        assert_eq!(result.is_ok(), ok, "mode {mode:o}: {result:?}");
        if let Err(e) = result {
            let e = e.to_string();
            assert!(
                e.contains("bind.secret") && e.contains("readable") && e.contains("chmod 600"),
                "{e}"
            );
            assert!(!e.contains("s3cret"));
        }
    }
}

#[test]
fn inline_password_needs_a_private_config_file() {
    let dir = tempfile::tempdir().unwrap();
    for (mode, ok) in [(0o600, true), (0o644, false)] {
        let conf = write(
            dir.path(),
            "p.conf",
            &ldap_conf("bind_password = \"s3cret\""),
            mode,
        );
        let result = Config::load(Some(&conf));
        assert_eq!(result.is_ok(), ok, "mode {mode:o}: {result:?}");
        if let Err(e) = result {
            assert!(e.to_string().contains("holds a secret"), "{e}");
        }
    }
}

#[test]
fn check_config_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "bind.secret", "s3cret\n", 0o600);
    let conf = write(
        dir.path(),
        "p.conf",
        &ldap_conf(&format!("bind_password_file = {:?}", secret)),
        0o644,
    );
    let out = Command::new(PROXID)
        .arg("--config")
        .arg(&conf)
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        !shown.contains("s3cret") && shown.contains("********"),
        "{shown}"
    );
}

/// Every example configuration shipped in the repository parses. Paths to secrets in
/// the examples are pointed at a private temp file first, since the real ones do not
/// exist on a test machine.
#[test]
fn every_example_config_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let secret = write(dir.path(), "bind.secret", "example\n", 0o600);
    // Files the configuration reads when it loads, standing in for the real ones.
    let daemon = write(dir.path(), "daemon.conf", "mapr.daemon.user=mapr\n", 0o644);
    let core_site = write(dir.path(), "core-site.xml", "<configuration/>\n", 0o644);
    let mut found = 0;
    for folder in ["examples", "java", "tests/fixtures"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("conf") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text
                .lines()
                .map(|l| {
                    if l.trim_start().starts_with("bind_password_file") {
                        format!("bind_password_file = {:?}", secret)
                    } else if l.trim_start().starts_with("mapr_daemon_conf") {
                        format!("mapr_daemon_conf = {daemon:?}")
                    } else if l.trim_start().starts_with("hadoop_core_site") {
                        format!("hadoop_core_site = {core_site:?}")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            Config::from_toml(&text, &path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            found += 1;
        }
    }
    assert!(found >= 2, "examples/*.conf should be found");
}
