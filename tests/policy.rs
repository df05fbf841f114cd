//! Impersonation decisions through the public API: protected identities, the
//! superuser, run-as-self, unknown targets, bad input and the audit log.
//! (The Hadoop proxy-user case table runs in `src/policy/tests/hadoop.rs`, where host
//! names can be resolved by a fake.)

mod fake_source;

use std::sync::Arc;

use fake_source::user;
use proxid::{Decision, Error, Identity, Verdict};

/// A registry shaped like a MapR cluster: `mapr` (the superuser) is itself in GID 0.
fn cluster() -> Vec<Identity> {
    vec![
        user("root", 0, &[("root", 0)]),
        user(
            "mapr",
            5000,
            &[("mapr", 5000), ("root", 0), ("mapr2", 5001)],
        ),
        user("hdfs", 6000, &[("hadoop", 6000)]),
        user("hdfs_alias", 6000, &[("other", 6100)]),
        user("livy", 4000, &[("services", 400)]),
        user("ops", 7000, &[("ops", 7000), ("root", 0)]),
        user("alice", 1001, &[("alice", 1001), ("jupyter", 2000)]),
        user("bob", 1002, &[("bob", 1002), ("wheel", 10)]),
        user("carol", 1003, &[("root", 0)]),
        user("dave", 1004, &[("dave", 1004), ("hadoop", 6000)]),
        user("erin", 1005, &[("erin", 1005), ("admins", 11)]),
        user(
            "frank",
            1006,
            &[("frank", 1006), ("jupyter", 2000), ("root", 0)],
        ),
    ]
}

const CLUSTER_CONF: &str = r#"
[impersonation]
superuser = "mapr"
protected_users = ["hdfs"]
protected_groups = ["wheel", "admins"]

[[impersonation.proxy]]
user = "livy"
hosts = ["*"]
groups = ["*"]

[[impersonation.proxy]]
user = "ops"
hosts = ["*"]
users = ["alice"]
"#;

/// The fake directory's resolver, with the policy and principals around it.
fn resolver(toml: &str, users: Vec<Identity>) -> proxid::Proxid {
    proxid::Proxid::from_resolver(fake_source::resolver(toml, users))
}

fn decide(r: &proxid::Proxid, proxy: &str, user: &str) -> Decision {
    r.authorize(proxy, user, "10.0.0.7").unwrap()
}

