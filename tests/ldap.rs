//! Server-side resolution against a real slapd (one per schema, shared by the tests of
//! this binary): both schemas, nesting, hostile names, refusal of ambiguous data,
//! TLS, binds, failover, timeouts and many threads at once.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use proxid::clock::{Clock, TestClock};
use proxid::error::Error;
use proxid::source::ldap::LdapSource;
use proxid::source::Source;
use proxid::{Identity, Resolver};
use support::slapd::{make_certificates, Slapd};
use support::{rfc2307, rfc2307bis, BlackHole, ConfFile};

fn resolver_for(conf: &ConfFile) -> Resolver {
    Resolver::new(conf.config()).expect("resolver")
}

/// A resolver whose pool and cache read `clock`.
fn resolver_on(conf: &ConfFile, clock: &TestClock) -> Resolver {
    let config = conf.config();
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let source = LdapSource::with_clock(&config, clock.clone()).expect("ldap source");
    Resolver::with_source_and_clock(config, Arc::new(source), clock)
}

fn rfc2307_resolver() -> &'static Resolver {
    static R: std::sync::OnceLock<(ConfFile, Resolver)> = std::sync::OnceLock::new();
    &R.get_or_init(|| {
        let conf = ConfFile::new(&[&rfc2307().ldap_uri], "");
        let r = resolver_for(&conf);
        (conf, r)
    })
    .1
}

fn bis_resolver(depth: u32) -> Resolver {
    let conf = ConfFile::new(
        &[&rfc2307bis().ldap_uri],
        &format!("schema = \"rfc2307bis\"\nnested_group_depth = {depth}\n"),
    );
    resolver_for(&conf)
}

fn broken_resolver() -> Resolver {
    let conf = ConfFile::new(
        &[&rfc2307().ldap_uri],
        "user_base = \"ou=broken,dc=example,dc=org\"\ngroup_base = \"ou=broken,dc=example,dc=org\"\n\
         [ldap.map]\nuser_filter = \"(objectClass=inetOrgPerson)\"\n",
    );
    resolver_for(&conf)
}

fn gids(id: &Identity) -> Vec<u32> {
    id.gids()
}

/// (name, uid, gids primary first then ascending) for the RFC2307 fixtures.
const RFC2307_CASES: &[(&str, u32, &[u32])] = &[
    ("alice", 10001, &[10000, 10010, 10011, 10014]),
    ("bob", 10002, &[10000, 10010]),
    ("carol", 10003, &[10099]),
    ("dave", 10004, &[10010]),
    ("MixedCase", 10005, &[10000, 10016]),
    ("alice2", 10021, &[10000]),
];

#[test]
fn rfc2307_users_resolve_with_their_groups() {
    let r = rfc2307_resolver();
    for (name, uid, want) in RFC2307_CASES {
        let id = r.resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((id.name.as_str(), id.uid), (*name, *uid));
        assert_eq!(gids(&id), *want, "{name}");
        assert_eq!(id.source, "ldap");
        assert_eq!(id.home, format!("/home/u{uid}"));
        assert_eq!(id.shell, "/bin/bash");
    }
    let alice = r.resolve("alice").unwrap();
    assert_eq!(
        alice.group_names(),
        ["staff", "devs", "ops", "cycle-a"],
        "names come from the group entries"
    );
    // No entry has carol's primary GID: she still gets it, named by number.
    assert_eq!(r.resolve("carol").unwrap().group_names(), ["10099"]);
}

#[test]
fn uids_groups_and_gids_resolve() {
    let r = rfc2307_resolver();
    let alice = r.resolve_uid(10001).unwrap();
    assert_eq!(
        (alice.name.as_str(), gids(&alice)),
        ("alice", vec![10000, 10010, 10011, 10014])
    );
    assert_eq!(r.group("devs").unwrap().gid, 10010);
    assert_eq!(r.group_by_gid(10011).unwrap().name, "ops");
    for missing in [
        r.resolve_uid(4242).unwrap_err(),
        r.group("nogroup").unwrap_err(),
    ] {
        assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
    }
}

#[test]
fn gid_and_uid_zero_never_come_from_ldap() {
    let r = rfc2307_resolver();
    // alice is listed in a GID-0 group; it is dropped.
    assert!(!r.resolve("alice").unwrap().gids().contains(&0));
    assert!(matches!(r.group("root-alike"), Err(Error::NotFound { .. })));
    assert!(matches!(r.group_by_gid(0), Err(Error::NotFound { .. })));
    let b = broken_resolver();
    for name in ["fakeroot", "rootgroup"] {
        assert!(
            matches!(b.resolve(name), Err(Error::NotFound { .. })),
            "{name}"
        );
    }
    assert!(matches!(b.resolve_uid(0), Err(Error::NotFound { .. })));
}

