//! Request coalescing: concurrent misses for one key wait on one lookup (a flight),
//! and everything a lookup may wait on is per process (see `fork`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Condvar, Mutex, RwLock};

use crate::error::{Error, Result};

/// What waiters of a coalesced lookup receive: exactly the leader's value or error.
pub(super) type Landing<R> = Result<Option<R>>;

/// An in-progress lookup other callers for the same key wait on.
pub(super) struct Flight<R> {
    pub(super) result: Mutex<Option<Landing<R>>>,
    pub(super) done: Condvar,
}

pub(super) type Flights<K, R> = Mutex<HashMap<K, Arc<Flight<R>>>>;

/// Everything a lookup may wait on. One per process: a forked child starts with none
/// of the parent's flights and none of its (possibly held) locks.
pub(super) struct Local<K, R> {
    pub(super) flights: Flights<K, R>,
    pub(super) evicting: Mutex<()>,
    /// Readers: a leader checking the generation and storing. Writer: an invalidation.
    pub(super) gate: RwLock<()>,
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

/// What waiters get when the leader panicked instead of answering.
pub(super) fn abandoned() -> Error {
    Error::Unavailable {
        source_name: "source".into(),
        detail: "lookup abandoned".into(),
    }
}

/// Publishes the leader's result (or "abandoned" on panic) and retires the flight.
pub(super) struct LandFlight<'a, K: Hash + Eq, R> {
    pub(super) flights: &'a Flights<K, R>,
    pub(super) key: &'a K,
    pub(super) flight: &'a Arc<Flight<R>>,
    pub(super) result: Option<Landing<R>>,
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
