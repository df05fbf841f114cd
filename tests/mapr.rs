//! MapR's own switches: `fs.mapr.server.resolve.user` in the imported core-site.xml
//! sets the client's mode, and `mapr.daemon.user=` in daemon.conf is the default
//! superuser. Conflicts are configuration errors naming both sides.

mod fake_source;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use fake_source::{user, with_config};
use proxid::config::Mode;
use proxid::{Config, Verdict};

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap())
    }

    fn file(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn core_site(&self, value: Option<&str>) -> PathBuf {
        let prop = value.map_or(String::new(), |v| {
            format!(
                "<property><name>fs.mapr.server.resolve.user</name><value>{v}</value></property>"
            )
        });
        self.file(
            "core-site.xml",
            &format!("<?xml version=\"1.0\"?>\n<configuration>\n{prop}\n</configuration>\n"),
            0o644,
        )
    }

    fn conf(&self, text: &str) -> (PathBuf, proxid::Result<Config>) {
        let path = self.file("proxid.conf", text, 0o644);
        let loaded = Config::load(Some(&path));
        (path, loaded)
    }
}

/// The outcome a case expects: a value, or the words its error must contain.
type Want<T> = Result<T, &'static [&'static str]>;

const LDAP: &str = "[ldap]\nuris = [\"ldap://127.0.0.1:1\"]\nbase = \"dc=x\"\n";

