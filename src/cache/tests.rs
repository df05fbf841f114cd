//! The cache on a hand-moved clock: TTLs, LRU, stale serving, coalescing and
//! invalidation racing lookups in flight.

use super::*;
use crate::clock::TestClock;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

fn config(max_entries: usize) -> CacheConfig {
    CacheConfig {
        positive_ttl: Duration::from_secs(300),
        negative_ttl: Duration::from_secs(30),
        max_entries,
        stale_if_unavailable: Duration::from_secs(3600),
    }
}

type TestCache = Cache<String, u32, u32>;

fn setup(max_entries: usize) -> (TestCache, TestClock) {
    let clock = TestClock::default();
    let cache = Cache::new(
        config(max_entries),
        Arc::new(clock.clone()),
        |_, v: &u32| *v,
    );
    (cache, clock)
}

fn down() -> Error {
    Error::Unavailable {
        source_name: "ldap".into(),
        detail: "all servers down".into(),
    }
}

#[test]
fn positive_entries_expire_after_their_ttl() {
    let (cache, clock) = setup(100);
    let calls = AtomicUsize::new(0);
    let fetch = || {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(Some(7))
    };
    let key = "alice".to_string();
    assert_eq!(cache.get_or_fetch(&key, fetch).unwrap().0, Some(7));
    clock.advance(Duration::from_secs(299));
    assert_eq!(cache.get_or_fetch(&key, fetch).unwrap().0, Some(7));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "served from cache within TTL"
    );
    clock.advance(Duration::from_secs(1));
    cache.get_or_fetch(&key, fetch).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "asked again at the TTL");
}

#[test]
fn negative_entries_use_the_negative_ttl() {
    let (cache, clock) = setup(100);
    let calls = AtomicUsize::new(0);
    let fetch = || {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(None)
    };
    let key = "nobody-here".to_string();
    for _ in 0..100 {
        assert_eq!(cache.get_or_fetch(&key, fetch).unwrap().0, None);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a flood of one bad name costs one lookup"
    );
    clock.advance(Duration::from_secs(30));
    cache.get_or_fetch(&key, fetch).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn least_recently_used_entries_go_first() {
    let (cache, clock) = setup(64);
    for i in 0..64 {
        cache.insert(format!("user{i}"), Some(i));
    }
    // Touch one early entry at a later time, then overfill.
    let keep = "user0".to_string();
    for i in 0..512 {
        clock.advance(Duration::from_millis(1));
        cache.get_or_fetch(&keep, || Ok(Some(0))).unwrap();
        cache.insert(format!("new{i}"), Some(i));
    }
    assert!(cache.len() <= 64, "bounded: {}", cache.len());
    assert_eq!(
        cache.fresh(&keep, cache.now()),
        Some(Some(0)),
        "the recently used entry survived"
    );
    assert_eq!(
        cache.fresh(&"user1".to_string(), cache.now()),
        None,
        "an old one went"
    );
}

#[test]
fn stale_entries_are_served_while_the_source_is_down() {
    let (cache, clock) = setup(100);
    let key = "alice".to_string();
    cache.get_or_fetch(&key, || Ok(Some(1))).unwrap();
    clock.advance(Duration::from_secs(301));
    let (value, freshness) = cache.get_or_fetch(&key, || Err(down())).unwrap();
    assert_eq!((value, freshness), (Some(1), Freshness::Stale));
    // Past positive_ttl + stale_if_unavailable the outage shows.
    clock.advance(Duration::from_secs(3600));
    let err = cache.get_or_fetch(&key, || Err(down())).unwrap_err();
    assert_eq!(err.kind(), "unavailable");
    // A source that answers "not found" is believed, not overridden by stale data.
    let (cache, clock) = setup(100);
    cache.get_or_fetch(&key, || Ok(Some(1))).unwrap();
    clock.advance(Duration::from_secs(301));
    assert_eq!(cache.get_or_fetch(&key, || Ok(None)).unwrap().0, None);
}

/// Stale answers stand in up to exactly `stale_if_unavailable` past the TTL, no later.
#[test]
fn stale_entries_are_served_within_stale_if_unavailable_only() {
    let (cache, clock) = setup(100);
    let key = "alice".to_string();
    cache.get_or_fetch(&key, || Ok(Some(1))).unwrap();
    clock.advance(Duration::from_secs(300 + 3600));
    let (value, freshness) = cache.get_or_fetch(&key, || Err(down())).unwrap();
    assert_eq!((value, freshness), (Some(1), Freshness::Stale));
    clock.advance(Duration::from_millis(1));
    let err = cache.get_or_fetch(&key, || Err(down())).unwrap_err();
    assert_eq!(err.kind(), "unavailable");
}

#[test]
fn errors_that_are_not_outages_do_not_serve_stale() {
    let (cache, clock) = setup(100);
    let key = "alice".to_string();
    cache.get_or_fetch(&key, || Ok(Some(1))).unwrap();
    clock.advance(Duration::from_secs(301));
    let err = cache
        .get_or_fetch(&key, || {
            Err(Error::Directory {
                detail: "two entries".into(),
            })
        })
        .unwrap_err();
    assert_eq!(err.kind(), "directory");
}

/// Holds the leader's lookup open until `threads` callers share its flight (the
/// map holds one reference, each caller another), so the test does not race.
fn wait_for_waiters(cache: &TestCache, key: &str, threads: usize) {
    for _ in 0..10_000 {
        let flights = cache.local().flights.lock().unwrap();
        if flights.get(key).map_or(0, Arc::strong_count) > threads {
            return;
        }
        drop(flights);
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("callers never queued on the flight");
}

#[test]
fn concurrent_misses_are_coalesced() {
    let (cache, _clock) = setup(100);
    let calls = AtomicUsize::new(0);
    let gate = std::sync::Barrier::new(8);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                gate.wait();
                let got = cache
                    .get_or_fetch(&"alice".to_string(), || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        wait_for_waiters(&cache, "alice", 8);
                        Ok(Some(42))
                    })
                    .unwrap();
                assert_eq!(got.0, Some(42));
            });
        }
    });
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn waiters_see_the_leaders_outage() {
    let (cache, _clock) = setup(100);
    let gate = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                gate.wait();
                let err = cache
                    .get_or_fetch(&"alice".to_string(), || {
                        wait_for_waiters(&cache, "alice", 4);
                        Err(down())
                    })
                    .unwrap_err();
                assert_eq!(err.kind(), "unavailable");
            });
        }
    });
}

