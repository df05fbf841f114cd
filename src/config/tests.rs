//! The configuration, loaded from text: defaults, errors, secrets.

use std::path::Path;

use super::*;
use crate::error::Result;

fn parse(text: &str) -> Result<Config> {
    Config::from_toml(text, Path::new("/test/proxid.conf"))
}

#[test]
fn empty_file_is_the_default() {
    let c = parse("").unwrap();
    assert_eq!(c.resolution.mode, Mode::Client);
    assert_eq!(c.cache, CacheConfig::default());
    assert_eq!(c.impersonation.protected_users, vec!["root"]);
}

#[test]
fn errors_table() {
    // (config text, words the message must contain)
    let cases: &[(&str, &[&str])] = &[
        ("bogus = 1", &["/test/proxid.conf", "line 1", "bogus"]),
        (
            "[daemon]\nsocket = \"relative.sock\"",
            &["[daemon] socket", "absolute"],
        ),
        (
            "[daemon]\nenumerate = \"yes\"",
            &["enumerate", "invalid type"],
        ),
        ("[daemon]\nfilter = []", &["line 2", "filter"]),
        (
            "[cache]\npositive_ttl = \"5\"",
            &["line 2", "positive_ttl", "missing unit"],
        ),
        ("[cache]\npositive_ttl = \"5x\"", &["unknown unit"]),
        (
            "[cache]\npositive_ttl = 5",
            &["line 2", "positive_ttl", "invalid type"],
        ),
        ("[cache]\nmax_entries = -1", &["line 2", "max_entries"]),
        (
            "[cache]\nmax_entries = \"a\"",
            &["max_entries", "invalid type"],
        ),
        (
            "\n\n[resolution]\nmode = \"both\"",
            &["mode", "\"client\", \"server\""],
        ),
        ("[resolution]\nmode = \"server\"", &["no [ldap] section"]),
        (
            "[resolution]\nmod = \"client\"",
            &["line 2", "mod", "[resolution]"],
        ),
        ("[ldap]\nuris = []\nbase = \"dc=x\"", &["uris is empty"]),
        (
            "[ldap]\nuris = [\"http://x\"]\nbase = \"dc=x\"",
            &["ldap://"],
        ),
        ("[ldap]\nuris = [\"ldap://x\"]", &["base is missing"]),
        (
            "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nschema = \"ad\"",
            &["rfc2307bis"],
        ),
        (
            "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nconnect_timeout = \"0s\"",
            &["connect_timeout"],
        ),
        (
            "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nconnections = 0",
            &["connections"],
        ),
        (
            "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nretry_after = \"0s\"",
            &["retry_after", "more than 0"],
        ),
        (
            "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nretry_after = 10",
            &["retry_after"],
        ),
        (
            "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nconnection_max_age = \"0ms\"",
            &["connection_max_age", "more than 0"],
        ),
        (
            "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nmin_uid = -1",
            &["min_uid"],
        ),
        (
            "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\n[ldap.map]\nuidd = \"x\"",
            &["line 5", "uidd"],
        ),
        (
            "[impersonation]\non_unauthorized = \"allow\"",
            &["run-as-self"],
        ),
        (
            "[[impersonation.proxy]]\nuser = \"livy\"\nhost = [\"*\"]",
            &["line 3", "host"],
        ),
        ("[[impersonation.proxy]]\nhosts = [\"*\"]", &["user"]),
        (
            "[principals]\nauth_to_local_mechanism = \"x\"",
            &["\"hadoop\", \"mit\""],
        ),
        ("[principals.namespace.a]\nkeytab = \"/k\"", &["principal"]),
        ("[cache", &["line 1"]),
        ("[pam]\nallowed_groups = [\"\"]", &["[pam] allowed_groups"]),
        (
            "[pam]\nallowed_groups = [\" x\"]",
            &["[pam] allowed_groups"],
        ),
        ("[pam]\nallowed_group = []", &["line 2", "allowed_group"]),
        (
            "[pam]\nallowed_groups = \"x\"",
            &["allowed_groups", "invalid type"],
        ),
        (
            "[resolution]\nserver_side = false\nrequire_server_side = true",
            &["require_server_side", "server_side = true"],
        ),
    ];
    for (text, words) in cases {
        let err = parse(text).expect_err(text).to_string();
        for w in *words {
            assert!(err.contains(w), "{text:?}: {err:?} lacks {w:?}");
        }
    }
}

/// Issue 11.12: an error about a secret key never shows its value.
#[test]
fn sec_11_12_secret_never_in_an_error() {
    let ldap = "[ldap]\nuris = [\"ldap://127.0.0.1\"]\nbase = \"dc=x\"\nbind_dn = \"cn=a\"\n";
    for (value, secret) in [
        ("12345678", "12345678"),
        ("1.5e3", "1.5e3"),
        ("true", "true"),
        ("[\"hunter2\"]", "hunter2"),
        ("{ p = \"hunter2\" }", "hunter2"),
        ("hunter2", "hunter2"),
        ("\"hunter2", "hunter2"),
        ("1979-05-27T07:32:00Z", "1979-05-27"),
    ] {
        let text = format!("{ldap}bind_password = {value}\n");
        let err = parse(&text).expect_err(&text).to_string();
        assert!(!err.contains(secret), "{text:?}: {err}");
        assert!(
            err.contains("bind_password") || err.contains("line 5"),
            "{text:?}: {err}"
        );
    }
    let inline = "ldap = { uris = [\"ldap://x\"], base = \"dc=x\", bind_password = 4242 }";
    let err = parse(inline).expect_err(inline).to_string();
    assert!(!err.contains("4242"), "{err}");
}

#[test]
fn sec_11_3_malformed_protected_names_refused_at_load() {
    for line in [
        "protected_users = [\"hdfs \"]",
        "protected_users = [\"\"]",
        "protected_groups = [\"\\tadmins\"]",
    ] {
        let err = parse(&format!("[impersonation]\n{line}"))
            .expect_err(line)
            .to_string();
        assert!(
            err.contains("malformed") && err.contains("protected_"),
            "{err}"
        );
    }
}

#[test]
fn pam_allowed_groups_default_to_nobody() {
    assert!(parse("").unwrap().pam.allowed_groups.is_empty());
    let c = parse("[pam]\nallowed_groups = [\"jupyter\", \"data science\"]").unwrap();
    assert_eq!(c.pam.allowed_groups, vec!["jupyter", "data science"]);
}

#[test]
fn superuser_and_root_are_always_protected() {
    let c = parse("[impersonation]\nsuperuser = \"mapr\"\nprotected_users = []").unwrap();
    assert_eq!(c.impersonation.protected_users, vec!["root", "mapr"]);
    assert_eq!(c.impersonation.protected_groups, vec!["root"]);
}

#[test]
fn secrets_are_masked_in_effective_config() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("bind.secret");
    std::fs::write(&secret, "hunter2\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let text = format!(
        "[ldap]\nuris = [\"ldap://127.0.0.1\"]\nbase = \"dc=x\"\nbind_dn = \"cn=a\"\nbind_password_file = {:?}",
        secret
    );
    let c = parse(&text).unwrap();
    assert_eq!(
        c.ldap
            .as_ref()
            .unwrap()
            .bind_password
            .as_ref()
            .unwrap()
            .expose(),
        "hunter2"
    );
    let shown = c.to_effective_toml();
    assert!(
        !shown.contains("hunter2") && shown.contains("********"),
        "{shown}"
    );
    assert!(!format!("{c:?}").contains("hunter2"));
}
