//! The proxid.conf rules, how they combine with core-site.xml, and what a denial or
//! a malformed file says.

use super::*;

fn conf_resolver(toml: &str, users: Vec<Identity>) -> Result<Harness> {
    let config = Config::from_toml(toml, Path::new("/test/proxid.conf"))?;
    Ok(resolver(config, users))
}

/// (rules as TOML, proxy, user, user's groups, host, outcome)
type ConfRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    Expect,
);

#[test]
fn proxid_conf_rule_cases() {
    #[rustfmt::skip]
    let cases: &[ConfRow] = &[
        (r#"user = "livy"
            hosts = ["*"]
            groups = ["jupyter"]"#, "livy", "alice", &["jupyter"], "10.0.0.1", Allow),
        (r#"user = "livy"
            hosts = ["*"]
            groups = ["jupyter"]"#, "livy", "alice", &["staff"], "10.0.0.1", DenyUser),
        (r#"user = "livy"
            hosts = ["10.0.0.0/8", "192.168.1.7"]
            users = ["alice"]"#, "livy", "alice", &[], "192.168.1.7", Allow),
        (r#"user = "livy"
            hosts = ["10.0.0.0/8", "192.168.1.7"]
            users = ["alice"]"#, "livy", "alice", &[], "192.168.1.8", DenyHost),
        (r#"user = "livy"
            users = ["alice"]"#, "livy", "alice", &[], "10.0.0.1", DenyHost),
        (r#"user = "livy"
            hosts = ["*"]"#, "livy", "alice", &[], "10.0.0.1", DenyUser),
        (r#"user = "livy"
            hosts = [" * "]
            groups = [" * "]"#, "livy", "alice", &["x"], "::1", Allow),
        (r#"user = "livy"
            hosts = ["*"]
            users = ["bob, alice"]"#, "livy", "alice", &[], "10.0.0.1", Allow),
        (r#"user = "livy"
            hosts = ["*"]
            users = ["*"]
            groups = ["nobody"]"#, "livy", "alice", &[], "10.0.0.1", Allow),
        (r#"user = "livy"
            hosts = ["localhost"]
            users = ["alice"]"#, "livy", "alice", &[], "127.0.0.1", Allow),
        (r#"user = "livy"
            hosts = ["*"]
            users = ["alice"]"#, "hive", "alice", &[], "10.0.0.1", DenyUser),
        // Mistakes Hadoop would swallow are configuration errors here.
        (r#"user = "livy"
            hosts = ["*", "10.0.0.1"]
            users = ["alice"]"#, "livy", "alice", &[], "10.0.0.1", LoadError),
        (r#"user = "livy"
            hosts = ["*"]
            users = ["alice", "*"]"#, "livy", "alice", &[], "10.0.0.1", LoadError),
        (r#"user = "livy"
            hosts = ["*"]
            groups = ["*", "g"]"#, "livy", "alice", &[], "10.0.0.1", LoadError),
        (r#"user = "livy"
            hosts = ["10.0.0.0/33"]
            users = ["alice"]"#, "livy", "alice", &[], "10.0.0.1", LoadError),
        (r#"user = "livy"
            hosts = ["not a host"]
            users = ["alice"]"#, "livy", "alice", &[], "10.0.0.1", LoadError),
        (r#"user = "test user"
            hosts = ["*"]
            users = ["alice"]"#, "test user", "alice", &[], "10.0.0.1", LoadError),
    ];
    for (rule, proxy, user, groups, host, want) in cases {
        let toml = format!("[[impersonation.proxy]]\n{rule}\n");
        let r = conf_resolver(&toml, users_for(proxy, user, groups)).unwrap();
        let result = r.authorize_with(proxy, user, host, &lookup);
        assert_eq!(
            outcome(&result),
            *want,
            "{toml} {proxy}->{user}@{host}: {result:?}"
        );
        if let Err(e) = &result {
            let msg = e.to_string();
            assert!(
                msg.contains("/test/proxid.conf") && msg.contains("[[impersonation.proxy]] #1"),
                "{msg}"
            );
        }
    }
}

#[test]
fn both_sources_apply_side_by_side_never_merged() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core-site.xml");
    std::fs::write(&core, core_site_xml("hp.livy.groups=g2; hp.livy.hosts=*")).unwrap();
    let toml = format!(
        "[impersonation]\nhadoop_core_site = {core:?}\n\
         [[impersonation.proxy]]\nuser = \"livy\"\nhosts = [\"10.0.0.0/8\"]\ngroups = [\"g1\"]\n"
    );
    let users = vec![
        identity("livy", 4000, &[("services", 400)]),
        identity("in_g1", 3001, &[("g1", 2001)]),
        identity("in_g2", 3002, &[("g2", 2002)]),
    ];
    let r = conf_resolver(&toml, users).unwrap();
    let cases: &[(&str, &str, Expect, &str)] = &[
        ("in_g1", "10.1.1.1", Allow, "proxy livy (proxid.conf)"),
        ("in_g1", "1.2.3.4", DenyHost, "proxy livy (proxid.conf)"),
        ("in_g2", "1.2.3.4", Allow, "hadoop.proxyuser.livy ("),
        ("in_g2", "10.1.1.1", Allow, "hadoop.proxyuser.livy ("),
    ];
    for (user, host, want, rule) in cases {
        let result = r.authorize_with("livy", user, host, &lookup);
        assert_eq!(outcome(&result), *want, "{user}@{host}: {result:?}");
        let d = result.unwrap();
        assert!(d.rule.as_deref().unwrap().starts_with(rule), "{d:?}");
    }
}

#[test]
fn malformed_core_site_is_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core-site.xml");
    std::fs::write(&core, "<configuration>\n<property>\n</configuration>\n").unwrap();
    let mut config = Config::default();
    config.impersonation.hadoop_core_site = Some(core.clone());
    let r = resolver(config, users_for("livy", "alice", &[]));
    for _ in 0..2 {
        let err = r
            .authorize_with("livy", "alice", "1.2.3.4", &lookup)
            .unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.kind(), "config");
        assert!(
            msg.contains(&core.display().to_string()) && msg.contains("line 3"),
            "{msg}"
        );
    }
    let mut config = Config::default();
    config.impersonation.hadoop_core_site = Some(dir.path().join("missing.xml"));
    let r = resolver(config, users_for("livy", "alice", &[]));
    let msg = r
        .authorize("livy", "alice", "1.2.3.4")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("missing.xml") && msg.contains("cannot read"),
        "{msg}"
    );
}

#[test]
fn check_policy_reports_rules_or_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core-site.xml");
    std::fs::write(
        &core,
        core_site_xml("hp.hive.groups=*; hp.hive.hosts=*; hp.oozie.users=a"),
    )
    .unwrap();
    let toml = format!(
        "[impersonation]\nhadoop_core_site = {core:?}\n[[impersonation.proxy]]\nuser = \"livy\"\n"
    );
    assert_eq!(
        conf_resolver(&toml, vec![])
            .unwrap()
            .check_policy()
            .unwrap(),
        3
    );
    std::fs::write(&core, core_site_xml("hp.hive.hosts=10.0.0.0/40")).unwrap();
    let err = conf_resolver(&toml, vec![])
        .unwrap()
        .check_policy()
        .unwrap_err();
    assert!(
        err.to_string().contains("hadoop.proxyuser.hive.hosts"),
        "{err}"
    );
    assert_eq!(
        resolver(Config::default(), vec![]).check_policy().unwrap(),
        0
    );
}

#[test]
fn rule_set_is_built_once() {
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let counting = |name: &str| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        lookup(name)
    };
    let toml =
        "[[impersonation.proxy]]\nuser = \"livy\"\nhosts = [\"host4\"]\nusers = [\"alice\"]\n";
    let r = conf_resolver(toml, users_for("livy", "alice", &[])).unwrap();
    for _ in 0..5 {
        let d = r
            .authorize_with("livy", "alice", "1.2.3.4", &counting)
            .unwrap();
        assert_eq!(d.verdict, Verdict::Allowed);
    }
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn denial_says_which_host_entries_did_not_resolve() {
    let toml = "[[impersonation.proxy]]\nuser = \"livy\"\nhosts = [\"gone.example\"]\nusers = [\"alice\"]\n";
    let r = conf_resolver(toml, users_for("livy", "alice", &[])).unwrap();
    let d = r
        .authorize_with("livy", "alice", "1.2.3.4", &lookup)
        .unwrap();
    assert!(
        d.reason.starts_with("host_not_allowed") && d.reason.contains("gone.example"),
        "{d:?}"
    );
    let d = r
        .authorize_with("livy", "alice", "nowhere.example", &lookup)
        .unwrap();
    assert!(d.reason.contains("does not resolve"), "{d:?}");
}

/// A directory that matches names case-insensitively (as LDAP often does).
struct Folding(Fake);

impl Source for Folding {
    fn kind(&self) -> &'static str {
        "folding"
    }
    fn user_by_name(&self, name: &str) -> Result<Option<Identity>> {
        self.0.user_by_name(&name.to_lowercase())
    }
    fn user_by_uid(&self, uid: u32) -> Result<Option<Identity>> {
        self.0.user_by_uid(uid)
    }
    fn group_by_name(&self, name: &str) -> Result<Option<Group>> {
        self.0.group_by_name(name)
    }
    fn group_by_gid(&self, gid: u32) -> Result<Option<Group>> {
        self.0.group_by_gid(gid)
    }
}

#[test]
fn users_list_compares_the_name_asked_for() {
    // Hadoop compares the request's short name; a directory that folds case must
    // not turn `ALICE` into a listed `alice`. Her groups still count, as in Hadoop.
    let toml = "[[impersonation.proxy]]\nuser = \"livy\"\nhosts = [\"*\"]\nusers = [\"alice\"]\n\
                [[impersonation.proxy]]\nuser = \"hue\"\nhosts = [\"*\"]\ngroups = [\"jupyter\"]\n";
    let config = Config::from_toml(toml, Path::new("/test/proxid.conf")).unwrap();
    let users = vec![
        identity("alice", 1001, &[("alice", 1001), ("jupyter", 2000)]),
        identity("root", 0, &[("root", 0)]),
    ];
    let r = Harness::new(config, Arc::new(Folding(Fake(users))));
    let cases = [
        ("livy", "alice", Allow),
        ("livy", "ALICE", DenyUser),
        ("hue", "ALICE", Allow),
    ];
    for (proxy, user, want) in cases {
        let result = r.authorize_with(proxy, user, "1.2.3.4", &lookup);
        assert_eq!(outcome(&result), want, "{proxy}->{user}: {result:?}");
    }
}
