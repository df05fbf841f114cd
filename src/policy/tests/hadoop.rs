//! Hadoop 3.3.4's proxy-user case table (research notes, section 18.1), run through the
//! core-site.xml import, and the configuration-property reading of the same rules.

use super::*;

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
