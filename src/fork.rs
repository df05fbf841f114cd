//! Fork safety. After `fork(2)` the child has one thread and a copy of the parent's
//! memory: a lock another parent thread held, a lookup another thread had in flight,
//! an LDAP runtime a parent thread was driving are copied as state but nobody in the
//! child will ever release, land or run them. Waiting on any of them hangs the child for good.
//!
//! So everything a lookup may wait on lives in a [`PerProcess`] slot: the child never
//! sees the parent's value, only a fresh one built on first use.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

/// Bumped in every child by a `pthread_atfork` handler.
static FORKS: AtomicU64 = AtomicU64::new(0);
static HANDLER: AtomicBool = AtomicBool::new(false);

extern "C" fn in_child() {
    // Async-signal-safe: one atomic add.
    FORKS.fetch_add(1, Ordering::SeqCst);
}

/// Which process (and which fork generation of it) a value belongs to. The PID alone
/// could be reused by a grandchild after the original process exited; the atfork
/// counter alone misses a fork racing the handler's registration. Both together do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pid: u32,
    forks: u64,
}

impl Stamp {
    /// The calling process.
    pub(crate) fn current() -> Stamp {
        // A load first: a swap on every call would bounce the line between threads.
        if !HANDLER.load(Ordering::Relaxed) && !HANDLER.swap(true, Ordering::SeqCst) {
            // SAFETY: registers a plain function with no captured state; glibc ties
            // it to this object (__dso_handle), so a dlclose unregisters it.
            unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        }
        Stamp {
            pid: std::process::id(),
            forks: FORKS.load(Ordering::SeqCst),
        }
    }
}

struct Owned<T> {
    stamp: Stamp,
    value: T,
}

/// A value that belongs to one process. In a forked child the parent's value is
/// never handed out (nor dropped: its locks and threads are not the child's); the
/// first caller builds a fresh one.
///
/// The current process's value is freed only when the slot is dropped, and values of
/// other processes are never freed, so a `&T` stays valid as long as the slot.
pub(crate) struct PerProcess<T> {
    slot: AtomicPtr<Owned<T>>,
}

impl<T> PerProcess<T> {
    pub(crate) fn new(value: T) -> Self {
        let owned = Box::new(Owned {
            stamp: Stamp::current(),
            value,
        });
        PerProcess {
            slot: AtomicPtr::new(Box::into_raw(owned)),
        }
    }

    /// This process's value, built with `init` when the one in the slot is the
    /// parent's. Two threads may both build; one value wins and the other is dropped.
    pub(crate) fn get_or_try_init<E>(&self, init: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
        let now = Stamp::current();
        let seen = self.slot.load(Ordering::Acquire);
        // SAFETY: the slot always holds a pointer from Box::into_raw that is freed
        // only in Drop (see the type's doc).
        let owned = unsafe { &*seen };
        if owned.stamp == now {
            return Ok(&owned.value);
        }
        let fresh = Box::into_raw(Box::new(Owned {
            stamp: now,
            value: init()?,
        }));
        match self
            .slot
            .compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            // The parent's value is leaked on purpose: dropping it could wait on
            // threads that do not exist here.
            // SAFETY: `fresh` is now the slot's, freed only in Drop.
            Ok(_) => Ok(unsafe { &(*fresh).value }),
            Err(winner) => {
                // SAFETY: `fresh` never left this thread.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: as above; the winner was built in this process.
                Ok(unsafe { &(*winner).value })
            }
        }
    }

    /// This process's value, built with `init` after a fork.
    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        match self.get_or_try_init(|| Ok::<T, std::convert::Infallible>(init())) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }
}

impl<T> Drop for PerProcess<T> {
    fn drop(&mut self) {
        let ptr = *self.slot.get_mut();
        // SAFETY: see `get_or_try_init`; we have `&mut self`, so nobody else reads it.
        if unsafe { (*ptr).stamp } == Stamp::current() {
            // SAFETY: built here by Box::into_raw, and no reference outlives `self`.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }
}

// SAFETY: a PerProcess<T> hands out `&T` to any thread and drops a T on whichever
// thread drops it, exactly what `T: Send + Sync` allows.
unsafe impl<T: Send + Sync> Send for PerProcess<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for PerProcess<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_process_keeps_its_value() {
        let slot = PerProcess::new(7);
        assert_eq!(*slot.get_or_init(|| 8), 7);
    }

    #[test]
    fn a_forked_child_builds_its_own_value() {
        let slot = PerProcess::new(std::sync::Mutex::new(1));
        // Held across the fork, as another thread of the parent might hold it.
        let held = slot
            .get_or_init(|| std::sync::Mutex::new(0))
            .lock()
            .unwrap();
        // SAFETY: the child only touches atomics, a fresh mutex and _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let fresh = slot.get_or_init(|| std::sync::Mutex::new(2));
            let code = match fresh.try_lock() {
                Ok(v) if *v == 2 => 0,
                _ => 1,
            };
            // SAFETY: leaves the child without running the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        drop(held);
        let mut status = 0;
        // SAFETY: waits for the child just forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }
}
