//! The proxy-user case table of Hadoop 3.3.4 (research notes, section 18.1), run
//! through the core-site.xml import exactly as Hadoop reads those properties, plus
//! the proxid.conf rules and how the two sources combine. Host names go through a
//! fake lookup (TestMachineList's), so no test here needs DNS.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::config::Config;
use crate::identity::Group;
use crate::resolver::Resolver;
use crate::source::Source;

use crate::testing::{user as identity, FakeSource as Fake};

/// TestMachineList's fake resolver, plus `localhost`.
fn lookup(name: &str) -> Vec<IpAddr> {
    let ips: &[&str] = match name {
        "host1" => &["1.2.3.1"],
        "host4" => &["1.2.3.4"],
        "localhost" => &["127.0.0.1"],
        _ => &[],
    };
    ips.iter().map(|s| s.parse().unwrap()).collect()
}

/// `hp.proxier.groups=foo; hp.proxier.hosts=*` as core-site.xml (`\n` = newline).
fn core_site_xml(props: &str) -> String {
    let mut body = String::new();
    for pair in props.split(';').filter(|p| !p.trim().is_empty()) {
        let (key, value) = pair.split_once('=').expect(pair);
        let key = key.trim().replacen("hp.", "hadoop.proxyuser.", 1);
        let value = value
            .replace("\\n", "\n")
            .replace('&', "&amp;")
            .replace('<', "&lt;");
        body.push_str(&format!(
            "  <property>\n    <name>{key}</name>\n    <value>{value}</value>\n  </property>\n"
        ));
    }
    format!("<?xml version=\"1.0\"?>\n<configuration>\n{body}</configuration>\n")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    /// Hadoop's "User: R is not allowed to impersonate U".
    DenyUser,
    /// Hadoop's "Unauthorized connection for super-user".
    DenyHost,
    /// The rule set does not load: every decision is an error.
    LoadError,
    /// proxid's protected identities (Hadoop has none).
    Protected,
}
use Expect::*;

/// What a decision (or error) is, in the table's terms.
fn outcome(result: &Result<Decision>) -> Expect {
    match result {
        Err(Error::Config { .. }) => LoadError,
        Err(e) => panic!("unexpected error {e}"),
        Ok(d) if d.verdict == Verdict::Allowed => Allow,
        Ok(d) if d.reason.starts_with("host_not_allowed") => DenyHost,
        Ok(d) if d.reason == "no_rule" || d.reason == "user_not_allowed" => DenyUser,
        Ok(d) if d.reason.starts_with("protected_identity") => Protected,
        Ok(d) => panic!("unexpected decision {d:?}"),
    }
}

/// A policy over a resolver, paired as the façade pairs them.
struct Harness {
    resolver: Resolver,
    policy: Policy,
}

impl Harness {
    fn new(config: Config, source: Arc<dyn Source>) -> Harness {
        let resolver = Resolver::with_source(config, source);
        let policy = Policy::new(resolver.shared_config().clone());
        Harness { resolver, policy }
    }

    fn authorize(&self, proxy: &str, user: &str, host: &str) -> Result<Decision> {
        self.policy.authorize(&*self.resolver, proxy, user, host)
    }

    fn authorize_with(
        &self,
        proxy: &str,
        user: &str,
        host: &str,
        lookup: Lookup<'_>,
    ) -> Result<Decision> {
        self.policy
            .authorize_with(&*self.resolver, proxy, user, host, lookup)
    }

    fn authorize_with_rules_using(
        &self,
        extra: &RuleSet,
        proxy: &str,
        user: &str,
        host: &str,
        lookup: Lookup<'_>,
    ) -> Result<Decision> {
        self.policy
            .authorize_with_rules_using(&*self.resolver, extra, proxy, user, host, lookup)
    }

    fn check_policy(&self) -> Result<usize> {
        self.policy.check_policy(&*self.resolver)
    }
}

fn resolver(config: Config, users: Vec<Identity>) -> Harness {
    Harness::new(config, Arc::new(Fake(users)))
}

