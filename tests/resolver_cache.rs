//! The resolver's cache seen from outside: TTLs on an injected clock, negative
//! entries, invalidation that provably reaches the source again, name/UID consistency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proxid::clock::TestClock;
use proxid::source::Source;
use proxid::{Config, Error, Group, Identity, Resolver};

/// A directory whose answers the test changes, counting every question.
#[derive(Default)]
struct FakeDirectory {
    users: Mutex<Vec<Identity>>,
    lookups: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

fn user(name: &str, uid: u32, gids: &[u32]) -> Identity {
    Identity {
        name: name.into(),
        uid,
        gid: gids[0],
        groups: gids
            .iter()
            .map(|&gid| Group {
                name: format!("g{gid}"),
                gid,
            })
            .collect(),
        home: format!("/home/{name}"),
        shell: "/bin/sh".into(),
        source: "fake".into(),
        hidden_gids: Vec::new(),
    }
}

impl FakeDirectory {
    fn answer(&self, pick: impl Fn(&Identity) -> bool) -> proxid::Result<Option<Identity>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::Unavailable {
                source_name: "fake".into(),
                detail: "down".into(),
            });
        }
        Ok(self.users.lock().unwrap().iter().find(|u| pick(u)).cloned())
    }
}

impl Source for FakeDirectory {
    fn kind(&self) -> &'static str {
        "fake"
    }
    fn user_by_name(&self, name: &str) -> proxid::Result<Option<Identity>> {
        self.answer(|u| u.name == name)
    }
    fn user_by_uid(&self, uid: u32) -> proxid::Result<Option<Identity>> {
        self.answer(|u| u.uid == uid)
    }
    fn group_by_name(&self, name: &str) -> proxid::Result<Option<Group>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok((name == "staff").then(|| Group {
            name: name.into(),
            gid: 50,
        }))
    }
    fn group_by_gid(&self, _: u32) -> proxid::Result<Option<Group>> {
        Ok(None)
    }
}

fn setup() -> (Resolver, Arc<FakeDirectory>, TestClock) {
    let directory = Arc::new(FakeDirectory::default());
    directory
        .users
        .lock()
        .unwrap()
        .push(user("alice", 20001, &[10001, 30001]));
    let clock = TestClock::default();
    let resolver = Resolver::with_source_and_clock(
        Config::default(),
        directory.clone(),
        Arc::new(clock.clone()),
    );
    (resolver, directory, clock)
}

#[test]
fn invalidation_answers_from_the_directory_next_time() {
    let (resolver, directory, _clock) = setup();
    assert_eq!(
        resolver.resolve("alice").unwrap().gids(),
        vec![10001, 30001]
    );
    // The directory changes; the cache still answers the old groups...
    directory.users.lock().unwrap()[0] = user("alice", 20001, &[10001, 30001, 40001]);
    assert_eq!(resolver.resolve("alice").unwrap().gids().len(), 2);
    let before = directory.lookups.load(Ordering::SeqCst);
    // ...until it is emptied for that name: then the directory is asked again.
    resolver.invalidate(Some("alice"));
    assert_eq!(
        resolver.resolve("alice").unwrap().gids(),
        vec![10001, 30001, 40001]
    );
    assert_eq!(directory.lookups.load(Ordering::SeqCst), before + 1);
    // The same for the whole cache.
    directory.users.lock().unwrap()[0] = user("alice", 20001, &[10001]);
    resolver.invalidate(None);
    assert_eq!(resolver.cached_entries(), 0);
    assert_eq!(resolver.resolve_uid(20001).unwrap().gids(), vec![10001]);
}

#[test]
fn name_and_uid_keys_stay_consistent() {
    let (resolver, directory, _clock) = setup();
    resolver.resolve("alice").unwrap();
    let asked = directory.lookups.load(Ordering::SeqCst);
    // The UID answer is the directory's answer by UID (never filled in from the name
    // lookup: issue 11 point 6), asked once and then cached by UID.
    assert_eq!(resolver.resolve_uid(20001).unwrap().name, "alice");
    assert_eq!(directory.lookups.load(Ordering::SeqCst), asked + 1);
    assert_eq!(resolver.resolve_uid(20001).unwrap().name, "alice");
    assert_eq!(directory.lookups.load(Ordering::SeqCst), asked + 1);
    // Invalidating the name also forgets the UID key.
    directory.users.lock().unwrap()[0] = user("alice", 20001, &[10002]);
    resolver.invalidate(Some("alice"));
    assert_eq!(resolver.resolve_uid(20001).unwrap().gid, 10002);
    assert_eq!(resolver.resolve("alice").unwrap().gid, 10002);
}