#[test]
fn min_uid_and_min_gid_raise_the_floor() {
    let conf = ConfFile::new(&[&rfc2307().ldap_uri], "min_uid = 10002\nmin_gid = 10011\n");
    let r = resolver_for(&conf);
    assert!(
        matches!(r.resolve("alice"), Err(Error::NotFound { .. })),
        "uid below"
    );
    assert!(
        matches!(r.resolve("bob"), Err(Error::NotFound { .. })),
        "gid below"
    );
    // carol's primary GID is above; dave's (10010) is below.
    assert_eq!(r.resolve("carol").unwrap().uid, 10003);
    assert!(matches!(r.resolve("dave"), Err(Error::NotFound { .. })));
    assert!(matches!(r.group_by_gid(10010), Err(Error::NotFound { .. })));
}

/// Every hostile fixture name resolves to itself, in both schemas; ASCII ones are
/// members of `hostile` by memberUid / member DN.
/// Two groups sharing one GID that both list a user: the user's list holds that GID
/// once (a process has GIDs, not names), under the name that sorts first, every time.
/// `protected_groups` compare GIDs, so either name protects.
#[test]
fn groups_sharing_a_gid_appear_once() {
    use support::slapd::BASE;
    let s = rfc2307();
    let mut ldif = format!(
        "dn: uid=twin,ou=people,{BASE}\nchangetype: add\nobjectClass: inetOrgPerson\n\
         objectClass: posixAccount\nuid: twin\ncn: t\nsn: t\nuidNumber: 10600\n\
         gidNumber: 10000\nhomeDirectory: /home/twin\n\n"
    );
    for name in ["twin-b", "twin-a"] {
        ldif += &format!(
            "dn: cn={name},ou=groups,{BASE}\nchangetype: add\nobjectClass: posixGroup\n\
             cn: {name}\ngidNumber: 10600\nmemberUid: twin\n\n"
        );
    }
    s.modify(&ldif);
    let conf = ConfFile::new(&[&s.ldap_uri], NO_CACHE);
    let r = resolver_for(&conf);
    for _ in 0..3 {
        let id = r.resolve("twin").unwrap();
        assert_eq!(gids(&id), vec![10000, 10600]);
        assert_eq!(id.group_names(), vec!["staff", "twin-a"]);
    }
}

#[test]
fn hostile_names_resolve_exactly() {
    let long = format!("l{}ng", "o".repeat(237));
    let names = [
        "MixedCase",
        "with space",
        "tr\u{e8}s-\u{fc}nicode-\u{540d}",
        "star*",
        "paren(",
        "paren)",
        "back\\slash",
        "com,ma",
        "plus+",
        "#hash",
        "quo\"te",
        "semi;colon",
        "less<",
        "greater>",
        "eq=ual",
        long.as_str(),
    ];
    assert_eq!(long.len(), 240);
    let bis = bis_resolver(0);
    for r in [rfc2307_resolver(), &bis] {
        for name in names {
            let id = r.resolve(name).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            assert_eq!(id.name, name);
            let by_uid = r.resolve_uid(id.uid).unwrap();
            assert_eq!(by_uid.name, name);
            assert_eq!(id.gids(), by_uid.gids());
            assert_eq!(id.gids()[0], 10000);
            assert_eq!(
                id.gids().contains(&10016),
                name.is_ascii(),
                "{name:?}: {:?}",
                id.gids()
            );
        }
    }
}

#[test]
fn filter_injection_finds_nothing() {
    let bis = bis_resolver(3);
    for r in [rfc2307_resolver(), &bis] {
        for name in [
            "*",
            "inj)(uid=*",
            "\\2a",
            "alice*",
            "*)(objectClass=*",
            "alice)(|(uid=*",
            "star\\2a",
            "a\\",
            "(",
            ")",
        ] {
            let got = r.resolve(name);
            assert!(
                matches!(got, Err(Error::NotFound { .. })),
                "{name:?}: {got:?}"
            );
            let got = r.group(name);
            assert!(
                matches!(got, Err(Error::NotFound { .. })),
                "{name:?}: {got:?}"
            );
        }
        // NUL never reaches the directory.
        assert!(matches!(
            r.resolve("alice\0"),
            Err(Error::InvalidName { .. })
        ));
    }
}

/// LDAP matches `uid` ignoring case and surrounding spaces; proxid does not.
#[test]
fn names_match_case_and_spaces_exactly() {
    let r = rfc2307_resolver();
    for name in [
        "ALICE",
        "Alice",
        "mixedcase",
        "MIXEDCASE",
        " alice",
        "alice ",
        "with  space",
    ] {
        let got = r.resolve(name);
        assert!(
            matches!(got, Err(Error::NotFound { .. })),
            "{name:?}: {got:?}"
        );
    }
    assert!(matches!(r.group("DEVS"), Err(Error::NotFound { .. })));
}