#[test]
fn protected_identities_and_the_superuser() {
    let r = resolver(CLUSTER_CONF, cluster());
    // (proxy, target, verdict, reason prefix, effective uid)
    #[rustfmt::skip]
    let cases: &[(&str, &str, Verdict, &str, Option<u32>)] = &[
        ("livy", "alice", Verdict::Allowed, "any_user", Some(1001)),
        ("livy", "dave", Verdict::Allowed, "any_user", Some(1004)), // in hdfs's group: only UIDs of users count
        ("livy", "root", Verdict::Denied, "protected_identity: uid 0", None),
        ("livy", "mapr", Verdict::Denied, "protected_identity: uid 5000 (mapr)", None), // the superuser is protected
        ("livy", "hdfs", Verdict::Denied, "protected_identity: uid 6000 (hdfs)", None),
        ("livy", "hdfs_alias", Verdict::Denied, "protected_identity: uid 6000 (hdfs)", None), // same UID, other name
        ("livy", "bob", Verdict::Denied, "protected_identity: gid 10 (wheel)", None), // supplementary GID
        ("livy", "erin", Verdict::Denied, "protected_identity: gid 11 (admins)", None),
        ("livy", "carol", Verdict::Denied, "protected_identity: gid 0", None), // primary GID 0
        ("livy", "frank", Verdict::Denied, "protected_identity: gid 0", None), // supplementary GID 0
        // The superuser may act as anyone, root included, without a proxy rule.
        ("mapr", "root", Verdict::Allowed, "superuser", Some(0)),
        ("mapr", "alice", Verdict::Allowed, "superuser", Some(1001)),
        ("mapr", "hdfs", Verdict::Allowed, "superuser", Some(6000)),
        ("mapr", "mapr", Verdict::Allowed, "superuser", Some(5000)),
        ("mapr", "carol", Verdict::Allowed, "superuser", Some(1003)),
        // A proxy's own GID 0 counts for nothing: only the target's IDs are compared.
        ("ops", "alice", Verdict::Allowed, "user_listed", Some(1001)),
        ("ops", "dave", Verdict::Denied, "user_not_allowed", None),
        ("ops", "root", Verdict::Denied, "protected_identity: uid 0", None),
        // Nothing is guessed about a target nobody knows, not even for the superuser.
        ("livy", "nobody_here", Verdict::Denied, "not_found", None),
        ("mapr", "nobody_here", Verdict::Denied, "not_found", None),
        // Names are case-sensitive.
        ("Mapr", "alice", Verdict::Denied, "no_rule", None),
    ];
    for (proxy, target, verdict, reason, uid) in cases {
        let d = decide(&r, proxy, target);
        assert_eq!(d.verdict, *verdict, "{proxy}->{target}: {d:?}");
        assert!(d.reason.starts_with(reason), "{proxy}->{target}: {d:?}");
        assert_eq!(
            d.effective.as_ref().map(|e| e.uid),
            *uid,
            "{proxy}->{target}"
        );
        let expect_user = if uid.is_some() { *target } else { "" };
        assert_eq!(d.effective_user, expect_user, "{proxy}->{target}");
    }
    let su = decide(&r, "mapr", "root");
    assert_eq!(su.rule.as_deref(), Some("superuser mapr"));
    let protected = decide(&r, "livy", "bob");
    assert_eq!(
        protected.rule.as_deref(),
        Some("impersonation.protected_groups")
    );
}

#[test]
fn a_resolver_with_its_rule_set_is_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<proxid::Proxid>();
    send_sync::<Decision>();
}

#[test]
fn without_a_superuser_nobody_reaches_root() {
    // Hadoop lets `groups=*` reach root (case P72); proxid never does.
    let conf = "[[impersonation.proxy]]\nuser = \"mapr\"\nhosts = [\"*\"]\ngroups = [\"*\"]\n";
    let r = resolver(conf, cluster());
    let d = decide(&r, "mapr", "root");
    assert_eq!(d.verdict, Verdict::Denied);
    assert_eq!(d.reason, "protected_identity: uid 0");
    assert_eq!(decide(&r, "mapr", "alice").verdict, Verdict::Allowed);
}

#[test]
fn run_as_self_proceeds_as_the_proxy() {
    let conf = r#"
[impersonation]
on_unauthorized = "run-as-self"
[[impersonation.proxy]]
user = "livy"
hosts = ["10.0.0.0/8"]
groups = ["jupyter"]
[[impersonation.proxy]]
user = "ghost"
hosts = ["*"]
users = ["nobody"]
"#;
    let r = resolver(conf, cluster());
    // (proxy, target, host, verdict, reason, effective user)
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, Verdict, &str, &str)] = &[
        ("livy", "alice", "10.1.2.3", Verdict::Allowed, "group_listed: jupyter", "alice"),
        ("livy", "dave", "10.1.2.3", Verdict::RunAsSelf, "user_not_allowed", "livy"),
        ("livy", "alice", "192.168.0.1", Verdict::RunAsSelf, "host_not_allowed", "livy"),
        ("hdfs", "alice", "10.1.2.3", Verdict::RunAsSelf, "no_rule", "hdfs"),
        // Refusals that are not "not authorized" stay refusals.
        ("livy", "root", "10.1.2.3", Verdict::Denied, "protected_identity: uid 0", ""),
        ("livy", "nobody_here", "10.1.2.3", Verdict::Denied, "not_found", ""),
        // A proxy that does not resolve has no self to run as.
        ("ghost", "alice", "10.1.2.3", Verdict::Denied, "proxy_not_found", ""),
    ];
    for (proxy, target, host, verdict, reason, effective) in cases {
        let d = r.authorize(proxy, target, host).unwrap();
        assert_eq!(d.verdict, *verdict, "{proxy}->{target}@{host}: {d:?}");
        assert_eq!(d.reason, *reason, "{proxy}->{target}@{host}");
        assert_eq!(d.effective_user, *effective, "{proxy}->{target}@{host}");
        assert_eq!(
            d.effective.as_ref().map(|e| e.name.as_str()).unwrap_or(""),
            *effective
        );
    }
    let d = r.authorize("livy", "dave", "10.1.2.3").unwrap();
    assert_eq!(d.effective.unwrap().uid, 4000);
    assert_eq!(d.rule.as_deref(), Some("proxy livy (proxid.conf)"));
}