/// Every kind of error a leader can meet reaches its waiters unchanged.
#[test]
fn sec_11_14_waiters_get_exactly_the_leaders_error() {
    let errors = [
        Error::Timeout {
            source_name: "ldap".into(),
            after_ms: 1500,
        },
        Error::invalid_name("a\nb", "contains a newline"),
        Error::io(
            "reading /etc/passwd",
            std::io::Error::from_raw_os_error(libc::EACCES),
        ),
        Error::config("/etc/proxid.conf", "bad key"),
        Error::Directory {
            detail: "two entries".into(),
        },
        down(),
    ];
    for leader_error in errors {
        let (cache, _clock) = setup(100);
        let gate = std::sync::Barrier::new(4);
        let seen: Vec<Error> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        gate.wait();
                        cache
                            .get_or_fetch(&"alice".to_string(), || {
                                wait_for_waiters(&cache, "alice", 4);
                                Err(leader_error.clone())
                            })
                            .unwrap_err()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for e in seen {
            assert_eq!(e.kind(), leader_error.kind());
            assert_eq!(e.to_string(), leader_error.to_string());
            if let (Error::Io { source: a, .. }, Error::Io { source: b, .. }) = (&e, &leader_error)
            {
                assert_eq!(a.raw_os_error(), b.raw_os_error());
            }
        }
    }
}

/// A lookup that read the source before an invalidation does not store its answer
/// after it, whichever way the cache was invalidated.
#[test]
fn sec_11_5_invalidation_beats_a_lookup_in_flight() {
    type Invalidate = fn(&TestCache);
    let ways: [Invalidate; 3] = [
        |c| c.remove(&"alice".to_string()),
        |c| c.remove_where(|_, _| true),
        |c| c.clear(),
    ];
    for invalidate in ways {
        let (cache, _clock) = setup(100);
        let (read, go) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|s| {
            s.spawn(|| {
                let old = cache.get_or_fetch(&"alice".to_string(), || {
                    read.wait(); // the source has been read...
                    go.wait(); // ...and is changed and invalidated meanwhile
                    Ok(Some(1))
                });
                assert_eq!(old.unwrap().0, Some(1), "the caller gets what was read");
            });
            read.wait();
            invalidate(&cache);
            go.wait();
        });
        let fresh = cache.get_or_fetch(&"alice".to_string(), || Ok(Some(2)));
        assert_eq!(fresh.unwrap().0, Some(2), "asked the source again");
    }
}

/// A lookup arriving after an invalidation does not join a flight that started
/// before it (it would receive the old answer).
#[test]
fn sec_11_5_lookups_after_invalidation_do_not_join_an_older_flight() {
    let (cache, _clock) = setup(100);
    let (read, go) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
    std::thread::scope(|s| {
        s.spawn(|| {
            cache
                .get_or_fetch(&"alice".to_string(), || {
                    read.wait();
                    go.wait();
                    Ok(Some(1))
                })
                .unwrap();
        });
        read.wait();
        cache.remove(&"alice".to_string());
        // The old leader is still in flight.
        let fresh = cache.get_or_fetch(&"alice".to_string(), || Ok(Some(2)));
        go.wait();
        assert_eq!(fresh.unwrap().0, Some(2));
    });
}

#[test]
fn remove_and_clear_force_a_new_lookup() {
    let (cache, _clock) = setup(100);
    let calls = AtomicUsize::new(0);
    let fetch = || {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(Some(1))
    };
    let (a, b) = ("a".to_string(), "b".to_string());
    cache.get_or_fetch(&a, fetch).unwrap();
    cache.get_or_fetch(&b, fetch).unwrap();
    cache.remove(&a);
    cache.get_or_fetch(&a, fetch).unwrap();
    cache.get_or_fetch(&b, fetch).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    cache.clear();
    assert!(cache.is_empty());
    cache.get_or_fetch(&b, fetch).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn zero_ttl_disables_caching() {
    let clock = TestClock::default();
    let mut c = config(100);
    c.positive_ttl = Duration::ZERO;
    let cache: TestCache = Cache::new(c, Arc::new(clock), |_, v| *v);
    let calls = AtomicUsize::new(0);
    for _ in 0..3 {
        cache
            .get_or_fetch(&"a".to_string(), || {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(Some(1))
            })
            .unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