#[test]
fn ambiguous_or_invalid_entries_are_errors_naming_the_dns() {
    let b = broken_resolver();
    let cases: &[(&str, &[&str])] = &[
        ("dup", &["cn=dup one,ou=broken", "cn=dup two,ou=broken"]),
        ("nouidnumber", &["uid=nouidnumber,ou=broken", "uidNumber"]),
        ("nogidnumber", &["uid=nogidnumber,ou=broken", "gidNumber"]),
        ("negative", &["uid=negative,ou=broken", "-5"]),
        ("minusone", &["uid=minusone,ou=broken", "4294967295"]),
        ("toolarge", &["uid=toolarge,ou=broken", "99999999999"]),
        ("neggid", &["uid=neggid,ou=broken", "-1"]),
        ("badgroupmember", &["cn=badgroup,ou=broken", "4294967295"]),
        (
            "sharedprimary",
            &["cn=shared1,ou=broken", "cn=shared2,ou=broken"],
        ),
    ];
    for (name, needles) in cases {
        let err = b.resolve(name).expect_err(name);
        assert!(matches!(err, Error::Directory { .. }), "{name}: {err}");
        let text = err.to_string();
        for needle in *needles {
            assert!(text.contains(needle), "{name}: {text:?} lacks {needle:?}");
        }
    }
    let err = b.resolve_uid(20003).unwrap_err().to_string();
    assert!(
        err.contains("uid=sameuid1") && err.contains("uid=sameuid2"),
        "{err}"
    );
    let err = b.group_by_gid(20020).unwrap_err().to_string();
    assert!(
        err.contains("cn=shared1") && err.contains("cn=shared2"),
        "{err}"
    );
}

#[test]
fn rfc2307bis_follows_nesting_to_the_configured_depth() {
    // (depth, name, gids)
    let cases: &[(u32, &str, &[u32])] = &[
        (0, "alice", &[10000, 10010, 10011, 10014]),
        (1, "alice", &[10000, 10010, 10011, 10012, 10014, 10015]),
        (
            2,
            "alice",
            &[10000, 10010, 10011, 10012, 10013, 10014, 10015],
        ),
        (
            10,
            "alice",
            &[10000, 10010, 10011, 10012, 10013, 10014, 10015],
        ),
        (0, "bob", &[10000, 10010]),
        // Through the non-POSIX groupOfNames "team", which gives no GID itself.
        (1, "bob", &[10000, 10010, 10012, 10017]),
        (2, "bob", &[10000, 10010, 10012, 10013, 10017]),
        // memberUid-only group in a bis directory.
        (0, "carol", &[10099, 10018]),
        (2, "dave", &[10010, 10012, 10013]),
    ];
    let resolvers: Vec<(u32, Resolver)> = [0, 1, 2, 10]
        .into_iter()
        .map(|d| (d, bis_resolver(d)))
        .collect();
    for (depth, name, want) in cases {
        let r = &resolvers.iter().find(|(d, _)| d == depth).unwrap().1;
        let id = r.resolve(name).unwrap();
        assert_eq!(id.gids(), *want, "depth {depth} {name}");
        assert_eq!(
            r.resolve_uid(id.uid).unwrap().gids(),
            *want,
            "by uid, depth {depth} {name}"
        );
    }
    let r = &resolvers[0].1;
    assert_eq!(r.group("team").ok(), None, "not a POSIX group");
    assert_eq!(r.group("eng").unwrap().gid, 10012);
}

#[test]
fn large_directories_come_back_whole() {
    let r = rfc2307_resolver();
    // joiner is in more groups than the server returns in one search without paging.
    let unpaged = std::process::Command::new("ldapsearch")
        .args([
            "-x",
            "-H",
            &rfc2307().ldap_uri,
            "-b",
            "ou=many,dc=example,dc=org",
        ])
        .args(["(memberUid=joiner)", "cn"])
        .output()
        .unwrap();
    assert_eq!(
        unpaged.status.code(),
        Some(4),
        "sizeLimitExceeded without paging"
    );
    let joiner = r.resolve("joiner").unwrap();
    assert_eq!(joiner.groups.len(), support::JOINER_GROUPS + 1);
    // A member of a group with BULK_USERS members: we never fetch the member list.
    let bulk = r.resolve("bulk0999").unwrap();
    assert_eq!(bulk.gids(), vec![10000, 29999]);
    // Enumeration pages past the size limit.
    let conf = ConfFile::new(
        &[&rfc2307().ldap_uri],
        "user_base = \"ou=many,dc=example,dc=org\"\n",
    );
    let source = LdapSource::new(&conf.config()).unwrap();
    let names = source.user_names().unwrap();
    assert_eq!(names.len(), support::BULK_USERS + 1);
    assert!(names.len() > support::slapd::SIZE_LIMIT);
}