#[test]
fn bad_input_is_an_error_not_a_decision() {
    let r = resolver(CLUSTER_CONF, cluster());
    let long = "a".repeat(10_000);
    // (proxy, user, host, error kind)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("", "alice", "10.0.0.7", "invalid_name"),
        ("livy", "", "10.0.0.7", "invalid_name"),
        ("livy", "al\0ice", "10.0.0.7", "invalid_name"),
        (&long, "alice", "10.0.0.7", "invalid_name"),
        ("livy", &long, "10.0.0.7", "invalid_name"),
        ("livy", "alice", "", "invalid_argument"),
        ("livy", "alice", "*", "invalid_argument"),
        ("livy", "alice", ")(", "invalid_argument"),
        ("livy", "alice", "a\\b", "invalid_argument"),
        ("livy", "alice", "1.2.3", "invalid_argument"),
        ("livy", "alice", "10.0.0.0/8", "invalid_argument"),
        ("livy", "alice", &long, "invalid_argument"),
    ];
    for (proxy, user, host, kind) in cases {
        let err = r.authorize(proxy, user, host).unwrap_err();
        assert_eq!(
            err.kind(),
            *kind,
            "{proxy:.20}->{user:.20}@{host:.20}: {err}"
        );
    }
    // Hostile names that are valid names are just names nobody has.
    for name in ["*", ")(", "a\\b", "alice bob"] {
        assert_eq!(decide(&r, "livy", name).reason, "not_found", "{name}");
        assert_eq!(decide(&r, name, "alice").reason, "no_rule", "{name}");
    }
}

#[test]
fn a_source_that_cannot_answer_is_an_error() {
    let r = resolver(CLUSTER_CONF, cluster());
    let err = r.authorize("livy", "unavailable", "10.0.0.7").unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err}");
    // A protected group that cannot be looked up fails closed too.
    let conf = CLUSTER_CONF.replace("\"admins\"]", "\"admins\", \"unavailable\"]");
    assert_ne!(conf, CLUSTER_CONF);
    let r = resolver(&conf, cluster());
    let err = r.authorize("livy", "alice", "10.0.0.7").unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err}");
}

fn audit_conf(path: &std::path::Path, extra: &str) -> String {
    format!(
        "[impersonation]\naudit_log = {path:?}\nsuperuser = \"mapr\"\n{extra}\n\
         [[impersonation.proxy]]\nuser = \"livy\"\nhosts = [\"10.0.0.0/8\"]\ngroups = [\"jupyter\"]\n"
    )
}

fn read_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// The audit line's time is the resolver's clock's wall time (injected, so exact).
#[test]
fn audit_lines_are_stamped_by_the_resolvers_clock() {
    use proxid::clock::TestClock;
    use std::time::{Duration, UNIX_EPOCH};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let config = proxid::Config::from_toml(
        &audit_conf(&log, ""),
        std::path::Path::new("/test/proxid.conf"),
    )
    .unwrap();
    let clock = TestClock::at(UNIX_EPOCH + Duration::from_secs(1_000_000_000));
    let r = proxid::Proxid::with_source_and_clock(
        config,
        Arc::new(fake_source::FakeSource(cluster())),
        Arc::new(clock.clone()),
    );
    r.authorize("livy", "alice", "10.1.1.1").unwrap();
    clock.advance(Duration::from_secs(61));
    r.authorize("livy", "alice", "10.1.1.1").unwrap();
    let times: Vec<_> = read_lines(&log).iter().map(|l| l["time"].clone()).collect();
    assert_eq!(
        times,
        ["2001-09-09T01:46:40.000Z", "2001-09-09T01:47:41.000Z"]
    );
}