#[test]
fn ttl_expiry_and_negative_entries_on_the_injected_clock() {
    let (resolver, directory, clock) = setup();
    for _ in 0..50 {
        assert_eq!(resolver.resolve("mallory").unwrap_err().kind(), "not_found");
    }
    assert_eq!(
        directory.lookups.load(Ordering::SeqCst),
        1,
        "unknown names are cached"
    );
    directory
        .users
        .lock()
        .unwrap()
        .push(user("mallory", 20002, &[10001]));
    clock.advance(Duration::from_secs(29));
    assert!(resolver.resolve("mallory").is_err());
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        resolver.resolve("mallory").unwrap().uid,
        20002,
        "negative TTL is 30s"
    );
}

#[test]
fn stale_identities_are_served_while_the_directory_is_down() {
    let (resolver, directory, clock) = setup();
    resolver.resolve("alice").unwrap();
    directory.down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(301));
    let (identity, freshness) = resolver.resolve_with_freshness(b"alice").unwrap();
    assert_eq!(identity.uid, 20001);
    assert_eq!(freshness, proxid::cache::Freshness::Stale);
    // A name never seen cannot be served stale: the outage shows.
    assert_eq!(resolver.resolve("bob").unwrap_err().kind(), "unavailable");
    clock.advance(Duration::from_secs(3600));
    assert_eq!(resolver.resolve("alice").unwrap_err().kind(), "unavailable");
}

/// A registry that matches names case-insensitively (as some NSS modules do): the
/// cache must hand back the registry's spelling, not the one asked for.
#[test]
fn the_registrys_spelling_of_a_name_is_kept() {
    struct CaseInsensitive(FakeDirectory);
    impl Source for CaseInsensitive {
        fn kind(&self) -> &'static str {
            "fake"
        }
        fn user_by_name(&self, name: &str) -> proxid::Result<Option<Identity>> {
            self.0.answer(|u| u.name.eq_ignore_ascii_case(name))
        }
        fn user_by_uid(&self, uid: u32) -> proxid::Result<Option<Identity>> {
            self.0.user_by_uid(uid)
        }
        fn group_by_name(&self, _: &str) -> proxid::Result<Option<Group>> {
            Ok(None)
        }
        fn group_by_gid(&self, _: u32) -> proxid::Result<Option<Group>> {
            Ok(None)
        }
    }
    let directory = CaseInsensitive(FakeDirectory::default());
    directory
        .0
        .users
        .lock()
        .unwrap()
        .push(user("alice", 20001, &[10001]));
    let resolver = Resolver::with_source(Config::default(), Arc::new(directory));
    for _ in 0..2 {
        assert_eq!(resolver.resolve("ALICE").unwrap().name, "alice");
    }
    assert_eq!(resolver.resolve("alice").unwrap().name, "alice");
    // Invalidating the user forgets every spelling that found it.
    resolver.invalidate(Some("alice"));
    assert_eq!(resolver.cached_entries(), 0);
}

/// Impersonation decisions look up the protected groups every time: those answers
/// are cached too, and emptied with the rest.
#[test]
fn group_lookups_are_cached_and_invalidated() {
    let (resolver, directory, _clock) = setup();
    for _ in 0..5 {
        assert_eq!(resolver.group("staff").unwrap().gid, 50);
        assert_eq!(resolver.group("wheel").unwrap_err().kind(), "not_found");
    }
    assert_eq!(directory.lookups.load(Ordering::SeqCst), 2);
    resolver.invalidate(None);
    resolver.group("staff").unwrap();
    assert_eq!(directory.lookups.load(Ordering::SeqCst), 3);
}