#[test]
fn ldaps_and_starttls_verify_the_server() {
    let s = rfc2307();
    let ca = format!("ca_file = {:?}\n", s.ca_file.display().to_string());
    let tls_cases = [
        (s.ldaps_uri.clone(), ca.clone()),
        (
            s.ldap_uri.replace("127.0.0.1", "localhost"),
            format!("{ca}starttls = true\n"),
        ),
    ];
    for (uri, extra) in &tls_cases {
        let conf = ConfFile::new(&[uri], extra);
        let id = resolver_for(&conf)
            .resolve("alice")
            .unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(id.uid, 10001);
    }

    // A CA that did not sign the server's certificate.
    let other = tempfile::tempdir().unwrap();
    let (wrong_ca, _, _) = make_certificates(other.path(), "other");
    let wrong = format!("ca_file = {:?}\n", wrong_ca.display().to_string());
    let tls_port = s.tls_port;
    let refused = [
        (s.ldaps_uri.clone(), wrong.clone()),
        (
            s.ldap_uri.replace("127.0.0.1", "localhost"),
            format!("{wrong}starttls = true\n"),
        ),
        // Right CA, wrong name: the certificate names localhost only.
        (format!("ldaps://127.0.0.1:{tls_port}"), ca.clone()),
    ];
    for (uri, extra) in &refused {
        let conf = ConfFile::new(&[uri], extra);
        let err = resolver_for(&conf).resolve("alice").expect_err(uri);
        assert!(matches!(err, Error::Unavailable { .. }), "{uri}: {err}");
        let text = err.to_string().to_lowercase();
        assert!(
            text.contains("certificate") || text.contains("name"),
            "{uri}: {text}"
        );
    }
}

#[test]
fn simple_bind_works_and_bad_passwords_fail() {
    let s = rfc2307();
    let dir = tempfile::tempdir().unwrap();
    let good = ConfFile::new(
        &[&s.ldap_uri],
        &ConfFile::bind_lines(dir.path(), support::slapd::BIND_PW),
    );
    assert_eq!(resolver_for(&good).resolve("bob").unwrap().uid, 10002);
    let bad = ConfFile::new(&[&s.ldap_uri], &ConfFile::bind_lines(dir.path(), "wrong"));
    let err = resolver_for(&bad).resolve("bob").unwrap_err().to_string();
    assert!(
        err.contains("49") || err.contains("invalid credentials"),
        "{err}"
    );
    assert!(!err.contains("wrong"), "never shows the password: {err}");
}

#[test]
fn clear_text_binds_to_remote_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bind = ConfFile::bind_lines(dir.path(), "pw");
    // (uri, extra, accepted)
    let cases = [
        ("ldap://ldap.example.org", "", false),
        ("ldap://192.0.2.1", "", false),
        (
            "ldap://ldap.example.org",
            "allow_insecure_bind = true\n",
            true,
        ),
        ("ldap://ldap.example.org", "starttls = true\n", true),
        ("ldaps://ldap.example.org", "", true),
        ("ldap://127.0.0.1", "", true),
        ("ldap://localhost", "", true),
    ];
    for (uri, extra, accepted) in cases {
        let conf = ConfFile::new(&[uri], &format!("{bind}{extra}"));
        let got = Resolver::new(conf.config());
        assert_eq!(got.is_ok(), accepted, "{uri} {extra}: {got:?}");
        if let Err(e) = got {
            assert!(e.to_string().contains("clear text"), "{e}");
        }
    }
}

#[test]
fn a_dead_first_server_is_skipped_and_remembered() {
    let refused = support::dead_uri();
    let conf = ConfFile::new(&[&refused, &rfc2307().ldap_uri], "connections = 2\n");
    let r = resolver_for(&conf);
    for _ in 0..4 {
        assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    }

    // A server that accepts and hangs up: tried once, then left alone while the other
    // pooled connections open to the next server.
    let slammer = support::Slammer::start();
    let dir = tempfile::tempdir().unwrap();
    let bind = ConfFile::bind_lines(dir.path(), support::slapd::BIND_PW);
    let conf = ConfFile::new(
        &[&slammer.uri(), &rfc2307().ldap_uri],
        &format!("{bind}connections = 4\n"),
    );
    let r = resolver_for(&conf);
    for _ in 0..8 {
        assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    }
    // The first lookup's user and group searches go out at once on two connections,
    // so both may try the dead server in that same moment; no later lookup does.
    let tried = slammer.accepted();
    assert!(
        (1..=2).contains(&tried),
        "the dead server was retried: {tried}"
    );
}

