//! The in-process cache in front of every source: positive and negative TTLs, a bound
//! on entries (least recently used out first), stale serving while the source is
//! unavailable, and request coalescing (concurrent misses for one key cost one lookup).
//!
//! Two promises beyond speed: an invalidation wins over every lookup already in flight
//! (each invalidation bumps a generation; a leader stores its answer only if none
//! happened since it started, checked and stored under a gate invalidations close), and
//! a forked child never waits on a lookup or a lock of the parent's other threads (the
//! in-flight table and the locks are per process, see `fork`).
//!
//! Read-mostly and lock-free on hits: a hit pins an epoch (thread-local bookkeeping in
//! `papaya`/`seize`, no shared writes) and copies the value out. Time comes from an
//! injected [`Clock`], so tests move time by hand instead of sleeping.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::config::CacheConfig;
use crate::error::{Error, Result};
use crate::fork::PerProcess;

/// A monotonic clock: time since an arbitrary start.
pub trait Clock: Send + Sync {
    fn now(&self) -> Duration;
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock(Instant);

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A clock moved by hand, for tests.
#[derive(Debug, Default, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// From the source, or from the cache within its TTL.
    Fresh,
    /// Expired, served because the source is unavailable (`stale_if_unavailable`).
    Stale,
}

struct Entry<V> {
    /// `None` is a cached "not found".
    value: Option<V>,
    expires_ms: u64,
    /// Clock reading of the last hit, for LRU eviction. Written only when it changes,
    /// so threads reading one hot entry do not keep stealing its cache line.
    last_used: AtomicU64,
}

/// What waiters of a coalesced lookup receive: exactly the leader's value or error.
type Landing<R> = Result<Option<R>>;

/// An in-progress lookup other callers for the same key wait on.
struct Flight<R> {
    result: Mutex<Option<Landing<R>>>,
    done: Condvar,
}

type Flights<K, R> = Mutex<HashMap<K, Arc<Flight<R>>>>;

/// Everything a lookup may wait on. One per process: a forked child starts with none
/// of the parent's flights and none of its (possibly held) locks.
struct Local<K, R> {
    flights: Flights<K, R>,
    evicting: Mutex<()>,
    /// Readers: a leader checking the generation and storing. Writer: an invalidation.
    gate: RwLock<()>,
}

impl<K, R> Default for Local<K, R> {
    fn default() -> Self {
        Local {
            flights: Mutex::new(HashMap::new()),
            evicting: Mutex::new(()),
            gate: RwLock::new(()),
        }
    }
}

/// A TTL cache from `K` to "found `V`" or "not found". Reads are lock-free (a
/// `papaya` map: readers never write shared memory), so cached lookups scale with
/// threads; misses, inserts and evictions take locks, since they go to the source
/// anyway. `R` is what a read hands out, built from `&V` while the entry is pinned.
pub struct Cache<K, V, R> {
    map: papaya::HashMap<K, Entry<V>>,
    local: PerProcess<Local<K, R>>,
    /// Bumped by every invalidation.
    generation: AtomicU64,
    config: CacheConfig,
    clock: Arc<dyn Clock>,
    read: fn(&K, &V) -> R,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What waiters get when the leader panicked instead of answering.
fn abandoned() -> Error {
    Error::Unavailable {
        source_name: "source".into(),
        detail: "lookup abandoned".into(),
    }
}

/// Errors that mean "the source could not say": stale answers may stand in.
fn is_outage(e: &Error) -> bool {
    match e {
        Error::Unavailable { .. } | Error::Timeout { .. } => true,
        Error::InvalidName { .. }
        | Error::NotFound { .. }
        | Error::Directory { .. }
        | Error::Config { .. }
        | Error::ModeMismatch { .. }
        | Error::IdentityMismatch { .. }
        | Error::InvalidArgument(_)
        | Error::Io { .. } => false,
    }
}

impl<K, V, R> Cache<K, V, R>
where
    K: Hash + Eq + Clone + Send + Sync,
    V: Send + Sync,
    R: Clone,
{
    /// `read` turns a key and its stored value into what callers receive.
    pub fn new(config: CacheConfig, clock: Arc<dyn Clock>, read: fn(&K, &V) -> R) -> Self {
        Cache {
            map: papaya::HashMap::new(),
            local: PerProcess::new(Local::default()),
            generation: AtomicU64::new(0),
            config,
            clock,
            read,
        }
    }

    fn now(&self) -> u64 {
        ms(self.clock.now())
    }

    fn local(&self) -> &Local<K, R> {
        self.local.get_or_init(Local::default)
    }

    /// Runs an invalidation: no leader stores while it runs, none that started before
    /// it stores afterwards, and lookups arriving afterwards do not join a flight that
    /// started before it.
    fn invalidating(&self, forget: impl FnOnce()) {
        let local = self.local();
        let _closed = local.gate.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        local
            .flights
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        forget();
    }

    /// Stores a leader's answer unless an invalidation ran since `born`.
    fn insert_unless_invalidated(&self, key: K, value: Option<V>, born: u64) {
        let _open = self.local().gate.read().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::SeqCst) == born {
            self.insert(key, value);
        }
    }

    /// The cached answer if it is still within its TTL.
    fn fresh(&self, key: &K, now: u64) -> Option<Option<R>> {
        let map = self.map.pin();
        let entry = map.get(key)?;
        if entry.expires_ms <= now {
            return None;
        }
        if entry.last_used.load(Ordering::Relaxed) != now {
            entry.last_used.store(now, Ordering::Relaxed);
        }
        Some(entry.value.as_ref().map(|v| (self.read)(key, v)))
    }

