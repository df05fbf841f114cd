//! Background group lookups: a cold `getpwnam` is nearly always followed by
//! `initgroups` (`id`, logins, YARN's container executor). Under RFC2307bis, whose
//! group search needs the user's DN, the daemon starts the user's full resolution
//! here, beside the passwd search (under RFC2307 it resolves on the request's own
//! thread: `Daemon::passwd_with_groups`). Its answer goes into the
//! resolver's cache and, as the user's group list, into the shared table, where the
//! NSS module finds it without asking the daemon; an `initgroups` that comes first
//! joins the lookup still running.
//!
//! A few threads started with the daemon wait for names on a bounded queue: handing a
//! name over wakes one of them, much cheaper than starting a thread, and a flood of
//! new names queues or is dropped (those are looked up when asked) instead of
//! costing threads.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, Weak};

use crate::server::CLIENT_STACK;
use crate::state::{Daemon, State};

/// Threads running background lookups.
const THREADS: usize = 4;
/// Names waiting at most; more are not prefetched.
const QUEUE: usize = 64;

type Job = (Arc<State>, String);

pub(crate) struct Prefetcher {
    queue: SyncSender<Job>,
}

impl Prefetcher {
    /// Starts the threads. Those that cannot start leave the rest to the others (with
    /// none, names wait in the queue unanswered and initgroups looks them up itself).
    pub(crate) fn start(daemon: Weak<Daemon>) -> Prefetcher {
        let (queue, jobs) = sync_channel::<Job>(QUEUE);
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..THREADS {
            let (jobs, daemon) = (jobs.clone(), daemon.clone());
            let _ = std::thread::Builder::new()
                .name("proxidd-prefetch".into())
                .stack_size(CLIENT_STACK)
                .spawn(move || work(&jobs, &daemon));
        }
        Prefetcher { queue }
    }

    /// Starts `name`'s full resolution in the background, unless the queue is full.
    pub(crate) fn groups_of(&self, state: &Arc<State>, name: &str) {
        let _ = self.queue.try_send((state.clone(), name.to_string()));
    }
}

fn work(jobs: &Mutex<Receiver<Job>>, daemon: &Weak<Daemon>) {
    loop {
        // One thread waits on the queue, the others on the lock.
        let job = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let (Ok((state, name)), Some(daemon)) = (job, daemon.upgrade()) else {
            return;
        };
        // An error is cached by the resolver too; initgroups reports it when asked.
        if state.resolver.resolve(&name).is_ok() {
            daemon.publish_groups(&state, &name);
        }
    }
}
