//! Program principals (application > namespace > default), `_HOST`, keytab templates
//! and keytab checks, configuration errors, and the `principal` / `program-principal`
//! CLI commands.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use proxid::principal::{check_keytab, keytab_from_template, replace_host};
use proxid::{Config, Error, Proxid};

fn resolver(toml: &str) -> Proxid {
    let config = Config::from_toml(toml, Path::new("/test/proxid.conf")).unwrap();
    Proxid::new(config).unwrap()
}

/// A keytab-looking file (version 0x0502) in `dir`.
fn write_keytab(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, [0x05, 0x02, 0, 0, 0, 0]).unwrap();
    path
}

const PROGRAMS: &str = r#"
[principals]
auth_to_local = ['RULE:[2:$1@$0](.*@EXAMPLE\.ORG)s/@.*//', "DEFAULT"]
default_realm = "EXAMPLE.ORG"
keytab_path = "/etc/security/keytabs/${name}/${name}.keytab"
default_principal = "cdap/_HOST@EXAMPLE.ORG"
default_keytab = "/etc/security/keytabs/cdap.keytab"
[principals.namespace.analytics]
principal = "analytics@EXAMPLE.ORG"
[principals.namespace.finance]
principal = "fin@EXAMPLE.ORG"
keytab = "/secure/fin.keytab"
[principals.application."analytics/etl"]
principal = "etl/_HOST@EXAMPLE.ORG"
[principals.application."finance/report"]
principal = "Report@EXAMPLE.ORG"
keytab = "/secure/report.keytab"
"#;

#[test]
fn program_principal_precedence_and_keytabs() {
    let r = resolver(PROGRAMS);
    let fqdn = r.local_fqdn().to_string();
    // (namespace, application, principal, short name, keytab)
    let cases: Vec<(&str, Option<&str>, String, &str, &str)> = vec![
        // application entry beats the namespace entry; keytab from the template (CDAP C1/C5)
        (
            "analytics",
            Some("etl"),
            format!("etl/{fqdn}@EXAMPLE.ORG"),
            "etl",
            "/etc/security/keytabs/etl/etl.keytab",
        ),
        // unknown application in a configured namespace: the namespace entry (C6)
        (
            "analytics",
            Some("other"),
            "analytics@EXAMPLE.ORG".into(),
            "analytics",
            "/etc/security/keytabs/analytics/analytics.keytab",
        ),
        (
            "analytics",
            None,
            "analytics@EXAMPLE.ORG".into(),
            "analytics",
            "/etc/security/keytabs/analytics/analytics.keytab",
        ),
        // explicit keytabs beat the template
        (
            "finance",
            None,
            "fin@EXAMPLE.ORG".into(),
            "fin",
            "/secure/fin.keytab",
        ),
        (
            "finance",
            Some("report"),
            "Report@EXAMPLE.ORG".into(),
            "Report",
            "/secure/report.keytab",
        ),
        // no entry: the default principal with _HOST replaced and default_keytab (C7)
        (
            "other",
            None,
            format!("cdap/{fqdn}@EXAMPLE.ORG"),
            "cdap",
            "/etc/security/keytabs/cdap.keytab",
        ),
        (
            "other",
            Some("etl"),
            format!("cdap/{fqdn}@EXAMPLE.ORG"),
            "cdap",
            "/etc/security/keytabs/cdap.keytab",
        ),
    ];
    for (ns, app, principal, short, keytab) in cases {
        let p = r.program_principal_unchecked(ns, app).unwrap();
        assert_eq!(p.principal, principal, "{ns} {app:?}");
        assert_eq!(p.short_name, short, "{ns} {app:?}");
        assert_eq!(p.keytab.as_deref(), Some(Path::new(keytab)), "{ns} {app:?}");
        // None of those keytabs exist here: the checked variant says so.
        let err = r.program_principal(ns, app).unwrap_err().to_string();
        assert!(
            err.contains(keytab) && err.contains("does not exist"),
            "{err}"
        );
    }
}