#[test]
fn a_black_hole_costs_at_most_the_timeout() {
    let hole = BlackHole::start();
    let limits = "connect_timeout = \"1s\"\noperation_timeout = \"1s\"\n";
    let margin = Duration::from_millis(900);

    // Alone, it times out within operation_timeout.
    let conf = ConfFile::new(&[&hole.uri()], limits);
    let r = resolver_for(&conf);
    #[allow(clippy::disallowed_methods)] // real time: timeouts against real servers
    let started = Instant::now();
    let err = r.resolve("alice").unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1) + margin,
        "{:?}",
        started.elapsed()
    );
    // Then it is remembered as dead: the next lookup fails at once.
    #[allow(clippy::disallowed_methods)] // real time: timeouts against real servers
    let started = Instant::now();
    assert!(r.resolve("alice").is_err());
    assert!(started.elapsed() < margin, "{:?}", started.elapsed());

    // Over TLS, the handshake never completes: connect_timeout bounds it.
    let conf = ConfFile::new(
        &[&format!("ldaps://127.0.0.1:{}", hole.port)],
        &format!(
            "{limits}ca_file = {:?}\n",
            rfc2307().ca_file.display().to_string()
        ),
    );
    #[allow(clippy::disallowed_methods)] // real time: timeouts against real servers
    let started = Instant::now();
    let err = resolver_for(&conf).resolve("alice").unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1) + margin,
        "{:?}",
        started.elapsed()
    );

    // First in a list: one timeout, then the next server answers, and keeps answering.
    let conf = ConfFile::new(&[&hole.uri(), &rfc2307().ldap_uri], limits);
    let r = resolver_for(&conf);
    #[allow(clippy::disallowed_methods)] // real time: timeouts against real servers
    let started = Instant::now();
    assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    assert!(
        started.elapsed() < Duration::from_secs(1) + margin,
        "{:?}",
        started.elapsed()
    );
    #[allow(clippy::disallowed_methods)] // real time: timeouts against real servers
    let started = Instant::now();
    for _ in 0..8 {
        assert_eq!(r.resolve("bob").unwrap().uid, 10002);
    }
    assert!(started.elapsed() < margin, "{:?}", started.elapsed());
}

#[test]
fn connections_closed_by_the_server_are_replaced() {
    let mut s = Slapd::start(
        support::slapd::Schema::Rfc2307,
        &support::fixture("rfc2307.ldif"),
    );
    let conf = ConfFile::new(&[&s.ldap_uri], "connections = 1\n");
    let r = resolver_for(&conf);
    assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    s.restart();
    assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    assert_eq!(r.resolve("bob").unwrap().uid, 10002);
}

/// Extra configuration that turns the resolver's cache off.
const NO_CACHE: &str = "[cache]\npositive_ttl = \"0s\"\nnegative_ttl = \"0s\"\n";

#[test]
fn connections_are_pooled_and_cut_ones_replaced() {
    let proxy = support::Proxy::start(rfc2307().port);
    // The cache is off: every lookup must reach the directory, through the pool.
    let conf = ConfFile::new(&[&proxy.uri()], &format!("connections = 3\n{NO_CACHE}"));
    let r = resolver_for(&conf);
    for _ in 0..30 {
        assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    }
    // The pool grows on demand (a lookup's two concurrent searches ask for a second
    // connection), never beyond `connections`, and never a connection per lookup.
    let before = proxy.accepted();
    assert!((1..=3).contains(&before), "{before} connections");
    proxy.cut();
    for _ in 0..30 {
        assert_eq!(r.resolve("bob").unwrap().uid, 10002);
    }
    let replaced = proxy.accepted() - before;
    assert!(
        (1..=3).contains(&replaced),
        "cut connections replaced, not one per lookup: {replaced}"
    );
}

#[test]
fn connections_are_reopened_after_connection_max_age() {
    let proxy = support::Proxy::start(rfc2307().port);
    let conf = ConfFile::new(
        &[&proxy.uri()],
        &format!("connections = 1\nconnection_max_age = \"60s\"\n{NO_CACHE}"),
    );
    // The pool's clock is moved by hand: nothing here sleeps.
    let clock = TestClock::default();
    let r = resolver_on(&conf, &clock);
    assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    assert_eq!(r.resolve("bob").unwrap().uid, 10002);
    assert_eq!(proxy.accepted(), 1);
    clock.advance(Duration::from_millis(59_999));
    assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    assert_eq!(proxy.accepted(), 1, "replaced before connection_max_age");
    clock.advance(Duration::from_millis(1));
    assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    assert_eq!(proxy.accepted(), 2, "the old connection was reused");
}

