//! Issue 11 point 4: a forked child never waits on state owned by the parent's other
//! threads. Each test keeps lookups in flight in parent threads (the cache's flights,
//! the interner's lock, the LDAP runtime and pool) and forks 100 times; every child
//! asks for the same names under an alarm, so a hang fails the test instead of
//! blocking it.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use proxid::error::Error;
use proxid::{Config, Resolver};
use support::{rfc2307, BlackHole, ConfFile};

const FORKS: usize = 100;
/// A child still running after this long is hung (SIGALRM kills it).
const CHILD_ALARM_S: u32 = 10;
/// Every lookup misses, so parent threads always have lookups in flight.
const NO_CACHE: &str = "[cache]\npositive_ttl = \"0s\"\nnegative_ttl = \"0s\"\n";

/// Forks; the child runs `check` under an alarm and exits 0 when it returns true.
fn fork_child(check: impl FnOnce() -> bool) -> libc::pid_t {
    // SAFETY: the child runs the resolver (built to be usable after fork) and _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: plain syscalls in the child.
        unsafe { libc::alarm(CHILD_ALARM_S) };
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or(false);
        // SAFETY: leaves without running the parent's destructors or test harness.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    pid
}

/// Waits for a child: Ok when it exited 0, else how it ended.
fn reap(pid: libc::pid_t) -> Result<(), String> {
    let mut status = 0;
    // SAFETY: waits for our own child.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(rc, pid);
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else if libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGALRM {
        Err(format!("child {pid} hung (killed after {CHILD_ALARM_S} s)"))
    } else {
        Err(format!("child {pid} failed: status {status:#x}"))
    }
}

/// Runs `threads` threads calling `work` until the returned guard is dropped.
struct Busy {
    stop: Arc<AtomicBool>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Busy {
    fn start(threads: usize, work: impl Fn(usize) + Send + Sync + 'static) -> Busy {
        let stop = Arc::new(AtomicBool::new(false));
        let work = Arc::new(work);
        let handles = (0..threads)
            .map(|i| {
                let (stop, work) = (stop.clone(), work.clone());
                std::thread::spawn(move || {
                    let mut n = i;
                    while !stop.load(Ordering::Relaxed) {
                        work(n);
                        n += 1;
                    }
                })
            })
            .collect();
        Busy { stop, handles }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Host accounts (never hard-coded names), with the UIDs `getent` gives.
fn host_users() -> Vec<(String, u32)> {
    let out = std::process::Command::new("getent")
        .arg("passwd")
        .output()
        .expect("getent");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some((f.first()?.to_string(), f.get(2)?.parse().ok()?))
        })
        .take(4)
        .collect()
}

#[test]
fn sec_11_4_fork_during_inflight_local_lookups() {
    let users = Arc::new(host_users());
    assert!(!users.is_empty());
    let config = Config::from_toml(NO_CACHE, std::path::Path::new("/test/proxid.conf")).unwrap();
    let resolver = Arc::new(Resolver::new(config).unwrap());
    let busy = {
        let (resolver, users) = (resolver.clone(), users.clone());
        Busy::start(16, move |n| {
            let (name, uid) = &users[n % users.len()];
            let _ = resolver.resolve(name);
            let _ = resolver.resolve_uid(*uid);
        })
    };
    let mut failures = Vec::new();
    for _ in 0..FORKS {
        let pid = fork_child(|| {
            users.iter().all(|(name, uid)| {
                resolver.resolve(name).is_ok_and(|id| id.uid == *uid)
                    && resolver.resolve_uid(*uid).is_ok_and(|id| id.uid == *uid)
            })
        });
        failures.extend(reap(pid).err());
        if !failures.is_empty() {
            break; // one hung child is proof enough; do not wait for 99 more
        }
    }
    drop(busy);
    assert!(
        failures.is_empty(),
        "{} of the children: {:?}",
        failures.len(),
        failures.first()
    );
}

#[test]
fn sec_11_4_fork_during_inflight_ldap_black_hole() {
    let hole = BlackHole::start();
    let timeout = Duration::from_secs(3);
    let conf = ConfFile::new(
        &[&hole.uri()],
        "connect_timeout = \"3s\"\noperation_timeout = \"3s\"\n",
    );
    let resolver = Arc::new(Resolver::new(conf.config()).unwrap());
    #[allow(clippy::disallowed_methods)] // real time: a forked child must not hang
    let started = Instant::now();
    // Four callers of one name: a leader waiting on the directory, three waiters.
    let parents: Vec<_> = (0..4)
        .map(|_| {
            let resolver = resolver.clone();
            std::thread::spawn(move || resolver.resolve("alice").map(|_| ()))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let pids: Vec<_> = (0..FORKS)
        .map(|_| {
            fork_child(|| {
                // The child asks the directory itself, and meets its own timeout.
                #[allow(clippy::disallowed_methods)] // real time: a forked child must not hang
                let t = Instant::now();
                let got = resolver.resolve("alice");
                matches!(got, Err(Error::Timeout { .. } | Error::Unavailable { .. }))
                    && t.elapsed() < timeout * 3
            })
        })
        .collect();
    assert!(
        started.elapsed() < timeout,
        "forked after the parent's lookups ended: the test proves nothing"
    );
    let failures: Vec<String> = pids.into_iter().filter_map(|p| reap(p).err()).collect();
    for p in parents {
        assert!(p.join().unwrap().is_err(), "a black hole answered");
    }
    assert!(
        failures.is_empty(),
        "{} of the children: {:?}",
        failures.len(),
        failures.first()
    );
}

#[test]
fn sec_11_4_fork_during_inflight_ldap_lookups_real_slapd() {
    const CASES: &[(&str, u32)] = &[("alice", 10001), ("bob", 10002), ("carol", 10003)];
    let conf = ConfFile::new(&[&rfc2307().ldap_uri], NO_CACHE);
    let resolver = Arc::new(Resolver::new(conf.config()).unwrap());
    let busy = {
        let resolver = resolver.clone();
        Busy::start(8, move |n| {
            let (name, uid) = CASES[n % CASES.len()];
            let _ = resolver.resolve(name);
            let _ = resolver.resolve_uid(uid);
        })
    };
    let mut failures = Vec::new();
    for _ in 0..FORKS {
        let pid = fork_child(|| {
            CASES.iter().all(|(name, uid)| {
                resolver.resolve(name).is_ok_and(|id| id.uid == *uid)
                    && resolver.resolve_uid(*uid).is_ok_and(|id| id.name == *name)
            })
        });
        failures.extend(reap(pid).err());
        if !failures.is_empty() {
            break; // one hung child is proof enough; do not wait for 99 more
        }
    }
    drop(busy);
    assert!(
        failures.is_empty(),
        "{} of the children: {:?}",
        failures.len(),
        failures.first()
    );
    // The parent's own runtime and pool still work after all those children.
    assert_eq!(resolver.resolve("alice").unwrap().uid, 10001);
}

#[test]
fn sec_11_4_a_child_drops_the_resolver_it_inherited() {
    let conf = ConfFile::new(&[&rfc2307().ldap_uri], "");
    let resolver = Resolver::new(conf.config()).unwrap();
    assert_eq!(resolver.resolve("alice").unwrap().uid, 10001);
    let pid = fork_child(move || {
        let ok = resolver.resolve("bob").is_ok_and(|b| b.uid == 10002);
        // Stops the child's own runtime; the parent's is not waited on.
        drop(resolver);
        ok
    });
    assert_eq!(reap(pid), Ok(()));
}