    /// An expired positive answer still inside the stale window.
    fn stale(&self, key: &K, now: u64) -> Option<R> {
        let map = self.map.pin();
        let entry = map.get(key)?;
        let limit = entry
            .expires_ms
            .saturating_add(ms(self.config.stale_if_unavailable));
        if now > limit {
            return None;
        }
        entry.value.as_ref().map(|v| (self.read)(key, v))
    }

    /// Stores an answer; found and not-found have their own TTLs.
    pub fn insert(&self, key: K, value: Option<V>) {
        let ttl = if value.is_some() {
            self.config.positive_ttl
        } else {
            self.config.negative_ttl
        };
        if ttl.is_zero() || self.config.max_entries == 0 {
            return;
        }
        let now = self.now();
        let entry = Entry {
            value,
            expires_ms: now.saturating_add(ms(ttl)),
            last_used: AtomicU64::new(now),
        };
        self.map.pin().insert(key, entry);
        if self.map.len() > self.config.max_entries {
            self.evict_least_recent();
        }
    }

    /// Drops the least recently used eighth of the entries at once, so eviction costs
    /// O(log n) per insert on average instead of a scan per insert.
    fn evict_least_recent(&self) {
        let Ok(_only_one_evictor) = self.local().evicting.try_lock() else {
            return;
        };
        let map = self.map.pin();
        let max = self.config.max_entries;
        let excess = map.len().saturating_sub(max);
        if excess == 0 {
            return;
        }
        let batch = excess.max(max / 8).max(1);
        let mut ages: Vec<(u64, K)> = map
            .iter()
            .map(|(k, e)| (e.last_used.load(Ordering::Relaxed), k.clone()))
            .collect();
        let batch = batch.min(ages.len());
        if batch == 0 {
            return;
        }
        ages.select_nth_unstable_by_key(batch - 1, |(t, _)| *t);
        for (_, key) in ages.into_iter().take(batch) {
            map.remove(&key);
        }
    }

    /// Forgets one key. Lookups in flight do not store what they read before.
    pub fn remove(&self, key: &K) {
        self.invalidating(|| {
            self.map.pin().remove(key);
        });
    }

    /// Forgets every entry whose key and found value match `pred`. Lookups in flight
    /// do not store what they read before.
    pub fn remove_where(&self, pred: impl Fn(&K, &V) -> bool) {
        self.invalidating(|| {
            self.map
                .pin()
                .retain(|k, e| !e.value.as_ref().is_some_and(|v| pred(k, v)));
        });
    }

    /// Forgets everything. Lookups in flight do not store what they read before.
    pub fn clear(&self) {
        self.invalidating(|| self.map.pin().clear());
    }

    /// Number of entries, found and not-found.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The answer for `key`: from the cache when fresh, else from `fetch` (once, however
    /// many callers ask at the same moment), else stale while the source is down.
    pub fn get_or_fetch(
        &self,
        key: &K,
        fetch: impl FnOnce() -> Result<Option<V>>,
    ) -> Result<(Option<R>, Freshness)> {
        let now = self.now();
        if let Some(hit) = self.fresh(key, now) {
            return Ok((hit, Freshness::Fresh));
        }
        let local = self.local();
        let (flight, leader) = {
            let mut flights = local.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(key) {
                Some(f) => (f.clone(), false),
                None => {
                    let f = Arc::new(Flight {
                        result: Mutex::new(None),
                        done: Condvar::new(),
                    });
                    flights.insert(key.clone(), f.clone());
                    (f, true)
                }
            }
        };
        let outcome = if leader {
            // Lands the flight even if `fetch` panics, so waiters never hang.
            let mut landing = LandFlight {
                flights: &local.flights,
                key,
                flight: &flight,
                result: None,
            };
            let born = self.generation.load(Ordering::SeqCst);
            let result = fetch().map(|value| {
                let out = value.as_ref().map(|v| (self.read)(key, v));
                self.insert_unless_invalidated(key.clone(), value, born);
                out
            });
            landing.result = Some(result.clone());
            drop(landing);
            result
        } else {
            let mut slot = flight.result.lock().unwrap_or_else(|p| p.into_inner());
            while slot.is_none() {
                slot = flight.done.wait(slot).unwrap_or_else(|p| p.into_inner());
            }
            slot.clone().unwrap_or_else(|| Err(abandoned()))
        };
        match outcome {
            Ok(value) => Ok((value, Freshness::Fresh)),
            Err(e) if is_outage(&e) => match self.stale(key, now) {
                Some(v) => Ok((Some(v), Freshness::Stale)),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }
}

/// Publishes the leader's result (or "abandoned" on panic) and retires the flight.
struct LandFlight<'a, K: Hash + Eq, R> {
    flights: &'a Flights<K, R>,
    key: &'a K,
    flight: &'a Arc<Flight<R>>,
    result: Option<Landing<R>>,
}

impl<K: Hash + Eq, R> Drop for LandFlight<'_, K, R> {
    fn drop(&mut self) {
        let result = self.result.take().unwrap_or_else(|| Err(abandoned()));
        *self.flight.result.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        self.flight.done.notify_all();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        // An invalidation may have detached this flight and a newer one taken its key.
        if flights
            .get(self.key)
            .is_some_and(|f| Arc::ptr_eq(f, self.flight))
        {
            flights.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn config(max_entries: usize) -> CacheConfig {
        CacheConfig {
            positive_ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(30),
            max_entries,
            stale_if_unavailable: Duration::from_secs(3600),
        }
    }

    type TestCache = Cache<String, u32, u32>;

    fn setup(max_entries: usize) -> (TestCache, ManualClock) {
        let clock = ManualClock::default();
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
                if let (Error::Io { source: a, .. }, Error::Io { source: b, .. }) =
                    (&e, &leader_error)
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
        let clock = ManualClock::default();
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
}