/// A fresh resolver opens nothing until asked, and its first lookup costs one
/// connect (+ TLS + bind): the user and memberUid searches, then the primary group's,
/// all go on that one connection. More connections open only under concurrency.
#[test]
fn a_first_lookup_costs_one_connection() {
    let s = rfc2307();
    let dir = tempfile::tempdir().unwrap();
    let bind = ConfFile::bind_lines(dir.path(), support::slapd::BIND_PW);
    let ca = format!("ca_file = {:?}\n", s.ca_file.display().to_string());
    for (target, scheme, tls) in [
        (s.port, "ldap://127.0.0.1", ""),
        (s.tls_port, "ldaps://localhost", &ca),
    ] {
        let proxy = support::Proxy::start(target);
        let uri = format!("{scheme}:{}", proxy.port);
        let conf = ConfFile::new(&[&uri], &format!("{bind}{tls}connections = 4\n{NO_CACHE}"));
        let r = Arc::new(resolver_for(&conf));
        assert_eq!(proxy.accepted(), 0, "{uri}: opening connects to nothing");
        let id = r.resolve("alice").unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(gids(&id), vec![10000, 10010, 10011, 10014]);
        assert_eq!(
            proxy.accepted(),
            1,
            "{uri}: the first lookup opened more than one"
        );
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        let (name, uid, _) = RFC2307_CASES[(t + i) % RFC2307_CASES.len()];
                        assert_eq!(r.resolve(name).unwrap().uid, uid);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let grown = proxy.accepted();
        assert!((2..=4).contains(&grown), "{uri}: {grown} connections");
    }
}

/// The LDAP client runtime runs only while a lookup drives it, so the connect that
/// grows the pool beside two lookups (TLS, slower than they are) is driven by a
/// thread of its own. Whether it ends during the lookups or after them, binds and
/// lookups after an idle gap longer than `connect_timeout` work, every time.
#[test]
fn a_pool_growing_beside_lookups_finishes_after_they_return() {
    let s = rfc2307();
    let ca = format!("ca_file = {:?}\n", s.ca_file.display().to_string());
    for round in 0..3 {
        let conf = ConfFile::new(
            &[&s.ldaps_uri],
            &format!("{ca}connections = 4\nconnect_timeout = \"300ms\"\n{NO_CACHE}"),
        );
        let source = Arc::new(LdapSource::new(&conf.config()).expect("source"));
        source.user_by_name("alice").expect("first lookup");
        // Two lookups at once: the second finds the connection busy and asks for one more.
        let start = Arc::new(std::sync::Barrier::new(2));
        let lookups: Vec<_> = ["bob", "dave"]
            .into_iter()
            .map(|name| {
                let (source, start) = (source.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    source.user_by_name(name).expect("lookup").is_some()
                })
            })
            .collect();
        for l in lookups {
            assert!(l.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(600));
        // Each bind reaches the server (alice has no password in these fixtures).
        for bind in 0..3 {
            assert_eq!(
                source.check_password("alice", "any").expect("bind"),
                proxid::identity::PasswordCheck::WrongPassword,
                "round {round}, bind {bind}"
            );
        }
        assert!(source.user_by_name("carol").expect("lookup").is_some());
    }
}

/// `retry_after`: a server that failed is skipped that long; then the client goes back
/// to the first server in `uris` (connections to later ones are kept no longer).
#[test]
fn the_first_server_is_used_again_after_retry_after() {
    use support::slapd::{Schema, BASE};
    // Only the first server knows `firstonly`: who answers shows which server is used.
    let marker = format!(
        "dn: uid=firstonly,ou=people,{BASE}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
         uid: firstonly\ncn: f\nsn: f\nuidNumber: 10999\ngidNumber: 10000\nhomeDirectory: /home/f\n"
    );
    let mut first = Slapd::start(
        Schema::Rfc2307,
        &[support::fixture("rfc2307.ldif"), marker].join("\n"),
    );
    first.stop();
    let conf = ConfFile::new(
        &[&first.ldap_uri, &rfc2307().ldap_uri],
        &format!("retry_after = \"2s\"\n{NO_CACHE}"),
    );
    // The pool's clock is moved by hand: nothing here sleeps.
    let clock = TestClock::default();
    let r = resolver_on(&conf, &clock);
    assert!(matches!(
        r.resolve("firstonly"),
        Err(Error::NotFound { .. })
    ));
    first.restart();
    clock.advance(Duration::from_millis(1999));
    let early = r.resolve("firstonly");
    assert!(
        matches!(early, Err(Error::NotFound { .. })),
        "the first server was retried before retry_after: {early:?}"
    );
    clock.advance(Duration::from_millis(1));
    let back = r.resolve("firstonly");
    assert_eq!(back.map(|id| id.uid).map_err(|e| e.to_string()), Ok(10999));
    assert_eq!(r.resolve("alice").unwrap().uid, 10001);
}

