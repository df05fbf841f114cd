//! The façade and the layers under it: `Proxid` swaps identities, rules and
//! principals together on reload; `Resolver` is identities only; the policy decides
//! over any `Directory`.

use std::path::Path;
use std::sync::Arc;

use proxid::policy::{Directory, Policy};
use proxid::{Config, Error, Group, Identity, Proxid, Resolver, Result, Verdict};

/// Client mode (the local registry, where `daemon` and `bin` exist on every Debian
/// system): `bin` may act as `daemon` under A, nobody may under B; A maps principals
/// of A.ORG, B those of B.ORG.
fn config(rules: &str, realm: &str) -> Config {
    let text = format!(
        "[principals]\nauth_to_local = ['RULE:[1:$1@$0](.*@{realm}\\.ORG)s/@.*//']\n\n{rules}"
    );
    Config::from_toml(&text, Path::new(&format!("/test/{realm}.conf"))).unwrap()
}

const A_RULES: &str =
    "[[impersonation.proxy]]\nuser = \"bin\"\nhosts = [\"*\"]\nusers = [\"daemon\"]\n";

#[test]
fn reload_swaps_rules_and_principals_with_the_identities() {
    let proxid = Proxid::new(config(A_RULES, "A")).unwrap();
    assert_eq!(proxid.short_name("daemon@A.ORG").unwrap(), "daemon");
    let d = proxid.authorize("bin", "daemon", "127.0.0.1").unwrap();
    assert_eq!(d.verdict, Verdict::Allowed, "{d:?}");

    proxid.reload_config(config("", "B")).unwrap();
    assert_eq!(proxid.generation(), 2);
    assert_eq!(
        proxid.config().path.as_deref(),
        Some(Path::new("/test/B.conf"))
    );
    // The rules and the principals are B's, as the identities are.
    let d = proxid.authorize("bin", "daemon", "127.0.0.1").unwrap();
    assert_eq!((d.verdict, d.reason.as_str()), (Verdict::Denied, "no_rule"));
    assert_eq!(proxid.short_name("daemon@B.ORG").unwrap(), "daemon");
    assert!(proxid.short_name("daemon@A.ORG").is_err());
    assert_eq!(proxid.resolve("daemon").unwrap().uid, 1);
}

#[test]
fn a_refused_reload_keeps_all_three_parts() {
    let proxid = Proxid::new(config(A_RULES, "A")).unwrap();
    let unresolvable = config(
        "[impersonation]\nprotected_users = [\"no-such-user-7f3a\"]\n",
        "B",
    );
    assert!(matches!(
        proxid.reload_config(unresolvable),
        Err(Error::Config { .. })
    ));
    assert_eq!(proxid.generation(), 1);
    assert_eq!(proxid.short_name("daemon@A.ORG").unwrap(), "daemon");
    let d = proxid.authorize("bin", "daemon", "127.0.0.1").unwrap();
    assert_eq!(d.verdict, Verdict::Allowed, "{d:?}");
}

#[test]
fn only_the_facade_checks_the_policy_when_it_opens() {
    let unresolvable = || {
        config(
            "[impersonation]\nprotected_users = [\"no-such-user-7f3a\"]\n",
            "A",
        )
    };
    // The identity layer knows nothing of protected names...
    let resolver = Resolver::new(unresolvable()).unwrap();
    assert_eq!(resolver.resolve("daemon").unwrap().uid, 1);
    // ...the façade refuses them, naming the name.
    let err = Proxid::new(unresolvable()).unwrap_err();
    assert!(err.to_string().contains("no-such-user-7f3a"), "{err}");
    // A façade around a resolver built by hand skips the load-time checks (as
    // `with_source`) and still fails closed when a decision needs the name.
    let proxid = Proxid::from_resolver(resolver);
    assert!(proxid.authorize("bin", "daemon", "127.0.0.1").is_err());
}

/// A directory of two users, no resolver at all.
struct Two;

impl Directory for Two {
    fn resolve(&self, name: &str) -> Result<Identity> {
        let (uid, group) = match name {
            "livy" => (4000, "livy"),
            "alice" => (1001, "jupyter"),
            _ => {
                return Err(Error::NotFound {
                    what: format!("user {name:?}"),
                })
            }
        };
        let g = Group {
            name: group.into(),
            gid: uid,
        };
        Ok(Identity {
            name: name.into(),
            uid,
            gid: uid,
            groups: vec![g],
            home: format!("/home/{name}"),
            shell: "/bin/sh".into(),
            source: "two".into(),
            hidden_gids: Vec::new(),
        })
    }
    fn resolve_uid(&self, uid: u32) -> Result<Identity> {
        Err(Error::NotFound {
            what: format!("uid {uid}"),
        })
    }
    fn group(&self, name: &str) -> Result<Group> {
        Err(Error::NotFound {
            what: format!("group {name:?}"),
        })
    }
    fn source_kind(&self) -> &'static str {
        "two"
    }
    fn check_password(&self, _: &str, _: &str) -> Result<proxid::identity::PasswordCheck> {
        Ok(proxid::identity::PasswordCheck::WrongPassword)
    }
}

#[test]
fn the_policy_decides_over_any_directory() {
    let rules = "[[impersonation.proxy]]\nuser = \"livy\"\nhosts = [\"10.0.0.0/8\"]\ngroups = [\"jupyter\"]\n";
    let policy = Policy::new(Arc::new(
        Config::from_toml(rules, Path::new("/test/two.conf")).unwrap(),
    ));
    let allowed = policy.authorize(&Two, "livy", "alice", "10.1.2.3").unwrap();
    assert_eq!(allowed.verdict, Verdict::Allowed, "{allowed:?}");
    assert_eq!(allowed.effective.map(|id| id.uid), Some(1001));
    let elsewhere = policy
        .authorize(&Two, "livy", "alice", "192.0.2.1")
        .unwrap();
    assert_eq!(elsewhere.verdict, Verdict::Denied, "{elsewhere:?}");
    let nobody = policy.authorize(&Two, "livy", "bob", "10.1.2.3").unwrap();
    assert_eq!(
        (nobody.verdict, nobody.reason.as_str()),
        (Verdict::Denied, "not_found")
    );
}

#[test]
fn the_facade_is_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Proxid>();
    send_sync::<Resolver>();
    send_sync::<Policy>();
}