/// The users every case can see: the proxies, root, and the target with its groups.
fn users_for(proxy: &str, target: &str, groups: &[&str]) -> Vec<Identity> {
    let target_groups: Vec<(&str, u32)> = if groups.is_empty() {
        vec![("users", 100)]
    } else {
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| (*g, 2000 + i as u32))
            .collect()
    };
    let mut users = vec![
        identity("root", 0, &[("root", 0)]),
        identity(
            "mapr",
            5000,
            &[("mapr", 5000), ("root", 0), ("mapr2", 5001)],
        ),
    ];
    if !users.iter().any(|u| u.name == target) {
        users.push(identity(target, 3000, &target_groups));
    }
    if !users.iter().any(|u| u.name == proxy) {
        users.push(identity(proxy, 4000, &[("services", 400)]));
    }
    users
}

/// One row of research section 18.1: (id, properties, real user, proxied user,
/// proxied user's groups, remote address, proxid's outcome, Hadoop's when different).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    Expect,
    Option<&'static str>,
);

#[rustfmt::skip]
const HADOOP_CASES: &[Row] = &[
    ("P1", "hp.proxier.groups=foo_group; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["foo_group"], "1.2.3.4", Allow, None),
    ("P2", "hp.proxier.groups=foo_group; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["foo_group"], "1.2.3.5", DenyHost, None),
    ("P3", "hp.proxier.groups=foo_group; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["bar_group"], "1.2.3.4", DenyUser, None),
    ("P4", "hp.proxier.groups=foo_group; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["bar_group"], "1.2.3.5", DenyUser, None),
    ("P5", "hp.proxier.users=authorized_proxied_user; hp.proxier.hosts=1.2.3.4", "proxier", "authorized_proxied_user", &["foo_group"], "1.2.3.4", Allow, None),
    ("P6", "hp.proxier.users=authorized_proxied_user; hp.proxier.hosts=1.2.3.4", "proxier", "authorized_proxied_user", &["foo_group"], "1.2.3.5", DenyHost, None),
    ("P7", "hp.proxier.users=authorized_proxied_user; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["foo_group"], "1.2.3.4", DenyUser, None),
    ("P8", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["foo_group"], "1.2.3.4", Allow, None),
    ("P9", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["bar_group"], "1.2.3.4", Allow, None),
    ("P10", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["bar_group"], "1.2.3.5", DenyHost, None),
    ("P11", "hp.proxier.users=*; hp.proxier.hosts=1.2.3.4", "proxier", "authorized_proxied_user", &["foo_group"], "1.2.3.4", Allow, None),
    ("P12", "hp.proxier.users=*; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["bar_group"], "1.2.3.4", Allow, None),
    ("P13", "hp.proxier.users=*; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["bar_group"], "1.2.3.5", DenyHost, None),
    ("P14", "hp.proxier.groups=foo_group; hp.proxier.hosts=*", "proxier", "proxied_user", &["foo_group"], "1.2.3.5", Allow, None),
    ("P15", "hp.proxier.groups=foo_group; hp.proxier.hosts=*", "proxier", "proxied_user", &["bar_group"], "1.2.3.4", DenyUser, None),
    ("P16", "hp.proxier.groups=*; hp.proxier.hosts=10.222.0.0/16,10.113.221.221", "proxier", "proxied_user", &["foo_group"], "10.222.0.0", Allow, None),
    ("P17", "hp.proxier.groups=*; hp.proxier.hosts=10.222.0.0/16,10.113.221.221", "proxier", "proxied_user", &["foo_group"], "10.221.0.0", DenyHost, None),
    ("P18", "hp.proxier.groups=*; hp.proxier.hosts=10.222.0.0/16,10.113.221.221", "proxier", "proxied_user", &["foo_group"], "10.113.221.221", Allow, None),
    ("P19", "hp.proxier.users=proxied_user ,authorized_proxied_user,ONEMORE; hp.proxier.groups=foo_group; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &["bar_group"], "1.2.3.4", Allow, None),
    ("P20", "hp.proxier.users=authorized_proxied_user", "proxier", "authorized_proxied_user", &["foo_group"], "1.2.3.4", DenyHost, None),
    ("P21", "hp.fakeuser.groups=*; hp.fakeuser.hosts=*", "fakeuser", "dummyUser", &[], "2.2.2.2", Allow, None),
    ("P22", "hp.test.user.groups=*; hp.test.user.hosts=*", "test.user", "somerandomuser", &[], "2.2.2.2", Allow, None),
    ("P23", "hp.test user2.groups=*; hp.test user2.hosts=*", "test user2", "dummyUser", &[], "2.2.2.2", DenyUser, None),
    ("P24", "hp.proxier.users=*; hp.proxier.hosts=*", "proxier", "anyone", &[], "9.9.9.9", Allow, None),
    ("P25", "hp.proxier.groups=foo_group,*; hp.proxier.hosts=*", "proxier", "proxied_user", &["bar_group"], "1.2.3.4", DenyUser, None),
    ("P26", "hp.proxier.groups= * ; hp.proxier.hosts=*", "proxier", "proxied_user", &["bar_group"], "1.2.3.4", Allow, None),
    ("P27", "hp.proxier.users=*; hp.proxier.groups=nobody; hp.proxier.hosts=*", "proxier", "proxied_user", &["bar_group"], "1.2.3.4", Allow, None),
    ("P28", "hp.proxier.users=alice,*; hp.proxier.hosts=*", "proxier", "bob", &[], "1.2.3.4", DenyUser, None),
    ("P29", "hp.proxier.groups=*; hp.proxier.hosts=*,1.2.3.4", "proxier", "proxied_user", &[], "1.2.3.5", DenyHost, None),
    ("P30", "hp.proxier.groups=*; hp.proxier.hosts=*,1.2.3.4", "proxier", "proxied_user", &[], "1.2.3.4", Allow, None),
    ("P31", "hp.proxier.groups=*; hp.proxier.hosts= * ", "proxier", "proxied_user", &[], "1.2.3.5", Allow, None),
    ("P32", "hp.proxier.groups=*; hp.proxier.hosts=10.222.0.0/16", "proxier", "proxied_user", &[], "10.222.255.255", Allow, None),
    ("P33", "hp.proxier.groups=*; hp.proxier.hosts=10.222.0.0/16", "proxier", "proxied_user", &[], "10.223.0.0", DenyHost, None),
    ("P34", "hp.proxier.groups=*; hp.proxier.hosts=10.241.23.0/24", "proxier", "proxied_user", &[], "10.241.22.255", DenyHost, None),
    ("P35", "hp.proxier.groups=*; hp.proxier.hosts=10.241.23.0/24", "proxier", "proxied_user", &[], "10.241.23.0", Allow, None),
    ("P36", "hp.proxier.groups=*; hp.proxier.hosts=10.241.23.0/24", "proxier", "proxied_user", &[], "10.241.24.0", DenyHost, None),
    ("P37", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4/32", "proxier", "proxied_user", &[], "1.2.3.4", Allow, None),
    ("P38", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4/32", "proxier", "proxied_user", &[], "1.2.3.5", DenyHost, None),
    ("P39", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4/31", "proxier", "proxied_user", &[], "1.2.3.5", Allow, None),
    ("P40", "hp.proxier.groups=*; hp.proxier.hosts=0.0.0.0/0", "proxier", "proxied_user", &[], "8.8.8.8", Allow, None),
    ("P41", "hp.proxier.groups=*; hp.proxier.hosts=10.222.1.5/16", "proxier", "proxied_user", &[], "10.222.9.9", Allow, None),
    ("P42", "hp.proxier.groups=*; hp.proxier.hosts=10.241/24", "proxier", "proxied_user", &[], "10.241.0.1", LoadError, None),
    ("P43", "hp.proxier.groups=*; hp.proxier.hosts=10.0.0.0/33", "proxier", "proxied_user", &[], "10.0.0.1", LoadError, None),
    ("P44", "hp.proxier.groups=*; hp.proxier.hosts=localhost", "proxier", "proxied_user", &[], "127.0.0.1", Allow, None),
    ("P45", "hp.proxier.groups=*; hp.proxier.hosts=127.0.0.1", "proxier", "proxied_user", &[], "localhost", Allow, None),
    ("P46", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &[], "::ffff:1.2.3.4", Allow, None),
    ("P47", "hp.proxier.groups=*; hp.proxier.hosts=::1", "proxier", "proxied_user", &[], "0:0:0:0:0:0:0:1", Allow, None),
    ("P48", "hp.proxier.groups=*; hp.proxier.hosts=2001:db8::/32", "proxier", "proxied_user", &[], "2001:db8::1", LoadError, None),
    ("P49", "hp.proxier.groups=*; hp.proxier.hosts=10.0.0.0/8", "proxier", "proxied_user", &[], "::1", DenyHost, Some("EXCEPTION: IllegalArgumentException escapes authorize")),
    ("P50", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4", "proxier", "proxied_user", &[], "01.2.3.4", Allow, None),
    ("P51", "hp.proxier.groups=*; hp.proxier.hosts=no-such-host.invalid", "proxier", "proxied_user", &[], "1.2.3.4", DenyHost, None),
    ("P52", "hp.proxier.groups=*; hp.proxier.hosts= 10.119.103.110 , 10.119.103.112,10.119.103.114 ,10.119.103.110, ", "proxier", "proxied_user", &[], "10.119.103.112", Allow, None),
    ("P53", "hp.proxier.groups=*; hp.proxier.hosts= 10.119.103.110 , 10.119.103.112,10.119.103.114 ,10.119.103.110, ", "proxier", "proxied_user", &[], "10.119.103.111", DenyHost, None),
    ("P54", "hp.proxier.groups=*; hp.proxier.hosts=1.2.3.4\\n5.6.7.8", "proxier", "proxied_user", &[], "5.6.7.8", Allow, None),
    ("P55", "hp.proxier.users=alice bob; hp.proxier.hosts=*", "proxier", "alice", &[], "1.2.3.4", DenyUser, None),
    ("P56", "hp.proxier.users=alice\\nbob; hp.proxier.hosts=*", "proxier", "bob", &[], "1.2.3.4", Allow, None),
    ("P57", "hp.proxier.users=Alice; hp.proxier.hosts=*", "proxier", "alice", &[], "1.2.3.4", DenyUser, None),
    ("P58", "hp.proxier.groups=; hp.proxier.hosts=*", "proxier", "proxied_user", &["foo_group"], "1.2.3.4", DenyUser, None),
    ("P59", "hp.proxier.hosts=*", "proxier", "proxied_user", &["foo_group"], "1.2.3.4", DenyUser, None),
    ("P60", "hp.proxier.groups=*; hp.proxier.hosts=*", "Proxier", "proxied_user", &["foo_group"], "1.2.3.4", DenyUser, None),
    ("P63", "hp.proxier.users=proxied_user; hp.proxier.groups=foo_group; hp.proxier.hosts=*", "proxier", "someone_else", &["foo_group"], "1.2.3.4", Allow, None),
    ("P64", "hp.proxier.groups=foo_group; hp.proxier.hosts=*", "proxier", "proxied_user", &["bar_group", "foo_group"], "1.2.3.4", Allow, None),
    ("P65", "hp.proxier.groups=Foo_Group; hp.proxier.hosts=*", "proxier", "proxied_user", &["foo_group"], "1.2.3.4", DenyUser, None),
    ("P66", "", "proxier", "proxier", &[], "1.2.3.4", DenyUser, None),
    ("P67", "hp.proxier.users=*", "proxier", "proxied_user", &[], "1.2.3.4", DenyHost, None),
    ("P68", "hp.a.b.c.groups=*; hp.a.b.c.hosts=*", "a.b.c", "u", &[], "1.2.3.4", Allow, None),
    ("P69", "hp.livy.groups=*; hp.livy.hosts=*", "livy", "shirley", &[], "10.0.0.7", Allow, None),
    ("P70", "hp.hive.groups=group1,group2; hp.hive.hosts=*", "hive", "diego", &["group2"], "10.0.0.7", Allow, None),
    ("P71", "hp.hive.groups=group1,group2; hp.hive.hosts=*", "hive", "diego", &["group3"], "10.0.0.7", DenyUser, None),
    ("P72", "hp.mapr.groups=*; hp.mapr.hosts=*", "mapr", "root", &[], "10.0.0.7", Protected, Some("ALLOW: Hadoop has no protected identities")),
    ("P77", "hp.proxier.groups=foo_group,foo_group; hp.proxier.hosts=1.2.3.4,1.2.3.4", "proxier", "proxied_user", &["foo_group"], "1.2.3.4", Allow, None),
    // TestMachineList rows through the whole decision (fake resolver: host1, host4).
    ("H4a", "hp.proxier.groups=*; hp.proxier.hosts=host1,host4", "proxier", "proxied_user", &[], "1.2.3.4", Allow, None),
    ("H4b", "hp.proxier.groups=*; hp.proxier.hosts=host1,host4", "proxier", "proxied_user", &[], "1.2.3.5", DenyHost, None),
    ("H12", "hp.proxier.groups=*; hp.proxier.hosts=10.241/24,1.2.3.4", "proxier", "proxied_user", &[], "1.2.3.4", LoadError, None),
    // Primary group counts as much as any other.
    ("G1", "hp.proxier.groups=users; hp.proxier.hosts=*", "proxier", "proxied_user", &[], "1.2.3.4", Allow, None),
];

#[test]
fn hadoop_proxy_user_cases() {
    assert!(HADOOP_CASES.len() >= 40);
    let dir = tempfile::tempdir().unwrap();
    for (id, props, proxy, user, groups, host, want, hadoop) in HADOOP_CASES {
        let path = dir.path().join(format!("{id}-core-site.xml"));
        std::fs::write(&path, core_site_xml(props)).unwrap();
        let mut config = Config::default();
        config.impersonation.hadoop_core_site = Some(path);
        let r = resolver(config, users_for(proxy, user, groups));
        let result = r.authorize_with(proxy, user, host, &lookup);
        let note = hadoop.map_or(String::new(), |h| format!(" (Hadoop: {h})"));
        assert_eq!(
            outcome(&result),
            *want,
            "{id}: {props} {proxy}->{user}@{host}{note}: {result:?}"
        );
        if let Ok(d) = &result {
            if d.verdict == Verdict::Allowed {
                assert_eq!(d.effective_user, *user, "{id}");
                assert_eq!(d.effective.as_ref().map(|e| e.name.as_str()), Some(*user));
                assert!(
                    d.rule
                        .as_deref()
                        .unwrap()
                        .starts_with(&format!("hadoop.proxyuser.{proxy} (")),
                    "{id}: {d:?}"
                );
            } else {
                assert!(d.effective.is_none() && d.effective_user.is_empty(), "{id}");
            }
        }
    }
}

/// The same table through the other door: the properties as a Hadoop `Configuration`
/// hands them to the Java provider (`ProxyRules`), under a custom prefix, beside an
/// empty proxid.conf. One rule builder serves both, so every outcome is the same.
/// Rows with an empty value are left out: XML drops those, a `Configuration` keeps them.
#[test]
fn hadoop_proxy_user_cases_as_configuration_properties() {
    const PREFIX: &str = "my.gateway.proxyuser";
    let mut checked = 0;
    for (id, props, proxy, user, groups, host, want, _) in HADOOP_CASES {
        let pairs: Vec<(String, String)> = props
            .split(';')
            .filter(|p| !p.trim().is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect(pair);
                let key = key.trim().replacen("hp.", &format!("{PREFIX}."), 1);
                (key, value.replace("\\n", "\n"))
            })
            .collect();
        if pairs.iter().any(|(_, v)| v.is_empty()) {
            continue;
        }
        let r = resolver(Config::default(), users_for(proxy, user, groups));
        let result = match RuleSet::from_properties(pairs, PREFIX, "test properties", &lookup) {
            Ok(rules) => r.authorize_with_rules_using(&rules, proxy, user, host, &lookup),
            Err(message) => Err(Error::config("test properties", message)),
        };
        assert_eq!(
            outcome(&result),
            *want,
            "{id}: {props} {proxy}->{user}@{host}: {result:?}"
        );
        if let Ok(Decision {
            verdict: Verdict::Allowed,
            rule,
            ..
        }) = &result
        {
            let label = format!("{PREFIX}.{proxy} (test properties)");
            assert_eq!(rule.as_deref(), Some(label.as_str()), "{id}");
        }
        checked += 1;
    }
    assert!(checked >= 40, "{checked} rows checked");
}

#[test]
fn configuration_rules_ignore_other_prefixes_and_take_the_trailing_dot() {
    let users = users_for("livy", "alice", &["staff"]);
    let props = |prefix: &str| {
        vec![
            (format!("{prefix}.livy.users"), "alice".to_string()),
            (format!("{prefix}.livy.hosts"), "*".to_string()),
        ]
    };
    let r = resolver(Config::default(), users);
    for (given, read_as, want) in [
        ("hadoop.proxyuser", "hadoop.proxyuser", Allow),
        ("hadoop.proxyuser", "hadoop.proxyuser.", Allow),
        ("hadoop.proxyuser", "other.proxyuser", DenyUser),
        ("hadoop.proxyuserx", "hadoop.proxyuser", DenyUser),
    ] {
        let rules = RuleSet::from_properties(props(given), read_as, "t", &lookup).unwrap();
        let result = r.authorize_with_rules_using(&rules, "livy", "alice", "1.2.3.4", &lookup);
        assert_eq!(
            outcome(&result),
            want,
            "{given} read as {read_as}: {result:?}"
        );
    }
}

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
