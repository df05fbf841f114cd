//! One value per loaded configuration, swapped atomically on reload: the mechanism
//! behind [`crate::Resolver::reload`] and [`crate::Proxid::reload`].
//!
//! New calls get the newest generation with one atomic load. A call that started
//! before a reload keeps a plain reference to its generation for as long as it runs
//! (it finishes on the old configuration), so no generation is freed before the owner
//! is dropped. No lock is taken on the read path; a reload takes a mutex only to
//! append, so a child forked while a parent thread reloads still reads.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

/// Every generation ever served; `current` points at the newest.
pub(crate) struct Generations<T> {
    /// The generation new calls use.
    current: AtomicPtr<T>,
    all: Mutex<All<T>>,
}

/// The newest generation and the older ones, oldest first. Boxed so a generation's
/// address survives moves of the list.
struct All<T> {
    newest: Box<T>,
    #[allow(clippy::vec_box)]
    older: Vec<Box<T>>,
}

impl<T> Generations<T> {
    pub(crate) fn new(first: T) -> Generations<T> {
        let mut newest = Box::new(first);
        let current = AtomicPtr::new(&mut *newest);
        Generations {
            current,
            all: Mutex::new(All {
                newest,
                older: Vec::new(),
            }),
        }
    }

    /// The newest generation.
    pub(crate) fn current(&self) -> &T {
        // SAFETY: `current` always points into a Box held by `all`, which are never
        // dropped or moved out before `self`.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    /// Makes `next` the generation new calls use; `retire` runs on every older one
    /// (which only finish calls already running), e.g. to free their caches.
    pub(crate) fn push(&self, next: T, retire: impl Fn(&T)) {
        let mut next = Box::new(next);
        let mut all = self
            .all
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.current.store(&mut *next, Ordering::Release);
        let previous = std::mem::replace(&mut all.newest, next);
        all.older.push(previous);
        all.older.iter().for_each(|g| retire(g));
    }

    /// The newest generation, the others dropped (no call can hold them: this takes
    /// the owner by value).
    pub(crate) fn into_current(self) -> T {
        let all = self
            .all
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *all.newest
    }

    /// How many generations were served (1 + successful reloads).
    pub(crate) fn count(&self) -> usize {
        self.all
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .older
            .len()
            + 1
    }
}

// `current` lends `&T` to every thread.
// SAFETY: the pointer only ever targets a `T` owned by `all`; sharing `&T` across
// threads needs `T: Sync`, moving the owner needs `T: Send`.
unsafe impl<T: Send + Sync> Sync for Generations<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for Generations<T> {}
