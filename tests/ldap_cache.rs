//! The cache in front of a real slapd: stale answers while the directory is down,
//! invalidation that reaches the directory again, unknown names remembered. Time is
//! the injected clock; nothing here sleeps.

mod support;

use std::sync::Arc;
use std::time::Duration;

use proxid::cache::Freshness;
use proxid::clock::TestClock;
use proxid::source::ldap::LdapSource;
use proxid::{Prefetch, Resolver};
use support::slapd::{Schema, Slapd, BASE};
use support::ConfFile;

fn resolver(conf: &ConfFile, clock: &TestClock) -> Resolver {
    let config = conf.config();
    let source = Arc::new(LdapSource::new(&config).expect("ldap source"));
    Resolver::with_source_and_clock(config, source, Arc::new(clock.clone()))
}

fn own_server() -> Slapd {
    Slapd::start(Schema::Rfc2307, &support::fixture("rfc2307.ldif"))
}

#[test]
fn stale_entries_are_served_while_slapd_is_stopped() {
    let mut server = own_server();
    let conf = ConfFile::new(
        &[&server.ldap_uri],
        "connect_timeout = \"1s\"\noperation_timeout = \"1s\"\n",
    );
    let clock = TestClock::default();
    let r = resolver(&conf, &clock);
    let fresh = r.resolve("alice").unwrap();

    server.stop();
    clock.advance(Duration::from_secs(301)); // past positive_ttl (300s)
    let (stale, freshness) = r.resolve_with_freshness(b"alice").unwrap();
    assert_eq!(freshness, Freshness::Stale);
    assert_eq!(stale, fresh, "the last answer, unchanged");
    // A name never seen has nothing to fall back on: the outage shows.
    let err = r.resolve("bob").unwrap_err();
    assert!(matches!(err.kind(), "unavailable" | "timeout"), "{err}");
    // Past stale_if_unavailable (1h) the stale entry is no longer served.
    clock.advance(Duration::from_secs(3600));
    let err = r.resolve("alice").unwrap_err();
    assert!(matches!(err.kind(), "unavailable" | "timeout"), "{err}");
}

#[test]
fn an_emptied_cache_answers_from_the_directory() {
    let server = own_server();
    let conf = ConfFile::new(&[&server.ldap_uri], "");
    let clock = TestClock::default();
    let r = resolver(&conf, &clock);
    let before = r.resolve("alice").unwrap().gids();
    assert!(!before.contains(&10012));
    server.modify(&format!(
        "dn: cn=ops,ou=groups,{BASE}\nchangetype: modify\ndelete: memberUid\nmemberUid: alice\n\n\
         dn: cn=staff,ou=groups,{BASE}\nchangetype: modrdn\nnewrdn: cn=renamed\ndeleteoldrdn: 1\n"
    ));
    // Within the TTL the cache still answers the old groups...
    assert_eq!(r.resolve("alice").unwrap().gids(), before);
    // ...until it is emptied for that user: then the directory's answer shows.
    r.invalidate(Some("alice"));
    let after = r.resolve("alice").unwrap();
    assert!(!after.gids().contains(&10011), "ops membership removed");
    assert!(after.gids().contains(&10010));
    // Emptying everything also forgets the primary group names the source kept.
    r.invalidate(None);
    let primary = &r.resolve("alice").unwrap().groups[0];
    assert_eq!((primary.gid, primary.name.as_str()), (10000, "renamed"));
}

#[test]
fn unknown_names_are_remembered_for_the_negative_ttl() {
    let server = own_server();
    let conf = ConfFile::new(&[&server.ldap_uri], "");
    let clock = TestClock::default();
    let r = resolver(&conf, &clock);
    assert_eq!(r.resolve("newcomer").unwrap_err().kind(), "not_found");
    server.modify(&format!(
        "dn: uid=newcomer,ou=people,{BASE}\nchangetype: add\nobjectClass: inetOrgPerson\n\
         objectClass: posixAccount\nuid: newcomer\ncn: n\nsn: n\nuidNumber: 10500\n\
         gidNumber: 10000\nhomeDirectory: /home/newcomer\n"
    ));
    // The directory has it now, but "not found" is remembered for 30s.
    assert_eq!(r.resolve("newcomer").unwrap_err().kind(), "not_found");
    clock.advance(Duration::from_secs(30));
    assert_eq!(r.resolve("newcomer").unwrap().uid, 10500);
}

#[test]
fn prefetched_users_are_answered_without_the_directory() {
    let mut server = own_server();
    let conf = ConfFile::new(&[&server.ldap_uri], "connections = 2\n");
    let clock = TestClock::default();
    let r = resolver(&conf, &clock);

    let group = r.prefetch(Prefetch::Group("devs")).unwrap();
    assert!(group.resolved >= 2, "{group:?}");
    let whole = r.prefetch(Prefetch::Directory).unwrap();
    assert!(whole.resolved >= 10, "{whole:?}");
    // Entries the directory holds but proxid refuses (UID 0 and the like) are
    // reported by name, not silently dropped.
    for (name, e) in &whole.failed {
        assert!(!name.is_empty(), "{e}");
    }

    // With the directory gone, every prefetched user is still answered, fresh.
    server.stop();
    for name in ["alice", "bob", "dave"] {
        let (_, freshness) = r.resolve_with_freshness(name.as_bytes()).unwrap();
        assert_eq!(freshness, Freshness::Fresh, "{name}");
    }
    let err = r.prefetch(Prefetch::Directory).unwrap_err();
    assert!(matches!(err.kind(), "unavailable" | "timeout"), "{err}");
}

#[test]
fn the_local_source_cannot_enumerate() {
    let r = Resolver::new(proxid::Config::default()).unwrap();
    let err = r.prefetch(Prefetch::Directory).unwrap_err();
    assert!(err.to_string().contains("cannot list"), "{err}");
    let report = r
        .prefetch(Prefetch::Users(&["root", "no-such-user-proxid"]))
        .unwrap();
    assert_eq!(report.resolved, 1);
    assert_eq!(report.failed[0].0, "no-such-user-proxid");
}