#[test]
fn program_principal_errors() {
    let r = resolver(PROGRAMS);
    for (ns, app) in [
        ("", None),
        ("a/b", None),
        ("ns", Some("")),
        ("ns", Some("x/y")),
        ("a\nb", None),
    ] {
        assert!(
            matches!(r.program_principal(ns, app), Err(Error::InvalidName { .. })),
            "{ns:?} {app:?}"
        );
    }
    // No entry and no default principal: not found.
    let bare = resolver("[principals]\ndefault_realm = \"R\"\n");
    assert!(matches!(
        bare.program_principal("ns", None),
        Err(Error::NotFound { .. })
    ));
    // A principal that auth_to_local cannot map has no keytab (CDAP C4).
    let r = resolver(
        "[principals]\ndefault_realm = \"EXAMPLE.COM\"\nkeytab_path = \"/k/${name}.keytab\"\n[principals.namespace.n]\nprincipal = \"bob@OTHER.REALM\"\n",
    );
    let err = r
        .program_principal_unchecked("n", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no auth_to_local rule applied"), "{err}");
    // No keytab anywhere: none, and nothing to check.
    let r = resolver("[principals]\ndefault_realm = \"R\"\ndefault_principal = \"svc@R\"\n");
    let p = r.program_principal("ns", None).unwrap();
    assert_eq!((p.short_name.as_str(), p.keytab), ("svc", None));
}

#[test]
fn keytab_template_table() {
    // (template, short name, result; None = refused)
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "/dir1/dir2/${name}/${name}.keytab",
            "alice",
            Some("/dir1/dir2/alice/alice.keytab"),
        ),
        (
            "/etc/security/keytabs/${name}.keytab",
            "alice",
            Some("/etc/security/keytabs/alice.keytab"),
        ),
        ("/etc/fixed.keytab", "alice", Some("/etc/fixed.keytab")),
        ("/k/${name}.keytab", "../etc", None),
        ("/k/${name}.keytab", "..", None),
        ("/k/${name}.keytab", "", None),
        ("/k/${name}.keytab", "a/b", None),
    ];
    for (template, short, expected) in cases {
        let got = keytab_from_template(template, short).ok();
        assert_eq!(
            got.as_deref(),
            expected.map(Path::new),
            "{template} {short}"
        );
    }
}

#[test]
fn host_replacement_table() {
    let cases: &[(&str, &str)] = &[
        (
            "cdap/_HOST@EXAMPLE.ORG",
            "cdap/node1.example.org@EXAMPLE.ORG",
        ),
        ("cdap/_HOST", "cdap/_HOST"), // no realm: Hadoop leaves it
        ("_HOST@EXAMPLE.ORG", "_HOST@EXAMPLE.ORG"),
        ("cdap/_HOSTX@EXAMPLE.ORG", "cdap/_HOSTX@EXAMPLE.ORG"),
        ("cdap@EXAMPLE.ORG", "cdap@EXAMPLE.ORG"),
    ];
    for (configured, expected) in cases {
        assert_eq!(replace_host(configured, "Node1.Example.ORG"), *expected);
    }
}

#[test]
fn keytab_check_table() {
    let dir = tempfile::tempdir().unwrap();
    let good1 = dir.path().join("v1.keytab");
    fs::write(&good1, [0x05, 0x01]).unwrap();
    let good2 = write_keytab(dir.path(), "v2.keytab");
    let text = dir.path().join("text.keytab");
    fs::write(&text, "not a keytab").unwrap();
    let short = dir.path().join("short.keytab");
    fs::write(&short, [0x05]).unwrap();
    let cases: Vec<(PathBuf, Option<&str>)> = vec![
        (good1, None),
        (good2, None),
        (text, Some("not a keytab file")),
        (short, Some("shorter than 2 bytes")),
        (dir.path().join("missing.keytab"), Some("does not exist")),
        (dir.path().to_path_buf(), Some("not a regular file")),
    ];
    for (path, expected) in cases {
        match (check_keytab(&path), expected) {
            (Ok(()), None) => {}
            (Err(e), Some(text)) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(text) && msg.contains(&*path.to_string_lossy()),
                    "{msg}"
                );
            }
            (got, _) => panic!("{}: {got:?}, expected {expected:?}", path.display()),
        }
    }
}

