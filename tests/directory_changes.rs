//! Directory changes reach callers (issue 16.3), against a real slapd and real time
//! with short TTLs: a user added, removed, moved to another group, given another
//! UID is seen once the cached answer's TTL is over (never later), or at once after
//! `invalidate`. The cache is proven to be answering before the TTL ends, so the
//! bound is not met by accident.

mod support;

use std::time::{Duration, Instant};

use proxid::Resolver;
use support::slapd::{Schema, Slapd, BASE};
use support::ConfFile;

const TTL: Duration = Duration::from_secs(1);

fn setup() -> (Slapd, ConfFile, Resolver) {
    let server = Slapd::start(Schema::Rfc2307, &support::fixture("rfc2307.ldif"));
    let conf = ConfFile::new(
        &[&server.ldap_uri],
        "\n[cache]\npositive_ttl = \"1s\"\nnegative_ttl = \"1s\"\n",
    );
    let r = Resolver::open(Some(&conf.path)).unwrap();
    (server, conf, r)
}

/// What a caller sees for `name`: UID and GIDs, or "not found".
fn look(r: &Resolver, name: &str) -> String {
    match r.resolve(name) {
        Ok(id) => format!("uid={} gids={:?}", id.uid, id.gids()),
        Err(e) if e.kind() == "not_found" => "not found".into(),
        Err(e) => panic!("{name}: {e}"),
    }
}

fn add_user(server: &Slapd, name: &str, uid: u32) {
    server.modify(&format!(
        "dn: uid={name},ou=people,{BASE}\nchangetype: add\nobjectClass: inetOrgPerson\n\
         objectClass: posixAccount\nuid: {name}\ncn: {name}\nsn: {name}\nuidNumber: {uid}\n\
         gidNumber: 10000\nhomeDirectory: /home/{name}\n"
    ));
}