#[test]
fn client_switch_sets_the_mode() {
    // (core-site value or none, [resolution] lines, outcome: mode or error words)
    let cases: &[(Option<&str>, &str, Want<Mode>)] = &[
        (None, "", Ok(Mode::Client)),
        (None, "mode = \"server\"\n", Ok(Mode::Server)),
        (Some("true"), "", Ok(Mode::Server)),
        (Some(" TRUE "), "", Ok(Mode::Server)),
        (Some("false"), "", Ok(Mode::Client)),
        (Some("False"), "", Ok(Mode::Client)),
        (Some("true"), "mode = \"server\"\n", Ok(Mode::Server)),
        (Some("false"), "mode = \"client\"\n", Ok(Mode::Client)),
        // Hadoop drops an empty value: the key is not set.
        (Some(""), "", Ok(Mode::Client)),
        // An explicit mode, even the default value, conflicts when it disagrees.
        (
            Some("true"),
            "mode = \"client\"\n",
            Err(&[
                "mode = \"client\"",
                "fs.mapr.server.resolve.user = true",
                "core-site.xml",
                "proxid.conf",
            ]),
        ),
        (
            Some("false"),
            "mode = \"server\"\n",
            Err(&[
                "mode = \"server\"",
                "fs.mapr.server.resolve.user = false",
                "core-site.xml",
            ]),
        ),
        (
            Some("yes"),
            "",
            Err(&["fs.mapr.server.resolve.user", "\"yes\"", "true or false"]),
        ),
        (Some("${x}"), "", Err(&["fs.mapr.server.resolve.user"])),
    ];
    for (value, resolution, want) in cases {
        let d = Dir::new();
        let core = d.core_site(*value);
        let text = format!(
            "[resolution]\n{resolution}\n{LDAP}\n[impersonation]\nhadoop_core_site = {core:?}\n"
        );
        let (_, got) = d.conf(&text);
        match (got, want) {
            (Ok(c), Ok(mode)) => assert_eq!(c.resolution.mode, *mode, "{value:?} {resolution:?}"),
            (Err(e), Err(words)) => {
                assert_eq!(e.kind(), "config");
                let msg = e.to_string();
                for w in *words {
                    assert!(
                        msg.contains(w),
                        "{value:?} {resolution:?}: {msg:?} lacks {w:?}"
                    );
                }
            }
            (got, want) => panic!("{value:?} {resolution:?}: {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn client_switch_without_ldap_or_core_site_is_a_clear_error() {
    let d = Dir::new();
    let core = d.core_site(Some("true"));
    let (_, got) = d.conf(&format!("[impersonation]\nhadoop_core_site = {core:?}\n"));
    let msg = got.unwrap_err().to_string();
    assert!(
        msg.contains("no [ldap] section") && msg.contains("fs.mapr.server.resolve.user"),
        "{msg}"
    );
    let missing = d.0.path().join("missing.xml");
    let (_, got) = d.conf(&format!(
        "[impersonation]\nhadoop_core_site = {missing:?}\n"
    ));
    let msg = got.unwrap_err().to_string();
    assert!(
        msg.contains("missing.xml") && msg.contains("cannot read"),
        "{msg}"
    );
    // Malformed XML that sets the switch: refused at load, naming the file and line.
    let broken = d.file(
        "broken.xml",
        "<configuration>\n<property><name>fs.mapr.server.resolve.user</name>\n</configuration>\n",
        0o644,
    );
    let (_, got) = d.conf(&format!("[impersonation]\nhadoop_core_site = {broken:?}\n"));
    let msg = got.unwrap_err().to_string();
    assert!(
        msg.contains("broken.xml") && msg.contains("line 3"),
        "{msg}"
    );
}

fn daemon_conf(d: &Dir, text: &str, mode: u32) -> PathBuf {
    d.file("daemon.conf", text, mode)
}

#[test]
fn daemon_conf_names_the_default_superuser() {
    const MAPR: &str = "# written by configure.sh\nmapr.daemon.user=mapr\nmapr.daemon.group=mapr\nmapr.daemon.runuser.warden=1\n";
    // (daemon.conf text, its mode, [impersonation] lines, superuser or error words)
    let cases: &[(&str, u32, &str, Want<&str>)] = &[
        (MAPR, 0o644, "", Ok("mapr")),
        (MAPR, 0o600, "superuser = \"mapr\"\n", Ok("mapr")),
        (" mapr.daemon.user = svcmapr \n", 0o444, "", Ok("svcmapr")),
        (
            "mapr.daemon.user=mapr\nmapr.daemon.user=mapr\n",
            0o644,
            "",
            Ok("mapr"),
        ),
        (
            MAPR,
            0o644,
            "superuser = \"hdfs\"\n",
            Err(&[
                "superuser = \"hdfs\"",
                "mapr.daemon.user=mapr",
                "daemon.conf",
            ]),
        ),
        (
            MAPR,
            0o664,
            "",
            Err(&["daemon.conf", "writable by group or others", "0664"]),
        ),
        (MAPR, 0o646, "", Err(&["writable by group or others"])),
        (
            "mapr.daemon.group=mapr\n",
            0o644,
            "",
            Err(&["no mapr.daemon.user= line"]),
        ),
        (
            "#mapr.daemon.user=mapr\n",
            0o644,
            "",
            Err(&["no mapr.daemon.user= line"]),
        ),
        ("mapr.daemon.user=\n", 0o644, "", Err(&["line 1", "empty"])),
        (
            "mapr.daemon.user=a\nmapr.daemon.user=b\n",
            0o644,
            "",
            Err(&["line 2", "contradicts line 1"]),
        ),
    ];
    for (text, mode, lines, want) in cases {
        let d = Dir::new();
        let daemon = daemon_conf(&d, text, *mode);
        let (_, got) = d.conf(&format!(
            "[impersonation]\n{lines}mapr_daemon_conf = {daemon:?}\n"
        ));
        match (got, want) {
            (Ok(c), Ok(su)) => {
                assert_eq!(c.impersonation.superuser.as_deref(), Some(*su), "{text:?}");
                // The superuser is always protected, wherever its name came from.
                assert!(c.impersonation.protected_users.iter().any(|u| u == su));
                assert_eq!(
                    c.impersonation.mapr_daemon_conf.as_deref(),
                    Some(daemon.as_path())
                );
            }
            (Err(e), Err(words)) => {
                let msg = e.to_string();
                for w in *words {
                    assert!(msg.contains(w), "{text:?}: {msg:?} lacks {w:?}");
                }
            }
            (got, want) => panic!("{text:?} {mode:o} {lines:?}: {got:?}, want {want:?}"),
        }
    }
    let d = Dir::new();
    let missing = d.0.path().join("nope.conf");
    let (_, got) = d.conf(&format!(
        "[impersonation]\nmapr_daemon_conf = {missing:?}\n"
    ));
    assert!(got
        .unwrap_err()
        .to_string()
        .contains("cannot read mapr_daemon_conf"));
}

#[test]
fn daemon_user_decides_as_the_superuser() {
    let d = Dir::new();
    let daemon = daemon_conf(&d, "mapr.daemon.user=mapr\n", 0o644);
    let (_, c) = d.conf(&format!("[impersonation]\nmapr_daemon_conf = {daemon:?}\n"));
    let r = proxid::Proxid::from_resolver(with_config(
        c.unwrap(),
        vec![
            user("root", 0, &[("root", 0)]),
            user("mapr", 5000, &[("mapr", 5000), ("root", 0)]),
            user("alice", 1001, &[("alice", 1001)]),
        ],
    ));
    for target in ["alice", "root"] {
        let d = r.authorize("mapr", target, "10.0.0.7").unwrap();
        assert_eq!(d.verdict, Verdict::Allowed, "{d:?}");
        assert_eq!(d.rule.as_deref(), Some("superuser mapr"));
    }
    // ...and nobody else may take it on.
    assert_eq!(
        r.authorize("alice", "mapr", "10.0.0.7").unwrap().verdict,
        Verdict::Denied
    );
}

#[test]
fn check_config_shows_where_mode_and_superuser_came_from() {
    let d = Dir::new();
    // A protected name must resolve: `daemon` is an account every Debian host has.
    let daemon = daemon_conf(&d, "mapr.daemon.user=daemon\n", 0o644);
    let core = d.core_site(Some("false"));
    let (path, _) = d.conf(&format!(
        "[impersonation]\nmapr_daemon_conf = {daemon:?}\nhadoop_core_site = {core:?}\n"
    ));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_proxid"))
        .args([
            "--config".as_ref(),
            path.as_os_str(),
            "check-config".as_ref(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("superuser = \"daemon\""), "{text}");
    assert!(text.contains("mode = \"client\""), "{text}");
    assert!(
        text.contains(&format!(
            "mapr_daemon_conf = {:?}",
            daemon.display().to_string()
        )),
        "{text}"
    );
}
