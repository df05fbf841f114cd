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

/// Every generation ever served, oldest first; `current` points at the last.
pub(crate) struct Generations<T> {
    /// The generation new calls use.
    current: AtomicPtr<T>,
    /// Boxed so a generation's address survives the vector growing.
    #[allow(clippy::vec_box)]
    all: Mutex<Vec<Box<T>>>,
}

impl<T> Generations<T> {
    pub(crate) fn new(first: T) -> Generations<T> {
        let mut first = Box::new(first);
        let current = AtomicPtr::new(&mut *first);
        Generations {
            current,
            all: Mutex::new(vec![first]),
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
        let mut all = self.all.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.current.store(&mut *next, Ordering::Release);
        all.push(next);
        if let Some((_, old)) = all.split_last() {
            old.iter().for_each(|g| retire(g));
        }
    }

    /// How many generations were served (1 + successful reloads).
    pub(crate) fn count(&self) -> usize {
        self.all
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

// `current` lends `&T` to every thread.
// SAFETY: the pointer only ever targets a `T` owned by `all`; sharing `&T` across
// threads needs `T: Sync`, moving the owner needs `T: Send`.
unsafe impl<T: Send + Sync> Sync for Generations<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Send for Generations<T> {}