/// Makes `change`, then polls: the old answer may be served only by lookups that
/// start within TTL of the last lookup before the change (which is when the cached
/// entry was fetched, at the latest). Returns when the new answer showed.
fn seen_within_ttl(r: &Resolver, name: &str, change: impl FnOnce(), new: &str) -> Duration {
    let old = look(r, name);
    assert_ne!(old, new, "the change must be visible");
    #[allow(clippy::disallowed_methods)] // real time: a real directory changes
    let fetched_by = Instant::now();
    change();
    let changed = fetched_by.elapsed();
    if changed < TTL / 2 {
        assert_eq!(look(r, name), old, "the cache answers within the TTL");
    }
    loop {
        #[allow(clippy::disallowed_methods)] // real time: a real directory changes
        let start = Instant::now();
        let now = look(r, name);
        if now != old {
            assert_eq!(now, new);
            return fetched_by.elapsed();
        }
        assert!(
            start < fetched_by + TTL,
            "{name}: old answer {old:?} served {:?} after it was cached (positive_ttl {TTL:?})",
            start - fetched_by
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Makes `change` and empties the cache for `name`: the very next lookup is new.
fn seen_after_invalidate(r: &Resolver, name: &str, change: impl FnOnce(), new: &str) {
    let old = look(r, name);
    assert_ne!(old, new);
    change();
    r.invalidate(Some(name));
    assert_eq!(look(r, name), new, "{name}: right after invalidate");
}

#[test]
fn added_users_appear_after_the_negative_ttl_or_invalidate() {
    let (server, _conf, r) = setup();
    let after = seen_within_ttl(
        &r,
        "newcomer",
        || add_user(&server, "newcomer", 61001),
        "uid=61001 gids=[10000]",
    );
    eprintln!("added user seen after {after:?}");
    seen_after_invalidate(
        &r,
        "latecomer",
        || add_user(&server, "latecomer", 61002),
        "uid=61002 gids=[10000]",
    );
}

#[test]
fn removed_users_are_never_served_past_the_positive_ttl() {
    let (server, _conf, r) = setup();
    add_user(&server, "leaver", 61101);
    add_user(&server, "quitter", 61102);
    let delete = |name: &str| {
        server.modify(&format!(
            "dn: uid={name},ou=people,{BASE}\nchangetype: delete\n"
        ))
    };
    let after = seen_within_ttl(&r, "leaver", || delete("leaver"), "not found");
    eprintln!("removed user gone after {after:?}");
    // Its UID no longer resolves either.
    assert_eq!(r.resolve_uid(61101).unwrap_err().kind(), "not_found");
    seen_after_invalidate(&r, "quitter", || delete("quitter"), "not found");
    assert_eq!(r.resolve_uid(61102).unwrap_err().kind(), "not_found");
}

#[test]
fn group_moves_reach_callers() {
    let (server, _conf, r) = setup();
    // bob: devs (10010) -> ops (10011).
    let move_bob = |from: &str, to: &str| {
        server.modify(&format!(
            "dn: cn={from},ou=groups,{BASE}\nchangetype: modify\ndelete: memberUid\nmemberUid: bob\n\n\
             dn: cn={to},ou=groups,{BASE}\nchangetype: modify\nadd: memberUid\nmemberUid: bob\n"
        ))
    };
    let old = look(&r, "bob");
    assert!(old.contains("10010") && !old.contains("10011"), "{old}");
    let new = old.replace("10010", "10011");
    let after = seen_within_ttl(&r, "bob", || move_bob("devs", "ops"), &new);
    eprintln!("group move seen after {after:?}");
    seen_after_invalidate(&r, "bob", || move_bob("ops", "devs"), &old);
}

#[test]
fn uid_changes_reach_callers_by_name_and_by_uid() {
    let (server, _conf, r) = setup();
    let set_uid = |uid: u32| {
        server.modify(&format!(
            "dn: uid=carol,ou=people,{BASE}\nchangetype: modify\nreplace: uidNumber\nuidNumber: {uid}\n"
        ))
    };
    let old_uid = r.resolve("carol").unwrap().uid;
    assert_eq!(r.resolve_uid(old_uid).unwrap().name, "carol");
    let old = look(&r, "carol");
    let new = old.replace(&format!("uid={old_uid}"), "uid=62001");
    let after = seen_within_ttl(&r, "carol", || set_uid(62001), &new);
    eprintln!("UID change seen after {after:?}");
    assert_eq!(r.resolve_uid(62001).unwrap().name, "carol");
    std::thread::sleep(TTL);
    assert_eq!(r.resolve_uid(old_uid).unwrap_err().kind(), "not_found");

    let back = old.replace(&format!("uid={old_uid}"), "uid=62002");
    seen_after_invalidate(&r, "carol", || set_uid(62002), &back);
    assert_eq!(r.resolve_uid(62002).unwrap().name, "carol");
    assert_eq!(r.resolve_uid(62001).unwrap_err().kind(), "not_found");
}

/// A change made on the provider of a syncrepl pair reaches a client that reads the
/// consumer: after the TTL plus the replication delay.
#[test]
fn changes_on_the_provider_reach_clients_of_the_consumer() {
    let ldif = support::fixture("rfc2307.ldif");
    let (provider, consumer) = Slapd::start_replicated_pair(
        Schema::Rfc2307,
        &ldif,
        &format!("uid=carol,ou=people,{BASE}"),
    );
    let conf = ConfFile::new(
        &[&consumer.ldap_uri],
        "\n[cache]\npositive_ttl = \"1s\"\nnegative_ttl = \"1s\"\n",
    );
    let r = Resolver::open(Some(&conf.path)).unwrap();
    assert_eq!(look(&r, "replicant"), "not found");
    #[allow(clippy::disallowed_methods)] // real time: a real directory changes
    let start = Instant::now();
    add_user(&provider, "replicant", 61201);
    // Replication is asynchronous: poll within a generous bound.
    let deadline = TTL + Duration::from_secs(10);
    while look(&r, "replicant") == "not found" {
        assert!(
            start.elapsed() < deadline,
            "not replicated within {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "added on the provider, seen through the consumer after {:?}",
        start.elapsed()
    );
    #[allow(clippy::disallowed_methods)] // real time: a real directory changes
    let start = Instant::now();
    provider.modify(&format!(
        "dn: uid=replicant,ou=people,{BASE}\nchangetype: delete\n"
    ));
    while look(&r, "replicant") != "not found" {
        assert!(
            start.elapsed() < deadline,
            "deletion not seen within {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "deleted on the provider, gone through the consumer after {:?}",
        start.elapsed()
    );
}