#[test]
fn malformed_rule_is_a_config_error_naming_the_rule() {
    let toml = "[principals]\nauth_to_local = [\"DEFAULT\", 'RULE:[1:$1]s/(a)\\1/x/']\n";
    let err = Config::from_toml(toml, Path::new("/test/proxid.conf")).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Config { .. }), "{msg}");
    assert!(
        msg.contains("rule 2") && msg.contains("back-reference"),
        "{msg}"
    );
    // Mechanism: case-insensitive (U21), anything else refused (U22), unset = hadoop (K52).
    for (value, ok) in [
        ("\"HADOOP\"", true),
        ("\"Mit\"", true),
        ("\"bogus\"", false),
    ] {
        let toml = format!("[principals]\nauth_to_local_mechanism = {value}\n");
        assert_eq!(
            Config::from_toml(&toml, Path::new("/t")).is_ok(),
            ok,
            "{value}"
        );
    }
    let r = resolver("[principals]\ndefault_realm = \"EXAMPLE.COM\"\n");
    assert!(r.short_name("alice@OTHER.COM").is_err());
    // Configured principals and application keys are checked at load too.
    for (toml, named) in [
        (
            "[principals]\ndefault_principal = \"a@b@C\"\n",
            "default_principal",
        ),
        (
            "[principals.namespace.ns]\nprincipal = \"x@\"\n",
            "namespace.\"ns\"",
        ),
        (
            "[principals.application.etl]\nprincipal = \"x@R\"\n",
            "NAMESPACE/APPLICATION",
        ),
        (
            "[principals.application.\"a/b/c\"]\nprincipal = \"x@R\"\n",
            "NAMESPACE/APPLICATION",
        ),
    ] {
        let msg = Config::from_toml(toml, Path::new("/t"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains(named), "{msg}");
    }
}

#[test]
fn rules_that_bypass_config_loading_fail_on_use() {
    let mut config = Config::default();
    config.principals.auth_to_local = vec!["RULE:[1:$1".into()];
    let r = Proxid::new(config).unwrap();
    assert!(matches!(r.short_name("a@R"), Err(Error::Config { .. })));
}

#[test]
fn identity_for_principal_resolves_the_short_name() {
    let r = resolver("[principals]\ndefault_realm = \"EXAMPLE.COM\"\n");
    let root = r
        .identity_for_principal("root/host.example.com@EXAMPLE.COM")
        .unwrap();
    assert_eq!((root.name.as_str(), root.uid), ("root", 0));
    assert!(r.identity_for_principal("root@OTHER.COM").is_err());
}

// ---- CLI ----

fn proxid(config: &Path, args: &[&str], krb5: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_proxid"));
    cmd.arg("--config").arg(config).args(args);
    cmd.env_remove("PROXID_CONF");
    match krb5 {
        Some(k) => cmd.env("KRB5_CONFIG", k),
        None => cmd.env("KRB5_CONFIG", "/nonexistent/krb5.conf"),
    };
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cli_principal_lines_json_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("proxid.conf");
    fs::write(
        &conf,
        "[principals]\nauth_to_local = ['RULE:[2:$1]/L', \"DEFAULT\"]\ndefault_realm = \"EXAMPLE.COM\"\n",
    )
    .unwrap();
    let ok = proxid(&conf, &["principal", "alice@EXAMPLE.COM", "HDFS/h@X"], None);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(text(&ok.stdout), "alice\nhdfs\n");

    let mixed = proxid(
        &conf,
        &[
            "principal",
            "--json",
            "alice@EXAMPLE.COM",
            "bob@OTHER",
            "--",
            "-x@",
        ],
        None,
    );
    assert_eq!(mixed.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = text(&mixed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"principal": "alice@EXAMPLE.COM", "short_name": "alice"})
    );
    assert_eq!(lines[1]["principal"], "bob@OTHER");
    assert_eq!(lines[1]["error"], "invalid_name");
    assert!(lines[1]["message"]
        .as_str()
        .unwrap()
        .contains("no auth_to_local rule"));
    assert_eq!(lines[2]["principal"], "-x@");
    assert_eq!(lines.len(), 3);

    let failed = proxid(&conf, &["principal", "bob@OTHER"], None);
    assert_eq!(failed.status.code(), Some(2));
    assert!(text(&failed.stderr).starts_with("proxid: bob@OTHER: "));
    assert_eq!(proxid(&conf, &["principal"], None).status.code(), Some(2));
}

