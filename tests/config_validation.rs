//! A `Config` is validated once when loaded, and again by every consumer: code
//! outside the crate cannot build one by hand (`#[non_exhaustive]`, proven by the
//! `compile_fail` examples in `src/config/mod.rs`), and a loaded one whose public
//! fields were changed afterwards (`min_uid = 0` would give root from LDAP) is
//! refused by `Resolver::new` and by the LDAP source with `Error::Config`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use proxid::config::Mode;
use proxid::source::ldap::LdapSource;
use proxid::{Config, Error, Resolver};

/// `[ldap]` pointing at a port nothing listens on: nothing here connects.
const LDAP: &str = "[ldap]\nuris = [\"ldap://127.0.0.1:1\"]\nbase = \"dc=example,dc=org\"\n";

fn parse(text: &str) -> Config {
    Config::from_toml(text, Path::new("/test/proxid.conf")).expect("loads")
}

/// The message of a `Config` error; panics on success or another kind.
fn refused(got: Result<impl std::fmt::Debug, Error>) -> String {
    match got {
        Err(e @ Error::Config { .. }) => e.to_string(),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn every_loaded_configuration_validates() {
    for text in [
        "",
        LDAP,
        &format!("[resolution]\nmode = \"server\"\n{LDAP}"),
        "[impersonation]\nsuperuser = \"mapr\"\nprotected_users = []\n",
        "[ldap]\nuris = [\"ldap://x\"]\nbase = \"dc=x\"\nmin_uid = 0\nmin_gid = 0\n",
        "[pam]\nallowed_groups = [\"data science\"]\n",
    ] {
        parse(text)
            .validate()
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
    }
    Config::default().validate().unwrap();
}

#[test]
fn zero_id_floors_set_after_loading_are_refused() {
    for mode in ["client", "server"] {
        for key in ["min_uid", "min_gid"] {
            let mut config = parse(&format!("[resolution]\nmode = \"{mode}\"\n{LDAP}"));
            let ldap = config.ldap.as_mut().unwrap();
            assert!(ldap.min_uid >= 1 && ldap.min_gid >= 1);
            if key == "min_uid" {
                ldap.min_uid = 0;
            } else {
                ldap.min_gid = 0;
            }
            let msg = refused(config.validate());
            assert!(msg.contains(key) && msg.contains("at least 1"), "{msg}");
            assert_eq!(refused(Resolver::new(config.clone())), msg, "{mode}");
            if mode == "server" {
                assert_eq!(refused(LdapSource::new(&config)), msg);
            }
        }
    }
}

#[test]
fn a_bad_uri_set_after_loading_is_refused() {
    for (uri, words) in [
        ("http://ldap.example.org", &["http://", "ldap://"][..]),
        ("ldap://", &["names no host"][..]),
        ("ldap://ldap.example.org:0", &["bad port"][..]),
        ("ldap://ldap.example.org:99999", &["bad port"][..]),
    ] {
        let mut config = parse(&format!("[resolution]\nmode = \"server\"\n{LDAP}"));
        config.ldap.as_mut().unwrap().uris = vec![uri.into()];
        let msg = refused(Resolver::new(config.clone()));
        for w in words {
            assert!(msg.contains(w), "{uri}: {msg}");
        }
        assert_eq!(refused(LdapSource::new(&config)), msg);
    }
    let mut config = parse(LDAP);
    config.ldap.as_mut().unwrap().uris.clear();
    assert!(refused(Resolver::new(config)).contains("uris is empty"));
}

#[test]
fn an_insecure_bind_set_after_loading_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("bind.secret");
    std::fs::write(&secret, "hunter2\n").unwrap();
    std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o600)).unwrap();
    let conf = dir.path().join("proxid.conf");
    std::fs::write(
        &conf,
        format!(
            "[resolution]\nmode = \"server\"\n{LDAP}bind_dn = \"cn=proxid,dc=example,dc=org\"\n\
             bind_password_file = {secret:?}\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&conf, PermissionsExt::from_mode(0o600)).unwrap();
    let loaded = Config::load_file(&conf, true).unwrap();
    loaded.validate().unwrap();

    let mut remote = loaded.clone();
    remote.ldap.as_mut().unwrap().uris = vec!["ldap://ldap.example.org".into()];
    let msg = refused(Resolver::new(remote.clone()));
    assert!(
        msg.contains("clear text") && !msg.contains("hunter2"),
        "{msg}"
    );
    assert_eq!(refused(LdapSource::new(&remote)), msg);

    let mut unbound = remote.clone();
    let ldap = unbound.ldap.as_mut().unwrap();
    ldap.allow_insecure_bind = false;
    ldap.bind_dn = None;
    assert!(refused(unbound.validate()).contains("bind_dn is not"));

    let mut bad_map = loaded;
    bad_map.ldap.as_mut().unwrap().map.uid = "uid)(x".into();
    assert!(refused(Resolver::new(bad_map)).contains("not an LDAP attribute name"));
}

#[test]
fn other_invariants_changed_after_loading_are_refused() {
    type Change = fn(&mut Config);
    let cases: &[(Change, &str)] = &[
        (
            |c| c.daemon.socket = "relative.sock".into(),
            "[daemon] socket",
        ),
        (
            |c| c.pam.allowed_groups = vec![" x".into()],
            "[pam] allowed_groups",
        ),
        (
            |c| c.impersonation.protected_users.clear(),
            "always protected",
        ),
        (
            |c| c.impersonation.protected_groups = vec!["admins ".into(), "root".into()],
            "malformed",
        ),
        (
            |c| c.impersonation.superuser = Some("mapr".into()),
            "always protected",
        ),
        (
            |c| c.impersonation.superuser = Some(" ".into()),
            "superuser is empty",
        ),
        (
            |c| c.resolution.require_server_side = true,
            "require_server_side",
        ),
        (|c| c.resolution.mode = Mode::Server, "no [ldap] section"),
        (
            |c| {
                if let Some(l) = c.ldap.as_mut() {
                    l.connect_timeout = std::time::Duration::ZERO;
                }
            },
            "connect_timeout",
        ),
        (
            |c| {
                if let Some(l) = c.ldap.as_mut() {
                    l.connections = 0;
                }
            },
            "connections",
        ),
    ];
    for (change, words) in cases {
        let mut config = if words.contains("no [ldap]") {
            Config::default()
        } else {
            parse(LDAP)
        };
        change(&mut config);
        let msg = refused(Resolver::new(config));
        assert!(msg.contains(words), "{words}: {msg}");
    }
}
