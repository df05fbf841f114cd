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

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::clock::millis as ms;
// Re-exported for the daemon and the benches, which build caches of their own.
pub use crate::clock::{Clock, SystemClock};
use crate::config::CacheConfig;
use crate::error::{Error, Result};
use crate::fork::PerProcess;

mod flight;

use flight::{abandoned, Flight, LandFlight, Local};

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
    /// The clock's reading when the cache was made: entries keep milliseconds since.
    epoch: Instant,
    read: fn(&K, &V) -> R,
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
            epoch: clock.now(),
            clock,
            read,
        }
    }

    /// Milliseconds since the cache was made.
    fn now(&self) -> u64 {
        ms(self.clock.now().saturating_duration_since(self.epoch))
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

#[cfg(test)]
mod tests;
