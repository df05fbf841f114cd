//! Issue 11 points 5, 6 and 14 through the public `Resolver`, over a directory the
//! test changes while a lookup is in flight: invalidation wins over lookups in flight
//! (by name, by UID, groups), answers by UID are the source's answers by UID whatever
//! was asked before, and coalesced callers get exactly the leader's error.

mod fake_source;

use std::sync::{Arc, Barrier, Mutex};

use fake_source::user;
use proxid::source::Source;
use proxid::{Config, Error, Group, Identity, Resolver, Result};

/// A directory the test edits, whose lookups can be held at a barrier pair: the first
/// lookup after `hold()` reads the directory, meets the test at `read`, and answers
/// only after the test passes `go`.
#[derive(Default)]
struct Directory {
    users: Mutex<Vec<Identity>>,
    /// `Some(error)`: every lookup fails with it.
    failing: Mutex<Option<Error>>,
    held: Mutex<Option<Arc<(Barrier, Barrier)>>>,
}

impl Directory {
    fn set(&self, users: Vec<Identity>) {
        *self.users.lock().unwrap() = users;
    }

    /// The next lookup stops between reading and answering; returns its barriers.
    fn hold(&self) -> Arc<(Barrier, Barrier)> {
        let pair = Arc::new((Barrier::new(2), Barrier::new(2)));
        *self.held.lock().unwrap() = Some(pair.clone());
        pair
    }

    fn read<T>(&self, pick: impl Fn(&[Identity]) -> T) -> Result<T> {
        let held = self.held.lock().unwrap().take();
        let answer = pick(&self.users.lock().unwrap());
        let failing = self.failing.lock().unwrap().clone();
        if let Some(pair) = held {
            pair.0.wait();
            pair.1.wait();
        }
        match failing {
            Some(e) => Err(e),
            None => Ok(answer),
        }
    }
}

struct Changing(Arc<Directory>);

impl Source for Changing {
    fn kind(&self) -> &'static str {
        "fake"
    }
    fn user_by_name(&self, name: &str) -> Result<Option<Identity>> {
        self.0.read(|u| u.iter().find(|u| u.name == name).cloned())
    }
    fn user_by_uid(&self, uid: u32) -> Result<Option<Identity>> {
        // Like glibc: the first entry with this UID.
        self.0.read(|u| u.iter().find(|u| u.uid == uid).cloned())
    }
    fn group_by_name(&self, name: &str) -> Result<Option<Group>> {
        self.0.read(|u| {
            u.iter()
                .flat_map(|u| u.groups.iter())
                .find(|g| g.name == name)
                .cloned()
        })
    }
    fn group_by_gid(&self, gid: u32) -> Result<Option<Group>> {
        self.0.read(|u| {
            u.iter()
                .flat_map(|u| u.groups.iter())
                .find(|g| g.gid == gid)
                .cloned()
        })
    }
}

fn setup() -> (Arc<Directory>, Arc<Resolver>) {
    let dir = Arc::new(Directory::default());
    let config = Config::from_toml("", std::path::Path::new("/test/proxid.conf")).unwrap();
    let resolver = Resolver::with_source(config, Arc::new(Changing(dir.clone())));
    (dir, Arc::new(resolver))
}

/// Runs `lookup` on a thread that reads the directory, then (while it is held) changes
/// the directory to `after` and runs `invalidate`, then lets the lookup store.
fn race<T: Send + 'static>(
    dir: &Arc<Directory>,
    after: Vec<Identity>,
    lookup: impl FnOnce() -> T + Send + 'static,
    invalidate: impl FnOnce(),
) -> T {
    let pair = dir.hold();
    let in_flight = std::thread::spawn(lookup);
    pair.0.wait();
    dir.set(after);
    invalidate();
    pair.1.wait();
    in_flight.join().unwrap()
}

#[test]
fn sec_11_5_invalidate_beats_a_lookup_in_flight_by_name() {
    for everyone in [false, true] {
        let (dir, r) = setup();
        dir.set(vec![user("alice", 20001, &[("staff", 100)])]);
        let r2 = r.clone();
        let old = race(
            &dir,
            vec![user("alice", 20001, &[("staff", 100), ("admins", 200)])],
            move || r2.resolve("alice").unwrap(),
            || r.invalidate(if everyone { None } else { Some("alice") }),
        );
        assert_eq!(
            old.gids(),
            [100],
            "the lookup in flight answers what it read"
        );
        assert_eq!(
            r.resolve("alice").unwrap().gids(),
            [100, 200],
            "after invalidate({everyone}), the next lookup asks the directory"
        );
    }
}