/// The certificates small directories make with `openssl req -x509` (self-signed,
/// `CA:TRUE`): accepted when that very certificate is in `ca_file` (pinned, host name
/// still checked), over ldaps and StartTLS; otherwise refused with an explanation.
#[test]
fn self_signed_certificates_are_pinned_or_explained() {
    use support::slapd::Schema;
    let s = Slapd::start_with(Schema::Rfc2307, &support::fixture("rfc2307.ldif"), true);
    let pinned = format!("ca_file = {:?}\n", s.ca_file.display().to_string());
    let starttls_uri = format!("ldap://localhost:{}", s.port);
    let accepted = [
        (s.ldaps_uri.clone(), pinned.clone()),
        (starttls_uri.clone(), format!("{pinned}starttls = true\n")),
    ];
    for (uri, extra) in &accepted {
        let conf = ConfFile::new(&[uri], extra);
        let id = resolver_for(&conf)
            .resolve("alice")
            .unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(id.uid, 10001);
    }

    // Not in ca_file: refused, saying why and what to do.
    let other = tempfile::tempdir().unwrap();
    let (other_ca, _, _) = make_certificates(other.path(), "other");
    let elsewhere = format!("ca_file = {:?}\n", other_ca.display().to_string());
    for (uri, extra) in [
        (s.ldaps_uri.clone(), elsewhere.clone()),
        (
            starttls_uri.clone(),
            format!("{elsewhere}starttls = true\n"),
        ),
    ] {
        let conf = ConfFile::new(&[&uri], &extra);
        let err = resolver_for(&conf)
            .resolve("alice")
            .expect_err(&uri)
            .to_string();
        for words in [
            "is a CA certificate",
            "make a CA and a server certificate",
            "pin",
        ] {
            assert!(err.contains(words), "{uri}: {err}");
        }
    }

    // Pinned, but asked for under a name it does not carry.
    let wrong_name = format!("ldaps://127.0.0.1:{}", s.tls_port);
    let conf = ConfFile::new(&[&wrong_name], &pinned);
    let err = resolver_for(&conf)
        .resolve("alice")
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not name 127.0.0.1"), "{err}");

    // Over IPv6, the address is checked against the certificate's IP SAN (`::1`).
    if support::slapd::has_ipv6() {
        let conf = ConfFile::new(&[&format!("ldaps://[::1]:{}", s.tls_port)], &pinned);
        assert_eq!(resolver_for(&conf).resolve("alice").unwrap().uid, 10001);
    }
}

/// `ldaps://[::1]:port` verifies the address against the certificate's IP SAN.
#[test]
fn ldaps_to_an_ipv6_literal_checks_the_ip_san() {
    if !support::slapd::has_ipv6() {
        eprintln!("no IPv6 loopback on this host: skipped");
        return;
    }
    let s = rfc2307();
    let ca = format!("ca_file = {:?}\n", s.ca_file.display().to_string());
    let cases = [
        (format!("ldaps://[::1]:{}", s.tls_port), ca.clone()),
        (
            format!("ldap://[::1]:{}", s.port),
            format!("{ca}starttls = true\n"),
        ),
    ];
    for (uri, extra) in &cases {
        let conf = ConfFile::new(&[uri], extra);
        let id = resolver_for(&conf)
            .resolve("alice")
            .unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(id.uid, 10001);
    }
    // 127.0.0.1 is not in the certificate: same server, refused by name.
    let conf = ConfFile::new(&[&format!("ldaps://127.0.0.1:{}", s.tls_port)], &ca);
    let err = resolver_for(&conf)
        .resolve("alice")
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not name"), "{err}");
}