#[test]
fn cli_default_realm_comes_from_krb5_conf_when_not_configured() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("proxid.conf");
    fs::write(&conf, "[principals]\nauth_to_local = [\"DEFAULT\"]\n").unwrap();
    let krb5 = dir.path().join("krb5.conf");
    fs::write(&krb5, "[libdefaults]\n  default_realm = KRB.TEST\n").unwrap();
    let out = proxid(&conf, &["principal", "carol@KRB.TEST"], Some(&krb5));
    assert_eq!(text(&out.stdout), "carol\n", "{}", text(&out.stderr));
    // The configured realm wins over krb5.conf.
    fs::write(&conf, "[principals]\ndefault_realm = \"CONF.TEST\"\n").unwrap();
    let out = proxid(
        &conf,
        &["principal", "carol@KRB.TEST", "dave@CONF.TEST"],
        Some(&krb5),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "dave\n");
}

#[test]
fn cli_program_principal() {
    let dir = tempfile::tempdir().unwrap();
    let keytab = write_keytab(dir.path(), "etl.keytab");
    let conf = dir.path().join("proxid.conf");
    fs::write(
        &conf,
        format!(
            "[principals]\ndefault_realm = \"EXAMPLE.ORG\"\nkeytab_path = \"{}/${{name}}.keytab\"\n[principals.application.\"ns/etl\"]\nprincipal = \"etl@EXAMPLE.ORG\"\n[principals.namespace.ns]\nprincipal = \"nsuser@EXAMPLE.ORG\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = proxid(&conf, &["program-principal", "ns", "etl"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "principal: etl@EXAMPLE.ORG\nshort_name: etl\nkeytab: {}\n",
            keytab.display()
        )
    );
    let out = proxid(&conf, &["program-principal", "--json", "ns"], None);
    assert_eq!(out.status.code(), Some(2));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["principal"], "nsuser@EXAMPLE.ORG");
    assert_eq!(line["short_name"], "nsuser");
    assert!(line["message"].as_str().unwrap().contains("does not exist"));
    assert!(text(&out.stderr).contains("nsuser.keytab"));
    let out = proxid(&conf, &["program-principal", "other"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        proxid(&conf, &["program-principal"], None).status.code(),
        Some(2)
    );
}

/// An unreadable keytab, seen by an unprivileged user. Needs root to switch users.
#[test]
fn cli_keytab_unreadable_by_the_caller() {
    use std::os::unix::process::CommandExt;
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("skipped: needs root to run the CLI as another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let keytab = write_keytab(dir.path(), "svc.keytab");
    fs::set_permissions(&keytab, fs::Permissions::from_mode(0o600)).unwrap();
    let conf = dir.path().join("proxid.conf");
    fs::write(
        &conf,
        format!(
            "[principals]\ndefault_realm = \"R\"\ndefault_principal = \"svc@R\"\ndefault_keytab = \"{}\"\n",
            keytab.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_proxid"))
        .args([
            "--config",
            conf.to_str().unwrap(),
            "program-principal",
            "ns",
        ])
        .env("KRB5_CONFIG", "/nonexistent")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not readable by this user (uid 65534)"),
        "{err}"
    );
}