#[test]
fn sec_11_5_invalidate_beats_a_lookup_in_flight_by_uid() {
    for everyone in [false, true] {
        let (dir, r) = setup();
        dir.set(vec![user("alice", 20001, &[("staff", 100)])]);
        let r2 = r.clone();
        race(
            &dir,
            vec![user("alice", 20001, &[("admins", 200)])],
            move || r2.resolve_uid(20001).unwrap(),
            || r.invalidate(if everyone { None } else { Some("alice") }),
        );
        assert_eq!(r.resolve_uid(20001).unwrap().gids(), [200]);
    }
}

#[test]
fn sec_11_5_invalidate_all_beats_a_group_lookup_in_flight() {
    let (dir, r) = setup();
    dir.set(vec![user("alice", 20001, &[("admins", 200)])]);
    let r2 = r.clone();
    race(
        &dir,
        vec![user("alice", 20001, &[("admins", 201)])],
        move || r2.group("admins").unwrap(),
        || r.invalidate(None),
    );
    assert_eq!(r.group("admins").unwrap().gid, 201);
}

#[test]
fn sec_11_6_uid_answers_do_not_depend_on_what_was_asked_before() {
    let (dir, r) = setup();
    // Two users on one UID: the directory's answer by UID is the first, hdfs.
    dir.set(vec![
        user("hdfs", 20005, &[("hadoop", 300)]),
        user("hdfsalias", 20005, &[("hadoop", 300)]),
    ]);
    assert_eq!(r.resolve("hdfsalias").unwrap().name, "hdfsalias");
    assert_eq!(r.resolve_uid(20005).unwrap().name, "hdfs");
    assert_eq!(r.resolve("hdfsalias").unwrap().name, "hdfsalias");
    assert_eq!(r.resolve_uid(20005).unwrap().name, "hdfs", "cached by UID");
    // And the other way round, on a cold resolver.
    let (dir2, r) = setup();
    dir2.set(dir.users.lock().unwrap().clone());
    assert_eq!(r.resolve_uid(20005).unwrap().name, "hdfs");
    assert_eq!(r.resolve("hdfsalias").unwrap().name, "hdfsalias");
}

/// The leader's error, whatever it is, reaches every caller that waited on it.
#[test]
fn sec_11_14_coalesced_callers_get_the_leaders_error() {
    let errors = [
        Error::Timeout {
            source_name: "fake".into(),
            after_ms: 1500,
        },
        Error::InvalidName {
            name: "x".into(),
            reason: "refused by the source".into(),
        },
        Error::Directory {
            detail: "two entries".into(),
        },
        Error::Io {
            context: "reading /etc/passwd".into(),
            source: Arc::new(std::io::Error::from_raw_os_error(libc::EACCES)),
        },
        Error::Config {
            file: "/etc/proxid.conf".into(),
            message: "bad key".into(),
        },
    ];
    for error in errors {
        let (dir, r) = setup();
        *dir.failing.lock().unwrap() = Some(error.clone());
        let pair = dir.hold();
        let leader = {
            let r = r.clone();
            std::thread::spawn(move || r.resolve("alice").unwrap_err())
        };
        pair.0.wait(); // the leader is in the directory
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let r = r.clone();
                std::thread::spawn(move || r.resolve("alice").unwrap_err())
            })
            .collect();
        // Give the waiters time to queue on the flight (if one came late, it leads a
        // lookup of its own, which fails the same way: the assertion still holds).
        std::thread::sleep(std::time::Duration::from_millis(100));
        pair.1.wait();
        for e in std::iter::once(leader)
            .chain(waiters)
            .map(|h| h.join().unwrap())
        {
            assert_eq!(e.kind(), error.kind(), "{e}");
            assert_eq!(e.to_string(), error.to_string());
            if let (Error::Io { source: got, .. }, Error::Io { source: want, .. }) = (&e, &error) {
                assert_eq!(got.raw_os_error(), want.raw_os_error());
            }
        }
    }
}