#[test]
fn sixteen_threads_resolve_at_once() {
    let proxy = support::Proxy::start(rfc2307().port);
    let conf = ConfFile::new(&[&proxy.uri()], "connections = 3\n");
    let r = Arc::new(resolver_for(&conf));
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let r = r.clone();
            std::thread::spawn(move || {
                for i in 0..20 {
                    let (name, uid, want) = RFC2307_CASES[(t + i) % RFC2307_CASES.len()];
                    let id = r.resolve(name).unwrap();
                    assert_eq!((id.uid, id.gids()), (uid, want.to_vec()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(proxy.accepted() <= 3, "{} connections", proxy.accepted());
}

/// OpenLDAP keeps one paged-search state per connection: paged lookups sharing a
/// connection must take turns, or the server rejects their cookies.
#[test]
fn large_lookups_share_one_connection() {
    let conf = ConfFile::new(&[&rfc2307().ldap_uri], "connections = 1\n");
    let r = Arc::new(resolver_for(&conf));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let r = r.clone();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let joiner = r.resolve("joiner").unwrap();
                    assert_eq!(joiner.groups.len(), support::JOINER_GROUPS + 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn works_from_inside_a_tokio_runtime() {
    let r = rfc2307_resolver();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let uid = rt.block_on(async { r.resolve("alice").map(|id| id.uid) });
    assert_eq!(uid.unwrap(), 10001);
    // Dropping a source inside a runtime must not panic either.
    let conf = ConfFile::new(&[&rfc2307().ldap_uri], "");
    let source = LdapSource::new(&conf.config()).unwrap();
    rt.block_on(async move {
        assert_eq!(source.user_by_name("bob").unwrap().unwrap().uid, 10002);
        drop(source);
    });
}

#[test]
fn a_forked_child_resolves_with_its_own_runtime() {
    let r = rfc2307_resolver();
    assert_eq!(r.resolve("alice").unwrap().uid, 10001);
    // SAFETY: the child only calls the resolver and _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: a hung child dies instead of hanging the test.
        unsafe { libc::alarm(20) };
        // "bob" is not cached yet, so the child must ask the directory: on its own
        // runtime and connections (the parent's threads do not exist here).
        let code = match r.resolve("bob") {
            Ok(bob) if bob.uid == 10002 => 0,
            _ => 1,
        };
        // SAFETY: leaves the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child we just forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status}"
    );
    assert_eq!(
        r.resolve("carol").unwrap().uid,
        10003,
        "the parent still works"
    );

    // A resolver opened but not yet used has started nothing: a child can use it.
    let conf = ConfFile::new(&[&rfc2307().ldap_uri], "");
    let unused = resolver_for(&conf);
    // SAFETY: as above.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let code = match unused.resolve("bob") {
            Ok(id) if id.uid == 10002 => 0,
            _ => 1,
        };
        // SAFETY: as above.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: as above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child could not use a resolver opened before fork: {status}"
    );
}

#[test]
fn cli_resolves_from_ldap() {
    let conf = ConfFile::new(&[&rfc2307().ldap_uri], "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_proxid"))
        .arg("--config")
        .arg(&conf.path)
        .args(["resolve", "--json", "--", "alice", "with space"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["source"], "ldap");
    assert_eq!(lines[0]["uid"], 10001);
    assert_eq!(lines[1]["name"], "with space");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_proxid"))
        .arg("--config")
        .arg(&conf.path)
        .args(["resolve", "--", "*"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "not found");
}

/// Without `ca_file`, the system store is used; a store that yields no certificate is
/// an error at startup, not a TLS failure later. (rustls-native-certs reads
/// SSL_CERT_FILE / SSL_CERT_DIR when set; a child process keeps the env change private.)
#[test]
fn the_system_store_is_used_and_an_empty_one_is_refused() {
    let s = rfc2307();
    let conf = ConfFile::new(&[&s.ldaps_uri], "");
    let empty = conf.dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let run = |store: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_proxid"))
            .env("SSL_CERT_FILE", store)
            .env("SSL_CERT_DIR", conf.dir.path().join("no-such-dir"))
            .arg("--config")
            .arg(&conf.path)
            .args(["resolve", "alice"])
            .output()
            .unwrap()
    };
    let trusted = run(&s.ca_file);
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    let refused = run(&empty);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("system certificate store"), "{stderr}");
}

#[test]
fn the_attribute_map_is_honoured_and_checked() {
    let uri = rfc2307().ldap_uri.clone();
    let conf = ConfFile::new(
        &[&uri],
        "[ldap.map]\nuid = \"cn\"\nlogin_shell = \"sn\"\nuser_filter = \"objectClass=inetOrgPerson\"\n",
    );
    let id = resolver_for(&conf).resolve("user 0").unwrap();
    assert_eq!((id.uid, id.shell.as_str(), id.gid), (10001, "user0", 10000));

    for (map, needle) in [
        ("uid = \"uid)(x\"", "not an LDAP attribute name"),
        ("member = \"\"", "not an LDAP attribute name"),
        (
            "user_filter = \"(objectClass=posixAccount\"",
            "not a valid LDAP filter",
        ),
    ] {
        let conf = ConfFile::new(&[&uri], &format!("[ldap.map]\n{map}\n"));
        let err = Resolver::new(conf.config()).unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{map}: {err}");
        assert!(err.to_string().contains(needle), "{map}: {err}");
    }
}