#[test]
fn every_decision_leaves_one_audit_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let r = resolver(&audit_conf(&log, ""), cluster());
    let decisions = [
        r.authorize("livy", "alice", "10.1.1.1").unwrap(),
        r.authorize("livy", "alice", "192.168.1.1").unwrap(),
        r.authorize("mapr", "root", "::1").unwrap(),
        r.authorize("livy", "nobody_here", "10.1.1.1").unwrap(),
        r.authorize("livy", "x\ny\"z", "10.1.1.1").unwrap(),
    ];
    let lines = read_lines(&log);
    assert_eq!(lines.len(), decisions.len());
    for (line, d) in lines.iter().zip(&decisions) {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "time",
                "proxy",
                "user",
                "host",
                "verdict",
                "rule",
                "reason",
                "effective_user",
                "effective_uid"
            ]
        );
        assert_eq!(line["verdict"], d.verdict.as_str());
        assert_eq!(line["proxy"], d.proxy.as_str());
        assert_eq!(line["user"], d.user.as_str());
        assert_eq!(line["host"], d.host.as_str());
        assert_eq!(line["reason"], d.reason.as_str());
        assert_eq!(line["rule"], serde_json::json!(d.rule));
        assert_eq!(
            line["effective_uid"],
            serde_json::json!(d.effective.as_ref().map(|e| e.uid))
        );
        let time = line["time"].as_str().unwrap();
        assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
    }
    assert_eq!(lines[0]["verdict"], "allowed");
    assert_eq!(lines[0]["effective_uid"], 1001);
    assert_eq!(lines[2]["effective_uid"], 0);
    assert_eq!(lines[3]["reason"], "not_found");
    assert_eq!(lines[4]["user"], "x\ny\"z");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o007, 0, "audit log readable by others: {mode:o}");
}

#[test]
fn an_unwritable_audit_log_turns_every_decision_into_a_denial() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "").unwrap();
    // Paths that fail even for root: a directory, and a path under a regular file.
    for log in [dir.path().to_path_buf(), file.join("audit.jsonl")] {
        let r = resolver(&audit_conf(&log, ""), cluster());
        for (proxy, target) in [("livy", "alice"), ("mapr", "root"), ("livy", "bob")] {
            let d = r.authorize(proxy, target, "10.1.1.1").unwrap();
            assert_eq!(d.verdict, Verdict::Denied, "{log:?} {proxy}->{target}");
            assert!(d.reason.starts_with("audit_failed: "), "{d:?}");
            assert!(d.effective.is_none() && d.effective_user.is_empty());
        }
        let conf = audit_conf(&log, "on_unauthorized = \"run-as-self\"");
        let r = resolver(&conf, cluster());
        let d = r.authorize("hdfs", "alice", "10.1.1.1").unwrap();
        assert_eq!(
            d.verdict,
            Verdict::Denied,
            "run-as-self must not survive: {d:?}"
        );
    }
}

#[test]
fn audit_lines_from_many_threads_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let r = Arc::new(resolver(&audit_conf(&log, ""), cluster()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                for i in 0..50 {
                    let host = format!("10.0.{t}.{i}");
                    assert_eq!(
                        r.authorize("livy", "alice", &host).unwrap().verdict,
                        Verdict::Allowed
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let lines = read_lines(&log);
    assert_eq!(lines.len(), 400);
    let hosts: std::collections::HashSet<&str> =
        lines.iter().map(|l| l["host"].as_str().unwrap()).collect();
    assert_eq!(hosts.len(), 400);
}
